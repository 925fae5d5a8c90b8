//! Finding a server's authorization server and its endpoints.
//!
//! 1. Protected-resource metadata (RFC 9728): the challenge's `resource_metadata` URL, else the
//!    path-aware well-known URL (`/.well-known/oauth-protected-resource/<path>`), else the root
//!    one. Its `resource` must be this server, or the document is refused (a server must not be
//!    able to send the user's tokens elsewhere).
//! 2. Authorization-server metadata for the first listed authorization server: RFC 8414, then
//!    OpenID discovery, in the MCP order (for an issuer with a path: `oauth-authorization-server`
//!    inserted before the path, `openid-configuration` inserted, then appended). Its `issuer` must
//!    be the one asked for.
//! 3. The 2025-03-26 fallbacks when the server publishes no resource metadata: the server's
//!    origin is the authorization server; without its metadata, the endpoints default to
//!    `/authorize`, `/token` and `/register` at that origin.

use serde::{Deserialize, Serialize};

use super::OAuthClientError;
use super::ids::Issuer;
use super::wire::{check_endpoint, decode_document, fetch_document};
use crate::http::HttpClient;
use crate::scopes::ScopeSet;
use crate::web_url::AbsoluteUrl;

const PRM_STEP: &str = "protected-resource metadata";
const AS_STEP: &str = "authorization-server metadata";

/// RFC 9728 §2, the fields the client uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    pub resource_name: Option<String>,
    /// RFC 9449 §5.2: the resource accepts DPoP-bound tokens only.
    #[serde(default)]
    pub dpop_bound_access_tokens_required: bool,
}

/// RFC 8414 §2 (and OpenID discovery), the fields the client uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// RFC 7009 (announced per RFC 8414).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// Kept so the decoded document can still be audited (the guided sign-in's fallback when
    /// the page's step log cut the body short).
    #[serde(default)]
    pub response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    /// RFC 9449 §5.1: the algorithms the server accepts DPoP proofs signed with.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// Whether the server takes DPoP proofs signed the way Keyhole signs them (ES256).
    pub fn supports_dpop(&self) -> bool {
        self.dpop_signing_alg_values_supported
            .as_ref()
            .is_some_and(|algs| algs.iter().any(|a| a == crate::dpop::ALGORITHM))
    }

    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|m| m == "S256"))
    }

    pub fn token_endpoint(&self) -> Result<&str, OAuthClientError> {
        self.token_endpoint
            .as_deref()
            .ok_or_else(|| OAuthClientError::invalid(AS_STEP, "no token_endpoint"))
    }

    pub fn authorization_endpoint(&self) -> Result<&str, OAuthClientError> {
        self.authorization_endpoint
            .as_deref()
            .ok_or_else(|| OAuthClientError::invalid(AS_STEP, "no authorization_endpoint"))
    }

    fn check_endpoints(&self) -> Result<(), OAuthClientError> {
        let endpoints = [
            &self.authorization_endpoint,
            &self.token_endpoint,
            &self.registration_endpoint,
            &self.revocation_endpoint,
        ];
        for endpoint in endpoints.into_iter().flatten() {
            check_endpoint(endpoint, AS_STEP)?;
        }
        Ok(())
    }
}

/// Where the authorization-server metadata came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataOrigin {
    /// Fetched from a well-known URL of the issuer.
    WellKnown,
    /// 2025-03-26 fallback: no document anywhere; default endpoints at the server's origin.
    DefaultEndpoints,
}

/// A metadata document as fetched: where from, and for how long it may be used (seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched<T> {
    pub url: String,
    pub document: T,
    pub lifetime_secs: u64,
}

/// Everything discovery learnt about one MCP server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    pub server_url: String,
    /// The RFC 8707 resource indicator to send: the metadata's `resource`, else the server URL.
    pub resource: String,
    pub protected_resource: Option<ProtectedResourceMetadata>,
    /// The URL the protected-resource metadata was read from.
    pub protected_resource_url: Option<String>,
    pub issuer: Issuer,
    pub authorization_server: AuthorizationServerMetadata,
    /// The URL the authorization-server metadata was read from (`None` for default endpoints).
    pub authorization_server_url: Option<String>,
    pub origin: MetadataOrigin,
    /// How long the protected-resource metadata (or the knowledge that there is none) and the
    /// authorization-server metadata may be used, in seconds from when they were fetched.
    pub protected_resource_lifetime: u64,
    pub authorization_server_lifetime: u64,
}

impl Discovery {
    /// `scopes_supported` of the protected resource, if it lists any.
    pub fn scopes_supported(&self) -> Option<ScopeSet> {
        let listed = self
            .protected_resource
            .as_ref()?
            .scopes_supported
            .as_ref()?;
        Some(ScopeSet::parse(&listed.join(" ")))
    }
}

fn origin_and_path(url: &str, step: &str) -> Result<(String, String), OAuthClientError> {
    let parsed = check_endpoint(url, step)?;
    let origin = parsed.origin().ok_or_else(|| {
        OAuthClientError::invalid(step, format!("`{url}` has no origin to discover from"))
    })?;
    let path = parsed.path().trim_end_matches('/').to_owned();
    Ok((origin, path))
}

