//! Dynamic client registration (RFC 7591) at `POST /oauth/register`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::clients::RegisteredClient;
use crate::config::ClientAuthMethod;
use crate::oauth_http::{OAuthError, no_store_json};
use crate::state::TestbedState;
use crate::support::{now_secs, random_string};

#[derive(Debug, Deserialize)]
struct ClientMetadata {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

fn invalid_metadata(description: impl Into<String>) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
        description,
    )
}

fn invalid_redirect_uri(description: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", description)
}

fn check_redirect_uri(uri: &str) -> Result<(), OAuthError> {
    let url = url::Url::parse(uri)
        .map_err(|_| invalid_redirect_uri(format!("`{uri}` is not an absolute URI")))?;
    if url.fragment().is_some() {
        return Err(invalid_redirect_uri(format!("`{uri}` has a fragment")));
    }
    Ok(())
}

/// `POST /oauth/register`.
pub async fn register(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    if !state.config.oauth.dynamic_registration {
        return OAuthError::new(
            StatusCode::NOT_FOUND,
            "access_denied",
            "dynamic client registration is disabled",
        )
        .into_response();
    }
    match register_client(&state, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn register_client(state: &TestbedState, body: &[u8]) -> Result<Response, OAuthError> {
    let metadata: ClientMetadata = serde_json::from_slice(body)
        .map_err(|error| invalid_metadata(format!("malformed client metadata: {error}")))?;
    if metadata.redirect_uris.is_empty() {
        return Err(invalid_redirect_uri("redirect_uris is required"));
    }
    for uri in &metadata.redirect_uris {
        check_redirect_uri(uri)?;
    }
    let auth_method = match metadata
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic")
    {
        "none" => ClientAuthMethod::None,
        "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
        "client_secret_post" => ClientAuthMethod::ClientSecretPost,
        other => {
            return Err(invalid_metadata(format!(
                "token_endpoint_auth_method `{other}` is not supported"
            )));
        }
    };
    let grant_types = metadata
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    let response_types = metadata
        .response_types
        .unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|t| t != "code") {
        return Err(invalid_metadata(
            "only the `code` response type is supported",
        ));
    }
    let client_secret = (auth_method != ClientAuthMethod::None).then(|| random_string(32));
    let client = RegisteredClient {
        client_id: format!("dcr-{}", random_string(12)),
        client_secret: client_secret.clone(),
        client_name: metadata.client_name.clone(),
        redirect_uris: metadata.redirect_uris.clone(),
        auth_method,
        resource_client_id: None,
    };
    let mut document = json!({
        "client_id": client.client_id,
        "client_id_issued_at": now_secs(),
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": auth_method.as_str(),
        "grant_types": grant_types,
        "response_types": response_types,
    });
    if let Some(secret) = client_secret {
        document["client_secret"] = json!(secret);
        document["client_secret_expires_at"] = json!(0);
    }
    if let Some(name) = &metadata.client_name {
        document["client_name"] = json!(name);
    }
    if let Some(scope) = &metadata.scope {
        document["scope"] = json!(scope);
    }
    state.authz.clients.insert(client);
    Ok(no_store_json(StatusCode::CREATED, document))
}
