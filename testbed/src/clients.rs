//! OAuth client registrations (static and dynamic) and client authentication at a token
//! endpoint: `none`, `client_secret_basic` and `client_secret_post`.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::{ClientAuthMethod, StaticClientConfig};
use crate::oauth_http::{FormParams, OAuthError};

/// A client known to the authorization server or the IdP.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub auth_method: ClientAuthMethod,
    /// IdP clients: the identifier put into ID-JAGs.
    pub resource_client_id: Option<String>,
}

impl From<&StaticClientConfig> for RegisteredClient {
    fn from(config: &StaticClientConfig) -> Self {
        RegisteredClient {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            client_name: config.client_name.clone(),
            redirect_uris: config.redirect_uris.clone(),
            auth_method: config.auth_method(),
            resource_client_id: config.resource_client_id.clone(),
        }
    }
}

impl RegisteredClient {
    /// Exact match, except that a loopback `http` redirect URI may use any port (RFC 8252 §7.3).
    pub fn allows_redirect_uri(&self, candidate: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| redirect_uris_match(registered, candidate))
    }
}

fn redirect_uris_match(registered: &str, candidate: &str) -> bool {
    if registered == candidate {
        return true;
    }
    let (Ok(registered), Ok(candidate)) = (url::Url::parse(registered), url::Url::parse(candidate))
    else {
        return false;
    };
    let is_loopback = |url: &url::Url| {
        url.scheme() == "http"
            && matches!(
                url.host_str(),
                Some("127.0.0.1") | Some("[::1]") | Some("localhost")
            )
    };
    is_loopback(&registered)
        && is_loopback(&candidate)
        && registered.host_str() == candidate.host_str()
        && registered.path() == candidate.path()
        && registered.query() == candidate.query()
}

fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The credentials a token request presented.
enum PresentedCredentials {
    Basic { client_id: String, secret: String },
    Post { client_id: String, secret: String },
    PublicId { client_id: String },
}

fn presented_credentials(
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<PresentedCredentials, OAuthError> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let value = authorization.to_str().unwrap_or_default();
        let Some(encoded) = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, rest)| rest.trim())
        else {
            return Err(OAuthError::invalid_client(
                "unsupported Authorization scheme at the token endpoint",
                true,
            ));
        };
        if form.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        let (raw_id, raw_secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Ok(PresentedCredentials::Basic {
            client_id: decode(raw_id),
            secret: decode(raw_secret),
        });
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_client("client authentication is required", false))?
        .to_string();
    Ok(match form.get("client_secret") {
        Some(secret) => PresentedCredentials::Post {
            client_id,
            secret: secret.to_string(),
        },
        None => PresentedCredentials::PublicId { client_id },
    })
}

/// The clients of one authorization server or IdP.
#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<HashMap<String, RegisteredClient>>,
}

impl ClientRegistry {
    pub fn with_static_clients(clients: &[StaticClientConfig]) -> Self {
        let registry = ClientRegistry::default();
        for client in clients {
            registry.insert(client.into());
        }
        registry
    }

    pub fn insert(&self, client: RegisteredClient) {
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(client.client_id.clone(), client);
    }

    pub fn get(&self, client_id: &str) -> Option<RegisteredClient> {
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(client_id)
            .cloned()
    }

    /// Authenticates the client of a token-endpoint request with its registered method.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        form: &FormParams,
    ) -> Result<RegisteredClient, OAuthError> {
        let presented = presented_credentials(headers, form)?;
        let (client_id, secret, method, via_header) = match &presented {
            PresentedCredentials::Basic { client_id, secret } => (
                client_id,
                Some(secret),
                ClientAuthMethod::ClientSecretBasic,
                true,
            ),
            PresentedCredentials::Post { client_id, secret } => (
                client_id,
                Some(secret),
                ClientAuthMethod::ClientSecretPost,
                false,
            ),
            PresentedCredentials::PublicId { client_id } => {
                (client_id, None, ClientAuthMethod::None, false)
            }
        };
        let client = self
            .get(client_id)
            .ok_or_else(|| OAuthError::invalid_client("unknown client", via_header))?;
        if let Some(form_id) = form.get("client_id")
            && form_id != client.client_id
        {
            return Err(OAuthError::invalid_request(
                "client_id does not match the authenticated client",
            ));
        }
        if client.auth_method != method {
            return Err(OAuthError::invalid_client(
                format!(
                    "this client must authenticate with {}",
                    client.auth_method.as_str()
                ),
                via_header,
            ));
        }
        if let (Some(presented), Some(expected)) = (secret, &client.client_secret)
            && !secrets_equal(presented, expected)
        {
            return Err(OAuthError::invalid_client(
                "wrong client secret",
                via_header,
            ));
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_ignore_the_port() {
        assert!(redirect_uris_match(
            "http://127.0.0.1:6276/callback",
            "http://127.0.0.1:51234/callback"
        ));
        assert!(!redirect_uris_match(
            "http://127.0.0.1:6276/callback",
            "http://127.0.0.1:6276/other"
        ));
        assert!(!redirect_uris_match(
            "https://example.com/cb",
            "https://example.com:444/cb"
        ));
    }
}