/// The protected-resource metadata URLs to try, in order.
pub fn protected_resource_urls(
    server_url: &str,
    hint: Option<&str>,
) -> Result<Vec<String>, OAuthClientError> {
    let (origin, path) = origin_and_path(server_url, PRM_STEP)?;
    let mut urls: Vec<String> = hint.map(str::to_owned).into_iter().collect();
    if !path.is_empty() {
        urls.push(format!(
            "{origin}/.well-known/oauth-protected-resource{path}"
        ));
    }
    urls.push(format!("{origin}/.well-known/oauth-protected-resource"));
    urls.dedup();
    Ok(urls)
}

/// The authorization-server metadata URLs to try for `issuer`, in the MCP order.
pub fn authorization_server_urls(issuer: &str) -> Result<Vec<String>, OAuthClientError> {
    let (origin, path) = origin_and_path(issuer, AS_STEP)?;
    Ok(if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    })
}

/// URLs compared as resource identifiers: parsed (so scheme and host case and default ports do
/// not matter) and without a trailing slash.
fn same_resource(a: &str, b: &str) -> bool {
    let normal = |s: &str| {
        AbsoluteUrl::parse(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| s.to_owned())
            .trim_end_matches('/')
            .to_owned()
    };
    normal(a) == normal(b)
}

/// Whether protected-resource metadata naming `resource` may describe `server_url`: the same
/// resource, or (RFC 9728 metadata served for a whole origin or path) a path prefix of it on the
/// same origin, as the MCP SDKs accept. Another origin or a sibling path never matches, nor does a
/// resource with a query (an empty one, `…/?`, counts as none).
pub(crate) fn resource_covers(resource: &str, server_url: &str) -> bool {
    if same_resource(resource, server_url) {
        return true;
    }
    let (Ok(resource), Ok(server)) = (AbsoluteUrl::parse(resource), AbsoluteUrl::parse(server_url))
    else {
        return false;
    };
    let same_origin = resource
        .origin()
        .is_some_and(|o| Some(o) == server.origin());
    if !same_origin || resource.query().is_some() {
        return false;
    }
    let resource_path = resource.path();
    let prefix = resource_path.trim_end_matches('/');
    let path = server.path();
    prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// Issuers are compared as strings (RFC 8414 §3.3); a lone trailing slash is tolerated because
/// URL libraries add one to bare origins.
pub(crate) fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Step 1: the first protected-resource metadata document found; `None` when there is none.
pub async fn fetch_protected_resource(
    http: &impl HttpClient,
    server_url: &str,
    hint: Option<&str>,
) -> Result<Option<Fetched<ProtectedResourceMetadata>>, OAuthClientError> {
    for url in protected_resource_urls(server_url, hint)? {
        let Some((value, lifetime_secs)) = fetch_document(http, &url, PRM_STEP).await? else {
            continue;
        };
        let metadata: ProtectedResourceMetadata = decode_document(value, PRM_STEP)?;
        if !resource_covers(&metadata.resource, server_url) {
            return Err(OAuthClientError::ResourceMismatch {
                expected: server_url.to_owned(),
                found: metadata.resource,
            });
        }
        return Ok(Some(Fetched {
            url,
            document: metadata,
            lifetime_secs,
        }));
    }
    Ok(None)
}

/// Step 2: the metadata of `issuer`; `None` when no well-known URL has it.
pub async fn fetch_authorization_server(
    http: &impl HttpClient,
    issuer: &str,
) -> Result<Option<Fetched<AuthorizationServerMetadata>>, OAuthClientError> {
    fetch_authorization_server_at(http, issuer, true).await
}

/// Same; without `check_issuer` the document's `issuer` is taken as is (the 2025-03-26 fallback,
/// where the origin is only where to look, not an issuer anyone announced).
async fn fetch_authorization_server_at(
    http: &impl HttpClient,
    issuer: &str,
    check_issuer: bool,
) -> Result<Option<Fetched<AuthorizationServerMetadata>>, OAuthClientError> {
    for url in authorization_server_urls(issuer)? {
        let Some((value, lifetime_secs)) = fetch_document(http, &url, AS_STEP).await? else {
            continue;
        };
        let metadata: AuthorizationServerMetadata = decode_document(value, AS_STEP)?;
        if check_issuer && !same_issuer(&metadata.issuer, issuer) {
            return Err(OAuthClientError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer,
            });
        }
        metadata.check_endpoints()?;
        return Ok(Some(Fetched {
            url,
            document: metadata,
            lifetime_secs,
        }));
    }
    Ok(None)
}

/// The 2025-03-26 default endpoints at `origin`.
fn default_endpoints(origin: &str) -> AuthorizationServerMetadata {
    AuthorizationServerMetadata {
        issuer: origin.to_owned(),
        authorization_endpoint: Some(format!("{origin}/authorize")),
        token_endpoint: Some(format!("{origin}/token")),
        registration_endpoint: Some(format!("{origin}/register")),
        revocation_endpoint: None,
        scopes_supported: None,
        response_types_supported: Some(vec!["code".into()]),
        grant_types_supported: None,
        // That revision made PKCE S256 mandatory for every server, so it is assumed.
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        token_endpoint_auth_methods_supported: None,
        authorization_response_iss_parameter_supported: false,
        client_id_metadata_document_supported: false,
        dpop_signing_alg_values_supported: None,
    }
}

