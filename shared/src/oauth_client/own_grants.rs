//! The grants a client makes for itself, with no user at an authorization server: the client
//! credentials of a confidential client (the CLI's `--client-credentials`) and workload identity
//! federation (SEP-1933: the RFC 7523 JWT-bearer grant with the workload's identity token, the
//! CLI's `--workload-token-file`). Both store what they get like any grant.

use super::OAuthClientError;
use super::client::{CompletedGrant, OAuthClient, ResolvedClient};
use super::discovery::Discovery;
use super::grants::Grant;
use super::ids::TokenEndpointAuthMethod;
use crate::http::HttpClient;
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::store::OAuthStore;

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// The client-credentials grant (machine clients: a configured confidential client).
    pub async fn client_credentials(
        &self,
        server_url: &str,
        scopes: &ScopeSet,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let client = self
            .configured_client(server_url, &discovery)
            .await?
            .filter(|c| c.registration.auth_method != TokenEndpointAuthMethod::None)
            .ok_or_else(|| {
                OAuthClientError::Config(
                    "the client-credentials grant needs a configured confidential client".into(),
                )
            })?;
        let grant = Grant::ClientCredentials { scope: scopes };
        self.grant_for_itself(server_url, &discovery, &client, grant, scopes)
            .await
    }

    /// Workload identity federation (SEP-1933): the RFC 7523 JWT-bearer grant with `assertion`,
    /// the workload's identity token (read fresh by the caller each time: such tokens rotate), for
    /// the configured client. A refusal is final: no retry, no other grant.
    pub async fn workload_grant(
        &self,
        server_url: &str,
        assertion: &Secret,
        scopes: &ScopeSet,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let client = self
            .configured_client(server_url, &discovery)
            .await?
            .ok_or_else(|| {
                OAuthClientError::Config(
                    "workload identity needs the client id the authorization server knows the workload by (--client-id)".into(),
                )
            })?;
        let grant = Grant::JwtBearer {
            assertion,
            scope: Some(scopes),
        };
        self.grant_for_itself(server_url, &discovery, &client, grant, scopes)
            .await
    }

    /// The configured (or stored) client at the server's authorization server.
    async fn configured_client(
        &self,
        server_url: &str,
        discovery: &Discovery,
    ) -> Result<Option<ResolvedClient>, OAuthClientError> {
        let advertised = discovery
            .authorization_server
            .token_endpoint_auth_methods_supported
            .as_deref();
        self.known_client(server_url, &discovery.issuer, advertised)
            .await
    }

    /// `grant` at the token endpoint as `client`, for the server's resource (DPoP-bound when the
    /// server wants that), stored as a grant of `scopes`.
    async fn grant_for_itself(
        &self,
        server_url: &str,
        discovery: &Discovery,
        client: &ResolvedClient,
        grant: Grant<'_>,
        scopes: &ScopeSet,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let response = self
            .token_for_resource(discovery, client, grant, None)
            .await?;
        self.record(server_url, &discovery.issuer, scopes, response, None)
            .await
    }
}
