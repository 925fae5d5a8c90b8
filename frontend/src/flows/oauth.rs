//! Connect-time OAuth in the browser: the shared `OAuthClient` compiled to wasm, with its HTTP going
//! through `/api/oauth/fetch` (CORS) and its store being the backend's `/api/store/oauth` (shared with
//! the CLI; no tokens in browser storage). A full-page redirect leaves a resume snapshot in
//! `sessionStorage` (server, backend session, tab and form state, the challenge — never a token);
//! `/oauth/callback` checks it against `state` before anything is exchanged.

use std::cell::RefCell;

use leptos::lazy;

use keyhole_shared::api::{CatalogEntry, ConfigResponse, DpopProofReply, FetchReply};
use keyhole_shared::challenge::AuthChallenge;
use keyhole_shared::dpop::{DpopError, ProofRequest};
use keyhole_shared::http::{
    ExchangeObserver, HttpClient, HttpError, HttpExchange, HttpRequest, HttpResponse, Observed,
};
use keyhole_shared::oauth_client::{
    ClientConfig, CompletedGrant, DiscoveryCache, EnterpriseConfig, OAuthClient, OAuthClientError,
    ServerConfig,
};
use keyhole_shared::random::Entropy;
use keyhole_shared::recovery::{Clock, StepUpGuard};
use keyhole_shared::resume::{
    RecoveryKind, ResumeSnapshot, SNAPSHOT_KEY, SNAPSHOT_VERSION, Trigger,
};
use keyhole_shared::sign_in_guard::{LoopCause, SIGN_IN_HISTORY_KEY, SignInHistory};
use keyhole_shared::store::OAuthStore;
use keyhole_shared::tokens::Tokens;
use serde_json::{Value, json};

use crate::flows::session::Session;
use crate::platform::api;
pub use crate::platform::oauth_store::WebStore;

/// The `sessionStorage` keys of the OAuth steps (redacted exchanges) of the current connection:
/// those taken before its backend session existed, and those taken during it (which the
/// session's network log also has).
const CONNECT_STEPS_KEY: &str = "keyhole.oauth-steps.v1";
const SESSION_STEPS_KEY: &str = "keyhole.oauth-steps.session.v1";
/// The `sessionStorage` key of a guided sign-in ("Debug sign-in", `views::guided_view`) that left
/// for the authorization server: its reports so far, never a token or a code.
pub const GUIDED_KEY: &str = "keyhole.guided-sign-in.v1";
/// Response bodies kept per step.
const STEP_BODY_LIMIT: usize = 4000;
/// Where authorization responses come back.
pub const CALLBACK_PATH: &str = keyhole_shared::api::OAUTH_CALLBACK_PATH;

/// HTTP through the backend's `/api/oauth/fetch`. With a backend session, the exchanges also go
/// into that session's network log (the Network tab), marked as OAuth.
pub struct WebHttp {
    session_id: Option<String>,
}

impl HttpClient for WebHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        // Built by inserting: collecting into a map sorts, and each sorted type costs the wasm a
        // sort of its own (a few KB).
        let mut headers = serde_json::Map::new();
        for (name, value) in &request.headers {
            headers.insert(name.clone(), Value::String(value.clone()));
        }
        let mut body =
            json!({ "url": request.url, "method": request.method.as_str(), "headers": headers });
        if !request.body.is_empty() {
            body["body"] = Value::String(String::from_utf8_lossy(&request.body).into_owned());
        }
        if let Some(session_id) = &self.session_id {
            body["sessionId"] = Value::String(session_id.clone());
        }
        let started = js_sys::Date::now();
        let reply = api::call::<_, FetchReply>("/api/oauth/fetch", &body)
            .await
            .map_err(|e| HttpError::Transport(e.to_string()))?
            .map_err(|failure| HttpError::Transport(failure.message().to_owned()))?;
        Ok(HttpResponse {
            status: reply.status,
            headers: reply.headers,
            body: reply.body.into_bytes(),
            elapsed_ms: Some((js_sys::Date::now() - started) as u64),
        })
    }

    /// The backend signs: the page never holds a DPoP key (`keyhole_shared::dpop`).
    async fn dpop_proof(&self, request: &ProofRequest) -> Result<String, DpopError> {
        signed_proof(request.clone())
            .await
            .map_err(DpopError::Signer)
    }
}

