//! The control API under `/control/api/…` (loopback clients only), used by tests and by the demo's
//! control page to trigger every mid-session flow on purpose: expire or revoke tokens, change
//! required scopes, force 401/403 answers, emit ambient notifications or challenges, and see (or
//! slow down) the requests that reached the token endpoint.

mod page;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::mcp::catalog::ItemKind;
use crate::mcp::dispatch::notification_message;
use crate::mcp::{ForcedChallenge, McpServer};
use crate::state::TestbedState;

pub fn router() -> Router<Arc<TestbedState>> {
    Router::new()
        .route("/control", get(page::control_page))
        .route("/control/api/state", get(describe_state))
        .route("/control/api/tokens", get(list_tokens))
        .route("/control/api/sessions", get(list_sessions))
        .route("/control/api/tokens/expire", post(expire_tokens))
        .route("/control/api/tokens/revoke", post(revoke_token))
        .route("/control/api/token-requests", get(list_token_requests))
        .route("/control/api/token-delay", post(set_token_delay))
        .route(
            "/control/api/servers/{server}/required-scopes",
            post(set_required_scopes),
        )
        .route("/control/api/servers/{server}/fail-next", post(fail_next))
        .route("/control/api/servers/{server}/notify", post(notify))
        .route(
            "/control/api/servers/{server}/resource-updated",
            post(resource_updated),
        )
        .route(
            "/control/api/servers/{server}/ambient-challenge",
            post(ambient_challenge),
        )
        .layer(middleware::from_fn(loopback_only))
}

/// Refuses clients that are not on a loopback address (when the peer address is known).
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    if peer.is_some_and(|addr| !addr.ip().is_loopback()) {
        return failure(StatusCode::FORBIDDEN, "the control API is loopback-only");
    }
    next.run(request).await
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// Parses a JSON body; an empty body means `{}`.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|error| failure(StatusCode::BAD_REQUEST, &format!("invalid body: {error}")))
}

fn find_server(state: &TestbedState, name: &str) -> Result<Arc<McpServer>, Response> {
    state
        .server(name)
        .ok_or_else(|| failure(StatusCode::NOT_FOUND, &format!("no server named `{name}`")))
}

fn respond(outcome: Result<Value, Response>) -> Response {
    match outcome {
        Ok(body) => axum::Json(body).into_response(),
        Err(response) => response,
    }
}

fn sessions_json(state: &TestbedState) -> Value {
    let tokens = state.tokens.list();
    let sessions: Vec<Value> = state
        .servers()
        .iter()
        .flat_map(|server| server.sessions.all())
        .map(|session| {
            let used: Vec<&str> = tokens
                .iter()
                .filter(|t| {
                    t.sessions
                        .iter()
                        .any(|u| u.server == session.server && u.session_id == session.id)
                })
                .map(|t| t.id.as_str())
                .collect();
            json!({
                "server": session.server,
                "sessionId": session.id,
                "protocolVersion": session.protocol_version,
                "clientInfo": session.client_info,
                "customHeaders": session
                    .custom_headers
                    .iter()
                    .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                    .collect::<serde_json::Map<String, Value>>(),
                "createdAt": session.created_at,
                "tokens": used,
            })
        })
        .collect();
    json!(sessions)
}

