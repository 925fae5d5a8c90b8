//! The RFC 7523 JWT-bearer grant accepting Identity Assertion JWT Authorization Grants (ID-JAGs)
//! signed by the testbed's enterprise IdP (SEP-990 leg 3).

use serde_json::Value;

use crate::clients::RegisteredClient;
use crate::config::AuthMode;
use crate::idp::ID_JAG_TYP;
use crate::oauth_http::{FormParams, OAuthError};
use crate::state::TestbedState;
use crate::support::{now_secs, parse_scopes, random_string};
use crate::tokens::TokenGrant;

fn claim<'a>(claims: &'a Value, name: &str) -> Result<&'a str, OAuthError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| OAuthError::invalid_grant(format!("the ID-JAG has no `{name}` claim")))
}

fn audience_contains(claims: &Value, expected: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expected)),
        _ => false,
    }
}

/// Verifies the ID-JAG in `assertion` and issues an access token for its resource and scopes.
pub fn grant(
    state: &TestbedState,
    client: &RegisteredClient,
    form: &FormParams,
    jkt: Option<String>,
) -> Result<axum::response::Response, OAuthError> {
    let idp = state
        .idp
        .as_ref()
        .ok_or_else(|| OAuthError::unsupported_grant_type("no enterprise IdP is configured"))?;
    let assertion = form.require("assertion")?;
    let jwt = idp
        .key
        .verify(assertion)
        .map_err(|error| OAuthError::invalid_grant(format!("invalid ID-JAG: {error}")))?;
    if jwt.header.get("typ").and_then(Value::as_str) != Some(ID_JAG_TYP) {
        return Err(OAuthError::invalid_grant(format!(
            "the assertion's typ must be `{ID_JAG_TYP}`"
        )));
    }
    let claims = &jwt.claims;
    if claim(claims, "iss")? != state.urls.idp_issuer() {
        return Err(OAuthError::invalid_grant(
            "the ID-JAG was issued by an unknown IdP",
        ));
    }
    if !audience_contains(claims, &state.urls.issuer()) {
        return Err(OAuthError::invalid_grant(
            "the ID-JAG's audience is not this authorization server",
        ));
    }
    let expires_at = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if now_secs() >= expires_at {
        return Err(OAuthError::invalid_grant("the ID-JAG has expired"));
    }
    if claim(claims, "client_id")? != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the ID-JAG was issued for another client",
        ));
    }
    let resource = claim(claims, "resource")?.to_string();
    let server = state
        .server_for_resource(&resource)
        .filter(|server| server.config.auth.mode != AuthMode::None)
        .ok_or_else(|| OAuthError::invalid_target(format!("unknown resource `{resource}`")))?;
    let granted = parse_scopes(claims.get("scope").and_then(Value::as_str).unwrap_or(""));
    let scopes = match form.get("scope") {
        None => granted,
        Some(asked) => {
            let asked = parse_scopes(asked);
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{extra}` is not in the ID-JAG"
                )));
            }
            asked
        }
    };
    if !state.authz.first_use_of_assertion(claim(claims, "jti")?) {
        return Err(OAuthError::invalid_grant("the ID-JAG was already used"));
    }
    let grant = TokenGrant {
        client_id: client.client_id.clone(),
        subject: claim(claims, "sub")?.to_string(),
        scopes,
        resource: Some(server.mcp_url.clone()),
        grant: super::JWT_BEARER_GRANT.into(),
        family: random_string(12),
        jkt,
    };
    Ok(super::token::token_response(state, &grant, false))
}
