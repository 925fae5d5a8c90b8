//! Keyhole's own MCP client for the Streamable HTTP transport (2025-11-25, also talking to
//! 2025-06-18 and 2025-03-26 servers, and the stateless 2026-07-28 revision: [`stateless`]), for
//! the HTTP+SSE transport of 2024-11-05 ([`legacy_sse`], found when a server refuses the
//! Streamable HTTP POST) and for stdio ([`stdio`]). Used by the web backend's sessions and by
//! `keyhole cli`.
//!
//! Why not the official SDK: an inspector must show every HTTP exchange and hand every 401/403 with
//! its raw `WWW-Authenticate` to the auth core, and it must swap the bearer token of a live session
//! without reconnecting. So this client reports each exchange to [`ClientEvents`], returns
//! challenges as values ([`SendError::Challenge`]), and reads its bearer from a shared
//! [`Credentials`] holder at the moment each request is sent.

mod credentials;
pub(crate) mod exchange;
mod get_stream;
pub mod legacy_sse;
mod post;
mod reconnect;
mod responses;
pub mod sse_limits;
pub mod stateless;
pub mod stdio;
pub mod stdio_guard;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyhole_shared::api::HttpExchange;
use keyhole_shared::recovery::Refused;
use keyhole_shared::{AuthChallenge, ChallengeContext};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

pub(crate) use crate::native::upstream_http::read_capped;
pub use credentials::Credentials;
use post::PostOutcome;
pub(crate) use post::describe_request_error;

/// How long `initialize` waits for the GET stream's first answer before announcing
/// `notifications/initialized` anyway (a server that holds back the response headers of its event
/// stream must not stall every connection).
const GET_STREAM_OPEN_WAIT: Duration = Duration::from_secs(3);

/// Stateless: how many `tools/list` pages a call looks through for its tool's schema.
const MAX_TOOL_PAGES: usize = 20;

/// Every protocol version this client speaks, newest first (the stateless one, then the
/// handshake ones).
pub const KNOWN_PROTOCOL_VERSIONS: [&str; 5] = [
    stateless::MODERN_PROTOCOL_VERSION,
    SUPPORTED_PROTOCOL_VERSIONS[0],
    SUPPORTED_PROTOCOL_VERSIONS[1],
    SUPPORTED_PROTOCOL_VERSIONS[2],
    SUPPORTED_PROTOCOL_VERSIONS[3],
];

/// `text` when it is a protocol version this client speaks; else what it speaks.
pub fn known_protocol_version(text: &str) -> Result<String, String> {
    if KNOWN_PROTOCOL_VERSIONS.contains(&text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "Keyhole speaks MCP {}",
            KNOWN_PROTOCOL_VERSIONS.join(", ")
        ))
    }
}

/// The protocol versions of the `initialize` handshake, newest first; the first is the one it
/// asks for. 2024-11-05 is what servers of the HTTP+SSE transport's time answer.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 4] =
    ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// Which HTTP transport a URL is spoken to with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpTransport {
    /// Streamable HTTP, and the HTTP+SSE transport of 2024-11-05 when the server refuses the
    /// `initialize` POST with a 4xx (the specification's backwards-compatibility rule).
    #[default]
    Detect,
    /// Streamable HTTP only.
    StreamableHttp,
    /// The HTTP+SSE transport of 2024-11-05 (`type: "sse"`): the URL is its event stream.
    LegacySse,
}

/// What the client tells its owner about, as it happens.
pub trait ClientEvents: Send + Sync + 'static {
    /// A notification or request the server sent (inside a POST's stream or on the GET stream).
    fn server_message(&self, message: Value);
    /// One finished (or abandoned) HTTP exchange, secrets already redacted.
    fn exchange(&self, exchange: HttpExchange);
    /// A 401/403 on the GET stream, where no command is waiting for it.
    fn ambient_challenge(&self, challenge: UpstreamChallenge);
    /// Something the user should know that is not an error of the current command.
    fn notice(&self, message: String);
    /// A line a stdio server wrote to its stderr (its log).
    fn console(&self, line: String) {
        tracing::debug!(%line, "stdio server");
    }
    /// A JSON-RPC message sent (`outgoing`) over any transport, or the response it got; the
    /// server's own messages come through [`ClientEvents::server_message`].
    fn message(&self, outgoing: bool, message: &Value) {
        let _ = (outgoing, message);
    }
}

