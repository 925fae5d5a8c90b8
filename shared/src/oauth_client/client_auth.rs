//! Authenticating the client at a token (or revocation) endpoint, per its registered method:
//! `none` (client id in the form), `client_secret_basic` (RFC 6749 §2.3.1: id and secret
//! form-encoded, then HTTP Basic), `client_secret_post`, or `private_key_jwt` (RFC 7523 §2.2: a
//! short-lived ES256 assertion whose audience is the authorization server's issuer).
//!
//! Whatever the method, the form names the client with `client_id` too (RFC 6749 §3.2.1 allows
//! it): the Python MCP SDK's token endpoint reads the client from the body alone and refuses a
//! Basic-only request with `invalid_client` "Missing client_id".

use crate::web_url::form_component;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::OAuthClientError;
use super::identity::ClientRegistration;
use super::ids::TokenEndpointAuthMethod;
use super::jwt::sign_es256;
use crate::random::{Entropy, random_token};
use crate::secret::Secret;

/// RFC 7523 §2.2.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Client assertions are valid this long.
pub const ASSERTION_LIFETIME_SECS: u64 = 120;

/// What the client proves itself with.
#[derive(Clone, Copy, Debug)]
pub struct ClientCredentials<'a> {
    pub registration: &'a ClientRegistration,
    /// PKCS#8 PEM key and optional key id, for `private_key_jwt`.
    pub private_key: Option<(&'a Secret, Option<&'a str>)>,
}

impl<'a> ClientCredentials<'a> {
    pub fn new(registration: &'a ClientRegistration) -> Self {
        Self {
            registration,
            private_key: None,
        }
    }
}

fn form_encode(value: &str) -> String {
    form_component(value)
}

fn missing(what: &str) -> OAuthClientError {
    OAuthClientError::Config(format!(
        "the client is registered for a method that needs {what}, but none is configured"
    ))
}

/// Adds the client authentication to a token request's form and headers.
pub(crate) fn authenticate(
    credentials: ClientCredentials<'_>,
    audience: &str,
    now: u64,
    entropy: &impl Entropy,
    form: &mut Vec<(String, String)>,
    headers: &mut Vec<(String, String)>,
) -> Result<(), OAuthClientError> {
    let registration = credentials.registration;
    let client_id = registration.client_id.as_str().to_owned();
    let secret = || {
        registration
            .client_secret
            .as_ref()
            .ok_or_else(|| missing("a client secret"))
    };
    form.push(("client_id".into(), client_id.clone()));
    match registration.auth_method {
        TokenEndpointAuthMethod::None => {}
        TokenEndpointAuthMethod::ClientSecretPost => {
            form.push(("client_secret".into(), secret()?.expose().to_owned()));
        }
        TokenEndpointAuthMethod::ClientSecretBasic => {
            let pair = format!(
                "{}:{}",
                form_encode(&client_id),
                form_encode(secret()?.expose())
            );
            headers.push((
                "authorization".into(),
                format!("Basic {}", STANDARD.encode(pair)),
            ));
        }
        TokenEndpointAuthMethod::PrivateKeyJwt => {
            let (key, key_id) = credentials
                .private_key
                .ok_or_else(|| missing("a private key"))?;
            let claims = serde_json::json!({
                "iss": client_id,
                "sub": client_id,
                "aud": audience,
                "jti": random_token(entropy, 16),
                "iat": now,
                "exp": now + ASSERTION_LIFETIME_SECS,
            });
            let assertion = sign_es256(&claims, key, key_id)?;
            form.push(("client_assertion_type".into(), CLIENT_ASSERTION_TYPE.into()));
            form.push(("client_assertion".into(), assertion));
        }
    }
    Ok(())
}