/// `GET /control/api/state`: servers (URLs, items and their scopes, pending challenges),
/// sessions and tokens.
async fn describe_state(State(state): State<Arc<TestbedState>>) -> Response {
    let servers: Vec<Value> = state
        .servers()
        .iter()
        .map(|server| {
            let catalog = server.catalog();
            let (post, get) = server.pending_challenges();
            json!({
                "name": server.name(),
                "mcpUrl": server.mcp_url,
                "authMode": server.config.auth.mode,
                "baseScopes": server.base_scopes(),
                "tools": catalog.tools.iter().map(|t| json!({"name": t.name(), "requiredScopes": t.required_scopes})).collect::<Vec<_>>(),
                "resources": catalog.resources.iter().map(|r| json!({"uri": r.uri, "requiredScopes": r.required_scopes})).collect::<Vec<_>>(),
                "prompts": catalog.prompts.iter().map(|p| json!({"name": p.name, "requiredScopes": p.required_scopes})).collect::<Vec<_>>(),
                "pendingPostChallenge": post,
                "pendingGetChallenge": get,
            })
        })
        .collect();
    axum::Json(json!({
        "issuer": state.urls.issuer(),
        "idpIssuer": state.idp.as_ref().map(|_| state.urls.idp_issuer()),
        "scopesSupported": state.config.oauth.scopes_supported,
        "servers": servers,
        "sessions": sessions_json(&state),
        "tokens": state.tokens.list(),
    }))
    .into_response()
}

/// `GET /control/api/tokens`: every token issued (never the values).
async fn list_tokens(State(state): State<Arc<TestbedState>>) -> Response {
    axum::Json(json!(state.tokens.list())).into_response()
}

/// `GET /control/api/sessions`: every live session and the tokens used on it.
async fn list_sessions(State(state): State<Arc<TestbedState>>) -> Response {
    axum::Json(sessions_json(&state)).into_response()
}