/// An upstream 401 or 403, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamChallenge {
    pub status: u16,
    /// Every `WWW-Authenticate` header line, as bytes (they need not be UTF-8).
    pub www_authenticate: Vec<Vec<u8>>,
}

impl UpstreamChallenge {
    /// The refusal normalised by the auth core (`AuthChallenge::from_refusal`: a 401 without a
    /// Bearer challenge still reads as one); `None` for a 403 without one.
    pub fn auth_challenge(&self, context: ChallengeContext) -> Option<AuthChallenge> {
        let lines: Vec<&[u8]> = self.www_authenticate.iter().map(Vec::as_slice).collect();
        AuthChallenge::from_refusal(self.status, &lines, context)
    }
}

/// Why a message did not produce an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error("the MCP server asks for authorization (HTTP {})", .0.status)]
    Challenge(UpstreamChallenge),
    #[error("{0}")]
    Transport(String),
    /// The server answered with an HTTP error status that is not a challenge (5xx, or a 4xx other
    /// than 401/403).
    #[error("{message}")]
    Status { status: u16, message: String },
}

impl SendError {
    /// The failure as the recovery engine reads it: a challenge (normalised with `context` by the
    /// auth core), a refusal of a token the server may have forgotten (`token_held`: the request
    /// carried a token the server accepted before, or a stored one at connect), or neither. A
    /// 401/403 that is not a challenge (403 without `Bearer`) is an HTTP error like any other.
    pub fn into_refusal(self, context: ChallengeContext, token_held: bool) -> Refused<Self> {
        match self {
            Self::Challenge(upstream) => match upstream.auth_challenge(context) {
                Some(challenge) => Refused::Challenge(Box::new(challenge)),
                None => Refused::Other(Self::Status {
                    status: upstream.status,
                    message: format!("the MCP server answered HTTP {}", upstream.status),
                }),
            },
            error => match error.may_be_token_refusal().filter(|_| token_held) {
                Some(status) => Refused::NotRecognised { status, error },
                None => Refused::Other(error),
            },
        }
    }

    /// A refusal that may mean the server no longer recognises the token it was sent: an HTTP
    /// error without a challenge (the TypeScript SDK's example answers an unknown token with
    /// 500), except the statuses that say something else (timeout, rate limit).
    pub fn may_be_token_refusal(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } if !matches!(status, 401 | 403 | 408 | 429) => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// Where and how to talk to one MCP server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: url::Url,
    /// Extra headers sent with every request (e.g. an API key the server wants).
    pub headers: Vec<(String, String)>,
    /// How long one request may take before it is abandoned.
    pub timeout: Duration,
    /// The `capabilities` announced in `initialize` (or, stateless, on every request); shared,
    /// since every session of an owner (the web app's thousand, say) announces the same.
    pub capabilities: Arc<Value>,
    /// Stateless: the capabilities announced on every request instead of `capabilities`, when
    /// the owner answers more in input-required rounds (the web app's elicitation form) than it
    /// can over a 2025 session's stream.
    pub stateless_capabilities: Option<Arc<Value>>,
    /// Start this command and speak over its stdin and stdout instead of HTTP (`endpoint` then
    /// only names the server: [`stdio::StdioCommand::pseudo_url`]).
    pub stdio: Option<stdio::StdioCommand>,
    /// How `endpoint` is spoken to (when `stdio` is not set).
    pub http_transport: HttpTransport,
    /// The protocol version to speak. `None`: negotiate (`server/discover` at the newest
    /// version, the `initialize` handshake when the server does not speak it). A 2026-07-28 or later version: the stateless protocol
    /// ([`stateless`]). An older one: the handshake asking for exactly it.
    pub protocol_version: Option<String>,
}