/// A proof from `/api/oauth/dpop-proof`. Its own wasm chunk: only servers that want DPoP-bound
/// tokens need it.
#[lazy]
async fn signed_proof(request: ProofRequest) -> Result<String, String> {
    let reply = api::call::<_, DpopProofReply>("/api/oauth/dpop-proof", &request)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|failure| failure.message().to_owned())?;
    Ok(reply.proof)
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
pub struct StepLog {
    key: &'static str,
}

fn read_steps(key: &str) -> Vec<HttpExchange> {
    session_storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

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
        let mut steps = read_steps(self.key);
        steps.push(exchange);
        if let (Some(storage), Ok(text)) = (session_storage(), serde_json::to_string(&steps)) {
            let _ = storage.set_item(self.key, &text);
        }
    }
}

/// Every OAuth step of the current connection in this tab, in order.
pub fn oauth_steps() -> Vec<HttpExchange> {
    let mut steps = connect_steps();
    steps.extend(read_steps(SESSION_STEPS_KEY));
    steps
}

/// The OAuth steps taken before the backend session existed (connect-time sign-in): the
/// backend's network log cannot have them.
pub fn connect_steps() -> Vec<HttpExchange> {
    read_steps(CONNECT_STEPS_KEY)
}

/// Forgets the steps of the previous connection (a new one is starting).
pub fn clear_steps() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(CONNECT_STEPS_KEY);
        let _ = storage.remove_item(SESSION_STEPS_KEY);
    }
}

pub type WebOAuthClient = OAuthClient<Observed<WebHttp, StepLog>, WebStore, WebClock, WebEntropy>;

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

thread_local! {
    /// Discovery results for the page's OAuth clients (one is made for each use): a 401 answered
    /// while the metadata is fresh costs the token request only.
    static DISCOVERIES: DiscoveryCache = DiscoveryCache::new();
}

thread_local! {
    /// The servers the page knows settings for (the demo's, the catalog's, the saved ones, those
    /// set up in the connect form; from `/api/config`), the one last picked first: how to sign in
    /// (enterprise, a pre-registered client, scopes, a client metadata document), and the headers
    /// and protocol version a connection to it uses.
    static ENTRIES: RefCell<Option<Vec<CatalogEntry>>> = const { RefCell::new(None) };
}

/// Remembers the servers of the catalog, the saved servers and those set up in the connect form
/// (settings from the form win over the catalog).
pub fn remember_catalog(config: &ConfigResponse) {
    let entries = config
        .added_servers
        .iter()
        .chain(&config.saved.entries)
        .chain(&config.catalog)
        .chain(&config.demo_servers)
        .filter(|entry| entry.url.is_some())
        .cloned()
        .collect();
    ENTRIES.with(|e| *e.borrow_mut() = Some(entries));
}

/// Remembers `entry` first, as the user is about to connect it (a saved server may have been
/// edited since the page loaded).
pub fn remember_entry(entry: CatalogEntry) {
    ENTRIES.with(|e| e.borrow_mut().get_or_insert_with(Vec::new).insert(0, entry));
}

/// The entry the page knows for `server_url` (the one picked last, else the first listed).
pub fn known_entry(server_url: &str) -> Option<CatalogEntry> {
    ENTRIES.with(|e| {
        e.borrow()
            .iter()
            .flatten()
            .find(|entry| entry.url.as_deref() == Some(server_url))
            .cloned()
    })
}

/// The OAuth client's settings for an entry that has any (enterprise, or its `oauth` object).
fn sign_in_settings(entry: &CatalogEntry) -> Option<ServerConfig> {
    let url = entry.url.as_ref()?;
    if entry.enterprise.is_none() && entry.oauth.is_none() {
        return None;
    }
    let mut server = match &entry.oauth {
        Some(oauth) => oauth.server_config(url),
        None => ServerConfig::new(url.clone()),
    };
    server.enterprise = entry.enterprise.clone();
    Some(server)
}

