//! The TUI's state and what each key does. Nothing here draws ([`super::view`]) or talks to the
//! server ([`super::worker`]): keys change the state and may send a [`Request`]; the session
//! thread's [`Update`]s change it too. So the whole interaction is testable without a terminal.
//!
//! The state a person builds — the tab, the selected tool, what was typed into each form — is
//! never reset by a recovery: a step-up question or a sign-in in the browser is a pause, and the
//! same call goes on afterwards.

use std::collections::{HashMap, VecDeque};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyhole_shared::store::Forget;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::form::{self, Form};
use super::worker::{Connected, Outcome, Question, Request, ServerAsk, Update};
use crate::cli::args::ConnectionArgs;
use crate::cli::commands::{content_lines, resource_text};

/// Lines of log and protocol kept (older ones are dropped first).
const KEEP_LOG: usize = 500;
const KEEP_TRAFFIC: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Servers,
    Tools,
    Resources,
    Prompts,
    Protocol,
    Auth,
}

pub const TABS: [Tab; 6] = [
    Tab::Servers,
    Tab::Tools,
    Tab::Resources,
    Tab::Prompts,
    Tab::Protocol,
    Tab::Auth,
];

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Servers => "Servers",
            Tab::Tools => "Tools",
            Tab::Resources => "Resources",
            Tab::Prompts => "Prompts",
            Tab::Protocol => "Protocol",
            Tab::Auth => "Auth",
        }
    }

    fn index(self) -> usize {
        TABS.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A server the list offers.
#[derive(Debug, Clone)]
pub struct ServerEntry {
    pub name: String,
    /// The URL or command line.
    pub detail: String,
    pub connection: ConnectionArgs,
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Idle,
    Connecting(String),
    Connected(String),
    Failed(String),
}

/// A resource or a resource template.
#[derive(Debug, Clone)]
pub struct ResourceItem {
    pub name: String,
    /// The URI, or the URI template.
    pub uri: String,
    pub template: bool,
    pub description: String,
}

/// The answer to the last request, as lines.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub title: String,
    pub lines: Vec<String>,
    pub error: bool,
}

/// A server request waiting for the person: its form (elicitation's schema, or the reply to a
/// sampling request).
#[derive(Debug)]
pub struct Asked {
    pub ask: ServerAsk,
    pub form: Form,
    /// What the server says or asks, shown above the form.
    pub message: String,
}

/// Everything on screen.
pub struct App {
    pub tab: Tab,
    pub servers: Vec<ServerEntry>,
    pub server_selected: usize,
    pub link: Link,
    pub url: String,
    pub tools: Vec<Value>,
    pub tool_selected: usize,
    pub tool_filter: String,
    pub resources: Vec<ResourceItem>,
    pub resource_selected: usize,
    pub prompts: Vec<Value>,
    pub prompt_selected: usize,
    /// What was typed, per form ("tool:NAME", "prompt:NAME", "template:URI").
    pub forms: HashMap<String, Form>,
    /// Typing into the selected item's form.
    pub editing: bool,
    /// Typing into the filter of the Tools or Protocol tab.
    pub filtering: bool,
    pub result: Option<Shown>,
    /// What is under way ("Calling echo…"); Esc cancels it.
    pub busy: Option<String>,
    pub progress: Option<String>,
    /// A sign-in waiting for the browser: the authorization URL, and whether a browser opened.
    pub signing_in: Option<(String, bool)>,
    pub traffic: VecDeque<(bool, Value)>,
    pub traffic_filter: String,
    pub traffic_selected: usize,
    /// The Protocol tab shows the newest message until the person moves the selection (End
    /// follows again).
    pub traffic_follow: bool,
    pub auth_steps: VecDeque<String>,
    pub held: Value,
    /// The engine's question, and the tab to go back to once answered.
    pub question: Option<(Question, Tab)>,
    pub asks: VecDeque<Asked>,
    pub log: VecDeque<String>,
    pub help: bool,
    pub quit: bool,
    requests: UnboundedSender<Request>,
}

