//! Connect-time OAuth in the browser: the shared `OAuthClient` compiled to wasm, with its HTTP going
//! through `/api/oauth/fetch` (CORS) and its store being the backend's `/api/store/oauth` (shared with
//! the CLI; no tokens in browser storage). The full-page redirect leaves a small resume snapshot in
//! `sessionStorage` (the server URL only — never a token); `/oauth/callback` completes the flow.

use std::collections::BTreeMap;

use gloo_net::http::Request;
use keyhole_shared::api::API_TOKEN_HEADER;
use keyhole_shared::challenge::AuthChallenge;
use keyhole_shared::http::{
    ExchangeObserver, HttpClient, HttpError, HttpExchange, HttpRequest, HttpResponse, Observed,
};
use keyhole_shared::oauth::Tokens;
use keyhole_shared::oauth_client::{ClientConfig, OAuthClient};
use keyhole_shared::random::Entropy;
use keyhole_shared::recovery::Clock;
use keyhole_shared::resume::{
    RecoveryKind, ResumeSnapshot, SNAPSHOT_KEY, SNAPSHOT_VERSION, Trigger,
};
use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};
use serde_json::{Value, json};

use crate::api;

/// The `sessionStorage` key of the OAuth steps of the current sign-in (redacted exchanges).
const STEPS_KEY: &str = "keyhole.oauth-steps.v1";
/// Response bodies kept per step.
const STEP_BODY_LIMIT: usize = 4000;
/// Where authorization responses come back.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// HTTP through the backend's `/api/oauth/fetch`.
pub struct WebHttp;

impl HttpClient for WebHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let headers: BTreeMap<&str, &str> = request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut body =
            json!({ "url": request.url, "method": request.method.as_str(), "headers": headers });
        if !request.body.is_empty() {
            body["body"] = Value::String(String::from_utf8_lossy(&request.body).into_owned());
        }
        let started = js_sys::Date::now();
        let reply: Value = api::post_json("/api/oauth/fetch", &body)
            .await
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        if reply["ok"] != Value::Bool(true) {
            return Err(HttpError::Transport(
                reply["message"]
                    .as_str()
                    .unwrap_or("the OAuth request failed")
                    .to_owned(),
            ));
        }
        let headers = reply["headers"]
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(HttpResponse {
            status: reply["status"].as_u64().unwrap_or(0) as u16,
            headers,
            body: reply["body"].as_str().unwrap_or("").as_bytes().to_vec(),
            elapsed_ms: Some((js_sys::Date::now() - started) as u64),
        })
    }
}

/// The backend's OAuth store (`GET/PUT /api/store/oauth`, compare-and-swap on `revision`).
pub struct WebStore;

fn store_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Io(error.to_string())
}

impl OAuthStore for WebStore {
    async fn read(&self) -> Result<StoreDocument, StoreError> {
        api::get_json("/api/store/oauth").await.map_err(store_error)
    }

    async fn modify<R>(
        &self,
        change: impl FnOnce(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        let mut document = self.read().await?;
        let result = change(&mut document);
        let request = Request::put("/api/store/oauth")
            .header(API_TOKEN_HEADER, &api::api_token())
            .json(&document)
            .map_err(store_error)?;
        let response = request.send().await.map_err(store_error)?;
        match response.status() {
            200..=299 => Ok(result),
            409 => {
                let body: Value = response.json().await.unwrap_or_default();
                Err(StoreError::Conflict {
                    current: body["current"]["revision"].as_u64().unwrap_or(0),
                })
            }
            status => Err(StoreError::Io(format!(
                "the backend answered {status} when saving the OAuth store"
            ))),
        }
    }
}

pub struct WebClock;

impl Clock for WebClock {
    fn now_unix(&self) -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }
}

/// `crypto.getRandomValues`.
pub struct WebEntropy;

impl Entropy for WebEntropy {
    fn fill(&self, bytes: &mut [u8]) {
        let crypto = web_sys::window().and_then(|w| w.crypto().ok());
        for chunk in bytes.chunks_mut(65536) {
            match &crypto {
                Some(crypto) => {
                    let _ = crypto.get_random_values_with_u8_array(chunk);
                }
                None => panic!("no Web Crypto: cannot create PKCE verifiers"),
            }
        }
    }
}

/// Keeps every (already redacted) OAuth exchange of a sign-in in `sessionStorage`, so the Auth
/// view can show the steps taken before and after the redirect.
pub struct StepLog;

