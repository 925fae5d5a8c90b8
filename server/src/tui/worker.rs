//! The TUI's session thread: one connection at a time, through the CLI's [`Session`] — the same
//! shared recovery engine, OAuth client and store as `keyhole cli` and the web app — with the TUI
//! as its [`Terminal`].
//!
//! It runs on its own thread with a single-threaded runtime (the shared OAuth client is not
//! `Send`), so the screen keeps drawing and reading keys while a request, a refresh or a sign-in
//! is under way. The UI sends [`Request`]s over a tokio channel and reads [`Update`]s from a std
//! channel each frame. When the engine asks a question (a step-up, signing in again) this thread
//! waits for the person's answer: nothing else on it can go on before that answer anyway.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use keyhole_shared::ScopeSet;
use keyhole_shared::recovery::{Clock, StepUpPlan};
use keyhole_shared::store::{Forget, OAuthStore};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cli::args::ConnectionArgs;
use crate::cli::session::{Session, Tap, Tapped};
use crate::cli::{StdTerminal, Terminal, auth_store, commands};
use crate::native::native_http::SystemClock;
use crate::native::oauth_store::FileStore;

/// What the UI asks of the session thread.
#[derive(Debug)]
pub enum Request {
    /// Connect to this server (closing the current connection first).
    Connect(Box<ConnectionArgs>),
    /// `tools/call` with these arguments.
    Call {
        name: String,
        arguments: Value,
    },
    /// `resources/read`.
    Read {
        uri: String,
    },
    /// `prompts/get` with these arguments.
    GetPrompt {
        name: String,
        arguments: Value,
    },
    /// Stop the request under way (`notifications/cancelled`).
    Cancel,
    /// Forget what the OAuth store holds for the connected server.
    Forget(Forget),
    Quit,
}

/// A connection made: the server's name and what it offers.
#[derive(Debug, Default)]
pub struct Connected {
    /// "Connected to NAME: MCP VERSION (era)".
    pub line: String,
    pub url: String,
    pub tools: Vec<Value>,
    pub resources: Vec<Value>,
    pub templates: Vec<Value>,
    pub prompts: Vec<Value>,
}

/// What a finished request gave.
#[derive(Debug)]
pub enum Outcome {
    Tool { name: String, result: Value },
    Resource { uri: String, result: Value },
    Prompt { name: String, result: Value },
}

