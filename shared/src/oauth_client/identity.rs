//! Which client id to present to an authorization server, in the MCP order: a pre-registered
//! client for that issuer, else a Client ID Metadata Document (the client id *is* the HTTPS URL of
//! a JSON document describing the client) when the server announces
//! `client_id_metadata_document_supported`, else dynamic client registration (RFC 7591).
//!
//! The token-endpoint authentication method follows what was registered and what the server
//! announces: public clients use `none`; a secret goes with `client_secret_basic` unless only
//! `client_secret_post` is announced; a private key means `private_key_jwt`. A registration
//! response that names a method wins over what was asked (RFC 7591 §3.2.1 lets the server
//! decide).

use serde::{Deserialize, Serialize};

use super::OAuthClientError;
use super::discovery::AuthorizationServerMetadata;
use super::ids::{ClientId, Issuer, TokenEndpointAuthMethod};
use super::wire::{check_endpoint, read_answer, send};
use crate::http::{HttpClient, HttpRequest};
use crate::secret::Secret;
use crate::web_url::AbsoluteUrl;

const DCR_STEP: &str = "dynamic client registration";

/// How the registration came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationSource {
    PreRegistered,
    MetadataDocument,
    Dynamic,
}

/// The client identity to use at one issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRegistration {
    pub client_id: ClientId,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    pub auth_method: TokenEndpointAuthMethod,
    pub source: RegistrationSource,
    /// RFC 7591 `client_secret_expires_at` (0 = never).
    #[serde(default)]
    pub client_secret_expires_at: Option<u64>,
    /// When a dynamic registration was made (Unix seconds), for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<u64>,
}

impl ClientRegistration {
    /// A registered secret past its expiry must be registered again.
    pub fn is_expired(&self, now: u64) -> bool {
        self.client_secret_expires_at
            .is_some_and(|at| at != 0 && now >= at)
    }
}

/// A client the user configured for an issuer (or for any issuer, when `issuer` is `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreRegisteredClient {
    #[serde(default)]
    pub issuer: Option<Issuer>,
    pub client_id: ClientId,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub auth_method: Option<TokenEndpointAuthMethod>,
    /// PKCS#8 PEM P-256 key for `private_key_jwt`.
    #[serde(default)]
    pub private_key_pem: Option<Secret>,
    #[serde(default)]
    pub key_id: Option<String>,
}

impl PreRegisteredClient {
    pub fn public(client_id: impl Into<String>) -> Self {
        Self {
            issuer: None,
            client_id: ClientId::new(client_id),
            client_secret: None,
            auth_method: None,
            private_key_pem: None,
            key_id: None,
        }
    }

    pub fn confidential(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            client_secret: Some(Secret::new(secret)),
            ..Self::public(client_id)
        }
    }

    pub fn applies_to(&self, issuer: &Issuer) -> bool {
        self.issuer.as_ref().is_none_or(|i| i == issuer)
    }

    /// The registration this configuration amounts to at a server announcing `advertised`.
    pub fn registration(&self, advertised: Option<&[String]>) -> ClientRegistration {
        let method = self.auth_method.unwrap_or_else(|| {
            choose_auth_method(
                self.client_secret.is_some(),
                self.private_key_pem.is_some(),
                advertised,
            )
        });
        ClientRegistration {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth_method: method,
            source: RegistrationSource::PreRegistered,
            client_secret_expires_at: None,
            registered_at: None,
        }
    }
}

/// How this client describes itself (registration request, metadata document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// Where authorization responses are sent (the web app's `/oauth/callback`, the CLI's
    /// loopback listener).
    pub redirect_uri: String,
    pub client_name: String,
    #[serde(default)]
    pub client_uri: Option<String>,
    /// The HTTPS URL of this client's metadata document, when one is published.
    #[serde(default)]
    pub metadata_document_url: Option<String>,
    #[serde(default)]
    pub preregistered: Vec<PreRegisteredClient>,
}

