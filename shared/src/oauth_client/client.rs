//! [`OAuthClient`]: the flows of this module bound to one set of injected effects and to the
//! store, so callers deal in server URLs, scopes and callback URLs rather than endpoints.
//!
//! Connect time: [`OAuthClient::connect_authorization`] (discovery, client identity, PKCE,
//! `state`) gives the URL to visit; the redirect comes back to
//! [`OAuthClient::complete_authorization`], which checks it, exchanges the code and stores the
//! tokens. Mid-session, the client implements the recovery traits (see `ports`), so
//! `handle_auth_challenge` refreshes, re-mints and prepares redirects through it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::OAuthClientError;
use super::authorize::{
    AuthorizationStart, CallbackError, CallbackParams, authorization_url, new_state_and_verifier,
};
use super::client_auth::ClientCredentials;
use super::discovery::{
    AuthorizationServerMetadata, Discovery, Fetched, ProtectedResourceMetadata, discover_from,
    fetch_authorization_server, fetch_protected_resource, same_issuer,
};
use super::discovery_cache::{Cached, DiscoveryCache};
use super::ema::EnterpriseConfig;
use super::grants::{Grant, TokenEndpoint, request_token};
use super::identity::{
    ClientConfig, ClientRegistration, PreRegisteredClient, metadata_document_client,
    register_dynamically,
};
use super::ids::{ClientId, Issuer};
use crate::challenge::AuthChallenge;
use crate::http::HttpClient;
use crate::messages;
use crate::random::Entropy;
use crate::recovery::{Clock, CredentialKey, ServerAuth};
use crate::scopes::{GrantPurpose, ScopeInputs, ScopeSet, scopes_to_request};
use crate::secret::Secret;
use crate::store::{OAuthStore, PendingAuthorization, PendingKind};
use crate::tokens::{TokenResponse, Tokens};

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the user configured for one MCP server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfig {
    pub server_url: String,
    /// Scopes to ask for when the challenge names none.
    #[serde(default)]
    pub scopes: Option<ScopeSet>,
    /// A client registered for this server's authorization server (wins over the global list).
    #[serde(default)]
    pub client: Option<PreRegisteredClient>,
    /// Set for enterprise-managed servers.
    #[serde(default)]
    pub enterprise: Option<EnterpriseConfig>,
    /// A client ID metadata document to use at this server (wins over the client-wide one).
    #[serde(default)]
    pub metadata_document_url: Option<String>,
}

impl ServerConfig {
    pub fn new(server_url: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into(),
            ..Self::default()
        }
    }
}

/// The outcome of a finished interactive flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedGrant {
    pub server_url: String,
    pub issuer: Issuer,
    pub tokens: Tokens,
    pub requested: ScopeSet,
    /// Requested but not granted (partial consent); empty when everything was granted.
    pub missing: ScopeSet,
    /// What to tell the user.
    pub message: String,
}

/// A client identity with what it needs to authenticate.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedClient {
    pub registration: ClientRegistration,
    key: Option<(Secret, Option<String>)>,
    /// Registered just now, for the request being prepared.
    pub registered_now: bool,
}

impl ResolvedClient {
    pub(crate) fn from_config(config: &PreRegisteredClient, advertised: Option<&[String]>) -> Self {
        Self {
            registration: config.registration(advertised),
            key: config
                .private_key_pem
                .clone()
                .map(|key| (key, config.key_id.clone())),
            registered_now: false,
        }
    }

    fn plain(registration: ClientRegistration) -> Self {
        Self {
            registration,
            key: None,
            registered_now: false,
        }
    }

    pub fn credentials(&self) -> ClientCredentials<'_> {
        ClientCredentials {
            registration: &self.registration,
            private_key: self.key.as_ref().map(|(k, id)| (k, id.as_deref())),
        }
    }
}