impl ClientConfig {
    pub fn new(endpoint: url::Url) -> Self {
        Self {
            endpoint,
            headers: Vec::new(),
            timeout: Duration::from_secs(60),
            capabilities: Arc::new(json!({})),
            stateless_capabilities: None,
            stdio: None,
            http_transport: HttpTransport::default(),
            protocol_version: None,
        }
    }
}

/// The HTTP clients a session talks to its server with.
#[derive(Clone)]
pub struct HttpClients {
    /// Requests and their answers: connections are pooled and reused.
    pub calls: reqwest::Client,
    /// The server's own long-lived stream (the GET stream, `subscriptions/listen`). A client that keeps no connection
    /// idle, so the stream gets a connection of its own: one handed over from the pool after
    /// answering requests held a read buffer twice the size, for as long as the stream stayed
    /// open (#25, `--bench connections`).
    pub streams: reqwest::Client,
}

impl From<reqwest::Client> for HttpClients {
    /// One client for both (the CLI's, the tests'): one session's memory does not matter there.
    fn from(http: reqwest::Client) -> Self {
        Self {
            calls: http.clone(),
            streams: http,
        }
    }
}

/// A client for one upstream MCP session. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct McpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClients,
    config: ClientConfig,
    credentials: Arc<Credentials>,
    events: Arc<dyn ClientEvents>,
    session: Mutex<SessionState>,
    /// Serialises re-initialisation after the server forgot the session.
    reinitializing: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
    get_stream: Mutex<Option<JoinHandle<()>>>,
    /// Stateless: each listed tool's `x-mcp-header` annotations, for its calls' `Mcp-Param-*`
    /// headers, or why the tool is not offered.
    param_headers: Mutex<HashMap<String, Result<stateless::ParamHeaders, String>>>,
    /// The running stdio server, when the config names a command.
    stdio: tokio::sync::Mutex<Option<Arc<stdio::StdioChannel>>>,
    /// Whether the server speaks the HTTP+SSE transport (configured, or found by detection).
    legacy_sse: AtomicBool,
    /// The open HTTP+SSE connection.
    legacy: tokio::sync::Mutex<Option<Arc<legacy_sse::LegacyChannel>>>,
}

#[derive(Debug, Default, Clone)]
struct SessionState {
    session_id: Option<String>,
    protocol_version: Option<String>,
}