/// Makes `server_url` enterprise-managed with `enterprise` for this page (the backend keeps the
/// settings too, for the page that comes back from the sign-in).
pub fn remember_enterprise(server_url: &str, enterprise: EnterpriseConfig) {
    remember_entry(CatalogEntry {
        url: Some(server_url.to_owned()),
        enterprise: Some(enterprise),
        ..CatalogEntry::default()
    });
}

/// Makes sure [`remember_catalog`] ran (a page coming back from a sign-in needs it first).
pub async fn load_catalog() {
    if ENTRIES.with(|e| e.borrow().is_none())
        && let Ok(config) = api::fetch_config().await
    {
        remember_catalog(&config);
    }
}

/// The shared OAuth client as the page uses it, knowing the enterprise-managed servers.
pub fn client() -> WebOAuthClient {
    client_in(None)
}

/// [`client`], recording its exchanges in the network log of the backend session `session_id`.
pub fn client_in(session_id: Option<String>) -> WebOAuthClient {
    let key = if session_id.is_some() {
        SESSION_STEPS_KEY
    } else {
        CONNECT_STEPS_KEY
    };
    let client = OAuthClient::new(
        Observed::new(WebHttp { session_id }, StepLog { key }),
        WebStore,
        WebClock,
        WebEntropy,
        ClientConfig::new(format!("{}{CALLBACK_PATH}", origin())),
    )
    .with_discovery_cache(DISCOVERIES.with(DiscoveryCache::clone));
    ENTRIES.with(|e| {
        // Added in reverse, so the entry listed first for a URL is the one kept.
        for server in e
            .borrow()
            .iter()
            .flatten()
            .rev()
            .filter_map(sign_in_settings)
        {
            client.add_server(server);
        }
    });
    client
}

/// Tokens the store holds for `server_url` that have not expired ([`Tokens::is_expired`], the
/// rule every surface uses).
pub async fn stored_tokens(server_url: &str) -> Option<Tokens> {
    let document = WebStore.read().await.ok()?;
    let tokens = document.credential(server_url, None)?.tokens.clone()?;
    (!tokens.is_expired(WebClock.now_unix())).then_some(tokens)
}

pub fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// Why the page did not leave for a sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInError {
    /// The OAuth client could not prepare the authorization request.
    Flow(OAuthClientError),
    /// The page could not record where to come back, or could not navigate.
    Page(&'static str),
}

impl From<OAuthClientError> for SignInError {
    fn from(error: OAuthClientError) -> Self {
        Self::Flow(error)
    }
}

impl std::fmt::Display for SignInError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Flow(error) => error.fmt(f),
            Self::Page(why) => f.write_str(why),
        }
    }
}

/// Writes the resume snapshot for the redirect to `authorization_url` (whose `state` it
/// records) and leaves the page.
fn leave(authorization_url: &str, snapshot: ResumeSnapshot) -> Result<(), SignInError> {
    let storage =
        session_storage().ok_or(SignInError::Page("this browser offers no sessionStorage"))?;
    storage
        .set_item(SNAPSHOT_KEY, &snapshot.to_json())
        .map_err(|_| SignInError::Page("the sign-in state could not be saved in sessionStorage"))?;
    web_sys::window()
        .ok_or(SignInError::Page("no window"))?
        .location()
        .assign(authorization_url)
        .map_err(|_| SignInError::Page("the browser refused to navigate"))
}

/// The `state` parameter of an authorization URL.
fn state_of(authorization_url: &str) -> Result<String, SignInError> {
    web_sys::Url::new(authorization_url)
        .ok()
        .and_then(|u| u.search_params().get("state"))
        .ok_or(SignInError::Page(
            "the authorization request carries no state",
        ))
}

/// Starts the authorization for a connect-time challenge and leaves the page.
pub async fn redirect_for_connect(
    server_url: &str,
    challenge: &AuthChallenge,
) -> Result<(), SignInError> {
    clear_steps();
    let start = client()
        .connect_authorization(server_url, Some(challenge))
        .await?;
    leave_for_connect(server_url, challenge, &start.authorization_url)
}