impl App {
    pub fn new(servers: Vec<ServerEntry>, requests: UnboundedSender<Request>) -> Self {
        Self {
            tab: Tab::Servers,
            servers,
            server_selected: 0,
            link: Link::Idle,
            url: String::new(),
            tools: Vec::new(),
            tool_selected: 0,
            tool_filter: String::new(),
            resources: Vec::new(),
            resource_selected: 0,
            prompts: Vec::new(),
            prompt_selected: 0,
            forms: HashMap::new(),
            editing: false,
            filtering: false,
            result: None,
            busy: None,
            progress: None,
            signing_in: None,
            traffic: VecDeque::new(),
            traffic_filter: String::new(),
            traffic_selected: 0,
            traffic_follow: true,
            auth_steps: VecDeque::new(),
            held: Value::Null,
            question: None,
            asks: VecDeque::new(),
            log: VecDeque::new(),
            help: false,
            quit: false,
            requests,
        }
    }

    fn send(&mut self, request: Request) {
        if self.requests.send(request).is_err() {
            self.note("The session thread has stopped; quit and start again.");
        }
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.log.push_back(line.into());
        while self.log.len() > KEEP_LOG {
            self.log.pop_front();
        }
    }

    /// Connects to the server at `index` of the list.
    pub fn connect(&mut self, index: usize) {
        let Some(entry) = self.servers.get(index) else {
            return;
        };
        let connection = Box::new(entry.connection.clone());
        self.server_selected = index;
        self.busy = None;
        self.send(Request::Connect(connection));
    }

    // ---- updates from the session thread -------------------------------------------------

    pub fn apply(&mut self, update: Update) {
        // Anything but a line of progress means the browser has answered (or the wait ended).
        if !matches!(
            update,
            Update::Status(_)
                | Update::SignIn { .. }
                | Update::AuthStep(_)
                | Update::Traffic { .. }
        ) {
            self.signing_in = None;
        }
        match update {
            Update::Status(line) => self.note(line),
            Update::Connecting(label) => {
                self.link = Link::Connecting(label);
                self.result = None;
            }
            Update::Connected(connected) => self.connected(*connected),
            Update::NotConnected(reason) => {
                self.note(format!("Not connected: {reason}"));
                self.link = Link::Failed(reason);
                self.busy = None;
            }
            Update::Done(outcome) => {
                self.busy = None;
                self.result = Some(match outcome {
                    Ok(outcome) => shown(outcome),
                    Err(error) => Shown {
                        title: "Error".into(),
                        lines: vec![error],
                        error: true,
                    },
                });
            }
            Update::Cancelled => {
                self.busy = None;
                self.result = Some(Shown {
                    title: "Cancelled".into(),
                    lines: vec!["The request was cancelled; the server was told.".into()],
                    error: false,
                });
            }
            Update::Traffic { outgoing, message } => {
                self.traffic.push_back((outgoing, message));
                while self.traffic.len() > KEEP_TRAFFIC {
                    self.traffic.pop_front();
                }
            }
            Update::AuthStep(step) => {
                self.auth_steps.push_back(step);
                while self.auth_steps.len() > KEEP_LOG {
                    self.auth_steps.pop_front();
                }
            }
            Update::Held(held) => self.held = held,
            Update::Question(question) => {
                let back = self.tab;
                self.tab = Tab::Auth;
                self.question = Some((question, back));
            }
            Update::ServerAsk(ask) => self.asked(ask),
            Update::Progress(line) => self.progress = Some(line),
            Update::SignIn { url, opened } => self.signing_in = Some((url, opened)),
        }
    }

    fn connected(&mut self, connected: Connected) {
        self.note(connected.line.clone());
        self.link = Link::Connected(connected.line);
        self.url = connected.url;
        self.tools = connected.tools;
        self.prompts = connected.prompts;
        let described = |item: &Value, key: &str, template: bool| ResourceItem {
            name: text(item, "name"),
            uri: text(item, key),
            template,
            description: text(item, "description"),
        };
        self.resources = connected
            .resources
            .iter()
            .map(|r| described(r, "uri", false))
            .chain(
                connected
                    .templates
                    .iter()
                    .map(|t| described(t, "uriTemplate", true)),
            )
            .collect();
        self.tool_selected = self.tool_selected.min(self.tools.len().saturating_sub(1));
        if self.tab == Tab::Servers {
            self.tab = Tab::Tools;
        }
    }

