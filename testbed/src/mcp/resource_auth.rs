//! Resource-server authorization for the MCP endpoints: bearer-token validation (expiry,
//! revocation, audience), scope checks, `WWW-Authenticate` challenges (RFC 6750, RFC 9728) and
//! the protected-resource metadata document.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ForcedChallenge, McpServer};
use crate::config::{AuthMode, ChallengeStyle, DpopMode, ServerFlaw};
use crate::state::TestbedState;
use crate::support::union_scopes;
use crate::tokens::{TokenKind, TokenRecord};

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// No credentials at all (RFC 6750 §3.1: no error code).
    MissingToken,
    /// 401 `invalid_token`.
    InvalidToken(String),
    /// 403 `insufficient_scope`, naming every scope the operation needs.
    InsufficientScope { scopes: Vec<String> },
    /// 401 `invalid_dpop_proof` (RFC 9449 §7.1): the proof is missing, malformed or not the
    /// token's key.
    InvalidProof(String),
    /// 401 `use_dpop_nonce` with the server's nonce (RFC 9449 §9).
    UseNonce(String),
}

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Builds the 401/403 response for a challenge (or what a flawed server answers instead).
pub fn challenge_response(server: &McpServer, challenge: &Challenge) -> Response {
    if matches!(challenge, Challenge::InvalidToken(_))
        && server.has_flaw(ServerFlaw::InvalidTokenAnswers500)
    {
        let body = json!({"error": "internal_error", "error_description": "token check failed"});
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
    }
    let with_metadata = server.config.auth.challenge_style == ChallengeStyle::ResourceMetadata;
    let mut params: Vec<(&str, String)> = Vec::new();
    let (status, error, description) = match challenge {
        Challenge::MissingToken => (
            StatusCode::UNAUTHORIZED,
            None,
            "authorization is required".to_string(),
        ),
        Challenge::InvalidToken(description) => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            description.clone(),
        ),
        Challenge::InsufficientScope { .. } => (
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token lacks a scope this operation needs".to_string(),
        ),
        Challenge::InvalidProof(description) => (
            StatusCode::UNAUTHORIZED,
            Some("invalid_dpop_proof"),
            description.clone(),
        ),
        Challenge::UseNonce(_) => (
            StatusCode::UNAUTHORIZED,
            Some("use_dpop_nonce"),
            "the DPoP proof must carry the server's nonce".to_string(),
        ),
    };
    let dpop = server.config.auth.dpop != DpopMode::Off;
    if dpop {
        params.push(("algs", "ES256".to_string()));
    }
    if let Some(error) = error {
        params.push(("error", error.to_string()));
        params.push(("error_description", description.clone()));
    }
    match challenge {
        Challenge::InsufficientScope { .. }
            if server.has_flaw(ServerFlaw::InsufficientScopeWithoutScope) => {}
        Challenge::InsufficientScope { scopes } => params.push(("scope", scopes.join(" "))),
        _ if with_metadata && !server.base_scopes().is_empty() => {
            params.push(("scope", server.base_scopes().join(" ")));
        }
        _ => {}
    }
    if with_metadata {
        params.push(("resource_metadata", server.resource_metadata_url.clone()));
    }
    let rendered: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{name}={}", quoted(value)))
        .collect();
    // A server that takes DPoP-bound tokens only challenges with that scheme (RFC 9449 §7.1).
    let scheme = if dpop { "DPoP" } else { "Bearer" };
    let header_value = if rendered.is_empty() {
        scheme.to_string()
    } else {
        format!("{scheme} {}", rendered.join(", "))
    };
    let body = json!({
        "error": error.unwrap_or("unauthorized"),
        "error_description": description,
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&header_value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    if let Challenge::UseNonce(nonce) = challenge
        && let Ok(nonce) = HeaderValue::from_str(nonce)
    {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    response
}

/// The response to a challenge forced through the control API.
pub fn forced_challenge_response(server: &McpServer, forced: &ForcedChallenge) -> Response {
    let challenge = if forced.status == 403 {
        Challenge::InsufficientScope {
            scopes: forced
                .scopes
                .clone()
                .unwrap_or_else(|| server.base_scopes().to_vec()),
        }
    } else {
        Challenge::InvalidToken("the token was rejected (forced by the control API)".into())
    };
    let mut response = challenge_response(server, &challenge);
    if forced.without_header {
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    response
}

/// The caller of an MCP request.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The bearer token, when the server is protected.
    pub token: Option<String>,
    pub record: Option<TokenRecord>,
}

impl Caller {
    /// Notes on the token record that it was used on `session_id`.
    pub fn record_session(&self, state: &TestbedState, server: &McpServer, session_id: &str) {
        if let Some(token) = &self.token {
            state
                .tokens
                .record_session_use(token, server.name(), session_id);
        }
    }
}

/// The presented token and whether it came with the `DPoP` scheme (else `Bearer`).
fn presented_token(headers: &HeaderMap) -> Option<(&str, bool)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    let token = token.trim();
    ((dpop || scheme.eq_ignore_ascii_case("bearer")) && !token.is_empty()).then_some((token, dpop))
}

/// RFC 9449 §7 for a request (`htm` to the MCP URL and `suffix`) to `server` presenting `token` (`dpop`: with that
/// scheme) whose record is `record`: a bound token needs the DPoP scheme and a proof by its key
/// (with the nonce in `nonce` mode); a server in `required` or `nonce` mode takes bound tokens
/// only.
fn check_binding(
    state: &TestbedState,
    server: &McpServer,
    (htm, suffix): (&str, &str),
    headers: &HeaderMap,
    (token, dpop): (&str, bool),
    record: &TokenRecord,
) -> Result<(), Challenge> {
    let mode = server.config.auth.dpop;
    let Some(jkt) = &record.jkt else {
        return if dpop {
            Err(Challenge::InvalidToken(
                "the token is not DPoP-bound; present it with the Bearer scheme".into(),
            ))
        } else if mode != DpopMode::Off {
            Err(Challenge::InvalidToken(
                "this server takes DPoP-bound tokens only (RFC 9449)".into(),
            ))
        } else {
            Ok(())
        };
    };
    if !dpop {
        return Err(Challenge::InvalidToken(
            "the token is DPoP-bound: present it with the DPoP scheme and a proof".into(),
        ));
    }
    let proof = state
        .dpop
        .check(
            headers,
            htm,
            &format!("{}{suffix}", server.mcp_url),
            Some(token),
        )
        .map_err(|problem| Challenge::InvalidProof(format!("DPoP proof: {problem}")))?;
    if &proof.jkt != jkt {
        return Err(Challenge::InvalidProof(
            "the proof is signed by another key than the token is bound to".into(),
        ));
    }
    if mode == DpopMode::Nonce && proof.nonce.as_deref() != Some(state.dpop.nonce()) {
        return Err(Challenge::UseNonce(state.dpop.nonce().to_owned()));
    }
    Ok(())
}

fn same_resource(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Validates the bearer token of a request to `server`.
/// `request`: the method and the path below the server's MCP URL (what a DPoP proof names).
pub fn authenticate(
    state: &TestbedState,
    server: &McpServer,
    request: (&str, &str),
    headers: &HeaderMap,
) -> Result<Caller, Challenge> {
    if server.config.auth.mode == AuthMode::None {
        return Ok(Caller::default());
    }
    let presented = presented_token(headers).ok_or(Challenge::MissingToken)?;
    let token = presented.0;
    let record = state
        .tokens
        .validate(token, TokenKind::Access)
        .map_err(|problem| Challenge::InvalidToken(problem.describe().to_string()))?;
    match &record.resource {
        Some(resource) if !same_resource(resource, &server.mcp_url) => {
            return Err(Challenge::InvalidToken(
                "the token was issued for another resource".into(),
            ));
        }
        Some(_) => {}
        None if server.config.auth.mode == AuthMode::Oauth
            && server.config.auth.allow_tokens_without_resource => {}
        None => {
            return Err(Challenge::InvalidToken(
                "the token was issued without a resource indicator (RFC 8707); \
                 ask for it with `resource` set to this server"
                    .into(),
            ));
        }
    }
    check_binding(state, server, request, headers, presented, &record)?;
    Ok(Caller {
        token: Some(token.to_string()),
        record: Some(record),
    })
}

/// Checks that the caller holds the base scopes plus `item_scopes`.
pub fn check_scopes(
    server: &McpServer,
    caller: &Caller,
    item_scopes: &[String],
) -> Result<(), Challenge> {
    let Some(record) = &caller.record else {
        return Ok(());
    };
    let needed = union_scopes(server.base_scopes(), item_scopes);
    if needed.iter().all(|scope| record.scopes.contains(scope)) {
        Ok(())
    } else {
        Err(Challenge::InsufficientScope { scopes: needed })
    }
}

/// `GET /.well-known/oauth-protected-resource/servers/{name}/mcp` (RFC 9728).
pub async fn protected_resource_metadata(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
) -> Response {
    let Some(server) = state.server(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if server.config.auth.mode == AuthMode::None {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut scopes = union_scopes(
        server.base_scopes(),
        &server.catalog().all_required_scopes(),
    );
    if scopes.is_empty() {
        scopes = state.config.oauth.scopes_supported.clone();
    }
    let resource = if server.has_flaw(ServerFlaw::ResourceElsewhere) {
        format!("{}/elsewhere", server.mcp_url)
    } else if server.has_flaw(ServerFlaw::ResourceTrailingSlash) {
        format!("{}/", server.mcp_url)
    } else {
        server.mcp_url.clone()
    };
    let document = json!({
        "resource": resource,
        "authorization_servers": [state.urls.issuer()],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "dpop_bound_access_tokens_required": server.config.auth.dpop != DpopMode::Off,
        "resource_name": server.config.title.clone().unwrap_or_else(|| server.config.name.clone()),
    });
    axum::Json(document).into_response()
}