impl McpClient {
    pub fn new(
        http: impl Into<HttpClients>,
        config: ClientConfig,
        credentials: Arc<Credentials>,
        events: Arc<dyn ClientEvents>,
    ) -> Self {
        let legacy_sse =
            config.http_transport == HttpTransport::LegacySse && config.stdio.is_none();
        let inner = Inner {
            http: http.into(),
            config,
            credentials,
            events,
            session: Mutex::new(SessionState::default()),
            reinitializing: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(1),
            get_stream: Mutex::new(None),
            param_headers: Mutex::new(HashMap::new()),
            stdio: tokio::sync::Mutex::new(None),
            legacy_sse: AtomicBool::new(legacy_sse),
            legacy: tokio::sync::Mutex::new(None),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn credentials(&self) -> &Arc<Credentials> {
        &self.inner.credentials
    }

    /// The MCP endpoint this client talks to.
    pub fn endpoint(&self) -> &url::Url {
        &self.inner.config.endpoint
    }

    /// The transport spoken, as the API names it: `streamable-http`, `sse` or `stdio`.
    pub fn transport(&self) -> &'static str {
        if self.inner.config.stdio.is_some() {
            "stdio"
        } else if self.speaks_legacy_sse() {
            "sse"
        } else {
            "streamable-http"
        }
    }

    fn speaks_legacy_sse(&self) -> bool {
        self.inner.legacy_sse.load(Ordering::Acquire)
    }

    /// The stdio server's process, started on first use (and again if it ended).
    async fn stdio_channel(
        &self,
        command: &stdio::StdioCommand,
    ) -> Result<Arc<stdio::StdioChannel>, SendError> {
        let mut running = self.inner.stdio.lock().await;
        if let Some(channel) = running.as_ref().filter(|c| c.exit().is_none()) {
            return Ok(Arc::clone(channel));
        }
        let channel = stdio::StdioChannel::spawn(command, Arc::clone(&self.inner.events))?;
        *running = Some(Arc::clone(&channel));
        Ok(channel)
    }

    /// The upstream `Mcp-Session-Id`, when the server assigned one.
    pub fn session_id(&self) -> Option<String> {
        self.state().session_id
    }

    /// The negotiated protocol version, once initialized.
    pub fn protocol_version(&self) -> Option<String> {
        self.state().protocol_version
    }

    fn state(&self) -> SessionState {
        self.inner
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_state(&self, state: SessionState) {
        *self.inner.session.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    /// Runs the `initialize` handshake (version negotiation, session id, the GET stream, then
    /// `initialized`) and returns the server's `InitializeResult`.
    ///
    /// The GET stream is opened, and its first answer awaited, *before* `notifications/initialized`:
    /// a server may send a request on it as soon as it hears that notification, and many servers
    /// drop what they send while no GET stream is open.
    pub async fn initialize(&self) -> Result<Value, SendError> {
        if self.speaks_legacy_sse() {
            return match self.inner.config.protocol_version.as_deref() {
                Some(version) if stateless::is_stateless(version) => {
                    Err(SendError::Transport(format!(
                        "MCP {version} is not spoken over the HTTP+SSE transport of 2024-11-05"
                    )))
                }
                Some(version) => self.handshake(version).await,
                None => self.handshake(SUPPORTED_PROTOCOL_VERSIONS[0]).await,
            };
        }
        match self.inner.config.protocol_version.clone() {
            Some(version) if stateless::is_stateless(&version) => self.discover(&version).await,
            Some(version) => self.handshake(&version).await,
            None => self.negotiate().await,
        }
    }

    /// No version pinned: `server/discover` at the newest version first. A server that answers
    /// it, or names the versions it speaks, is stateless; one that answers with anything else — a
    /// JSON-RPC error that is not one of the stateless revision's, or an HTTP error without one
    /// (the specification's backward-compatibility rule) — gets the 2025 handshake. A challenge or
    /// a failure to reach the server is the caller's: authorization comes first, then the probe
    /// again.
    async fn negotiate(&self) -> Result<Value, SendError> {
        let version = stateless::MODERN_PROTOCOL_VERSION;
        match self.discover_once(version).await {
            Ok(stateless::Discovered::Refused(_)) | Err(SendError::Status { .. }) => {
                self.handshake(SUPPORTED_PROTOCOL_VERSIONS[0]).await
            }
            Ok(answer) => self.after_discover(answer, version).await,
            Err(error) => Err(error),
        }
    }

    /// The `initialize` handshake asking for `version`; a 4xx to its POST, when detection is on,
    /// tries the HTTP+SSE transport at the same URL.
    async fn handshake(&self, version: &str) -> Result<Value, SendError> {
        let outcome = match self.initialize_once(version).await {
            Err(SendError::Status { status, message })
                if (400..500).contains(&status) && self.may_detect_legacy_sse() =>
            {
                self.try_legacy_sse(version, status, message).await
            }
            outcome => outcome,
        };
        if outcome.is_err() {
            self.stop_get_stream();
            if self.speaks_legacy_sse() {
                self.close_legacy_sse().await;
            } else if self.session_id().is_some() {
                // The server assigned a session before the handshake failed: do not leave it
                // behind.
                let _ = self.delete().await;
                self.set_state(SessionState::default());
            }
        }
        outcome
    }

    fn may_detect_legacy_sse(&self) -> bool {
        let config = &self.inner.config;
        config.http_transport == HttpTransport::Detect
            && config.stdio.is_none()
            && !self.speaks_legacy_sse()
    }

    /// The server refused the Streamable HTTP `initialize` POST with `status`: the handshake again
    /// over HTTP+SSE. A server that speaks neither gets both answers in the error; one that asks
    /// for authorization on the GET is taken to speak HTTP+SSE from now on.
    async fn try_legacy_sse(
        &self,
        version: &str,
        status: u16,
        refused: String,
    ) -> Result<Value, SendError> {
        self.inner.legacy_sse.store(true, Ordering::Release);
        let outcome = self.initialize_once(version).await;
        match outcome {
            Err(SendError::Status { message, .. }) | Err(SendError::Transport(message))
                if self.inner.legacy.lock().await.is_none() =>
            {
                self.inner.legacy_sse.store(false, Ordering::Release);
                Err(SendError::Status {
                    status,
                    message: format!(
                        "{refused}; and as an HTTP+SSE (2024-11-05) server: {message}"
                    ),
                })
            }
            outcome => {
                if outcome.is_ok() {
                    self.inner.events.notice(
                        "The MCP server refused the Streamable HTTP POST and speaks the HTTP+SSE \
                         transport of 2024-11-05; Keyhole uses that."
                            .into(),
                    );
                }
                outcome
            }
        }
    }

    async fn initialize_once(&self, version: &str) -> Result<Value, SendError> {
        self.set_state(SessionState::default());
        let params = json!({
            "protocolVersion": version,
            "capabilities": &*self.inner.config.capabilities,
            "clientInfo": { "name": "keyhole", "title": "Keyhole", "version": keyhole_shared::VERSION },
        });
        let response = self
            .own_request("init", "initialize", params)
            .await?
            .ok_or_else(|| no_response("initialize"))?;
        if let Some(error) = response.get("error") {
            let message = error["message"].as_str().unwrap_or("no message");
            return Err(SendError::Transport(format!(
                "the MCP server refused `initialize`: {message}"
            )));
        }
        let result = response.get("result").cloned().unwrap_or(Value::Null);
        let version = result["protocolVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !SUPPORTED_PROTOCOL_VERSIONS.contains(&version.as_str()) {
            return Err(SendError::Transport(format!(
                "the MCP server speaks protocol version {version:?}; Keyhole speaks {}",
                SUPPORTED_PROTOCOL_VERSIONS.join(", ")
            )));
        }
        let mut state = self.state();
        state.protocol_version = Some(version);
        self.set_state(state);
        let opened = self.restart_get_stream();
        let wait = GET_STREAM_OPEN_WAIT.min(self.inner.config.timeout);
        if tokio::time::timeout(wait, opened).await.is_err() {
            tracing::debug!(endpoint = %self.inner.config.endpoint, "the GET stream has not answered yet; announcing initialized anyway");
        }
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        self.post(&initialized).await?;
        Ok(result)
    }

    fn is_stateless(&self) -> bool {
        self.protocol_version()
            .is_some_and(|version| stateless::is_stateless(&version))
    }

    /// Stateless, a `tools/list` answer: a tool whose `x-mcp-header` annotations are invalid is
    /// not offered (the specification asks clients to drop it), and the user is told why; the
    /// others' annotations are kept for their calls.
    fn admit_tools(&self, response: &mut Value) {
        let Some(tools) = response["result"]["tools"].as_array_mut() else {
            return;
        };
        let mut kept = self
            .inner
            .param_headers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        tools.retain(|tool| {
            let name = tool["name"].as_str().unwrap_or_default().to_owned();
            let headers = stateless::param_headers(&tool["inputSchema"]);
            if let Err(reason) = &headers {
                self.inner.events.notice(format!(
                    "The MCP server's tool {name:?} is not offered: {reason}."
                ));
            }
            let offered = headers.is_ok();
            kept.insert(name, headers);
            offered
        });
    }

    /// Stateless, before a `tools/call`: its `Mcp-Param-*` headers come from the tool's schema,
    /// so a tool not listed yet is looked up (`tools/list`, page by page); a tool that is not
    /// offered is not called.
    async fn check_tool_call(&self, message: &Value) -> Result<(), SendError> {
        let name = message["params"]["name"].as_str().unwrap_or_default();
        let mut cursor: Option<Value> = None;
        for page in 0..MAX_TOOL_PAGES {
            if let Some(known) = self.known_tool(name) {
                return known.map_err(|reason| {
                    SendError::Transport(format!("the tool {name:?} is not offered: {reason}"))
                });
            }
            if page > 0 && cursor.is_none() {
                break;
            }
            let params = match cursor.take() {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let Some(mut listed) = self.own_request("tools", "tools/list", params).await? else {
                break;
            };
            self.admit_tools(&mut listed);
            cursor = listed["result"].get("nextCursor").cloned();
        }
        Ok(()) // not listed: the server will say what it makes of the call
    }

    fn known_tool(&self, name: &str) -> Option<Result<(), String>> {
        let kept = self
            .inner
            .param_headers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        kept.get(name).map(|headers| headers.clone().map(|_| ()))
    }

    /// Stateless: the `Mcp-Param-*` headers of a `tools/call`.
    fn param_headers_of(&self, message: &Value) -> Vec<(String, String)> {
        if message["method"] != "tools/call" {
            return Vec::new();
        }
        let name = message["params"]["name"].as_str().unwrap_or_default();
        let kept = self
            .inner
            .param_headers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match kept.get(name) {
            Some(Ok(headers)) => {
                stateless::param_header_values(headers, &message["params"]["arguments"])
            }
            _ => Vec::new(),
        }
    }

    /// Stateless: `server/discover` at `version` stands in for the handshake; its result, read
    /// as an `InitializeResult` ([`stateless::read_discover`]), is what `initialize` returns.
    ///
    /// A server that answers with the versions it speaks (`-32022`) is asked once more, with the
    /// first of those this client speaks — also when that is the one just asked for; a 2025
    /// version means the handshake.
    async fn discover(&self, version: &str) -> Result<Value, SendError> {
        let answer = self.discover_once(version).await?;
        self.after_discover(answer, version).await
    }

    /// What follows a `server/discover` at `version`: its answer, or the one retry the versions
    /// it names call for.
    async fn after_discover(
        &self,
        answer: stateless::Discovered,
        version: &str,
    ) -> Result<Value, SendError> {
        let versions = match answer {
            stateless::Discovered::OtherVersions(versions) => versions,
            answer => return self.discovered(answer, version),
        };
        let Some(next) = versions
            .iter()
            .find(|v| KNOWN_PROTOCOL_VERSIONS.contains(&v.as_str()))
        else {
            return self.discovered(stateless::Discovered::OtherVersions(versions), version);
        };
        if stateless::is_stateless(next) {
            let answer = self.discover_once(next).await?;
            self.discovered(answer, next)
        } else {
            self.handshake(next).await
        }
    }

    /// The end of a `server/discover` exchange at `version`; a server that speaks it and announces
    /// list changes gets a `subscriptions/listen` stream for them.
    fn discovered(&self, answer: stateless::Discovered, version: &str) -> Result<Value, SendError> {
        let view = discover_outcome(answer, version)?;
        let capabilities = &view["capabilities"];
        let announces = |kind: &str| capabilities[kind]["listChanged"] == json!(true);
        if ["tools", "prompts", "resources"]
            .iter()
            .any(|kind| announces(kind))
        {
            let notifications = json!({
                "toolsListChanged": announces("tools"),
                "promptsListChanged": announces("prompts"),
                "resourcesListChanged": announces("resources"),
            });
            drop(self.restart_stream(get_stream::Channel::Listen { notifications }));
        }
        Ok(view)
    }

    async fn discover_once(&self, version: &str) -> Result<stateless::Discovered, SendError> {
        self.set_state(SessionState {
            session_id: None,
            protocol_version: Some(version.to_owned()),
        });
        let response = self
            .own_request("discover", "server/discover", json!({}))
            .await?;
        Ok(match response {
            Some(response) => stateless::read_discover(&response, version),
            None => stateless::Discovered::Refused(no_response("server/discover").to_string()),
        })
    }

    /// The id of a request of Keyhole's own: `keyhole-<label>-N`.
    fn next_own_id(&self, label: &str) -> String {
        format!(
            "keyhole-{label}-{}",
            self.inner.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sends a request of Keyhole's own (the handshake, discovery, a tool lookup), whose id
    /// (`keyhole-<label>-N`) tells it apart from the user's; `None` when no response came.
    async fn own_request(
        &self,
        label: &str,
        method: &str,
        params: Value,
    ) -> Result<Option<Value>, SendError> {
        let id = self.next_own_id(label);
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        Ok(match self.post(&request).await? {
            PostOutcome::Response(response) => Some(response),
            PostOutcome::Accepted | PostOutcome::SessionGone => None,
        })
    }

    /// Sends one JSON-RPC message and returns the response to it (for a request) or `None` (for a
    /// notification or an answer to a server request). If the server has forgotten the session
    /// (404), the session is initialized again with the current credentials and the message is
    /// sent once more.
    pub async fn send(&self, message: &Value) -> Result<Option<Value>, SendError> {
        if message["method"] == "tools/call" && self.is_stateless() {
            self.check_tool_call(message).await?;
        }
        let session_before = self.session_id();
        match self.post(message).await? {
            PostOutcome::Response(mut response) => {
                if message["method"] == "tools/list" && self.is_stateless() {
                    self.admit_tools(&mut response);
                }
                return Ok(Some(response));
            }
            PostOutcome::Accepted => return Ok(None),
            PostOutcome::SessionGone => {}
        }
        self.reinitialize(session_before).await?;
        match self.post(message).await? {
            PostOutcome::Response(response) => Ok(Some(response)),
            PostOutcome::Accepted => Ok(None),
            PostOutcome::SessionGone => Err(SendError::Transport(
                "the MCP server also forgot the session it just created".into(),
            )),
        }
    }

    async fn reinitialize(&self, expired: Option<String>) -> Result<(), SendError> {
        let _one_at_a_time = self.inner.reinitializing.lock().await;
        if self.session_id() != expired {
            return Ok(()); // a concurrent send already did it
        }
        let old = expired.as_deref().unwrap_or("(none)");
        tracing::info!(endpoint = %self.inner.config.endpoint, "upstream session expired; re-initializing");
        self.inner.events.notice(format!(
            "The MCP server no longer knows session {old}; Keyhole started a new session with the current \
             credentials."
        ));
        self.initialize().await.map(|_| ())
    }

    /// Ends the session: stops the GET stream and sends DELETE (a 405 from the server is fine);
    /// a stdio server is ended with its process group.
    pub async fn close(&self) {
        if let Some(channel) = self.inner.stdio.lock().await.take() {
            channel.close().await;
            return;
        }
        if self.speaks_legacy_sse() {
            self.close_legacy_sse().await;
            return;
        }
        self.stop_get_stream();
        if self.session_id().is_some() {
            let _ = self.delete().await;
        }
    }

    fn stop_get_stream(&self) {
        if let Some(task) = self
            .inner
            .get_stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }

    /// (Re)starts the GET stream; the receiver hears when its first request has an answer.
    fn restart_get_stream(&self) -> tokio::sync::oneshot::Receiver<()> {
        self.restart_stream(get_stream::Channel::Get)
    }

    /// (Re)starts the server's own channel; the receiver hears when its first request has an
    /// answer.
    fn restart_stream(&self, channel: get_stream::Channel) -> tokio::sync::oneshot::Receiver<()> {
        let (opened, answered) = tokio::sync::oneshot::channel();
        if self.inner.config.stdio.is_some() || self.speaks_legacy_sse() {
            // A stdio server's own messages come on its stdout, an HTTP+SSE server's on the
            // stream its connection is: both are always read.
            let _ = opened.send(());
            return answered;
        }
        let task = tokio::spawn(get_stream::run(self.clone(), channel, opened));
        if let Some(old) = self
            .inner
            .get_stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
        answered
    }
}

/// The end of a `server/discover` exchange at `version`.
fn discover_outcome(answer: stateless::Discovered, version: &str) -> Result<Value, SendError> {
    match answer {
        stateless::Discovered::Speaks(view) => Ok(view),
        stateless::Discovered::OtherVersions(versions) => Err(SendError::Transport(format!(
            "the MCP server does not speak protocol version {version}; it speaks {}",
            versions.join(", ")
        ))),
        stateless::Discovered::Refused(message) => Err(SendError::Transport(message)),
    }
}

fn no_response(method: &str) -> SendError {
    SendError::Transport(format!(
        "the MCP server did not answer `{method}` with a response"
    ))
}
