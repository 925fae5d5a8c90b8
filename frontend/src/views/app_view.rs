//! The MCP Apps host (#27, the `io.modelcontextprotocol/ui` extension, 2026-01-26): a tool that
//! declares a `ui://` resource gets its app rendered under the result, in a frame from Keyhole's
//! sandbox origin (`server/src/web/app_sandbox.rs`: a second loopback listener whose proxy page
//! holds the app in an inner frame without `allow-same-origin`), so the app's script reaches
//! neither the API token nor the page's storage. The host side of the bridge is written here:
//! JSON-RPC over `postMessage`, only with that frame and only from the sandbox origin.
//!
//! The app's requests: `ui/initialize` (host info, capabilities, the theme and display mode),
//! `tools/call` and `resources/read` (sent through the session, so through the recovery engine
//! like the user's own calls: a 401 is refreshed silently, a 403 asks for the step-up), `ping`,
//! `ui/open-link` (http(s) only, in a new tab without opener), `ui/message` (shown), display mode
//! (inline only), `ui/update-model-context` (accepted). Once the app says
//! `ui/notifications/initialized` the host sends `tool-input` then `tool-result`; `size-changed`
//! sets the frame's height (capped). Every bridge message goes into the Protocol view, marked as
//! app traffic. An app that never initialises, floods, or asks for what the host does not do is
//! told so (an error) and reported under the frame, never given more.
//!
//! The open app (tool, arguments, result) is the session's `open_app`: a sign-in redirect takes it
//! along and the tool's panel reopens it after the return.
//!
//! A wasm chunk of its own (`#[lazy]`): only a tool with an app needs it.
//!
//! Test ids: `app-frame` (`data-state` loading|running|failed), `app-problem`, `app-note`.

use keyhole_shared::VERSION;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::flows::session::{OpenApp, Session};
use crate::platform::api;

/// The only version of the extension there is.
const APPS_VERSION: &str = "2026-01-26";
/// The MIME type of an app's HTML.
const APP_MIME: &str = "text/html;profile=mcp-app";
/// Messages one app may send; past it the app is cut off (a flood).
const MESSAGE_LIMIT: u32 = 5_000;
/// How long an app may take to ask `ui/initialize`.
const INITIALIZE_WITHIN_MS: i32 = 15_000;
/// The tallest the frame grows to.
const MAX_HEIGHT: f64 = 2_000.0;

/// A tool's app: `_meta.ui.resourceUri`, else the older `_meta["ui/resourceUri"]`, when `ui://`.
pub fn ui_resource(tool: &Value) -> Option<String> {
    let meta = &tool["_meta"];
    meta["ui"]["resourceUri"]
        .as_str()
        .or_else(|| meta["ui/resourceUri"].as_str())
        .filter(|uri| uri.starts_with("ui://"))
        .map(str::to_owned)
}

/// The app of `tool` (its resource `uri`), for the call with `arguments` that returned `result`.
#[lazy]
pub fn app_frame(
    session: Session,
    uri: String,
    tool: Value,
    arguments: Value,
    result: Value,
) -> AnyView {
    view! { <AppFrame session=session uri=uri tool=tool arguments=arguments result=result /> }
        .into_any()
}