/// Runs the whole discovery for `server_url`; `resource_metadata` is the challenge's parameter.
pub async fn discover(
    http: &impl HttpClient,
    server_url: &str,
    resource_metadata: Option<&str>,
) -> Result<Discovery, OAuthClientError> {
    let protected = fetch_protected_resource(http, server_url, resource_metadata).await?;
    discover_from(http, server_url, protected).await
}

/// The rest of discovery once the protected-resource metadata was looked for (`None`: there is
/// none, the 2025-03-26 fallback).
pub async fn discover_from(
    http: &impl HttpClient,
    server_url: &str,
    protected: Option<Fetched<ProtectedResourceMetadata>>,
) -> Result<Discovery, OAuthClientError> {
    let Some(protected) = protected else {
        return discover_legacy(http, server_url).await;
    };
    let issuer = protected
        .document
        .authorization_servers
        .first()
        .cloned()
        .ok_or_else(|| OAuthClientError::invalid(PRM_STEP, "no authorization_servers listed"))?;
    let metadata = fetch_authorization_server(http, &issuer)
        .await?
        .ok_or_else(|| OAuthClientError::NoAuthorizationServer(issuer.clone()))?;
    Ok(Discovery {
        server_url: server_url.to_owned(),
        resource: protected.document.resource.clone(),
        protected_resource: Some(protected.document),
        protected_resource_url: Some(protected.url),
        issuer: Issuer::new(metadata.document.issuer.clone()),
        authorization_server: metadata.document,
        authorization_server_url: Some(metadata.url),
        origin: MetadataOrigin::WellKnown,
        protected_resource_lifetime: protected.lifetime_secs,
        authorization_server_lifetime: metadata.lifetime_secs,
    })
}

/// No protected-resource metadata: the server's origin acts as the authorization server.
async fn discover_legacy(
    http: &impl HttpClient,
    server_url: &str,
) -> Result<Discovery, OAuthClientError> {
    let (origin, _) = origin_and_path(server_url, PRM_STEP)?;
    let (as_url, metadata, kind, lifetime) =
        match fetch_authorization_server_at(http, &origin, false).await? {
            Some(found) => (
                Some(found.url),
                found.document,
                MetadataOrigin::WellKnown,
                found.lifetime_secs,
            ),
            None => (
                None,
                default_endpoints(&origin),
                MetadataOrigin::DefaultEndpoints,
                super::freshness::HEURISTIC_LIFETIME_SECS,
            ),
        };
    Ok(Discovery {
        server_url: server_url.to_owned(),
        resource: server_url.to_owned(),
        protected_resource: None,
        protected_resource_url: None,
        issuer: Issuer::new(metadata.issuer.clone()),
        authorization_server: metadata,
        authorization_server_url: as_url,
        origin: kind,
        // That there is no protected-resource metadata is known as long as the rest is.
        protected_resource_lifetime: lifetime,
        authorization_server_lifetime: lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_orders() {
        assert_eq!(
            protected_resource_urls("https://rs.example/a/mcp/", Some("https://rs.example/m"))
                .unwrap(),
            [
                "https://rs.example/m",
                "https://rs.example/.well-known/oauth-protected-resource/a/mcp",
                "https://rs.example/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            protected_resource_urls("https://rs.example", None).unwrap(),
            ["https://rs.example/.well-known/oauth-protected-resource"]
        );
        assert_eq!(
            authorization_server_urls("https://as.example/tenant").unwrap(),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant",
                "https://as.example/.well-known/openid-configuration/tenant",
                "https://as.example/tenant/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authorization_server_urls("https://as.example/").unwrap(),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn insecure_urls_are_refused() {
        assert!(protected_resource_urls("http://rs.example/mcp", None).is_err());
        assert!(protected_resource_urls("http://127.0.0.1:9/mcp", None).is_ok());
        assert!(protected_resource_urls("http://localhost/mcp", None).is_ok());
        assert!(authorization_server_urls("not a url").is_err());
    }

    #[test]
    fn resource_comparison() {
        assert!(same_resource(
            "HTTPS://RS.example:443/mcp/",
            "https://rs.example/mcp"
        ));
        assert!(!same_resource(
            "https://rs.example/other",
            "https://rs.example/mcp"
        ));
        assert!(resource_covers(
            "https://rs.example",
            "https://rs.example/mcp"
        ));
        assert!(resource_covers(
            "https://rs.example/a/",
            "https://rs.example/a/mcp"
        ));
        assert!(!resource_covers(
            "https://rs.example/a",
            "https://rs.example/ab/mcp"
        ));
        assert!(!resource_covers(
            "https://evil.example/mcp",
            "https://rs.example/mcp"
        ));
        assert!(same_issuer("https://as/", "https://as"));
        assert!(!same_issuer("https://as/x", "https://as"));
    }
}