/// Leaves for `authorization_url`, a sign-in started for a connect-time `challenge`.
pub fn leave_for_connect(
    server_url: &str,
    challenge: &AuthChallenge,
    authorization_url: &str,
) -> Result<(), SignInError> {
    let snapshot = ResumeSnapshot {
        version: SNAPSHOT_VERSION,
        created_at: WebClock.now_unix(),
        server_url: server_url.to_owned(),
        backend_session_id: String::new(),
        state: state_of(authorization_url)?,
        active_tab: "tools".into(),
        tabs: Default::default(),
        challenge: challenge.clone(),
        recovery: RecoveryKind::Connect,
        trigger: Trigger::Command {
            method: "initialize".into(),
            target: None,
        },
        reregistered: false,
    };
    leave(authorization_url, snapshot)
}

/// The authorization server forgot the client of the sign-in `snapshot` describes: signs in
/// again for `requested` with a new registration (made now), keeping everything else of the
/// snapshot, and leaves the page.
pub async fn sign_in_with_new_registration(
    mut snapshot: ResumeSnapshot,
    requested: &keyhole_shared::scopes::ScopeSet,
) -> Result<(), SignInError> {
    let session_id = Some(snapshot.backend_session_id.clone()).filter(|id| !id.is_empty());
    let start = client_in(session_id)
        .begin_authorization(&snapshot.server_url, requested)
        .await?;
    snapshot.state = start.state;
    snapshot.created_at = WebClock.now_unix();
    snapshot.reregistered = true;
    leave(&start.authorization_url, snapshot)
}

/// Mid-session: saves where the user is (tab, forms, the live backend session) and leaves for
/// `authorization_url`.
pub fn leave_for_sign_in(
    session: &Session,
    authorization_url: &str,
    challenge: &AuthChallenge,
    recovery: RecoveryKind,
    trigger: Trigger,
) -> Result<(), SignInError> {
    let (active_tab, tabs) = session.ui.capture();
    let snapshot = ResumeSnapshot {
        version: SNAPSHOT_VERSION,
        created_at: WebClock.now_unix(),
        server_url: session.url(),
        backend_session_id: session.id(),
        state: state_of(authorization_url)?,
        active_tab,
        tabs,
        challenge: challenge.clone(),
        recovery,
        trigger,
        reregistered: false,
    };
    leave(authorization_url, snapshot)
}