/// A question of the recovery engine, answered with `reply` (`true`: go on).
#[derive(Debug)]
pub struct Question {
    pub text: String,
    /// For a step-up: the tool, the scopes it adds and those already granted.
    pub step_up: Option<StepUpView>,
    pub reply: std_mpsc::Sender<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepUpView {
    pub tool: Option<String>,
    pub message: String,
    pub new_scopes: Vec<String>,
    pub already_granted: Vec<String>,
}

/// A request of the server (elicitation, sampling), answered with `reply`: the result, or
/// `None` to decline.
#[derive(Debug)]
pub struct ServerAsk {
    pub method: String,
    pub params: Value,
    pub reply: std_mpsc::Sender<Option<Value>>,
}

/// What the session thread tells the UI.
#[derive(Debug)]
pub enum Update {
    /// A line for the status bar and the log (progress of a sign-in, a recovery…).
    Status(String),
    Connecting(String),
    Connected(Box<Connected>),
    /// Connecting failed, or the connection ended; why.
    NotConnected(String),
    /// The request under way finished.
    Done(Result<Outcome, String>),
    /// The request under way was cancelled.
    Cancelled,
    /// A JSON-RPC message, sent (`outgoing`) or received.
    Traffic {
        outgoing: bool,
        message: Value,
    },
    /// One step of authorization: an OAuth exchange, or a challenge of the MCP server.
    AuthStep(String),
    /// What the OAuth store holds for the server (`auth status --json`'s entry), or null.
    Held(Value),
    Question(Question),
    ServerAsk(ServerAsk),
    /// `notifications/progress` for the request under way.
    Progress(String),
    /// A sign-in waits for the browser at this authorization URL (`opened`: a browser was
    /// started).
    SignIn {
        url: String,
        opened: bool,
    },
}

/// The session thread's ends, for the UI.
pub struct Worker {
    pub requests: mpsc::UnboundedSender<Request>,
    pub updates: std_mpsc::Receiver<Update>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread over `store`.
    pub fn spawn(store: FileStore) -> std::io::Result<Self> {
        let (requests, receiver) = mpsc::unbounded_channel();
        let (sender, updates) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("keyhole-tui-session".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = sender.send(Update::NotConnected(format!(
                            "could not start the async runtime: {error}"
                        )));
                        return;
                    }
                };
                runtime.block_on(serve(receiver, sender, store));
            })?;
        Ok(Self {
            requests,
            updates,
            thread: Some(thread),
        })
    }

    /// Asks the thread to close the connection and waits for it.
    pub fn stop(mut self) {
        let _ = self.requests.send(Request::Quit);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The TUI as the session's terminal: lines become status updates, questions wait for the UI.
struct TuiTerminal {
    updates: std_mpsc::Sender<Update>,
}

impl TuiTerminal {
    fn ask(&mut self, text: &str, step_up: Option<StepUpView>) -> bool {
        let (reply, answer) = std_mpsc::channel();
        let question = Question {
            text: text.to_owned(),
            step_up,
            reply,
        };
        if self.updates.send(Update::Question(question)).is_err() {
            return false;
        }
        answer.recv().unwrap_or(false)
    }
}

impl Terminal for TuiTerminal {
    fn out(&mut self, text: &str) {
        self.err(text);
    }

    /// What the session and its recovery say (signing in, renewed, declined…): the status
    /// line, and the Auth tab's steps.
    fn err(&mut self, text: &str) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let line = line.trim();
            let _ = self.updates.send(Update::AuthStep(format!("  —  {line}")));
            let _ = self.updates.send(Update::Status(line.to_owned()));
        }
    }

    fn is_interactive(&self) -> bool {
        true
    }

    fn confirm(&mut self, question: &str) -> bool {
        self.ask(question, None)
    }

    fn confirm_step_up(&mut self, plan: &StepUpPlan, question: &str) -> bool {
        let names = |scopes: &ScopeSet| scopes.iter().map(|s| s.to_string()).collect();
        let view = StepUpView {
            tool: plan.tool_name.clone(),
            message: plan.message.clone(),
            new_scopes: names(&plan.new_scopes),
            already_granted: names(&plan.already_granted),
        };
        self.ask(question, Some(view))
    }

    fn open_browser(&mut self, url: &str) -> bool {
        let opened = StdTerminal.open_browser(url);
        let _ = self.updates.send(Update::SignIn {
            url: url.to_owned(),
            opened,
        });
        opened
    }
}

/// Serves requests until `Quit` or the UI goes away.
async fn serve(
    mut requests: mpsc::UnboundedReceiver<Request>,
    updates: std_mpsc::Sender<Update>,
    store: FileStore,
) {
    let mut terminal = TuiTerminal {
        updates: updates.clone(),
    };
    let mut next = requests.recv().await;
    while let Some(request) = next {
        next = match request {
            Request::Connect(args) => {
                let mut link = Link {
                    requests: &mut requests,
                    updates: &updates,
                };
                link.connection(&args, &store, &mut terminal).await
            }
            Request::Quit => None,
            _ => {
                let _ = updates.send(Update::Status(
                    "Not connected: choose a server in the Servers tab (1).".into(),
                ));
                requests.recv().await
            }
        };
    }
}

/// The two channels, while a connection lasts.
struct Link<'a> {
    requests: &'a mut mpsc::UnboundedReceiver<Request>,
    updates: &'a std_mpsc::Sender<Update>,
}