    fn asked(&mut self, ask: ServerAsk) {
        let (form, message) = match ask.method.as_str() {
            "elicitation/create" => (
                Form::from_schema(&ask.params["requestedSchema"]),
                text(&ask.params, "message"),
            ),
            "sampling/createMessage" => {
                let last = ask.params["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .map(|m| text(&m["content"], "text"))
                    .unwrap_or_default();
                let reply = Form::from_schema(&json!({
                    "properties": {"reply": {"type": "string", "description": "The model's reply"}},
                    "required": ["reply"]
                }));
                (
                    reply,
                    format!("The server asks for a completion of: {last}"),
                )
            }
            other => {
                self.note(format!(
                    "The server asked for {other}; keyhole tui does not answer it."
                ));
                let _ = ask.reply.send(None);
                return;
            }
        };
        self.asks.push_back(Asked { ask, form, message });
    }

    // ---- keys ----------------------------------------------------------------------------

    pub fn key(&mut self, key: KeyEvent) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.question.is_some() {
            return self.answer_question(key.code);
        }
        if !self.asks.is_empty() {
            return self.answer_ask(key.code);
        }
        if self.help {
            self.help = false;
            return;
        }
        if self.editing {
            return self.edit(key.code);
        }
        if self.filtering {
            return self.filter(key.code);
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char(d @ '1'..='6') => self.tab = TABS[(d as usize) - ('1' as usize)],
            KeyCode::Tab => self.tab = TABS[(self.tab.index() + 1) % TABS.len()],
            KeyCode::BackTab => self.tab = TABS[(self.tab.index() + TABS.len() - 1) % TABS.len()],
            KeyCode::Esc => self.cancel(),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(false),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(true),
            KeyCode::Char('/') if matches!(self.tab, Tab::Tools | Tab::Protocol) => {
                self.filtering = true
            }
            KeyCode::Enter => self.enter(),
            KeyCode::End | KeyCode::Char('G') if self.tab == Tab::Protocol => {
                self.traffic_follow = true
            }
            KeyCode::Char('r') => self.run_selected(),
            KeyCode::Char('t') if self.tab == Tab::Auth => self.forget(Forget {
                tokens: true,
                client: false,
            }),
            KeyCode::Char('c') if self.tab == Tab::Auth => self.forget(Forget {
                tokens: true,
                client: true,
            }),
            _ => {}
        }
    }

