//! One live connection to an MCP server through Keyhole's backend: sending JSON-RPC requests with
//! `/api/mcp/send` (answering auth challenges through [`crate::flows::recovery`] and sending the same
//! message once more), pushing tokens with `/api/mcp/auth-state`, and the protocol and network
//! logs the Protocol and Network views show.
//!
//! [`Session`] is `Copy` (all of its parts live in Leptos' reactive arena), so components and async
//! tasks can hold it freely.

use keyhole_shared::api::HttpExchange;
use keyhole_shared::api::mcp::SessionReply;
use keyhole_shared::challenge::{AuthChallenge, ChallengeContext};
use keyhole_shared::messages;
use keyhole_shared::scopes::ScopeSet;
use keyhole_shared::secret::Secret;
use keyhole_shared::tokens::Tokens;
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::flows::client_side::{ClientSide, Handling, Outcome, ServerRequest, timed_out};
use crate::flows::recovery::{self, Recovery};
use crate::model::ui_state::UiState;
use crate::platform::api;
use crate::platform::page::monotonic_ms;
use crate::views::history::Call;
use keyhole_shared::api::mcp::{
    AuthState, AuthStateRequest, Done, Failure, Hint, NetworkLogReply, SendReply, SendRequest,
};
use keyhole_shared::recovery::{Origin, Refused};

/// Which way a JSON-RPC message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From Keyhole to the MCP server.
    Sent,
    /// From the MCP server to Keyhole.
    Received,
    /// From an MCP App (its frame) to Keyhole, the app's host.
    FromApp,
    /// From Keyhole to an MCP App.
    ToApp,
}

/// One JSON-RPC message in the Protocol view.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolEntry {
    pub seq: u64,
    pub direction: Direction,
    /// The method, or for a response the method of the request it answers.
    pub method: String,
    /// Milliseconds since the Unix epoch.
    pub at_ms: f64,
    /// For a response: how long after its request it arrived.
    pub elapsed_ms: Option<f64>,
    pub message: Value,
    /// The method and the message, case-folded once, for the views' filters.
    pub haystack: String,
}

/// Why a request produced no result.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcError {
    /// The MCP server answered with a JSON-RPC error.
    Rpc { code: i64, message: String },
    /// The MCP server asked for (other) authorization; `challenge` when it could be understood.
    Auth {
        challenge: Option<Box<AuthChallenge>>,
        message: String,
    },
    /// Answering the server's auth challenge did not work out (cancelled, denied, failed).
    Recovery(RecoveryFailure),
    /// The server refused, without a challenge, a token it accepted before (HTTP `status`): it
    /// may not recognise the token any more.
    NotRecognised { status: u16, message: String },
    /// The request never got an answer (network, backend, malformed reply).
    Transport(String),
    /// The page is leaving for a sign-in (connecting).
    Leaving,
}

/// Why answering an auth challenge did not lead to the request being sent again.
#[derive(Debug, Clone, PartialEq)]
pub enum RecoveryFailure {
    /// The user cancelled the step-up: these scopes were not granted.
    StepUpCancelled { not_granted: ScopeSet },
    /// Another authorization prompt is already open.
    PromptBusy,
    /// The tab is hidden: the recovery waits until it is visible.
    Postponed,
    /// The user came back from an unfinished sign-in to this server: the banner asks first.
    AbandonedSignIn,
    /// Refused again right after the recovery.
    ChallengedAfterRetry,
    /// The new token could not be handed to the backend session (the reason, for a person).
    TokenNotHandedOver(String),
    /// The decision or the sign-in failed; the sentence the banner shows.
    Failed(String),
}

impl std::fmt::Display for RecoveryFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StepUpCancelled { not_granted } => write!(
                f,
                "Step-up cancelled: {} was not granted, so the request was not sent again. \
                 The session is still connected.",
                messages::scope_list(not_granted)
            ),
            Self::PromptBusy => f.write_str(
                "Another authorization request is already waiting for your answer; answer it, \
                 then try again.",
            ),
            Self::Postponed => f.write_str("waiting until the tab is visible"),
            Self::AbandonedSignIn => f.write_str(&messages::abandoned_sign_in()),
            Self::ChallengedAfterRetry => f.write_str(&messages::challenged_after_retry()),
            Self::TokenNotHandedOver(reason) | Self::Failed(reason) => f.write_str(reason),
        }
    }
}