/// The OAuth client over injected HTTP, store, clock and entropy.
pub struct OAuthClient<H, S, C, E> {
    pub(crate) http: H,
    pub(crate) store: S,
    pub(crate) clock: C,
    pub(crate) entropy: E,
    config: ClientConfig,
    servers: Mutex<HashMap<String, ServerConfig>>,
    /// Servers that challenged with the `DPoP` scheme (RFC 9449 §7.1). A list: a client talks to
    /// few servers, and a set would cost the web app's main module a hash table of its own.
    dpop_challenged: Mutex<Vec<String>>,
    discoveries: DiscoveryCache,
    issuers: Mutex<HashMap<String, Arc<AuthorizationServerMetadata>>>,
}

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    pub fn new(http: H, store: S, clock: C, entropy: E, config: ClientConfig) -> Self {
        Self {
            http,
            store,
            clock,
            entropy,
            config,
            servers: Mutex::default(),
            dpop_challenged: Mutex::default(),
            discoveries: DiscoveryCache::default(),
            issuers: Mutex::default(),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn http(&self) -> &H {
        &self.http
    }

    /// The key whose possession this server's token requests prove (`dpop::key_id`), when its
    /// tokens are to be DPoP-bound: the authorization server takes ES256 proofs, and the resource
    /// requires bound tokens (RFC 9449 §5.2), challenged with the `DPoP` scheme, or the tokens
    /// held (`held_type`) are bound already. `None`: plain bearer tokens.
    pub(crate) fn dpop_key(
        &self,
        discovery: &Discovery,
        held_type: Option<&str>,
    ) -> Option<String> {
        let required = discovery
            .protected_resource
            .as_ref()
            .is_some_and(|p| p.dpop_bound_access_tokens_required);
        let wanted = required
            || held_type.is_some_and(|t| t.eq_ignore_ascii_case(crate::dpop::TOKEN_TYPE))
            || locked(&self.dpop_challenged).contains(&discovery.server_url);
        (wanted && discovery.authorization_server.supports_dpop())
            .then(|| crate::dpop::key_id(&discovery.server_url))
    }

    /// `grant` at the token endpoint of `discovery`'s authorization server as `client`, for its
    /// resource (RFC 8707), with DPoP proofs when the tokens are to be bound (`held_type`: see
    /// [`Self::dpop_key`]).
    pub(crate) async fn token_for_resource(
        &self,
        discovery: &Discovery,
        client: &ResolvedClient,
        grant: Grant<'_>,
        held_type: Option<&str>,
    ) -> Result<TokenResponse, OAuthClientError> {
        let dpop_key = self.dpop_key(discovery, held_type);
        let endpoint = TokenEndpoint {
            url: discovery.authorization_server.token_endpoint()?,
            issuer: discovery.issuer.as_str(),
            client: client.credentials(),
            dpop_key: dpop_key.as_deref(),
        };
        let resource = Some(discovery.resource.as_str());
        request_token(
            &self.http,
            &self.entropy,
            self.now(),
            endpoint,
            grant,
            resource,
        )
        .await
    }

    /// Registers (or replaces) what the user configured for a server.
    pub fn add_server(&self, server: ServerConfig) {
        locked(&self.servers).insert(server.server_url.clone(), server);
    }

    pub(crate) fn server(&self, server_url: &str) -> ServerConfig {
        locked(&self.servers)
            .get(server_url)
            .cloned()
            .unwrap_or_else(|| ServerConfig::new(server_url))
    }

    /// The client ID metadata document used at `server_url`: the server's own, else the client's.
    fn metadata_document_url(&self, server_url: &str) -> Option<String> {
        self.server(server_url)
            .metadata_document_url
            .or_else(|| self.config.metadata_document_url.clone())
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_unix()
    }

    /// This client with `cache` for its discovery results (shared with other clients).
    pub fn with_discovery_cache(mut self, cache: DiscoveryCache) -> Self {
        self.discoveries = cache;
        self
    }

    /// Forgets the discovery results of `server_url` (they turned out wrong).
    pub fn forget_discovery(&self, server_url: &str) {
        self.discoveries.forget(server_url);
    }

    /// Discovery for `server_url` as known (read once, then kept), unless a challenge's
    /// `resource_metadata` names another document. The steps of one operation use it; the
    /// operation itself starts with [`Self::server_auth`], which reads stale documents again.
    pub async fn discover(
        &self,
        server_url: &str,
        resource_metadata: Option<&str>,
    ) -> Result<Arc<Discovery>, OAuthClientError> {
        if let Some(known) = self.discoveries.known(server_url, resource_metadata) {
            return Ok(known);
        }
        Ok(self.discovery(server_url, resource_metadata).await?.0)
    }

    /// Discovery for `server_url`: from the cache while its documents are fresh and a challenge's
    /// `resource_metadata` names no other document, else read again; and whether anything was
    /// read from the network (`false`: all of it came from the cache). When only the
    /// protected-resource metadata is stale, the
    /// authorization server's is reused while fresh if the resource still names that issuer (a
    /// resource may move to another authorization server, SEP-2352).
    pub(crate) async fn discovery(
        &self,
        server_url: &str,
        resource_metadata: Option<&str>,
    ) -> Result<(Arc<Discovery>, bool), OAuthClientError> {
        let now = self.now();
        let (previous, authorization_server_until) =
            match self.discoveries.lookup(server_url, resource_metadata, now) {
                Cached::Fresh(found) => return Ok((found, false)),
                Cached::Stale {
                    previous,
                    authorization_server_until,
                } => (Some(previous), authorization_server_until),
                Cached::Missing => (None, 0),
            };
        let hint = resource_metadata.or_else(|| {
            previous
                .as_ref()
                .and_then(|p| p.protected_resource_url.as_deref())
        });
        let protected = fetch_protected_resource(&self.http, server_url, hint).await?;
        let reusable = previous.filter(|previous| {
            authorization_server_until > now
                && protected.as_ref().is_some_and(|found| {
                    found
                        .document
                        .authorization_servers
                        .first()
                        .is_some_and(|issuer| same_issuer(issuer, previous.issuer.as_str()))
                })
        });
        let found = match (reusable, protected) {
            (Some(previous), Some(protected)) => {
                let found = Discovery {
                    resource: protected.document.resource.clone(),
                    protected_resource: Some(protected.document),
                    protected_resource_url: Some(protected.url),
                    protected_resource_lifetime: protected.lifetime_secs,
                    ..(*previous).clone()
                };
                self.keep_discovery(found, Some(authorization_server_until))
            }
            (_, protected) => {
                self.read_authorization_server(server_url, protected)
                    .await?
            }
        };
        Ok((found, true))
    }

    /// Discovery's second half, from what the first found (`None`: the 2025-03-26 fallbacks): the
    /// authorization server's metadata, kept for the documents' lifetimes. The guided sign-in
    /// calls it as a step of its own.
    pub async fn read_authorization_server(
        &self,
        server_url: &str,
        protected: Option<Fetched<ProtectedResourceMetadata>>,
    ) -> Result<Arc<Discovery>, OAuthClientError> {
        let found = discover_from(&self.http, server_url, protected).await?;
        Ok(self.keep_discovery(found, None))
    }

    /// Keeps `found` for its documents' lifetimes (the authorization server's until
    /// `authorization_server_until` when it was reused from an earlier discovery).
    fn keep_discovery(
        &self,
        found: Discovery,
        authorization_server_until: Option<u64>,
    ) -> Arc<Discovery> {
        let now = self.now();
        let authorization_server_until = authorization_server_until
            .unwrap_or_else(|| now.saturating_add(found.authorization_server_lifetime));
        let protected_resource_until = now.saturating_add(found.protected_resource_lifetime);
        let found = Arc::new(found);
        self.discoveries.keep(
            Arc::clone(&found),
            protected_resource_until,
            authorization_server_until,
        );
        found
    }

    /// What recovery needs to know about a server (runs discovery when needed).
    pub async fn server_auth(
        &self,
        server_url: &str,
        challenge: Option<&AuthChallenge>,
    ) -> Result<ServerAuth, OAuthClientError> {
        Ok(self.server_auth_read(server_url, challenge).await?.0)
    }

    /// [`Self::server_auth`], and whether discovery read anything from the network.
    pub(crate) async fn server_auth_read(
        &self,
        server_url: &str,
        challenge: Option<&AuthChallenge>,
    ) -> Result<(ServerAuth, bool), OAuthClientError> {
        let hint = challenge.and_then(|c| c.resource_metadata.as_deref());
        if challenge.is_some_and(|c| c.dpop) {
            let mut challenged = locked(&self.dpop_challenged);
            if !challenged.iter().any(|s| s == server_url) {
                challenged.push(server_url.to_owned());
            }
        }
        let (discovery, read) = self.discovery(server_url, hint).await?;
        let server = self.server(server_url);
        let auth = ServerAuth {
            key: CredentialKey {
                server_url: server_url.to_owned(),
                issuer: Some(discovery.issuer.to_string()),
            },
            configured_scopes: server.scopes,
            scopes_supported: discovery.scopes_supported(),
            enterprise_managed: server.enterprise.is_some(),
        };
        Ok((auth, read))
    }

    /// Metadata of an issuer that is not reached through a protected resource (the IdP).
    pub(crate) async fn issuer_metadata(
        &self,
        issuer: &Issuer,
    ) -> Result<Arc<AuthorizationServerMetadata>, OAuthClientError> {
        if let Some(found) = locked(&self.issuers).get(issuer.as_str()).cloned() {
            return Ok(found);
        }
        let metadata = fetch_authorization_server(&self.http, issuer.as_str())
            .await?
            .ok_or_else(|| OAuthClientError::NoAuthorizationServer(issuer.to_string()))?;
        let metadata = Arc::new(metadata.document);
        locked(&self.issuers).insert(issuer.to_string(), Arc::clone(&metadata));
        Ok(metadata)
    }

    /// A known identity at `issuer` without touching the network: configured, else stored.
    pub(crate) async fn known_client(
        &self,
        server_url: &str,
        issuer: &Issuer,
        advertised: Option<&[String]>,
    ) -> Result<Option<ResolvedClient>, OAuthClientError> {
        let server = self.server(server_url);
        let configured = server
            .client
            .as_ref()
            .filter(|c| c.applies_to(issuer))
            .or_else(|| self.config.preregistered_for(issuer));
        if let Some(config) = configured {
            return Ok(Some(ResolvedClient::from_config(config, advertised)));
        }
        let document = self.store.read().await?;
        let stored = document
            .client(issuer, &self.config.redirect_uri)
            .filter(|r| !r.is_expired(self.now()))
            .cloned();
        Ok(stored.map(ResolvedClient::plain))
    }

    /// The client identity to use at the server's authorization server: configured, stored,
    /// metadata document, then dynamic registration (which is stored).
    pub(crate) async fn client_for(
        &self,
        discovery: &Discovery,
    ) -> Result<ResolvedClient, OAuthClientError> {
        let metadata = &discovery.authorization_server;
        let advertised = metadata.token_endpoint_auth_methods_supported.as_deref();
        if let Some(known) = self
            .known_client(&discovery.server_url, &discovery.issuer, advertised)
            .await?
        {
            return Ok(known);
        }
        if metadata.client_id_metadata_document_supported
            && let Some(url) = self.metadata_document_url(&discovery.server_url)
        {
            return Ok(ResolvedClient::plain(metadata_document_client(&url)?));
        }
        let mut registration = register_dynamically(&self.http, metadata, &self.config).await?;
        registration.registered_at = Some(self.now());
        let (issuer, redirect) = (discovery.issuer.clone(), self.config.redirect_uri.clone());
        let saved = registration.clone();
        self.store
            .modify(move |d| d.save_client(&issuer, &redirect, saved.clone()))
            .await?;
        Ok(ResolvedClient {
            registered_now: true,
            ..ResolvedClient::plain(registration)
        })
    }

    /// The client the server's stored tokens were issued to, when it is known and differs from
    /// the one [`Self::client_for`] would pick (tokens obtained by the web app, refreshed by the
    /// CLI, whose redirect URI and so registration differ).
    pub(crate) async fn credential_client(
        &self,
        discovery: &Discovery,
    ) -> Result<Option<ResolvedClient>, OAuthClientError> {
        let document = self.store.read().await?;
        let Some(client_id) = document
            .credential(&discovery.server_url, Some(&discovery.issuer))
            .and_then(|c| c.client_id.clone())
        else {
            return Ok(None);
        };
        let advertised = discovery
            .authorization_server
            .token_endpoint_auth_methods_supported
            .as_deref();
        if let Some(known) = self
            .known_client(&discovery.server_url, &discovery.issuer, advertised)
            .await?
            && known.registration.client_id == client_id
        {
            return Ok(Some(known));
        }
        Ok(document
            .client_with_id(&discovery.issuer, &client_id)
            .cloned()
            .map(ResolvedClient::plain))
    }

    /// The identity behind a callback's `client_id`.
    async fn client_by_id(
        &self,
        server_url: &str,
        issuer: &Issuer,
        client_id: &ClientId,
    ) -> Result<ResolvedClient, OAuthClientError> {
        if let Some(known) = self.known_client(server_url, issuer, None).await?
            && &known.registration.client_id == client_id
        {
            return Ok(known);
        }
        if self.metadata_document_url(server_url).as_deref() == Some(client_id.as_str()) {
            return Ok(ResolvedClient::plain(metadata_document_client(
                client_id.as_str(),
            )?));
        }
        Err(OAuthClientError::NoClientIdentity(issuer.to_string()))
    }

    /// Stores `pending` and returns the URL to visit.
    pub(crate) async fn start(
        &self,
        pending: PendingAuthorization,
        endpoint: &str,
        scope: &ScopeSet,
        extra: &[(&str, &str)],
    ) -> Result<AuthorizationStart, OAuthClientError> {
        let authorization_url = authorization_url(endpoint, &pending, scope, extra)?;
        let state = pending.state.clone();
        let now = self.now();
        self.store
            .modify(move |d| d.add_pending(pending.clone(), now))
            .await?;
        Ok(AuthorizationStart {
            authorization_url,
            state,
        })
    }

    /// Prepares an authorization-code request for exactly `scopes` (a step-up passes the union).
    pub async fn begin_authorization(
        &self,
        server_url: &str,
        scopes: &ScopeSet,
    ) -> Result<AuthorizationStart, OAuthClientError> {
        if self.server(server_url).enterprise.is_some() {
            return Err(OAuthClientError::EnterpriseManaged);
        }
        let discovery = self.discover(server_url, None).await?;
        let metadata = &discovery.authorization_server;
        if !metadata.supports_s256() {
            return Err(OAuthClientError::PkceUnsupported(metadata.issuer.clone()));
        }
        let endpoint = metadata.authorization_endpoint()?.to_owned();
        super::wire::check_endpoint(&endpoint, "authorization request")?;
        let client = self.client_for(&discovery).await?;
        let (state, verifier) = new_state_and_verifier(&self.entropy);
        let pending = PendingAuthorization {
            state,
            verifier,
            kind: PendingKind::Authorization,
            server_url: server_url.to_owned(),
            issuer: discovery.issuer.clone(),
            iss_required: metadata.authorization_response_iss_parameter_supported,
            client_id: client.registration.client_id.clone(),
            redirect_uri: self.config.redirect_uri.clone(),
            token_endpoint: metadata.token_endpoint()?.to_owned(),
            resource: Some(discovery.resource.clone()),
            requested: scopes.clone(),
            created_at: self.now(),
            fresh_client: client.registered_now,
            dpop_key: self.dpop_key(&discovery, None),
        };
        self.start(pending, &endpoint, scopes, &[]).await
    }

    /// Connect time: the scopes come from the challenge, else the configuration, else the
    /// resource's `scopes_supported`, else none.
    pub async fn connect_authorization(
        &self,
        server_url: &str,
        challenge: Option<&AuthChallenge>,
    ) -> Result<AuthorizationStart, OAuthClientError> {
        let auth = self.server_auth(server_url, challenge).await?;
        let none = ScopeSet::new();
        let inputs = ScopeInputs {
            previously_granted: &none,
            challenge: challenge.map_or(&none, |c| &c.required_scopes),
            configured: auth.configured_scopes.as_ref(),
            supported: auth.scopes_supported.as_ref(),
        };
        let scopes = scopes_to_request(GrantPurpose::Relogin, inputs);
        if auth.enterprise_managed {
            return self.begin_enterprise_sign_in(server_url, &scopes).await;
        }
        self.begin_authorization(server_url, &scopes).await
    }

    /// Handles the redirect back to the client: `state`, `iss`, error, code exchange; stores
    /// the tokens with the requested scopes (the response's `scope` is authoritative).
    pub async fn complete_authorization(
        &self,
        callback: &str,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let params = CallbackParams::parse(callback);
        let state = params.state.clone().ok_or(CallbackError::MissingState)?;
        let now = self.now();
        let pending = self
            .store
            .modify(move |d| d.take_pending(&state, now))
            .await?
            .ok_or(CallbackError::UnknownState)?;
        let code = params.into_code(&pending)?;
        let response = match &pending.kind {
            PendingKind::Authorization => self.exchange_code(&pending, &code).await?,
            PendingKind::IdpSignIn { nonce } => {
                self.finish_idp_sign_in(&pending, &code, nonce).await?;
                self.mint_response(&pending.server_url, &pending.requested)
                    .await?
            }
        };
        let issuer = match &pending.kind {
            PendingKind::Authorization => pending.issuer.clone(),
            PendingKind::IdpSignIn { .. } => self
                .discover(&pending.server_url, None)
                .await?
                .issuer
                .clone(),
        };
        let client_id =
            matches!(pending.kind, PendingKind::Authorization).then(|| pending.client_id.clone());
        self.record(
            &pending.server_url,
            &issuer,
            &pending.requested,
            response,
            client_id,
        )
        .await
    }

    async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: &Secret,
    ) -> Result<TokenResponse, OAuthClientError> {
        let client = self
            .client_by_id(&pending.server_url, &pending.issuer, &pending.client_id)
            .await?;
        let endpoint = TokenEndpoint {
            url: &pending.token_endpoint,
            issuer: pending.issuer.as_str(),
            client: client.credentials(),
            dpop_key: pending.dpop_key.as_deref(),
        };
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &pending.redirect_uri,
            verifier: &pending.verifier,
        };
        let resource = pending.resource.as_deref();
        let answer = request_token(
            &self.http,
            &self.entropy,
            self.now(),
            endpoint,
            grant,
            resource,
        )
        .await;
        if let Err(error) = &answer {
            // A client registered for this very sign-in is not a forgotten one: registering
            // once more would not help, so the error stands.
            if !pending.fresh_client {
                self.drop_if_rejected(error, &pending.issuer, &client.registration)
                    .await;
            }
        }
        answer
    }

    /// Stores a grant's tokens (and, when given, the client they were issued to) and reports
    /// partial consent.
    pub(crate) async fn record(
        &self,
        server_url: &str,
        issuer: &Issuer,
        requested: &ScopeSet,
        response: TokenResponse,
        client_id: Option<ClientId>,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let now = self.now();
        let tokens = Tokens::from_grant(response, requested, None, now);
        let (url, iss, asked, saved) = (
            server_url.to_owned(),
            issuer.clone(),
            requested.clone(),
            tokens.clone(),
        );
        self.store
            .modify(move |d| {
                d.forget_other_issuers(&url, &iss);
                d.record_grant(&url, &iss, &asked, &saved, now);
                if let Some(client_id) = &client_id {
                    d.set_credential_client(&url, &iss, client_id.clone());
                }
            })
            .await?;
        let missing = requested.difference(&tokens.scopes);
        let message = if missing.is_empty() {
            messages::recovered_after_redirect(None)
        } else {
            messages::partial_consent(&tokens.scopes, &missing)
        };
        Ok(CompletedGrant {
            server_url: server_url.to_owned(),
            issuer: issuer.clone(),
            tokens,
            requested: requested.clone(),
            missing,
            message,
        })
    }

    /// The refresh grant for the server's stored tokens, not stored (recovery stores it).
    /// `held_type` is the `token_type` of the tokens being refreshed, when known (a DPoP-bound
    /// refresh token needs a proof by the same key).
    pub(crate) async fn refresh_response(
        &self,
        server_url: &str,
        refresh_token: &Secret,
        scope: Option<&ScopeSet>,
        held_type: Option<&str>,
    ) -> Result<TokenResponse, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let client = match self.credential_client(&discovery).await? {
            Some(client) => client,
            None => self.client_for(&discovery).await?,
        };
        let grant = Grant::Refresh {
            refresh_token,
            scope,
        };
        let answer = self
            .token_for_resource(&discovery, &client, grant, held_type)
            .await;
        if let Err(error) = &answer {
            self.drop_if_rejected(error, &discovery.issuer, &client.registration)
                .await;
        }
        answer
    }

    /// Refreshes and stores the server's tokens; the old refresh token is kept unless rotated.
    pub async fn refresh(&self, server_url: &str) -> Result<Tokens, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let record = self
            .store
            .read()
            .await?
            .credential(server_url, Some(&discovery.issuer))
            .cloned();
        let held = record
            .and_then(|r| r.tokens)
            .ok_or(OAuthClientError::NoStoredTokens)?;
        let refresh_token = held
            .refresh_token
            .clone()
            .ok_or(OAuthClientError::NoRefreshToken)?;
        let response = self
            .refresh_response(server_url, &refresh_token, None, Some(&held.token_type))
            .await?;
        let tokens = Tokens::from_grant(response, &held.scopes, Some(&refresh_token), self.now());
        let (url, issuer, saved, now) = (
            server_url.to_owned(),
            discovery.issuer.clone(),
            tokens.clone(),
            self.now(),
        );
        self.store
            .modify(move |d| d.save_tokens(&url, &issuer, &saved, now))
            .await?;
        Ok(tokens)
    }
}