/// Whether a guided sign-in is under way in this tab (the callback is its, not the arrival's).
pub fn guided_pending() -> bool {
    session_storage().is_some_and(|s| s.get_item(GUIDED_KEY).ok().flatten().is_some())
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

/// A snapshot left on a normal page load: a sign-in that was abandoned. It stays in place until
/// [`clear_snapshot`] (the banner's buttons, or an explicit disconnect).
pub fn abandoned_sign_in() -> Option<ResumeSnapshot> {
    let text = session_storage()?.get_item(SNAPSHOT_KEY).ok().flatten()?;
    match ResumeSnapshot::from_json(&text, WebClock.now_unix()) {
        Ok(snapshot) => Some(snapshot),
        Err(_) => {
            clear_snapshot();
            None
        }
    }
}

/// What `/oauth/callback` found.
pub struct Callback {
    /// The snapshot written before the redirect, when it was there and belongs to this callback.
    pub snapshot: Option<ResumeSnapshot>,
    /// The new tokens, or why there are none.
    pub grant: Result<CompletedGrant, String>,
    /// The token endpoint refused the client (`invalid_client`): a registration that predates
    /// the sign-in was dropped (see `OAuthClient::drop_if_rejected`), the scopes it asked for.
    pub client_rejected: Option<keyhole_shared::scopes::ScopeSet>,
}

/// On `/oauth/callback`: reads and removes the snapshot, cleans the address bar, and — only when
/// the snapshot belongs to this callback's `state` — exchanges the code.
pub async fn complete_callback() -> Callback {
    let Some(window) = web_sys::window() else {
        return Callback {
            snapshot: None,
            grant: Err("no window".into()),
            client_rejected: None,
        };
    };
    let href = window.location().href().unwrap_or_default();
    let state = web_sys::Url::new(&href)
        .ok()
        .and_then(|u| u.search_params().get("state"))
        .unwrap_or_default();
    let snapshot = take_snapshot();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    let snapshot = match snapshot.map(|text| ResumeSnapshot::from_json(&text, WebClock.now_unix()))
    {
        None => None,
        Some(Err(problem)) => {
            return Callback {
                snapshot: None,
                grant: Err(format!("The sign-in could not be completed: {problem}.")),
                client_rejected: None,
            };
        }
        Some(Ok(snapshot)) => {
            if let Err(problem) = snapshot.clone().for_callback(&state) {
                return Callback {
                    snapshot: Some(snapshot),
                    grant: Err(format!(
                        "The sign-in answer was rejected and nothing was exchanged: {problem}."
                    )),
                    client_rejected: None,
                };
            }
            Some(snapshot)
        }
    };
    let session_id = snapshot
        .as_ref()
        .map(|s| s.backend_session_id.clone())
        .filter(|id| !id.is_empty());
    let client = client_in(session_id);
    let requested = WebStore
        .read()
        .await
        .ok()
        .and_then(|d| d.pending_for(&state).map(|p| p.requested.clone()));
    let grant = client.complete_authorization(&href).await;
    let rejected = grant
        .as_ref()
        .err()
        .and_then(|e| e.oauth_error())
        .is_some_and(|e| e.error == "invalid_client");
    Callback {
        snapshot,
        grant: grant.map_err(|e| format!("The authorization did not complete: {e}")),
        client_rejected: requested.filter(|_| rejected),
    }
}

/// Counts an automatic sign-in to `server_url` (see [`keyhole_shared::sign_in_guard`]); the
/// likely cause of the loop when this tab has made too many lately and must not leave by itself
/// again.
pub fn allow_automatic_sign_in(server_url: &str) -> Result<(), LoopCause> {
    let Some(storage) = session_storage() else {
        // Nothing to count with, and nothing to resume from either: leaving fails on its own.
        return Ok(());
    };
    let mut history = sign_in_history(&storage);
    let allowed = history.try_record(server_url, WebClock.now_unix());
    let _ = storage.set_item(SIGN_IN_HISTORY_KEY, &history.to_text());
    if allowed {
        Ok(())
    } else {
        Err(history.likely_cause(server_url))
    }
}

/// Changes the sign-in history of `server_url`: `forget` (the user asked to sign in again) or
/// mark the latest sign-in as come back with tokens.
pub fn note_sign_in(server_url: &str, forget: bool) {
    if let Some(storage) = session_storage() {
        let mut history = sign_in_history(&storage);
        if forget {
            history.forget(server_url);
        } else {
            history.mark_done(server_url);
        }
        let _ = storage.set_item(SIGN_IN_HISTORY_KEY, &history.to_text());
    }
}

fn sign_in_history(storage: &web_sys::Storage) -> SignInHistory {
    let text = storage.get_item(SIGN_IN_HISTORY_KEY).ok().flatten();
    SignInHistory::from_text(text.as_deref().unwrap_or_default())
}

/// The `sessionStorage` key of this tab's step-up counts (see [`StepUpGuard::to_text`]).
const STEP_UPS_KEY: &str = "keyhole.step-ups";

/// This tab's step-up counts. They outlive the page: each step-up's redirect is a new page, and
/// the limit of three per operation must hold across them.
pub fn step_up_guard() -> StepUpGuard {
    let text = session_storage().and_then(|s| s.get_item(STEP_UPS_KEY).ok().flatten());
    StepUpGuard::from_text(text.as_deref().unwrap_or_default())
}

pub fn save_step_up_guard(guard: &StepUpGuard) {
    if let Some(storage) = session_storage() {
        let text = guard.to_text();
        let _ = if text.is_empty() {
            storage.remove_item(STEP_UPS_KEY)
        } else {
            storage.set_item(STEP_UPS_KEY, &text)
        };
    }
}

/// Drops an abandoned snapshot (explicit disconnect).
pub fn clear_snapshot() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(SNAPSHOT_KEY);
    }
}
