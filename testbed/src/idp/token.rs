//! The IdP's token endpoint: the authorization-code grant (returns an ES256 ID token) and RFC 8693
//! token exchange of an ID token for an ID-JAG (`typ: oauth-id-jag+jwt`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ID_JAG_TOKEN_TYPE, ID_JAG_TYP, ID_TOKEN_TYPE, IdentityProvider, TOKEN_EXCHANGE_GRANT};
use crate::clients::RegisteredClient;
use crate::config::AuthMode;
use crate::oauth_http::{FormParams, OAuthError, no_store_json};
use crate::state::TestbedState;
use crate::support::{format_scopes, now_secs, parse_scopes, random_string, random_token};

/// `POST /idp/token`.
pub async fn token(
    State(state): State<Arc<TestbedState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = (|| {
        let idp = state
            .idp
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_request("no enterprise IdP is configured"))?;
        let form = FormParams::parse(&body)?;
        let grant_type = form.require("grant_type")?;
        let client = idp.clients.authenticate(&headers, &form)?;
        match grant_type {
            "authorization_code" => id_token_grant(&state, idp, &client, &form),
            TOKEN_EXCHANGE_GRANT => exchange_for_id_jag(&state, idp, &client, &form),
            other => Err(OAuthError::unsupported_grant_type(format!(
                "grant_type `{other}` is not supported"
            ))),
        }
    })();
    outcome.unwrap_or_else(IntoResponse::into_response)
}

fn id_token_grant(
    state: &TestbedState,
    idp: &IdentityProvider,
    client: &RegisteredClient,
    form: &FormParams,
) -> Result<Response, OAuthError> {
    let code = form.require("code")?;
    let issued = idp
        .flows
        .redeem_code(
            code,
            client,
            form.get("redirect_uri"),
            form.get("code_verifier"),
        )
        .map_err(|(error, _)| error)?;
    let id_token = idp
        .id_token(
            &state.urls.idp_issuer(),
            &issued.subject,
            &client.client_id,
            issued.request.nonce.as_deref(),
        )
        .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
    let lifetime = idp.config.id_token_lifetime_secs;
    Ok(no_store_json(
        StatusCode::OK,
        json!({
            "access_token": random_token("kh_idp_at_"),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "id_token": id_token,
            "scope": format_scopes(&issued.granted_scopes),
        }),
    ))
}

/// Checks an ID token this IdP issued to `client`; returns its claims.
fn verify_id_token(
    state: &TestbedState,
    idp: &IdentityProvider,
    client: &RegisteredClient,
    id_token: &str,
) -> Result<Value, OAuthError> {
    let jwt = idp
        .key
        .verify(id_token)
        .map_err(|error| OAuthError::invalid_grant(format!("invalid subject_token: {error}")))?;
    let claims = jwt.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(state.urls.idp_issuer().as_str()) {
        return Err(OAuthError::invalid_grant(
            "the ID token was not issued by this IdP",
        ));
    }
    if claims.get("aud").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err(OAuthError::invalid_grant(
            "the ID token was issued to another client",
        ));
    }
    let expires_at = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if now_secs() >= expires_at {
        return Err(OAuthError::invalid_grant("the ID token has expired"));
    }
    Ok(claims)
}

fn exchange_for_id_jag(
    state: &TestbedState,
    idp: &IdentityProvider,
    client: &RegisteredClient,
    form: &FormParams,
) -> Result<Response, OAuthError> {
    if form.require("requested_token_type")? != ID_JAG_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "requested_token_type must be {ID_JAG_TOKEN_TYPE}"
        )));
    }
    if form.require("subject_token_type")? != ID_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {ID_TOKEN_TYPE}"
        )));
    }
    let identity = verify_id_token(state, idp, client, form.require("subject_token")?)?;
    let audience = form.require("audience")?;
    if audience != state.urls.issuer() {
        return Err(OAuthError::invalid_target(format!(
            "unknown audience `{audience}`: expected the resource authorization server {}",
            state.urls.issuer()
        )));
    }
    let resource = form.require("resource")?;
    let server = state
        .server_for_resource(resource)
        .filter(|server| server.config.auth.mode != AuthMode::None)
        .ok_or_else(|| OAuthError::invalid_target(format!("unknown resource `{resource}`")))?;
    let oauth = &state.config.oauth;
    let mut scopes = parse_scopes(form.get("scope").unwrap_or(""));
    if scopes.is_empty() {
        scopes = oauth.default_scopes.clone();
    }
    if let Some(unknown) = scopes.iter().find(|s| !oauth.scopes_supported.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "unknown scope `{unknown}`"
        )));
    }
    let now = now_secs();
    let lifetime = idp.config.id_jag_lifetime_secs;
    let mut claims = json!({
        "iss": state.urls.idp_issuer(),
        "sub": identity["sub"],
        "aud": state.urls.issuer(),
        "client_id": client.resource_client_id.clone().unwrap_or_else(|| client.client_id.clone()),
        "jti": random_string(16),
        "iat": now,
        "exp": now + lifetime,
        "resource": server.mcp_url,
        "scope": format_scopes(&scopes),
    });
    if let Some(email) = identity.get("email") {
        claims["email"] = email.clone();
    }
    let id_jag = idp.key.sign(ID_JAG_TYP, &claims);
    Ok(no_store_json(
        StatusCode::OK,
        json!({
            "access_token": id_jag,
            "issued_token_type": ID_JAG_TOKEN_TYPE,
            "token_type": "N_A",
            "expires_in": lifetime,
            "scope": format_scopes(&scopes),
        }),
    ))
}