/// `GET /control/api/token-requests`: every request that reached the token endpoint, in order,
/// with its `grantType`, `status` (null while in flight) and times.
async fn list_token_requests(State(state): State<Arc<TestbedState>>) -> Response {
    axum::Json(json!(state.authz.token_requests.all())).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenDelayRequest {
    ms: u64,
}

/// The longest delay `token-delay` accepts: longer would only make clients time out.
const MAX_TOKEN_DELAY_MS: u64 = 30_000;

/// `POST /control/api/token-delay` `{ms}`: holds every token request that long before answering
/// (0 turns it off).
async fn set_token_delay(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    respond(parse_body::<TokenDelayRequest>(&body).and_then(|request| {
        if request.ms > MAX_TOKEN_DELAY_MS {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                &format!("ms must be at most {MAX_TOKEN_DELAY_MS}"),
            ));
        }
        state
            .authz
            .token_requests
            .set_delay(std::time::Duration::from_millis(request.ms));
        Ok(json!({"ms": request.ms}))
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpireRequest {
    #[serde(default)]
    include_refresh_tokens: bool,
}

/// `POST /control/api/tokens/expire` `{includeRefreshTokens?}`.
async fn expire_tokens(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    respond(
        parse_body::<ExpireRequest>(&body).map(
            |request| json!({"expired": state.tokens.expire_all(request.include_refresh_tokens)}),
        ),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    /// The token value, its id (`at-3`) or its fingerprint.
    token: String,
}

/// `POST /control/api/tokens/revoke` `{token}`.
async fn revoke_token(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    respond(parse_body::<RevokeRequest>(&body).and_then(|request| {
        if state.tokens.revoke(&request.token) {
            Ok(json!({"revoked": true}))
        } else {
            Err(failure(StatusCode::NOT_FOUND, "no such token"))
        }
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequiredScopesRequest {
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    required_scopes: Vec<String>,
}

/// `POST /control/api/servers/{server}/required-scopes`
/// `{tool | resource | prompt, requiredScopes}`; sends the matching `list_changed` notification.
async fn set_required_scopes(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let server = find_server(&state, &name)?;
        let request: RequiredScopesRequest = parse_body(&body)?;
        let (kind, item) = match (request.tool, request.resource, request.prompt) {
            (Some(tool), None, None) => (ItemKind::Tool, tool),
            (None, Some(uri), None) => (ItemKind::Resource, uri),
            (None, None, Some(prompt)) => (ItemKind::Prompt, prompt),
            _ => {
                return Err(failure(
                    StatusCode::BAD_REQUEST,
                    "name exactly one of `tool`, `resource`, `prompt`",
                ));
            }
        };
        let supported = &state.config.oauth.scopes_supported;
        if let Some(unknown) = request
            .required_scopes
            .iter()
            .find(|s| !supported.contains(s))
        {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                &format!("scope `{unknown}` is not in scopesSupported"),
            ));
        }
        if !server.set_required_scopes(kind, &item, request.required_scopes.clone()) {
            return Err(failure(StatusCode::NOT_FOUND, &format!("no item `{item}`")));
        }
        Ok(json!({"item": item, "requiredScopes": request.required_scopes}))
    })())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailNextRequest {
    #[serde(default = "one")]
    count: u32,
    status: u16,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// Only requests of this JSON-RPC method (e.g. `tools/call`) count and are refused.
    #[serde(default)]
    method: Option<String>,
    /// The status alone, without a `WWW-Authenticate` challenge.
    #[serde(default)]
    without_header: bool,
}

fn one() -> u32 {
    1
}

fn forced_challenge(
    status: u16,
    scopes: Option<Vec<String>>,
    without_header: bool,
) -> Result<ForcedChallenge, Response> {
    if status != 401 && status != 403 {
        return Err(failure(
            StatusCode::BAD_REQUEST,
            "status must be 401 or 403",
        ));
    }
    Ok(ForcedChallenge {
        status,
        scopes,
        without_header,
    })
}

/// `POST /control/api/servers/{server}/fail-next`
/// `{count?, status: 401|403, scopes?, method?, withoutHeader?}`: the next `count` POST requests
/// (of that JSON-RPC method, when given) answer with that challenge (`withoutHeader`: the status
/// alone, no `WWW-Authenticate`).
async fn fail_next(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let server = find_server(&state, &name)?;
        let request: FailNextRequest = parse_body(&body)?;
        let challenge = forced_challenge(request.status, request.scopes, request.without_header)?;
        server.force_post_challenges(challenge, request.count, request.method);
        Ok(json!({"armed": request.count}))
    })())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NotifyRequest {
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
}

/// `POST /control/api/servers/{server}/notify` `{sessionId?, method?, params?}`: sends a
/// notification on the GET stream (default: an info `notifications/message`).
async fn notify(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let server = find_server(&state, &name)?;
        let request: NotifyRequest = parse_body(&body)?;
        let method = request
            .method
            .unwrap_or_else(|| "notifications/message".into());
        let params = request.params.unwrap_or_else(|| {
            json!({"level": "info", "logger": "keyhole-testbed", "data": "ambient notification from the control API"})
        });
        let delivered = server.broadcast(
            notification_message(&method, params),
            request.session_id.as_deref(),
        );
        Ok(json!({"delivered": delivered}))
    })())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceUpdatedRequest {
    uri: String,
}

/// `POST /control/api/servers/{server}/resource-updated` `{uri}`: tells the sessions subscribed
/// to `uri` that it changed (`notifications/resources/updated`); answers how many.
async fn resource_updated(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let server = find_server(&state, &name)?;
        let request: ResourceUpdatedRequest = parse_body(&body)?;
        let message = notification_message(
            "notifications/resources/updated",
            json!({"uri": request.uri}),
        );
        let mut delivered = 0;
        for session in server.sessions.all() {
            if session.is_subscribed_to(&request.uri) {
                session.publish(crate::mcp::session::GET_STREAM, message.clone(), false);
                delivered += 1;
            }
        }
        Ok(json!({"delivered": delivered}))
    })())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AmbientChallengeRequest {
    status: u16,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// `POST /control/api/servers/{server}/ambient-challenge` `{status: 401|403, scopes?}`: ends
/// the open GET streams; the client's next GET answers with the challenge.
async fn ambient_challenge(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let server = find_server(&state, &name)?;
        let request: AmbientChallengeRequest = parse_body(&body)?;
        server.force_get_challenge(forced_challenge(request.status, request.scopes, false)?);
        Ok(json!({"armed": true}))
    })())
}