    fn answer_question(&mut self, code: KeyCode) {
        let answer = match code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => true,
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => false,
            _ => return,
        };
        if let Some((question, back)) = self.question.take() {
            let _ = question.reply.send(answer);
            self.tab = back;
            if !answer {
                self.note("Cancelled: nothing was authorized; the connection stays as it was.");
            }
        }
    }

    fn answer_ask(&mut self, code: KeyCode) {
        let Some(asked) = self.asks.front_mut() else {
            return;
        };
        match code {
            KeyCode::Esc => {
                if let Some(asked) = self.asks.pop_front() {
                    let _ = asked.ask.reply.send(None);
                    self.note(format!("Declined the server's {}.", asked.ask.method));
                }
            }
            KeyCode::Enter => match asked.form.values() {
                Ok(values) => {
                    if let Some(asked) = self.asks.pop_front() {
                        let answer = ask_answer(&asked.ask.method, values);
                        let _ = asked.ask.reply.send(Some(answer));
                    }
                }
                Err(problem) => self.note(problem),
            },
            code => typing(&mut asked.form, code),
        }
    }

    fn edit(&mut self, code: KeyCode) {
        match code {
            KeyCode::Esc => self.editing = false,
            KeyCode::Enter => {
                self.editing = false;
                self.run_selected();
            }
            code => {
                if let Some(form) = self.selected_form() {
                    typing(form, code);
                }
            }
        }
    }

    fn filter(&mut self, code: KeyCode) {
        let filter = match self.tab {
            Tab::Protocol => &mut self.traffic_filter,
            _ => &mut self.tool_filter,
        };
        match code {
            KeyCode::Esc | KeyCode::Enter => self.filtering = false,
            KeyCode::Backspace => {
                filter.pop();
            }
            KeyCode::Char(c) => filter.push(c),
            _ => {}
        }
        self.tool_selected = 0;
        self.traffic_selected = 0;
    }

    fn cancel(&mut self) {
        if self.busy.is_some() {
            self.note("Cancelling…");
            self.send(Request::Cancel);
        }
    }

    fn forget(&mut self, what: Forget) {
        if !matches!(self.link, Link::Connected(_)) {
            return self.note("Not connected: nothing to forget.");
        }
        if self.busy.is_some() {
            return self.note("Busy: wait for the request under way, or press Esc to cancel it.");
        }
        self.send(Request::Forget(what));
    }

    fn move_selection(&mut self, down: bool) {
        let (selected, count) = match self.tab {
            Tab::Servers => (&mut self.server_selected, self.servers.len()),
            Tab::Tools => {
                let count = self.visible_tools().len();
                (&mut self.tool_selected, count)
            }
            Tab::Resources => (&mut self.resource_selected, self.resources.len()),
            Tab::Prompts => (&mut self.prompt_selected, self.prompts.len()),
            Tab::Protocol => {
                let count = self.visible_traffic().len();
                if self.traffic_follow {
                    self.traffic_follow = false;
                    self.traffic_selected = count.saturating_sub(1);
                }
                (&mut self.traffic_selected, count)
            }
            Tab::Auth => return,
        };
        if count == 0 {
            *selected = 0;
        } else if down {
            *selected = (*selected + 1).min(count - 1);
        } else {
            *selected = selected.saturating_sub(1);
        }
    }

    /// Enter: connect (Servers), type into the form, or run what needs no arguments.
    fn enter(&mut self) {
        match self.tab {
            Tab::Servers => self.connect(self.server_selected),
            Tab::Tools | Tab::Resources | Tab::Prompts => match self.selected_form() {
                Some(form) if !form.is_empty() => self.editing = true,
                _ => self.run_selected(),
            },
            _ => {}
        }
    }

    // ---- the selection and its form ------------------------------------------------------

    /// The tools the filter lets through (name or description contains it, ignoring case).
    pub fn visible_tools(&self) -> Vec<&Value> {
        let wanted = self.tool_filter.to_lowercase();
        self.tools
            .iter()
            .filter(|tool| {
                wanted.is_empty()
                    || text(tool, "name").to_lowercase().contains(&wanted)
                    || text(tool, "description").to_lowercase().contains(&wanted)
            })
            .collect()
    }

    /// The selected protocol message's place among the visible ones (the newest when following).
    pub fn traffic_position(&self) -> usize {
        match self.traffic_follow {
            true => self.visible_traffic().len().saturating_sub(1),
            false => self.traffic_selected,
        }
    }

    /// The protocol messages the filter lets through.
    pub fn visible_traffic(&self) -> Vec<&(bool, Value)> {
        let wanted = self.traffic_filter.to_lowercase();
        self.traffic
            .iter()
            .filter(|(_, message)| {
                wanted.is_empty() || message.to_string().to_lowercase().contains(&wanted)
            })
            .collect()
    }

    /// The key of the selected item's form, and how to make it.
    fn selected_form_key(&self) -> Option<(String, Form)> {
        match self.tab {
            Tab::Tools => {
                let tool = *self.visible_tools().get(self.tool_selected)?;
                Some((
                    format!("tool:{}", text(tool, "name")),
                    Form::from_schema(&tool["inputSchema"]),
                ))
            }
            Tab::Prompts => {
                let prompt = self.prompts.get(self.prompt_selected)?;
                Some((
                    format!("prompt:{}", text(prompt, "name")),
                    Form::from_prompt_arguments(&prompt["arguments"]),
                ))
            }
            Tab::Resources => {
                let item = self.resources.get(self.resource_selected)?;
                let form = match item.template {
                    true => Form::from_template(&item.uri),
                    false => Form::default(),
                };
                Some((format!("template:{}", item.uri), form))
            }
            _ => None,
        }
    }

    /// The selected item's form, made on first use and kept (with what was typed) after.
    pub fn selected_form(&mut self) -> Option<&mut Form> {
        let (key, fresh) = self.selected_form_key()?;
        Some(self.forms.entry(key).or_insert(fresh))
    }

    /// The selected item's form as it is, without making it.
    pub fn shown_form(&self) -> Option<Form> {
        let (key, fresh) = self.selected_form_key()?;
        Some(self.forms.get(&key).cloned().unwrap_or(fresh))
    }

    /// Runs the selected tool, reads the selected resource or gets the selected prompt.
    fn run_selected(&mut self) {
        if !matches!(self.link, Link::Connected(_)) {
            return;
        }
        if let Some(busy) = &self.busy {
            let line = format!("Busy ({busy}); press Esc to cancel it.");
            return self.note(line);
        }
        let values = match self.shown_form().map(|form| form.values()) {
            Some(Err(problem)) => return self.note(problem),
            Some(Ok(values)) => values,
            None => return,
        };
        let (request, busy) = match self.tab {
            Tab::Tools => {
                let Some(tool) = self
                    .visible_tools()
                    .get(self.tool_selected)
                    .map(|t| text(t, "name"))
                else {
                    return;
                };
                let busy = format!("Calling {tool}…");
                let arguments = Value::Object(values);
                (
                    Request::Call {
                        name: tool,
                        arguments,
                    },
                    busy,
                )
            }
            Tab::Prompts => {
                let Some(name) = self
                    .prompts
                    .get(self.prompt_selected)
                    .map(|p| text(p, "name"))
                else {
                    return;
                };
                let busy = format!("Getting {name}…");
                let arguments = Value::Object(values);
                (Request::GetPrompt { name, arguments }, busy)
            }
            Tab::Resources => {
                let Some(item) = self.resources.get(self.resource_selected) else {
                    return;
                };
                let uri = match item.template {
                    true => form::expand(&item.uri, &values),
                    false => item.uri.clone(),
                };
                let busy = format!("Reading {uri}…");
                (Request::Read { uri }, busy)
            }
            _ => return,
        };
        self.busy = Some(busy);
        self.progress = None;
        self.send(request);
    }
}

