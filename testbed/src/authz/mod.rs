//! The OAuth 2.1 authorization server (issuer `<base>/oauth`) shared by every protected MCP server:
//! RFC 8414 metadata, dynamic client registration, the authorization endpoint with login and
//! consent pages, the token endpoint and token revocation.

mod authorize;
mod jwt_bearer;
mod registration;
mod token;
pub mod token_log;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::clients::ClientRegistry;
use crate::code_grant::AuthorizationFlows;
use crate::config::{AuthorizationServerFlaw, OAuthConfig};
use crate::state::TestbedState;
use token_log::TokenRequestLog;

/// The grant type of RFC 7523 §2.1.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Run-time state of the authorization server.
pub struct AuthorizationServer {
    pub clients: ClientRegistry,
    pub flows: AuthorizationFlows,
    /// `jti` values of ID-JAGs already redeemed.
    redeemed_assertions: Mutex<HashSet<String>>,
    /// Every request to the token endpoint, and the delay before each is answered.
    pub token_requests: TokenRequestLog,
    /// Signs access tokens when `accessTokenFormat` is `jwt`.
    pub access_token_key: crate::jwt::Es256Key,
}

impl AuthorizationServer {
    pub fn new(config: &OAuthConfig) -> Self {
        AuthorizationServer {
            clients: ClientRegistry::with_static_clients(&config.static_clients),
            flows: AuthorizationFlows::default(),
            redeemed_assertions: Mutex::new(HashSet::new()),
            token_requests: TokenRequestLog::default(),
            access_token_key: crate::jwt::Es256Key::generate(),
        }
    }

    /// Records an assertion id; false when it was seen before (replay).
    fn first_use_of_assertion(&self, jti: &str) -> bool {
        self.redeemed_assertions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(jti.to_string())
    }
}

pub fn router() -> Router<Arc<TestbedState>> {
    Router::new()
        .route(
            "/.well-known/oauth-authorization-server/oauth",
            get(metadata),
        )
        .route("/oauth/authorize", get(authorize::start))
        .route("/oauth/login", post(authorize::login))
        .route(
            "/oauth/consent",
            get(authorize::show_consent).post(authorize::decide_consent),
        )
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/register", post(registration::register))
}

/// `GET /.well-known/oauth-authorization-server/oauth` (RFC 8414).
async fn metadata(State(state): State<Arc<TestbedState>>) -> Response {
    let issuer = state.urls.issuer();
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "scopes_supported": state.config.oauth.scopes_supported,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", JWT_BEARER_GRANT],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": false,
        "dpop_signing_alg_values_supported": ["ES256"],
    });
    if state.config.oauth.dynamic_registration {
        document["registration_endpoint"] = json!(format!("{issuer}/register"));
    }
    for flaw in &state.config.oauth.flaws {
        match flaw {
            AuthorizationServerFlaw::NoS256 => {
                document
                    .as_object_mut()
                    .map(|d| d.remove("code_challenge_methods_supported"));
            }
            AuthorizationServerFlaw::NoIssParameter => {
                document
                    .as_object_mut()
                    .map(|d| d.remove("authorization_response_iss_parameter_supported"));
            }
            AuthorizationServerFlaw::IssuerMismatch => {
                document["issuer"] = json!(format!("{issuer}/tenant"));
            }
        }
    }
    axum::Json(document).into_response()
}