impl Link<'_> {
    fn send(&self, update: Update) {
        let _ = self.updates.send(update);
    }

    /// One connection, until the UI asks for another (returned) or to quit (`None`).
    async fn connection(
        &mut self,
        args: &ConnectionArgs,
        store: &FileStore,
        terminal: &mut TuiTerminal,
    ) -> Option<Request> {
        let label = args
            .url
            .clone()
            .or_else(|| args.server.clone())
            .or_else(|| args.stdio_command.clone())
            .unwrap_or_default();
        self.send(Update::Connecting(label));
        let tap = tap(self.updates.clone());
        let opened =
            Session::open_tapped(args, store.clone(), capabilities(), terminal, Some(tap)).await;
        let mut session = match opened {
            Ok(session) => session,
            Err(error) => {
                self.send(Update::NotConnected(error.to_string()));
                return self.requests.recv().await;
            }
        };
        let asker = self.updates.clone();
        session.answer_input = Some(Arc::new(move |method: &str, params: &Value| {
            ask_the_person(&asker, method, params)
        }));
        spawn_server_messages(&mut session, self.updates.clone());
        let connected = self.lists(&mut session).await;
        self.send(Update::Connected(Box::new(connected)));
        self.send_held(&session).await;
        loop {
            let request = self.requests.recv().await;
            let finished = match request {
                None | Some(Request::Quit) => {
                    session.close().await;
                    return None;
                }
                Some(Request::Connect(args)) => {
                    session.close().await;
                    return Some(Request::Connect(args));
                }
                Some(Request::Cancel) => continue,
                Some(Request::Forget(what)) => {
                    let url = session.url.clone();
                    let line = match session.oauth.forget(&url, what).await {
                        Ok(report) => format!(
                            "Forgot {} set(s) of tokens and {} client registration(s) for {url}.",
                            report.credentials, report.clients
                        ),
                        Err(error) => format!("Could not forget: {error}"),
                    };
                    if what.tokens {
                        session.client.credentials().set_bearer(None);
                    }
                    self.send(Update::Status(line));
                    self.send_held(&session).await;
                    continue;
                }
                Some(Request::Call { name, arguments }) => {
                    let params = json!({ "name": name, "arguments": arguments });
                    self.cancellable(&mut session, "tools/call", params)
                        .await
                        .map(|done| done.map(|result| Outcome::Tool { name, result }))
                }
                Some(Request::Read { uri }) => self
                    .cancellable(&mut session, "resources/read", json!({ "uri": uri }))
                    .await
                    .map(|done| done.map(|result| Outcome::Resource { uri, result })),
                Some(Request::GetPrompt { name, arguments }) => {
                    let params = json!({ "name": name, "arguments": arguments });
                    self.cancellable(&mut session, "prompts/get", params)
                        .await
                        .map(|done| done.map(|result| Outcome::Prompt { name, result }))
                }
            };
            match finished {
                Some(outcome) => self.send(Update::Done(outcome)),
                None => self.send(Update::Cancelled),
            }
            self.send_held(&session).await;
        }
    }

    /// Sends `method` and waits for its answer, unless the UI cancels it first (`None`); asks
    /// made meanwhile other than cancelling are turned down (one request at a time).
    async fn cancellable(
        &mut self,
        session: &mut Session<'_>,
        method: &str,
        mut params: Value,
    ) -> Option<Result<Value, String>> {
        let id = session.next_request_id();
        params["_meta"] = json!({ "progressToken": format!("keyhole-tui-{id}") });
        let answer = {
            let call = session.send_request(method, params);
            tokio::pin!(call);
            loop {
                tokio::select! {
                    answer = &mut call => break Some(answer),
                    request = self.requests.recv() => match request {
                        Some(Request::Cancel) | None | Some(Request::Quit) => break None,
                        Some(_) => self.send(Update::Status(
                            "Busy: wait for the request under way, or press Esc to cancel it.".into(),
                        )),
                    },
                }
            }
        };
        let Some(answer) = answer else {
            let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": { "requestId": id, "reason": "cancelled in keyhole tui" } });
            if let Err(error) = session.client.send(&cancel).await {
                self.send(Update::Status(format!(
                    "Could not send the cancellation: {error}"
                )));
            }
            return None;
        };
        Some(match answer {
            Ok(response) => match response.get("error") {
                Some(error) => Err(format!(
                    "the server answered {method} with error {}: {}",
                    error["code"],
                    error["message"].as_str().unwrap_or("no message")
                )),
                None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
            },
            Err(error) => Err(error.to_string()),
        })
    }

    /// Everything the server lists; a list it cannot give is empty, and the status says why.
    async fn lists(&mut self, session: &mut Session<'_>) -> Connected {
        let offered = session.initialize_result["capabilities"].clone();
        let mut connected = Connected {
            line: session.connected_line(),
            url: session.url.clone(),
            ..Connected::default()
        };
        let wanted = [
            ("tools", "tools/list", "tools"),
            ("resources", "resources/list", "resources"),
            ("resources", "resources/templates/list", "resourceTemplates"),
            ("prompts", "prompts/list", "prompts"),
        ];
        for (capability, method, key) in wanted {
            if offered.get(capability).is_none() {
                continue;
            }
            let items = match commands::list_all(session, method, key).await {
                Ok(list) => list[key].as_array().cloned().unwrap_or_default(),
                Err(error) => {
                    self.send(Update::Status(format!("{method}: {error}")));
                    Vec::new()
                }
            };
            match key {
                "tools" => connected.tools = items,
                "resources" => connected.resources = items,
                "resourceTemplates" => connected.templates = items,
                _ => connected.prompts = items,
            }
        }
        connected
    }

    /// What the store holds for the server now.
    async fn send_held(&self, session: &Session<'_>) {
        let held = match session.oauth.store().read().await {
            Ok(document) => document
                .credentials
                .iter()
                .find(|record| record.server_url == session.url)
                .map(|record| {
                    let now = SystemClock.now_unix();
                    auth_store::describe(&document, &session.url, &record.issuer, now)
                })
                .unwrap_or(Value::Null),
            Err(error) => json!({ "error": error.to_string() }),
        };
        self.send(Update::Held(held));
    }
}