/// Keys typed into a form: characters, Backspace, ↑/↓/Tab between fields, ←/→ through choices.
fn typing(form: &mut Form, code: KeyCode) {
    match code {
        KeyCode::Char(c) => form.type_char(c),
        KeyCode::Backspace => form.backspace(),
        KeyCode::Tab | KeyCode::Down => form.next(),
        KeyCode::BackTab | KeyCode::Up => form.previous(),
        KeyCode::Left => form.cycle(false),
        KeyCode::Right => form.cycle(true),
        _ => {}
    }
}

/// The result sent back for an accepted server request.
fn ask_answer(method: &str, values: serde_json::Map<String, Value>) -> Value {
    match method {
        "sampling/createMessage" => json!({
            "role": "assistant",
            "content": { "type": "text", "text": values.get("reply").and_then(Value::as_str).unwrap_or_default() },
            "model": "keyhole-tui",
            "stopReason": "endTurn",
        }),
        _ => json!({ "action": "accept", "content": values }),
    }
}

/// A finished request as lines.
fn shown(outcome: Outcome) -> Shown {
    match outcome {
        Outcome::Tool { name, result } => {
            let error = result["isError"].as_bool().unwrap_or(false);
            let mut lines = content_lines(&result["content"]);
            if let Some(structured) = result.get("structuredContent") {
                lines.push("structuredContent:".into());
                lines.extend(pretty(structured));
            }
            let title = match error {
                true => format!("{name}: the tool reported an error"),
                false => format!("{name}: result"),
            };
            Shown {
                title,
                lines,
                error,
            }
        }
        Outcome::Resource { uri, result } => Shown {
            title: uri,
            lines: result["contents"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| {
                    resource_text(c)
                        .lines()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect(),
            error: false,
        },
        Outcome::Prompt { name, result } => Shown {
            title: name,
            lines: result["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    let content = content_lines(&json!([m["content"].clone()])).join(" ");
                    format!("{}: {content}", text(m, "role"))
                })
                .collect(),
            error: false,
        },
    }
}

fn pretty(value: &Value) -> Vec<String> {
    serde_json::to_string_pretty(value)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A string field of `item`, or "".
pub fn text(item: &Value, key: &str) -> String {
    item[key].as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::worker::StepUpView;
    use crossterm::event::KeyEvent;
    use tokio::sync::mpsc;

    fn press(app: &mut App, code: KeyCode) {
        app.key(KeyEvent::from(code));
    }

    fn type_text(app: &mut App, text: &str) {
        text.chars().for_each(|c| press(app, KeyCode::Char(c)));
    }

    fn connected_app() -> (App, mpsc::UnboundedReceiver<Request>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut app = App::new(Vec::new(), sender);
        let tool = |name: &str| {
            json!({"name": name, "inputSchema": {"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}})
        };
        app.apply(Update::Connected(Box::new(Connected {
            line: "Connected to test".into(),
            url: "http://127.0.0.1/mcp".into(),
            tools: vec![tool("echo"), tool("get-weather")],
            ..Connected::default()
        })));
        (app, receiver)
    }

    #[test]
    fn a_step_up_question_pauses_on_the_auth_tab_and_keeps_the_typed_arguments() {
        let (mut app, mut requests) = connected_app();
        assert_eq!(app.tab, Tab::Tools);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Enter);
        type_text(&mut app, "Lisbon");
        press(&mut app, KeyCode::Enter);
        match requests.try_recv() {
            Ok(Request::Call { name, arguments }) => {
                assert_eq!(name, "get-weather");
                assert_eq!(arguments, json!({"city": "Lisbon"}));
            }
            other => panic!("expected the call, got {other:?}"),
        }
        let (reply, answer) = std::sync::mpsc::channel();
        app.apply(Update::Question(Question {
            text: "Authorize again?".into(),
            step_up: Some(StepUpView {
                tool: Some("get-weather".into()),
                message: "needs weather:read".into(),
                new_scopes: vec!["weather:read".into()],
                already_granted: vec!["mcp".into()],
            }),
            reply,
        }));
        assert_eq!(app.tab, Tab::Auth);
        // Other keys wait for the answer.
        press(&mut app, KeyCode::Char('1'));
        assert_eq!(app.tab, Tab::Auth);
        press(&mut app, KeyCode::Char('n'));
        assert_eq!(answer.recv(), Ok(false));
        assert_eq!(app.tab, Tab::Tools);
        assert_eq!(
            app.shown_form().unwrap().fields[0].value,
            "Lisbon",
            "the form is as it was"
        );
        // The other tool's form is its own.
        press(&mut app, KeyCode::Up);
        assert_eq!(app.shown_form().unwrap().fields[0].value, "");
    }

    #[test]
    fn a_missing_argument_is_named_and_nothing_is_sent() {
        let (mut app, mut requests) = connected_app();
        press(&mut app, KeyCode::Char('r'));
        assert!(requests.try_recv().is_err());
        assert_eq!(app.log.back().map(String::as_str), Some("city is required"));
        assert!(app.busy.is_none());
    }

    #[test]
    fn esc_cancels_only_what_is_under_way_and_one_request_at_a_time() {
        let (mut app, mut requests) = connected_app();
        press(&mut app, KeyCode::Esc);
        assert!(requests.try_recv().is_err(), "nothing to cancel");
        press(&mut app, KeyCode::Enter);
        type_text(&mut app, "x");
        press(&mut app, KeyCode::Enter);
        assert!(matches!(requests.try_recv(), Ok(Request::Call { .. })));
        press(&mut app, KeyCode::Char('r'));
        assert!(requests.try_recv().is_err(), "busy: not sent twice");
        press(&mut app, KeyCode::Esc);
        assert!(matches!(requests.try_recv(), Ok(Request::Cancel)));
        app.apply(Update::Cancelled);
        assert!(app.busy.is_none());
    }

    #[test]
    fn an_elicitation_is_answered_from_its_form_or_declined() {
        let (mut app, _requests) = connected_app();
        let (reply, answer) = std::sync::mpsc::channel();
        app.apply(Update::ServerAsk(ServerAsk {
            method: "elicitation/create".into(),
            params: json!({"message": "Your name?", "requestedSchema": {"type": "object",
                "properties": {"name": {"type": "string"}}, "required": ["name"]}}),
            reply,
        }));
        press(&mut app, KeyCode::Enter);
        assert!(answer.try_recv().is_err(), "a required field is empty");
        type_text(&mut app, "Ada");
        press(&mut app, KeyCode::Enter);
        assert_eq!(
            answer.recv().unwrap(),
            Some(json!({"action": "accept", "content": {"name": "Ada"}}))
        );
        let (reply, answer) = std::sync::mpsc::channel();
        app.apply(Update::ServerAsk(ServerAsk {
            method: "sampling/createMessage".into(),
            params: json!({"messages": []}),
            reply,
        }));
        press(&mut app, KeyCode::Esc);
        assert_eq!(answer.recv().unwrap(), None);
        assert!(app.asks.is_empty());
    }
}