/// The app's HTML and declared policy from its `resources/read` answer.
fn app_document(read: &Value) -> Result<(String, Value), String> {
    let content = &read["contents"][0];
    let mime = content["mimeType"].as_str().unwrap_or_default();
    if mime.replace(' ', "") != APP_MIME {
        return Err(format!(
            "the UI resource is `{mime}`, not `{APP_MIME}`: Keyhole does not render it"
        ));
    }
    let html = match (content["text"].as_str(), content["blob"].as_str()) {
        (Some(text), _) => text.to_owned(),
        (None, Some(blob)) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(blob)
                .map_err(|e| format!("the UI resource's blob is not base64: {e}"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (None, None) => return Err("the UI resource has no content".into()),
    };
    Ok((html, content["_meta"]["ui"]["csp"].clone()))
}

fn theme() -> &'static str {
    let dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    if dark { "dark" } else { "light" }
}

/// What `ui/initialize` answers.
fn initialize_result(tool: &Value) -> Value {
    let locale = web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_else(|| "en".into());
    json!({
        "protocolVersion": APPS_VERSION,
        "hostInfo": {"name": "Keyhole", "version": VERSION},
        "hostCapabilities": {"openLinks": {}, "serverTools": {}, "serverResources": {}, "logging": {}},
        "hostContext": {
            "toolInfo": {"tool": tool},
            "theme": theme(),
            "displayMode": "inline",
            "availableDisplayModes": ["inline"],
            "locale": locale,
            "platform": "web",
        }
    })
}

/// Why a request of the app got no result.
fn refusal(code: i64, message: impl Into<String>) -> Value {
    json!({"code": code, "message": message.into()})
}

/// The host's end of one app's bridge.
#[derive(Clone, Copy)]
struct Host {
    session: Session,
    frame: NodeRef<leptos::html::Iframe>,
    origin: StoredValue<String>,
    html: StoredValue<String>,
    tool: StoredValue<Value>,
    arguments: StoredValue<Value>,
    result: StoredValue<Value>,
    initialized: RwSignal<bool>,
    received: StoredValue<u32>,
    height: RwSignal<f64>,
    note: RwSignal<Option<String>>,
    problem: RwSignal<Option<String>>,
}

impl Host {
    /// Sends `message` to the app (through the proxy), and into the Protocol view.
    fn post(&self, message: Value) {
        let Some(target) = self.frame.get_untracked().and_then(|f| f.content_window()) else {
            return;
        };
        self.session.record_app(false, &message);
        if let Ok(value) = js_sys::JSON::parse(&message.to_string()) {
            let _ = target.post_message(&value, &self.origin.get_value());
        }
    }

    fn reply(&self, id: Value, outcome: Result<Value, Value>) {
        let message = match outcome {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        };
        self.post(message);
    }

    fn notify(&self, method: &str, params: Value) {
        self.post(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// One message from the sandbox origin's frame.
    fn receive(&self, message: Value) {
        let method = message["method"].as_str().unwrap_or_default().to_owned();
        if method == "ui/notifications/sandbox-proxy-ready" {
            self.notify(
                "ui/notifications/sandbox-resource-ready",
                json!({"html": self.html.get_value()}),
            );
            return;
        }
        let count = self.received.get_value() + 1;
        self.received.set_value(count);
        if count > MESSAGE_LIMIT {
            if count == MESSAGE_LIMIT + 1 {
                self.problem.set(Some(format!(
                    "The app sent more than {MESSAGE_LIMIT} messages; Keyhole no longer answers it."
                )));
            }
            return;
        }
        self.session.record_app(true, &message);
        match message.get("id").cloned() {
            Some(id) if !method.is_empty() => {
                let host = *self;
                let params = message["params"].clone();
                spawn_local(async move {
                    let outcome = host.answer(&method, params).await;
                    host.reply(id, outcome);
                });
            }
            _ => self.notification(&method, &message["params"]),
        }
    }

    fn notification(&self, method: &str, params: &Value) {
        match method {
            "ui/notifications/initialized" if !self.initialized.get_untracked() => {
                self.initialized.set(true);
                self.notify(
                    "ui/notifications/tool-input",
                    json!({"arguments": self.arguments.get_value()}),
                );
                self.notify("ui/notifications/tool-result", self.result.get_value());
            }
            "ui/notifications/size-changed" => {
                if let Some(height) = params["height"].as_f64().filter(|h| *h > 0.0) {
                    self.height.set(height.min(MAX_HEIGHT));
                }
            }
            _ => {}
        }
    }

    async fn answer(&self, method: &str, params: Value) -> Result<Value, Value> {
        match method {
            "ui/initialize" => Ok(initialize_result(&self.tool.get_value())),
            "ping" | "ui/update-model-context" => Ok(json!({})),
            "ui/request-display-mode" => Ok(json!({"mode": "inline"})),
            "tools/call" | "resources/read" => self
                .session
                .request(method, params)
                .await
                .map_err(|error| refusal(-32603, error.to_string())),
            "ui/open-link" => {
                let url = params["url"].as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(refusal(-32602, "only http(s) links are opened"));
                }
                web_sys::window()
                    .and_then(|w| {
                        w.open_with_url_and_target_and_features(
                            url,
                            "_blank",
                            "noopener,noreferrer",
                        )
                        .ok()
                    })
                    .map(|_| json!({}))
                    .ok_or_else(|| refusal(-32603, "the link could not be opened"))
            }
            "ui/message" => {
                let content = match &params["content"] {
                    Value::Array(blocks) => blocks.clone(),
                    block => vec![block.clone()],
                };
                let text: Vec<&str> = content.iter().filter_map(|b| b["text"].as_str()).collect();
                self.note.set(Some(text.join("\n")));
                Ok(json!({}))
            }
            other => Err(refusal(
                -32601,
                format!("Keyhole does not offer `{other}` to apps"),
            )),
        }
    }
}

#[component]
fn AppFrame(
    session: Session,
    uri: String,
    tool: Value,
    arguments: Value,
    result: Value,
) -> impl IntoView {
    // What a sign-in redirect takes along, to reopen this app after the return.
    let name = tool["name"].as_str().unwrap_or_default().to_owned();
    session.open_app.set_value(Some(OpenApp {
        tool: name.clone(),
        arguments: arguments.clone(),
        result: result.clone(),
    }));
    on_cleanup(move || {
        let _ = session.open_app.try_update_value(|open| {
            if open.as_ref().is_some_and(|app| app.tool == name) {
                *open = None;
            }
        });
    });
    let host = Host {
        session,
        frame: NodeRef::new(),
        origin: StoredValue::new(String::new()),
        html: StoredValue::new(String::new()),
        tool: StoredValue::new(tool),
        arguments: StoredValue::new(arguments),
        result: StoredValue::new(result),
        initialized: RwSignal::new(false),
        received: StoredValue::new(0),
        height: RwSignal::new(320.0),
        note: RwSignal::new(None),
        problem: RwSignal::new(None),
    };
    let src = RwSignal::new(None::<String>);
    // Listening starts before the frame exists: the proxy's first word must not be missed.
    let listener =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let origin = host.origin.get_value();
            let from_frame = host
                .frame
                .get_untracked()
                .and_then(|f| f.content_window())
                .zip(event.source())
                .is_some_and(|(frame, source)| js_sys::Object::is(frame.as_ref(), &source));
            if origin.is_empty() || event.origin() != origin || !from_frame {
                return;
            }
            let text = js_sys::JSON::stringify(&event.data())
                .ok()
                .and_then(|s| s.as_string());
            if let Some(message) = text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
                host.receive(message);
            }
        });
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    }
    let listener = StoredValue::new_local(Some(listener));
    on_cleanup(move || {
        if let (Some(window), Some(listener)) = (
            web_sys::window(),
            listener.try_update_value(Option::take).flatten(),
        ) {
            let _ = window
                .remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
        }
    });
    spawn_local(async move {
        let sandbox = match api::fetch_config().await {
            Ok(config) => config.app_sandbox,
            Err(error) => {
                host.problem.set(Some(error.to_string()));
                return;
            }
        };
        let Some(sandbox) = sandbox else {
            host.problem.set(Some(
                "This Keyhole has no sandbox origin for apps, so the app is not shown.".into(),
            ));
            return;
        };
        let read = session.request("resources/read", json!({"uri": uri})).await;
        let document = read
            .map_err(|e| e.to_string())
            .and_then(|read| app_document(&read));
        match document {
            Ok((html, csp)) => {
                host.html.set_value(html);
                host.origin.set_value(sandbox.clone());
                let query = if csp.is_object() {
                    format!(
                        "?csp={}",
                        String::from(js_sys::encode_uri_component(&csp.to_string()))
                    )
                } else {
                    String::new()
                };
                src.set(Some(format!("{sandbox}/proxy{query}")));
                crate::platform::page::sleep_ms(INITIALIZE_WITHIN_MS).await;
                if !host.initialized.get_untracked() && host.problem.get_untracked().is_none() {
                    host.problem.set(Some(format!(
                        "The app did not initialise within {} s.",
                        INITIALIZE_WITHIN_MS / 1000
                    )));
                }
            }
            Err(problem) => host
                .problem
                .set(Some(format!("The app could not be loaded: {problem}"))),
        }
    });
    let state = move || {
        if host.problem.with(Option::is_some) && !host.initialized.get() {
            "failed"
        } else if host.initialized.get() {
            "running"
        } else {
            "loading"
        }
    };
    view! {
        <section class="app-host" aria-label="The tool's app">
            <h4>"App " <span class="muted">"(MCP Apps, sandboxed)"</span></h4>
            {move || src.get().map(|src| view! {
                <iframe node_ref=host.frame data-testid="app-frame" data-state=state
                    title="The tool's app" src=src
                    sandbox="allow-scripts allow-same-origin allow-forms"
                    style:height=move || format!("{}px", host.height.get())></iframe>
            })}
            {move || host.problem.get().map(|p| view! { <p class="error" role="alert" data-testid="app-problem">{p}</p> })}
            {move || host.note.get().map(|n| view! { <p class="muted" data-testid="app-note">"The app says: " {n}</p> })}
        </section>
    }
}