/// What the TUI can answer: elicitation forms and sampling, asked of the person.
fn capabilities() -> Value {
    json!({ "elicitation": { "form": {} }, "sampling": {} })
}

/// Asks the UI for the answer to a server's request and waits for it (`None`: declined).
fn ask_the_person(
    updates: &std_mpsc::Sender<Update>,
    method: &str,
    params: &Value,
) -> Option<Value> {
    let (reply, answer) = std_mpsc::channel();
    let ask = ServerAsk {
        method: method.to_owned(),
        params: params.clone(),
        reply,
    };
    updates.send(Update::ServerAsk(ask)).ok()?;
    answer.recv().ok().flatten()
}

/// Shows the server's notifications and answers its requests (the person answers elicitation
/// and sampling; `ping` is answered at once) while the connection lasts.
fn spawn_server_messages(session: &mut Session<'_>, updates: std_mpsc::Sender<Update>) {
    let mut messages = session.take_server_messages();
    let client = session.client.clone();
    tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            let _ = updates.send(Update::Traffic {
                outgoing: false,
                message: message.clone(),
            });
            let method = message["method"].as_str().unwrap_or_default().to_owned();
            let params = message["params"].clone();
            let Some(id) = message.get("id").filter(|_| !method.is_empty()).cloned() else {
                if let Some(line) = notification_line(&method, &params) {
                    let _ = updates.send(line);
                }
                continue;
            };
            let answer = match method.as_str() {
                "ping" => Some(json!({})),
                "elicitation/create" | "sampling/createMessage" => {
                    let asker = updates.clone();
                    let asked = method.clone();
                    tokio::task::spawn_blocking(move || ask_the_person(&asker, &asked, &params))
                        .await
                        .ok()
                        .flatten()
                }
                _ => None,
            };
            let reply = match (answer, method.as_str()) {
                (Some(result), _) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                (None, "elicitation/create") => json!({ "jsonrpc": "2.0", "id": id,
                    "result": { "action": "decline" } }),
                (None, _) => json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32601,
                    "message": format!("keyhole tui does not answer {method}") } }),
            };
            if let Err(error) = client.send(&reply).await {
                let _ = updates.send(Update::Status(format!(
                    "Could not answer the server's {method}: {error}"
                )));
            }
        }
    });
}

/// What a notification shows besides the Protocol tab: progress.
fn notification_line(method: &str, params: &Value) -> Option<Update> {
    match method {
        "notifications/progress" => {
            let mut line = format!("progress {}", params["progress"]);
            if let Some(total) = params.get("total").filter(|t| !t.is_null()) {
                line.push_str(&format!("/{total}"));
            }
            if let Some(message) = params["message"].as_str() {
                line.push_str(&format!(": {message}"));
            }
            Some(Update::Progress(line))
        }
        _ => None,
    }
}

/// Reports OAuth exchanges and the MCP server's challenges as authorization steps, a stdio
/// server's stderr as status lines.
fn tap(updates: std_mpsc::Sender<Update>) -> Tap {
    Arc::new(move |tapped| {
        let update = match tapped {
            Tapped::OAuth(exchange) => {
                let outcome = match (exchange.status, &exchange.error) {
                    (Some(status), _) => status.to_string(),
                    (None, Some(error)) => format!("failed: {error}"),
                    (None, None) => "no answer".into(),
                };
                let step = exchange.step.map(|s| format!("{s}: ")).unwrap_or_default();
                Update::AuthStep(format!(
                    "{outcome}  {step}{} {}",
                    exchange.method, exchange.url
                ))
            }
            Tapped::Mcp(exchange) if matches!(exchange.status, Some(401 | 403)) => {
                let challenge = exchange
                    .response_headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
                    .map(|(_, value)| format!(" ({value})"))
                    .unwrap_or_default();
                Update::AuthStep(format!(
                    "{}  MCP {} {}{challenge}",
                    exchange.status.unwrap_or_default(),
                    exchange.method,
                    exchange.url,
                ))
            }
            Tapped::Mcp(_) => return,
            Tapped::Message { outgoing, message } => Update::Traffic { outgoing, message },
            Tapped::Console(line) => Update::Status(format!("server stderr: {line}")),
        };
        let _ = updates.send(update);
    })
}
