//! The token endpoint (`authorization_code`, `refresh_token` with optional rotation, and the
//! JWT-bearer grant) and RFC 7009 revocation, with enforced lifetimes and RFC 6749 §5.2 errors.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{JWT_BEARER_GRANT, jwt_bearer};
use crate::clients::RegisteredClient;
use crate::config::AccessTokenFormat;
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
    let outcome = match grant_type {
        "authorization_code" => authorization_code(state, &client, &form),
        "refresh_token" => refresh(state, &client, &form),
        JWT_BEARER_GRANT => jwt_bearer::grant(state, &client, &form),
        other => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{other}` is not supported"
        ))),
    };
    outcome.map_err(IntoResponse::into_response)
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
                let claims = json!({
                    "iss": state.urls.issuer(),
                    "sub": access.subject,
                    "aud": access.resource.as_deref().unwrap_or(&access.client_id),
                    "client_id": access.client_id,
                    "scope": format_scopes(&access.scopes),
                    "iat": issued_at,
                    "exp": expires_at,
                    "jti": random_string(16),
                });
                state.authz.access_token_key.sign("at+jwt", &claims)
            },
        ),
    };
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
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
