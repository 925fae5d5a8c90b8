//! Talking to Keyhole's own backend: the per-launch API token and typed calls to `/api/*`.

use std::fmt;

use gloo_net::http::{Request, Response};
use keyhole_shared::api::{API_TOKEN_HEADER, ApiError, ConfigResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
                "Keyhole's backend refused this page's API token. Open the URL that `keyhole` printed at start."
            ),
            Self::Rejected { status, message } => {
                write!(f, "Keyhole's backend answered {status}: {message}")
            }
            Self::Malformed(why) => write!(f, "Keyhole's backend sent an unreadable answer: {why}"),
        }
    }
}

/// The API token the server injected into `index.html`.
pub fn api_token() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector("meta[name=keyhole-api-token]")
                .ok()
                .flatten()
        })
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default()
}

/// The start URL carries `?token=…` so it can be pasted into a browser; the page already has the token
/// from `index.html`, so drop it from the address bar and history.
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
    if url.search_params().get("token").is_none() {
        return;
    }
    url.search_params().delete("token");
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
}

pub async fn fetch_config() -> Result<ConfigResponse, BackendError> {
    let request = Request::get("/api/config").header(API_TOKEN_HEADER, &api_token());
    read_json(request.send().await).await
}

/// GETs one of our routes and reads the JSON answer.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, BackendError> {
    let request = Request::get(path).header(API_TOKEN_HEADER, &api_token());
    read_json(request.send().await).await
}

/// POSTs a JSON body to one of our routes and reads the JSON answer.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, BackendError> {
    let request = Request::post(path)
        .header(API_TOKEN_HEADER, &api_token())
        .json(body)
        .map_err(|e| BackendError::Malformed(e.to_string()))?;
    read_json(request.send().await).await
}

async fn read_json<T: DeserializeOwned>(
    sent: Result<Response, gloo_net::Error>,
) -> Result<T, BackendError> {
    let response = sent.map_err(|e| BackendError::Unreachable(e.to_string()))?;
    if !response.ok() {
        let status = response.status();
        let message = match response.json::<ApiError>().await {
            Ok(body) => body.message,
            Err(_) => response.status_text(),
        };
        return Err(BackendError::Rejected { status, message });
    }
    response
        .json::<T>()
        .await
        .map_err(|e| BackendError::Malformed(e.to_string()))
}
