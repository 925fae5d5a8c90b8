//! The enterprise IdP for enterprise-managed authorization (SEP-990), issuer `<base>/idp`: OIDC
//! discovery and JWKS, a login form (authorization code + PKCE) issuing ES256 ID tokens, and
//! RFC 8693 token exchange turning an ID token into an ID-JAG for the resource authorization
//! server.

mod login;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::clients::ClientRegistry;
use crate::code_grant::AuthorizationFlows;
use crate::config::EmaConfig;
use crate::jwt::Es256Key;
use crate::state::TestbedState;
use crate::support::now_secs;

/// JOSE `typ` of an Identity Assertion JWT Authorization Grant.
pub const ID_JAG_TYP: &str = "oauth-id-jag+jwt";
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// Run-time state of the IdP.
pub struct IdentityProvider {
    pub config: EmaConfig,
    /// Signs ID tokens and ID-JAGs; the authorization server verifies ID-JAGs with it.
    pub key: Es256Key,
    pub clients: ClientRegistry,
    pub flows: AuthorizationFlows,
}

impl IdentityProvider {
    pub fn new(config: &EmaConfig) -> Self {
        IdentityProvider {
            config: config.clone(),
            key: Es256Key::generate(),
            clients: ClientRegistry::with_static_clients(&config.clients),
            flows: AuthorizationFlows::default(),
        }
    }

    /// A signed ID token for the configured user `username`, issued by `issuer` to `client_id`
    /// now; `None` for an unknown user.
    pub fn id_token(
        &self,
        issuer: &str,
        username: &str,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Option<String> {
        let user = self.config.users.iter().find(|u| u.username == username)?;
        let now = now_secs();
        let mut claims = json!({
            "iss": issuer,
            "sub": user.username,
            "aud": client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + self.config.id_token_lifetime_secs,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(email) = &user.email {
            claims["email"] = json!(email);
        }
        if let Some(name) = &user.name {
            claims["name"] = json!(name);
        }
        Some(self.key.sign("JWT", &claims))
    }
}

/// The IdP's routes; every one answers 404 when no IdP is configured.
pub fn router() -> Router<Arc<TestbedState>> {
    Router::new()
        .route("/idp/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/openid-configuration/idp", get(discovery))
        .route(
            "/.well-known/oauth-authorization-server/idp",
            get(discovery),
        )
        .route("/idp/jwks", get(jwks))
        .route("/idp/authorize", get(login::start))
        .route("/idp/login", post(login::login))
        .route("/idp/token", post(token::token))
}

fn not_configured() -> Response {
    (StatusCode::NOT_FOUND, "no enterprise IdP is configured").into_response()
}

async fn discovery(State(state): State<Arc<TestbedState>>) -> Response {
    if state.idp.is_none() {
        return not_configured();
    }
    let issuer = state.urls.idp_issuer();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "name"],
        "grant_types_supported": ["authorization_code", TOKEN_EXCHANGE_GRANT],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

async fn jwks(State(state): State<Arc<TestbedState>>) -> Response {
    match &state.idp {
        Some(idp) => axum::Json(json!({"keys": [idp.key.public_jwk()]})).into_response(),
        None => not_configured(),
    }
}
