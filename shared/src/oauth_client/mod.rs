//! The OAuth client of the MCP authorization specification (2025-11-25, with the 2026-07-28
//! hardening) and enterprise-managed authorization (SEP-990), over injected HTTP.
//!
//! The same code runs in the backend, the CLI and the browser, so every effect is a parameter:
//! [`HttpClient`](crate::http::HttpClient), [`OAuthStore`](crate::store::OAuthStore),
//! [`Clock`](crate::recovery::Clock) and [`Entropy`](crate::random::Entropy).
//!
//! * [`discovery`]: protected-resource metadata (RFC 9728), authorization-server metadata (RFC 8414
//!   and OpenID discovery), the 2025-03-26 fallbacks, and the `resource`/`issuer` checks.
//! * [`identity`]: which client id to use (pre-registered, Client ID Metadata Document, RFC 7591).
//! * [`client_auth`]: authenticating at a token endpoint (`none`, basic, post, `private_key_jwt`).
//! * [`authorize`]: the authorization request (PKCE S256, `state`, `resource`) and the callback
//!   checks (`state`, RFC 9207 `iss`, error responses).
//! * [`grants`]: the token endpoint (code exchange, refresh, client credentials, JWT bearer),
//!   with DPoP proofs for bound tokens.
//! * [`own_grants`]: the grants a client makes for itself (client credentials, workload
//!   identity).
//! * [`ema`]: enterprise-managed authorization, legs 1–3.
//! * [`forget`]: forgetting tokens and registrations, on the user's request (with RFC 7009
//!   revocation) and when the authorization server no longer knows the client.
//! * [`stepwise`]: the connect-time sign-in's stages as separate calls (the guided sign-in).
//! * [`client`]: [`OAuthClient`], which ties these to the store and implements the recovery
//!   traits so `handle_auth_challenge` drives real flows.
//!
//! **Why so little of the `oauth2` crate.** Its HTTP adapter requires `Send + Sync` futures on
//! native targets and its typestate client has no discovery, registration, RFC 8693 or RFC 7523;
//! our HTTP trait is deliberately not `Send` (browser) and every exchange must be observable.
//! So `oauth2` supplies the PKCE challenge derivation and the `state` token type, and the token
//! requests are plain form POSTs over [`HttpClient`](crate::http::HttpClient).

pub mod authorize;
pub mod client;
pub mod client_auth;
pub mod discovery;
pub mod discovery_cache;
pub mod ema;
pub mod faults;
pub mod forget;
pub mod freshness;
pub mod grants;
pub mod identity;
pub mod ids;
mod jwt;
pub mod own_grants;
mod ports;
pub mod stepwise;
mod wire;

#[cfg(test)]
mod tests;

pub use authorize::{AuthorizationStart, CallbackError, CallbackParams};
pub use client::{CompletedGrant, OAuthClient, ServerConfig};
pub use discovery::{AuthorizationServerMetadata, Discovery, ProtectedResourceMetadata};
pub use discovery_cache::DiscoveryCache;
pub use ema::EnterpriseConfig;
pub use faults::{Fault, FaultOutcome};
pub use forget::{ForgetReport, SignInCheck};
pub use identity::{ClientConfig, ClientRegistration, PreRegisteredClient, RegistrationSource};
pub use ids::{ClientId, Issuer, TokenEndpointAuthMethod};
pub use jwt::JwtError;

use crate::http::HttpError;
use crate::messages;
use crate::recovery::GrantError;
use crate::store::StoreError;
use crate::tokens::OAuthErrorResponse;

/// Why a flow stopped. Messages name URLs and issuers, never tokens, codes or secrets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthClientError {
    #[error("{step}: {source}")]
    Http { step: String, source: HttpError },
    #[error("{step}: unexpected HTTP status {status}")]
    Status { step: String, status: u16 },
    #[error("{step}: {reason}")]
    InvalidDocument { step: String, reason: String },
    #[error("{step}: {}", messages::oauth_error(.error))]
    OAuth {
        step: String,
        error: OAuthErrorResponse,
    },
    #[error(
        "the protected-resource metadata describes `{found}`, not this server (`{expected}`); refusing it"
    )]
    ResourceMismatch { expected: String, found: String },
    #[error(
        "the authorization-server metadata names the issuer `{found}`, but `{expected}` was expected; refusing it"
    )]
    IssuerMismatch { expected: String, found: String },
    #[error("no authorization-server metadata was found for `{0}`")]
    NoAuthorizationServer(String),
    #[error(
        "the authorization server `{0}` does not announce PKCE with S256 (`code_challenge_methods_supported`); refusing to authorize"
    )]
    PkceUnsupported(String),
    #[error(
        "no way to identify this client at `{0}`: no pre-registered client, no Client ID Metadata Document support, no dynamic registration"
    )]
    NoClientIdentity(String),
    #[error("{0}")]
    Callback(#[from] CallbackError),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Keyhole's own configuration for the server or client is wrong or incomplete.
    #[error("{0}")]
    Config(String),
    #[error("no tokens are stored for this server")]
    NoStoredTokens,
    #[error("the stored tokens have no refresh token")]
    NoRefreshToken,
    #[error(
        "this server is enterprise-managed: its tokens come from the enterprise IdP, never from a redirect"
    )]
    EnterpriseManaged,
    #[error("`{0}` is not enterprise-managed")]
    NotEnterpriseManaged(String),
    #[error("the client's assertion could not be signed: {0}")]
    Jwt(#[from] JwtError),
    #[error("the authorization request could not be built: `{0}` is not an absolute URL")]
    AuthorizationEndpoint(String),
    /// EMA: the cached ID token is missing, expired or refused; leg 1 is needed.
    #[error("the identity provider sign-in has to be renewed")]
    IdTokenUnusable,
}

impl OAuthClientError {
    pub(crate) fn invalid(step: &str, reason: impl Into<String>) -> Self {
        Self::InvalidDocument {
            step: step.to_owned(),
            reason: reason.into(),
        }
    }

    /// The OAuth error response, when the server sent one.
    pub fn oauth_error(&self) -> Option<&OAuthErrorResponse> {
        match self {
            Self::OAuth { error, .. } => Some(error),
            Self::Callback(CallbackError::Refused(error)) => Some(error),
            _ => None,
        }
    }
}

impl From<OAuthClientError> for GrantError {
    fn from(error: OAuthClientError) -> Self {
        match error {
            OAuthClientError::OAuth { error, .. } => GrantError::OAuth(error),
            other => GrantError::Flow(Box::new(other)),
        }
    }
}