impl RpcError {
    /// The error as the recovery engine reads it.
    fn refused(self) -> Refused<Self> {
        match self {
            Self::Auth {
                challenge: Some(challenge),
                ..
            } => Refused::Challenge(challenge),
            Self::NotRecognised { status, .. } => Refused::NotRecognised {
                status,
                error: self,
            },
            other => Refused::Other(other),
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rpc { code, message } => {
                write!(f, "The server answered with error {code}: {message}")
            }
            Self::Auth { message, .. } => write!(f, "Authorization needed: {message}"),
            Self::Recovery(failure) => failure.fmt(f),
            Self::Transport(message) => f.write_str(message),
            Self::Leaving => f.write_str("Leaving for the sign-in."),
            Self::NotRecognised { status, message } => write!(
                f,
                "{message}. {}",
                messages::token_maybe_not_recognised(*status)
            ),
        }
    }
}

/// The last `notifications/progress` seen, keyed by its token.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub token: String,
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// A connected backend session and everything observed on it.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    id: StoredValue<String>,
    url: StoredValue<String>,
    /// How the backend reaches the server, as the views name it: `Streamable HTTP`, `HTTP+SSE`
    /// or `stdio`.
    pub transport: &'static str,
    initialize: StoredValue<Value>,
    next_id: StoredValue<u64>,
    /// The access token the backend session currently sends (kept to tell a refused token from
    /// a fresh one in the shared store).
    bearer: StoredValue<Option<Secret>>,
    /// How auth challenges are answered (step-up prompt, banner).
    pub recovery: Recovery,
    /// The tabs' UI state, saved before an OAuth redirect and restored after it.
    pub ui: UiState,
    /// Every JSON-RPC message, both ways, oldest first.
    pub protocol: RwSignal<Vec<ProtocolEntry>>,
    /// Server messages the backend dropped before this page read them (it read too slowly, or a
    /// message was over the size limit).
    pub dropped_messages: RwSignal<u64>,
    /// Every upstream HTTP exchange, by `seq`.
    pub network: RwSignal<Vec<HttpExchange>>,
    /// The latest progress notification.
    pub progress: RwSignal<Option<Progress>>,
    /// Bumped when the server says a list changed: `tools`, `resources`, `prompts`.
    pub list_changed: RwSignal<(u32, u32, u32)>,
    /// The tool calls, prompt gets and resource reads made on this connection, oldest first.
    pub history: RwSignal<Vec<Call>>,
    /// The tool whose call an interactive sign-in interrupted: it was not sent again, and its
    /// panel offers to run it again.
    pub interrupted_call: RwSignal<Option<String>>,
    /// What a stdio server wrote to its stderr, as `(received at, line)`, the last
    /// [`CONSOLE_LINES`].
    pub console: RwSignal<Vec<(f64, String)>>,
    /// The server's requests waiting for the user, and the roots offered to it.
    pub client: ClientSide,
    /// The connection's auth incidents, oldest first ([`super::timeline`]).
    pub timeline: RwSignal<Vec<super::timeline::Incident>>,
    /// The MCP App open in the Tools tab, which a sign-in redirect takes along.
    pub open_app: StoredValue<Option<OpenApp>>,
    /// An app to reopen, once, when its tool's panel shows (after a sign-in redirect).
    pub reopen_app: StoredValue<Option<OpenApp>>,
}

/// An open MCP App: its tool, and the call's arguments and result it was given.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenApp {
    pub tool: String,
    pub arguments: Value,
    pub result: Value,
}