impl ExchangeObserver for StepLog {
    fn observe(&self, mut exchange: HttpExchange) {
        if let Some(body) = exchange.response_body.as_mut()
            && body.len() > STEP_BODY_LIMIT
        {
            let mut cut = STEP_BODY_LIMIT;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        let mut steps = oauth_steps();
        steps.push(exchange);
        if let (Some(storage), Ok(text)) = (session_storage(), serde_json::to_string(&steps)) {
            let _ = storage.set_item(STEPS_KEY, &text);
        }
    }
}

/// The OAuth steps of the latest sign-in in this tab, in order.
pub fn oauth_steps() -> Vec<HttpExchange> {
    session_storage()
        .and_then(|s| s.get_item(STEPS_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn clear_steps() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(STEPS_KEY);
    }
}

pub type WebOAuthClient = OAuthClient<Observed<WebHttp, StepLog>, WebStore, WebClock, WebEntropy>;

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

pub fn client() -> WebOAuthClient {
    OAuthClient::new(
        Observed::new(WebHttp, StepLog),
        WebStore,
        WebClock,
        WebEntropy,
        ClientConfig::new(format!("{}{CALLBACK_PATH}", origin())),
    )
}

/// Tokens the store holds for `server_url` that have not expired, as the backend's `authState`.
pub async fn stored_auth_state(server_url: &str) -> Option<Value> {
    let document = WebStore.read().await.ok()?;
    let tokens = document.credential(server_url, None)?.tokens.clone()?;
    let now = WebClock.now_unix();
    if tokens.expires_at.is_some_and(|at| at <= now + 5) {
        return None;
    }
    Some(auth_state(&tokens))
}

/// The `authState` body for `/api/mcp/connect` and `/api/mcp/auth-state`.
pub fn auth_state(tokens: &Tokens) -> Value {
    json!({ "tokens": { "access_token": tokens.access_token.expose(), "token_type": tokens.token_type } })
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// Starts the authorization for a connect-time challenge and leaves the page.
pub async fn redirect_for_connect(
    server_url: &str,
    challenge: &AuthChallenge,
) -> Result<(), String> {
    clear_steps();
    let start = client()
        .connect_authorization(server_url, Some(challenge))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(storage) = session_storage() {
        let snapshot = ResumeSnapshot {
            version: SNAPSHOT_VERSION,
            created_at: WebClock.now_unix(),
            server_url: server_url.to_owned(),
            backend_session_id: String::new(),
            state: start.state.clone(),
            active_tab: "tools".into(),
            tabs: Default::default(),
            challenge: challenge.clone(),
            recovery: RecoveryKind::Connect,
            trigger: Trigger::Command {
                method: "initialize".into(),
                target: None,
            },
        };
        let _ = storage.set_item(SNAPSHOT_KEY, &snapshot.to_json());
    }
    web_sys::window()
        .ok_or("no window")?
        .location()
        .assign(&start.authorization_url)
        .map_err(|_| "the browser refused to navigate".to_owned())
}

/// Whether this page load is the authorization server sending the user back.
pub fn is_callback() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == CALLBACK_PATH)
}

/// Reads and removes the resume snapshot.
fn take_snapshot() -> Option<String> {
    let storage = session_storage()?;
    let text = storage.get_item(SNAPSHOT_KEY).ok().flatten();
    let _ = storage.remove_item(SNAPSHOT_KEY);
    text
}

/// A snapshot left on a normal page load: a sign-in that was abandoned. Returns its server URL
/// (the snapshot is left in place until [`clear_snapshot`]).
pub fn abandoned_sign_in() -> Option<String> {
    let text = session_storage()?.get_item(SNAPSHOT_KEY).ok().flatten()?;
    match ResumeSnapshot::from_json(&text, WebClock.now_unix()) {
        Ok(snapshot) => Some(snapshot.server_url),
        Err(_) => {
            clear_snapshot();
            None
        }
    }
}

/// On `/oauth/callback`: reads and removes the snapshot (checking it belongs to this callback's
/// `state`), cleans the address bar, exchanges the code. Returns the server URL and the new
/// `authState`.
pub async fn complete_callback() -> Result<(String, Value), String> {
    let window = web_sys::window().ok_or("no window")?;
    let href = window.location().href().map_err(|_| "no location")?;
    let state = web_sys::Url::new(&href)
        .ok()
        .and_then(|u| u.search_params().get("state"))
        .unwrap_or_default();
    let snapshot = take_snapshot();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    let snapshot = match snapshot {
        Some(text) => Some(
            ResumeSnapshot::from_json(&text, WebClock.now_unix())
                .and_then(|s| s.for_callback(&state))
                .map_err(|problem| problem.to_string())?,
        ),
        None => None,
    };
    let grant = client()
        .complete_authorization(&href)
        .await
        .map_err(|e| format!("The authorization could not be completed: {e}"))?;
    let server_url = snapshot
        .map(|s| s.server_url)
        .unwrap_or(grant.server_url.clone());
    Ok((server_url, auth_state(&grant.tokens)))
}

/// Drops an abandoned snapshot (explicit disconnect).
pub fn clear_snapshot() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(SNAPSHOT_KEY);
    }
}