impl ClientConfig {
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            client_name: "Keyhole".into(),
            client_uri: None,
            metadata_document_url: None,
            preregistered: Vec::new(),
        }
    }

    pub fn preregistered_for(&self, issuer: &Issuer) -> Option<&PreRegisteredClient> {
        // A client configured for this very issuer wins over a catch-all one.
        self.preregistered
            .iter()
            .find(|c| c.issuer.as_ref() == Some(issuer))
            .or_else(|| self.preregistered.iter().find(|c| c.issuer.is_none()))
    }

    fn loopback_redirect(&self) -> bool {
        AbsoluteUrl::parse(&self.redirect_uri).is_ok_and(|u| u.has_loopback_host())
    }

    /// The RFC 7591 registration request.
    pub fn registration_request(&self, auth_method: TokenEndpointAuthMethod) -> serde_json::Value {
        let mut request = serde_json::json!({
            "redirect_uris": [self.redirect_uri],
            "client_name": self.client_name,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": auth_method.as_str(),
            // Required by the 2026-07-28 revision so servers can apply the right redirect rules.
            "application_type": if self.loopback_redirect() { "native" } else { "web" },
        });
        if let Some(uri) = &self.client_uri {
            request["client_uri"] = uri.as_str().into();
        }
        request
    }
}

/// The method for a client holding a secret and/or a key, given what the server announces
/// (RFC 8414: an absent list means `client_secret_basic` only).
pub fn choose_auth_method(
    has_secret: bool,
    has_key: bool,
    advertised: Option<&[String]>,
) -> TokenEndpointAuthMethod {
    let announced = |m: TokenEndpointAuthMethod| match advertised {
        Some(list) => list.iter().any(|a| a == m.as_str()),
        None => m == TokenEndpointAuthMethod::ClientSecretBasic,
    };
    if has_key && announced(TokenEndpointAuthMethod::PrivateKeyJwt) {
        TokenEndpointAuthMethod::PrivateKeyJwt
    } else if has_secret {
        if !announced(TokenEndpointAuthMethod::ClientSecretBasic)
            && announced(TokenEndpointAuthMethod::ClientSecretPost)
        {
            TokenEndpointAuthMethod::ClientSecretPost
        } else {
            TokenEndpointAuthMethod::ClientSecretBasic
        }
    } else {
        TokenEndpointAuthMethod::None
    }
}

/// A Client ID Metadata Document client: the document's URL is the client id; public client.
pub fn metadata_document_client(url: &str) -> Result<ClientRegistration, OAuthClientError> {
    let parsed = check_endpoint(url, "client metadata document")?;
    if parsed.scheme() != "https" || parsed.path().len() <= 1 {
        return Err(OAuthClientError::Config(format!(
            "a client metadata document URL must be https with a path, not `{url}`"
        )));
    }
    Ok(ClientRegistration {
        client_id: ClientId::new(url),
        client_secret: None,
        auth_method: TokenEndpointAuthMethod::None,
        source: RegistrationSource::MetadataDocument,
        client_secret_expires_at: None,
        registered_at: None,
    })
}

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(default)]
    client_secret: Option<Secret>,
    #[serde(default)]
    client_secret_expires_at: Option<u64>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// Registers dynamically at the server's `registration_endpoint`. A public client (`none`) is