/// How many of a stdio server's log lines the page keeps.
const CONSOLE_LINES: usize = 1000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Session {
    /// The session `reply` describes, on `url`.
    pub fn new(
        url: String,
        reply: SessionReply,
        bearer: Option<Secret>,
        recovery: Recovery,
    ) -> Self {
        Self {
            id: StoredValue::new(reply.session_id),
            url: StoredValue::new(url),
            transport: match reply.transport.as_str() {
                "sse" => "HTTP+SSE",
                "stdio" => "stdio",
                _ => "Streamable HTTP",
            },
            initialize: StoredValue::new(reply.initialize_result),
            next_id: StoredValue::new(1),
            bearer: StoredValue::new(bearer),
            recovery,
            ui: UiState::new(),
            protocol: RwSignal::new(Vec::new()),
            dropped_messages: RwSignal::new(0),
            network: RwSignal::new(Vec::new()),
            progress: RwSignal::new(None),
            list_changed: RwSignal::new((0, 0, 0)),
            history: RwSignal::new(Vec::new()),
            interrupted_call: RwSignal::new(None),
            console: RwSignal::new(Vec::new()),
            client: ClientSide::new(),
            timeline: RwSignal::new(Vec::new()),
            open_app: StoredValue::new(None),
            reopen_app: StoredValue::new(None),
        }
    }

    pub fn id(&self) -> String {
        self.id.get_value()
    }

    pub fn url(&self) -> String {
        self.url.get_value()
    }

    /// The access token the backend session sends now, if any.
    pub fn bearer(&self) -> Option<Secret> {
        self.bearer.get_value()
    }

    /// Hands new tokens to the backend session (`/api/mcp/auth-state`); later requests use them.
    pub async fn push_tokens(&self, tokens: &Tokens) -> Result<(), String> {
        self.set_connection_token(Some(AuthState::of(tokens))).await
    }

    /// What the backend session sends from now on: that token, or none (`null`). Fault
    /// injection uses it directly to send a corrupted token or none at all.
    pub async fn set_connection_token(&self, auth_state: Option<AuthState>) -> Result<(), String> {
        let bearer = auth_state.as_ref().map(|s| s.tokens.access_token.clone());
        let body = AuthStateRequest {
            session_id: self.id(),
            auth_state,
        };
        api::call::<_, Done>("/api/mcp/auth-state", &body)
            .await
            .map_err(|e| format!("The new token could not be handed to the session: {e}"))?
            .map_err(|failure| failure.message().to_owned())?;
        self.bearer.set_value(bearer);
        Ok(())
    }

    pub fn initialize_result(&self) -> Value {
        self.initialize.get_value()
    }

    /// Whether the server declared a capability (`tools`, `resources`, `prompts`…).
    pub fn has_capability(&self, name: &str) -> bool {
        self.initialize
            .with_value(|init| init["capabilities"].get(name).is_some())
    }

    fn record(
        &self,
        direction: Direction,
        method: String,
        elapsed_ms: Option<f64>,
        message: Value,
    ) {
        let haystack = crate::platform::text::fold_case(&format!("{method} {message}"));
        self.protocol.update(|log| {
            let seq = log.len() as u64 + 1;
            log.push(ProtocolEntry {
                seq,
                direction,
                method,
                at_ms: now_ms(),
                elapsed_ms,
                message,
                haystack,
            });
        });
    }

    /// A bridge message between an MCP App and Keyhole (`from_app`: the app sent it), for the
    /// Protocol view.
    pub fn record_app(&self, from_app: bool, message: &Value) {
        let method = message["method"]
            .as_str()
            .unwrap_or("(response)")
            .to_owned();
        let direction = if from_app {
            Direction::FromApp
        } else {
            Direction::ToApp
        };
        self.record(direction, method, None, message.clone());
    }

    /// A JSON-RPC id unique within this session.
    pub fn fresh_id(&self) -> u64 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Sends one request and returns its `result`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.fresh_id();
        self.request_with_id(id, method, params).await
    }

    /// Sends one request with a chosen id (so progress can be matched to it) and, for the calls
    /// the history keeps, records it there.
    pub async fn request_with_id(
        &self,
        id: u64,
        method: &str,
        params: Value,
    ) -> Result<Value, RpcError> {
        let started = (now_ms(), monotonic_ms());
        let kept = crate::views::history::kept(method, &params);
        let outcome = self.request_once_more_on_recovery(id, method, params).await;
        if let Some((target, arguments)) = kept {
            crate::views::history::remember(
                self.history,
                method,
                target,
                arguments,
                &outcome,
                started,
            );
        }
        outcome
    }

    /// Sends one request through the shared recovery engine: an auth challenge is answered and
    /// the same message (same id) sent once more.
    async fn request_once_more_on_recovery(
        &self,
        id: u64,
        method: &str,
        params: Value,
    ) -> Result<Value, RpcError> {
        let context = ChallengeContext::of_request(method, &params);
        let origin = Origin::of_request(method, &params);
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let send = || async {
            self.send_once(method, &message)
                .await
                .map_err(RpcError::refused)
        };
        recovery::run(*self, &context, origin, send).await
    }

    /// Sends `message` once and returns its `result`.
    async fn send_once(&self, method: &str, message: &Value) -> Result<Value, RpcError> {
        self.record(Direction::Sent, method.to_owned(), None, message.clone());
        let started = monotonic_ms();
        let body = SendRequest {
            session_id: self.id(),
            message: message.clone(),
        };
        let reply = api::call::<_, SendReply>("/api/mcp/send", &body)
            .await
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        let reply = match reply {
            Ok(reply) => reply,
            Err(Failure::AuthChallenge {
                auth_challenge,
                message,
            }) => {
                return Err(RpcError::Auth {
                    challenge: Some(auth_challenge),
                    message,
                });
            }
            Err(Failure::TransportError {
                message,
                http_status,
                hint,
            }) => {
                let Some(status) = http_status else {
                    return Err(RpcError::Transport(message));
                };
                self.recovery
                    .trouble
                    .set(Some(format!("the server answers HTTP {status}")));
                return Err(match hint {
                    Some(Hint::TokenNotRecognised) => RpcError::NotRecognised { status, message },
                    None => RpcError::Transport(message),
                });
            }
        };
        if self.recovery.trouble.with_untracked(Option::is_some) {
            self.recovery.trouble.set(None);
        }
        let response = reply.response.unwrap_or(Value::Null);
        if response.is_null() {
            return Err(RpcError::Transport(
                "The backend returned no response to the request.".into(),
            ));
        }
        self.record(
            Direction::Received,
            method.to_owned(),
            Some(monotonic_ms() - started),
            response.clone(),
        );
        if let Some(error) = response.get("error") {
            return Err(RpcError::Rpc {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("no message").to_owned(),
            });
        }
        Ok(response["result"].clone())
    }

    /// A message the server sent outside a response (notification or server request).
    pub fn server_message(&self, message: Value) {
        let method = message["method"]
            .as_str()
            .unwrap_or("(response)")
            .to_owned();
        match method.as_str() {
            "notifications/progress" => {
                let params = &message["params"];
                let token = match &params["progressToken"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.progress.set(Some(Progress {
                    token,
                    progress: params["progress"].as_f64().unwrap_or(0.0),
                    total: params["total"].as_f64(),
                    message: params["message"].as_str().map(str::to_owned),
                }));
            }
            "notifications/tools/list_changed" => self.list_changed.update(|c| c.0 += 1),
            "notifications/resources/list_changed" => self.list_changed.update(|c| c.1 += 1),
            "notifications/prompts/list_changed" => self.list_changed.update(|c| c.2 += 1),
            "notifications/cancelled" => self.client.withdraw(&message["params"]["requestId"]),
            "notifications/elicitation/complete" => self.recovery.toasts().show(
                crate::views::toast::ToastKind::Info,
                "The server says the step it sent you to is complete.",
            ),
            "notifications/resources/updated" => {
                let uri = message["params"]["uri"].as_str().unwrap_or_default();
                self.client.mark_updated(uri, true);
            }
            _ => {}
        }
        let id = message.get("id").cloned();
        let is_request = id.is_some() && message.get("method").is_some();
        let params = message["params"].clone();
        self.record(Direction::Received, method.clone(), None, message);
        let Some(id) = id.filter(|_| is_request) else {
            return;
        };
        match self.client.handling(&method) {
            Handling::Answer(result) => self.reply(id, &method, Ok(result)),
            Handling::Refuse(why) => self.reply(id, &method, Err((-32601, why))),
            Handling::Queue => self.enqueue(id, method, params, None),
        }
    }

    /// Queues a request for the user, to be answered for them once its time is up.
    fn enqueue(&self, id: Value, method: String, params: Value, purpose: Option<String>) {
        let within = self.client.answer_within_s.get_untracked();
        let received_at = now_ms();
        let deadline = (within > 0).then(|| received_at + f64::from(within) * 1000.0);
        if within > 0 {
            let (session, id, method) = (*self, id.clone(), method.clone());
            leptos::task::spawn_local(async move {
                crate::platform::page::sleep_ms(within as i32 * 1000).await;
                if session.client.is_pending(&id) {
                    session.reply(id, &method, timed_out(&method, within));
                }
            });
        }
        let request = ServerRequest {
            id,
            method,
            params,
            received_at,
            deadline,
            purpose,
        };
        self.client.pending.update(|pending| pending.push(request));
    }

    /// Asks the user what a server asks in an input-required result, in the same queue as a
    /// server's requests; returns the request's local id and where its answer arrives.
    pub fn ask_user(
        &self,
        method: &str,
        params: Value,
        purpose: String,
    ) -> (Value, futures_channel::oneshot::Receiver<Outcome>) {
        let (id, answer) = self.client.local_request();
        self.enqueue(id.clone(), method.to_owned(), params, Some(purpose));
        (id, answer)
    }

    /// Answers request `id` (of `method`) with a result or an error, and takes it off the
    /// queue: the server's requests by a message to the server, Keyhole's own to their asker.
    pub fn reply(&self, id: Value, method: &str, outcome: Outcome) {
        let Err(outcome) = self.client.answer_locally(&id, outcome) else {
            self.client.withdraw(&id);
            return;
        };
        self.client.withdraw(&id);
        let answer = match outcome {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err((code, message)) => {
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
            }
        };
        self.post_message(method, answer);
    }

    /// Sends a notification (`notifications/cancelled`…); `params` null for none.
    pub fn notify(&self, method: &str, params: Value) {
        let mut message = json!({ "jsonrpc": "2.0", "method": method });
        if !params.is_null() {
            message["params"] = params;
        }
        self.post_message(method, message);
    }

    /// Sends a message that has no response, and records it.
    fn post_message(&self, method: &str, message: Value) {
        self.record(Direction::Sent, method.to_owned(), None, message.clone());
        let body = json!({ "sessionId": self.id(), "message": message });
        leptos::task::spawn_local(async move {
            let _ = api::post_json::<_, Value>("/api/mcp/send", &body).await;
        });
    }

    /// Adds or replaces an HTTP exchange (the events stream and `/api/mcp/log` overlap).
    /// A line of the stdio server's log.
    pub fn console_line(&self, line: String) {
        self.console.update(|lines| {
            if lines.len() >= CONSOLE_LINES {
                lines.remove(0);
            }
            lines.push((js_sys::Date::now(), line));
        });
    }

    pub fn exchange(&self, exchange: HttpExchange) {
        self.network.update(
            |log| match log.binary_search_by_key(&exchange.seq, |e| e.seq) {
                Ok(at) => log[at] = exchange,
                Err(at) => log.insert(at, exchange),
            },
        );
    }

    /// Fetches the backend's network log (everything recorded before the events stream opened).
    pub async fn load_network_log(&self) {
        let path = format!("/api/mcp/log?sessionId={}", encode(&self.id()));
        if let Ok(Ok(reply)) = api::get_call::<NetworkLogReply>(&path).await {
            for exchange in reply.exchanges {
                self.exchange(exchange);
            }
        }
    }

    /// Ends the upstream session.
    pub async fn disconnect(&self) {
        let body = json!({ "sessionId": self.id() });
        let _ = api::post_json::<_, Value>("/api/mcp/disconnect", &body).await;
    }
}

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
