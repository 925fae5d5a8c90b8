//! The token endpoint (`authorization_code`, `refresh_token` with optional rotation, and the
//! JWT-bearer grant) and RFC 7009 revocation, with enforced lifetimes and RFC 6749 §5.2 errors.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{JWT_BEARER_GRANT, jwt_bearer};
use crate::clients::RegisteredClient;
use crate::config::{AccessTokenFormat, DpopMode};
use crate::oauth_http::{FormParams, OAuthError, no_store_json};
use crate::state::TestbedState;
use crate::support::{format_scopes, parse_scopes, random_string};
use crate::tokens::{TokenGrant, TokenKind};

/// `POST /oauth/token`; each request is logged (and held for the configured delay) first.
pub async fn token(
    State(state): State<Arc<TestbedState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let log = &state.authz.token_requests;
    let grant_type = FormParams::parse(&body)
        .ok()
        .and_then(|form| form.get("grant_type").map(str::to_owned));
    let entry = log.start(grant_type);
    let delay = log.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match exchange(&state, &headers, &body) {
        Ok(response) | Err(response) => response,
    };
    log.finish(entry, response.status().as_u16());
    response
}

fn exchange(state: &TestbedState, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let form = FormParams::parse(body).map_err(IntoResponse::into_response)?;
    let grant_type = form
        .require("grant_type")
        .map_err(IntoResponse::into_response)?;
    let client = state
        .authz
        .clients
        .authenticate(headers, &form)
        .map_err(IntoResponse::into_response)?;
    let jkt = dpop_binding(state, headers, &form)?;
    let outcome = match grant_type {
        "authorization_code" => authorization_code(state, &client, &form, jkt),
        "refresh_token" => refresh(state, &client, &form, jkt),
        JWT_BEARER_GRANT => jwt_bearer::grant(state, &client, &form, jkt),
        other => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{other}` is not supported"
        ))),
    };
    outcome.map_err(IntoResponse::into_response)
}

/// The DPoP mode of the server a token request is for: its `resource`, else (a refresh) the
/// resource of the refresh token.
fn dpop_mode_for(state: &TestbedState, form: &FormParams) -> DpopMode {
    let resource = form.get("resource").map(str::to_owned).or_else(|| {
        let presented = form.get("refresh_token")?;
        state
            .tokens
            .validate(presented, TokenKind::Refresh)
            .ok()?
            .resource
    });
    resource
        .and_then(|r| state.server_for_resource(&r))
        .map_or(DpopMode::Off, |server| server.config.auth.dpop)
}

/// RFC 9449 §5 at the token endpoint: the thumbprint the tokens are to be bound to (`None`: no
/// proof, bearer tokens), or the refusal — a bad proof, none for a server that requires one, or
/// (`nonce` mode) the nonce demand of §8.
fn dpop_binding(
    state: &TestbedState,
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<Option<String>, Response> {
    let mode = dpop_mode_for(state, form);
    let invalid = |description: String| {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_dpop_proof", description).into_response()
    };
    if headers.get("dpop").is_none() {
        return match mode {
            DpopMode::Off => Ok(None),
            _ => Err(invalid(
                "this resource takes DPoP-bound tokens only: send a DPoP proof (RFC 9449 §5)"
                    .into(),
            )),
        };
    }
    let token_endpoint = format!("{}/token", state.urls.issuer());
    let proof = state
        .dpop
        .check(headers, "POST", &token_endpoint, None)
        .map_err(|problem| invalid(format!("DPoP proof: {problem}")))?;
    if mode == DpopMode::Nonce && proof.nonce.as_deref() != Some(state.dpop.nonce()) {
        let mut response = OAuthError::new(
            StatusCode::BAD_REQUEST,
            "use_dpop_nonce",
            "the authorization server requires a nonce in the DPoP proof",
        )
        .into_response();
        if let Ok(nonce) = HeaderValue::from_str(state.dpop.nonce()) {
            response.headers_mut().insert("dpop-nonce", nonce);
        }
        return Err(response);
    }
    Ok(Some(proof.jkt))
}

/// Issues an access token (and a refresh token when asked) and renders the token response.
pub fn token_response(state: &TestbedState, grant: &TokenGrant, with_refresh: bool) -> Response {
    issue_tokens(state, grant, with_refresh.then_some(grant))
}

/// Issues an access token for `access` and, when given, a refresh token for `refresh` (whose scope
/// may be wider: a refresh that narrowed the scope keeps the original grant in the refresh token).
fn issue_tokens(
    state: &TestbedState,
    access: &TokenGrant,
    refresh: Option<&TokenGrant>,
) -> Response {
    let oauth = &state.config.oauth;
    let lifetime = oauth.access_token_lifetime_secs;
    let (access_token, record) = match oauth.access_token_format {
        AccessTokenFormat::Opaque => state.tokens.issue(TokenKind::Access, access, lifetime),
        AccessTokenFormat::Jwt => state.tokens.issue_with(
            TokenKind::Access,
            access,
            lifetime,
            |issued_at, expires_at| {
                let mut claims = json!({
                    "iss": state.urls.issuer(),
                    "sub": access.subject,
                    "aud": access.resource.as_deref().unwrap_or(&access.client_id),
                    "client_id": access.client_id,
                    "scope": format_scopes(&access.scopes),
                    "iat": issued_at,
                    "exp": expires_at,
                    "jti": random_string(16),
                });
                if let Some(jkt) = &access.jkt {
                    claims["cnf"] = json!({"jkt": jkt});
                }
                state.authz.access_token_key.sign("at+jwt", &claims)
            },
        ),
    };
    let mut body = json!({
        "access_token": access_token,
        "token_type": if access.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": record.expires_at.saturating_sub(record.issued_at),
        "scope": format_scopes(&access.scopes),
    });
    if let Some(refresh) = refresh {
        let (refresh_token, _) = state.tokens.issue(
            TokenKind::Refresh,
            refresh,
            oauth.refresh_tokens.lifetime_secs,
        );
        body["refresh_token"] = json!(refresh_token);
    }
    no_store_json(StatusCode::OK, body)
}

fn check_resource_parameter(form: &FormParams, granted: Option<&str>) -> Result<(), OAuthError> {
    match (form.get("resource"), granted) {
        (Some(asked), Some(granted))
            if asked.trim_end_matches('/') != granted.trim_end_matches('/') =>
        {
            Err(OAuthError::invalid_target(
                "resource differs from the one authorized",
            ))
        }
        (Some(_), None) => Err(OAuthError::invalid_target(
            "no resource was authorized for this grant",
        )),
        _ => Ok(()),
    }
}

fn authorization_code(
    state: &TestbedState,
    client: &RegisteredClient,
    form: &FormParams,
    jkt: Option<String>,
) -> Result<Response, OAuthError> {
    let code = form.require("code")?;
    let issued = state
        .authz
        .flows
        .redeem_code(
            code,
            client,
            form.get("redirect_uri"),
            form.get("code_verifier"),
        )
        .map_err(|(error, replayed_family)| {
            if let Some(family) = replayed_family {
                state.tokens.revoke_family(&family);
            }
            error
        })?;
    check_resource_parameter(form, issued.request.resource.as_deref())?;
    let grant = TokenGrant {
        client_id: client.client_id.clone(),
        subject: issued.subject.clone(),
        scopes: issued.granted_scopes.clone(),
        resource: issued.request.resource.clone(),
        grant: "authorization_code".into(),
        family: issued.family.clone(),
        jkt,
    };
    Ok(token_response(
        state,
        &grant,
        state.config.oauth.refresh_tokens.enabled,
    ))
}

fn refresh(
    state: &TestbedState,
    client: &RegisteredClient,
    form: &FormParams,
    jkt: Option<String>,
) -> Result<Response, OAuthError> {
    let settings = &state.config.oauth.refresh_tokens;
    if !settings.enabled {
        return Err(OAuthError::unsupported_grant_type(
            "refresh tokens are disabled",
        ));
    }
    let presented = form.require("refresh_token")?;
    let record = state
        .tokens
        .validate(presented, TokenKind::Refresh)
        .map_err(|problem| OAuthError::invalid_grant(problem.describe()))?;
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    check_resource_parameter(form, record.resource.as_deref())?;
    // RFC 9449 §5: a public client's bound refresh token is refreshed by the same key only.
    if record.jkt.is_some() && record.jkt != jkt {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            "the refresh token is bound to another DPoP key",
        ));
    }
    let scopes = match form.get("scope") {
        None => record.scopes.clone(),
        Some(scope) => {
            let asked = parse_scopes(scope);
            if let Some(extra) = asked.iter().find(|s| !record.scopes.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{extra}` exceeds the original grant"
                )));
            }
            asked
        }
    };
    // Rotation retires the presented token atomically: of two concurrent refreshes, one loses.
    if settings.rotate && !state.tokens.retire(presented) {
        return Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        ));
    }
    let grant = TokenGrant {
        client_id: client.client_id.clone(),
        subject: record.subject.clone(),
        scopes,
        resource: record.resource.clone(),
        grant: "refresh_token".into(),
        family: record.family.clone(),
        jkt,
    };
    if !settings.rotate {
        return Ok(token_response(state, &grant, false));
    }
    // RFC 6749 §6: the access token may be narrower, the new refresh token keeps the original grant.
    let original = TokenGrant {
        scopes: record.scopes.clone(),
        ..grant.clone()
    };
    Ok(issue_tokens(state, &grant, Some(&original)))
}

/// `POST /oauth/revoke` (RFC 7009): always 200 for an authenticated client.
pub async fn revoke(
    State(state): State<Arc<TestbedState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = FormParams::parse(&body).and_then(|form| {
        let client = state.authz.clients.authenticate(&headers, &form)?;
        let token = form.require("token")?;
        let owned = [TokenKind::Access, TokenKind::Refresh].iter().any(|kind| {
            state
                .tokens
                .validate(token, *kind)
                .is_ok_and(|record| record.client_id == client.client_id)
        });
        if owned {
            state.tokens.revoke(token);
        }
        Ok(())
    });
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}