/// asked for when the server supports it, since a browser cannot keep a secret.
pub async fn register_dynamically(
    http: &impl HttpClient,
    metadata: &AuthorizationServerMetadata,
    config: &ClientConfig,
) -> Result<ClientRegistration, OAuthClientError> {
    let endpoint = metadata
        .registration_endpoint
        .as_deref()
        .ok_or_else(|| OAuthClientError::NoClientIdentity(metadata.issuer.clone()))?;
    check_endpoint(endpoint, DCR_STEP)?;
    let advertised = metadata.token_endpoint_auth_methods_supported.as_deref();
    let public_ok = advertised.is_none_or(|list| list.iter().any(|m| m == "none"));
    let asked = if public_ok {
        TokenEndpointAuthMethod::None
    } else {
        choose_auth_method(true, false, advertised)
    };
    let request = HttpRequest::post_json(endpoint, &config.registration_request(asked));
    let response = send(http, request, DCR_STEP).await?;
    let answer: RegistrationResponse = read_answer(&response, DCR_STEP)?;
    if answer.client_id.is_empty() {
        return Err(OAuthClientError::invalid(DCR_STEP, "empty client_id"));
    }
    let assigned = answer
        .token_endpoint_auth_method
        .as_deref()
        .and_then(TokenEndpointAuthMethod::parse);
    let method = match (assigned, answer.client_secret.is_some()) {
        (Some(method), _) => method,
        // A secret came back although none was asked for: use it the way the server announces.
        (None, true) if asked == TokenEndpointAuthMethod::None => {
            choose_auth_method(true, false, advertised)
        }
        (None, true) => asked,
        (None, false) => TokenEndpointAuthMethod::None,
    };
    Ok(ClientRegistration {
        client_id: ClientId::new(answer.client_id),
        client_secret: answer.client_secret,
        auth_method: method,
        source: RegistrationSource::Dynamic,
        client_secret_expires_at: answer.client_secret_expires_at,
        registered_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenEndpointAuthMethod::{ClientSecretBasic, ClientSecretPost, PrivateKeyJwt};

    #[test]
    fn auth_method_follows_what_is_held_and_announced() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            choose_auth_method(false, false, None),
            TokenEndpointAuthMethod::None
        );
        assert_eq!(choose_auth_method(true, false, None), ClientSecretBasic);
        let post_only = list(&["none", "client_secret_post"]);
        assert_eq!(
            choose_auth_method(true, false, Some(&post_only)),
            ClientSecretPost
        );
        let jwt = list(&["private_key_jwt", "client_secret_basic"]);
        assert_eq!(choose_auth_method(true, true, Some(&jwt)), PrivateKeyJwt);
        assert_eq!(choose_auth_method(true, true, None), ClientSecretBasic);
    }

    #[test]
    fn registration_request_describes_a_native_or_web_client() {
        let native = ClientConfig::new("http://127.0.0.1:6276/callback");
        let request = native.registration_request(TokenEndpointAuthMethod::None);
        assert_eq!(request["application_type"], "native");
        assert_eq!(request["token_endpoint_auth_method"], "none");
        assert_eq!(
            request["grant_types"],
            serde_json::json!(["authorization_code", "refresh_token"])
        );
        let web = ClientConfig::new("https://keyhole.example/oauth/callback");
        assert_eq!(
            web.registration_request(TokenEndpointAuthMethod::None)["application_type"],
            "web"
        );
    }

    /// The registration response decides (the Python SDK assigns `client_secret_post` by
    /// default); without one, what was asked for stands.
    #[test]
    fn the_registration_response_names_the_method() {
        use crate::http::{HttpClient, HttpError, HttpRequest, HttpResponse};
        struct Answer(serde_json::Value);
        impl HttpClient for Answer {
            async fn send(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
                Ok(HttpResponse::json(201, &self.0))
            }
        }
        let metadata: AuthorizationServerMetadata = serde_json::from_value(serde_json::json!({
            "issuer": "https://as.example",
            "registration_endpoint": "https://as.example/register",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }))
        .unwrap();
        let config = ClientConfig::new("http://127.0.0.1:1/cb");
        let register = |answer: serde_json::Value| {
            futures::executor::block_on(register_dynamically(&Answer(answer), &metadata, &config))
                .unwrap()
        };
        let post = register(serde_json::json!({"client_id": "a", "client_secret": "s",
            "token_endpoint_auth_method": "client_secret_post"}));
        assert_eq!(post.auth_method, ClientSecretPost);
        let public =
            register(serde_json::json!({"client_id": "b", "token_endpoint_auth_method": "none"}));
        assert_eq!(public.auth_method, TokenEndpointAuthMethod::None);
        let unnamed = register(serde_json::json!({"client_id": "c", "client_secret": "s"}));
        assert_eq!(unnamed.auth_method, ClientSecretBasic, "what was asked for");
        let no_secret = register(serde_json::json!({"client_id": "d"}));
        assert_eq!(no_secret.auth_method, TokenEndpointAuthMethod::None);
    }

    #[test]
    fn metadata_document_urls_must_be_https_with_a_path() {
        assert!(metadata_document_client("https://keyhole.dev/client.json").is_ok());
        assert!(metadata_document_client("https://keyhole.dev/").is_err());
        assert!(metadata_document_client("http://127.0.0.1/client.json").is_err());
    }
}
