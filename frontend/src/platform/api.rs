//! Talking to Keyhole's own backend: the per-launch API token and typed calls to `/api/*`.
//!
//! The token reaches the page only through the address the user opened (`/?token=…`, printed by
//! `keyhole` at start): the served page never contains it. The page moves it to this tab's
//! `sessionStorage` (it survives reloads and the full-page OAuth redirect to `/oauth/callback`) and
//! removes it from the address bar and history. The backend also set a `SameSite=Strict`, `HttpOnly`
//! cookie when that address was opened, which is what `EventSource` and a second tab opened by hand
//! on the same origin (with nothing in its own `sessionStorage`) authenticate with.
//!
//! Requests go through the browser's `fetch` (web-sys) directly: the few calls the app makes need
//! nothing a fetch wrapper crate adds, and one was about 4 KB of the gzipped wasm.

use std::fmt;

use keyhole_shared::api::mcp::{Envelope, Failure};
use keyhole_shared::api::{API_TOKEN_HEADER, ApiError, ConfigResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call to our backend failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendError {
    /// The browser could not reach the Keyhole process at all.
    Unreachable(String),
    /// The backend refused or failed the request.
    Rejected { status: u16, message: String },
    /// The backend answered with something we could not read.
    Malformed(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "Keyhole's backend is unreachable: {why}"),
            Self::Rejected { status: 401, .. } => write!(
                f,
                "This page has no valid API token. Open the address that `keyhole` printed when it \
                 started (http://…/?token=…); restart `keyhole` if you no longer have it."
            ),
            Self::Rejected { status, message } => {
                write!(f, "Keyhole's backend answered {status}: {message}")
            }
            Self::Malformed(why) => write!(f, "Keyhole's backend sent an unreadable answer: {why}"),
        }
    }
}

/// Where this tab keeps the API token.
const TOKEN_KEY: &str = "keyhole.apiToken";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// The API token this tab was opened with, if any (else the backend's cookie has to do).
pub fn api_token() -> Option<String> {
    session_storage()?
        .get_item(TOKEN_KEY)
        .ok()
        .flatten()
        .filter(|token| !token.is_empty())
}

/// The start URL carries `?token=…`: keep the token for this tab, and drop it from the address bar
/// and history.
pub fn take_token_from_address_bar() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    let Some(token) = url.search_params().get("token") else {
        return;
    };
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(TOKEN_KEY, &token);
    }
    url.search_params().delete("token");
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}

pub async fn fetch_config() -> Result<ConfigResponse, BackendError> {
    if let Some(text) = prefetched_config().await
        && let Ok(config) = serde_json::from_str(&text)
    {
        return Ok(config);
    }
    get_json("/api/config").await
}

/// The answer `boot.js` asked for while the app loaded (`window.keyholeConfig`), taken once.
async fn prefetched_config() -> Option<String> {
    let window = web_sys::window()?;
    let key = JsValue::from_str("keyholeConfig");
    let promise = js_sys::Reflect::get(&window, &key)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    JsFuture::from(promise).await.ok()?.as_string()
}

/// GETs one of our routes and reads the JSON answer.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, BackendError> {
    read_json(send("GET", path, None).await?)
}

/// GETs one of our routes and returns its body as text (a file to save as it is).
pub async fn get_text(path: &str) -> Result<String, BackendError> {
    let reply = send("GET", path, None).await?;
    if reply.ok() {
        return Ok(reply.text);
    }
    read_json::<serde_json::Value>(reply).map(|_| String::new())
}

/// POSTs a JSON body to one of our routes and reads the JSON answer.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, BackendError> {
    read_json(send_json("POST", path, body).await?)
}

/// An answer from our backend, read to the end.
pub struct Reply {
    pub status: u16,
    status_text: String,
    pub text: String,
}

impl Reply {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `body` as JSON with `method` (`PUT`, `POST`) and returns the answer whatever its status.
pub async fn send_json<B: Serialize>(
    method: &str,
    path: &str,
    body: &B,
) -> Result<Reply, BackendError> {
    let body = serde_json::to_string(body).map_err(|e| BackendError::Malformed(e.to_string()))?;
    send(method, path, Some(body)).await
}

/// A typed answer, or why there is none (the backend's own `{error, message}` when it refused).
pub fn read_json<T: DeserializeOwned>(reply: Reply) -> Result<T, BackendError> {
    if !reply.ok() {
        let message = match serde_json::from_str::<ApiError>(&reply.text) {
            Ok(body) => body.message,
            Err(_) => reply.status_text,
        };
        return Err(BackendError::Rejected {
            status: reply.status,
            message,
        });
    }
    serde_json::from_str(&reply.text).map_err(|e| BackendError::Malformed(e.to_string()))
}

/// One `fetch` to our backend, with the API token (and a JSON body when there is one).
async fn send(method: &str, path: &str, json_body: Option<String>) -> Result<Reply, BackendError> {
    let unreachable = |error: JsValue| BackendError::Unreachable(js_error_text(&error));
    let window = web_sys::window().ok_or_else(|| BackendError::Unreachable("no window".into()))?;
    let headers = web_sys::Headers::new().map_err(unreachable)?;
    if let Some(token) = api_token() {
        headers.set(API_TOKEN_HEADER, &token).map_err(unreachable)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = json_body {
        headers
            .set("Content-Type", "application/json")
            .map_err(unreachable)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    let text = match response.text() {
        Ok(body) => JsFuture::from(body).await.map(|text| text.as_string()),
        Err(error) => Err(error),
    };
    let text = match text {
        Ok(text) => text.unwrap_or_default(),
        // A refusal still says what it is (its status); a success without its body is unusable.
        Err(_) if !response.ok() => String::new(),
        Err(error) => return Err(BackendError::Malformed(js_error_text(&error))),
    };
    Ok(Reply {
        status: response.status(),
        status_text: response.status_text(),
        text,
    })
}

/// `TypeError: Failed to fetch` and the like.
fn js_error_text(error: &JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        ),
        None => error
            .as_string()
            .unwrap_or_else(|| "the request failed".into()),
    }
}

/// A call to `/api/mcp/*` or `/api/oauth/fetch`: the backend's reply envelope, read as `T` or
/// the upstream [`Failure`] (`keyhole_shared::api::mcp`). The outer error: the backend itself
/// could not be asked or read.
pub async fn call<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<Result<T, Failure>, BackendError> {
    let reply = post_json::<_, serde_json::Value>(path, body).await?;
    read_envelope(reply)
}

/// Same, with `GET`.
pub async fn get_call<T: DeserializeOwned>(path: &str) -> Result<Result<T, Failure>, BackendError> {
    read_envelope(get_json::<serde_json::Value>(path).await?)
}

fn read_envelope<T: DeserializeOwned>(
    reply: serde_json::Value,
) -> Result<Result<T, Failure>, BackendError> {
    Envelope::<T>::from_json(reply)
        .map(Envelope::into_result)
        .map_err(|e| BackendError::Malformed(e.to_string()))
}
