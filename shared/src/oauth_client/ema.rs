//! Enterprise-managed authorization (SEP-990): the enterprise IdP, not the user at the MCP
//! server's authorization server, decides access.
//!
//! * Leg 1: OpenID Connect sign-in at the IdP (authorization code + PKCE + `nonce`), giving an
//!   ID token that is cached as the [`IdpSession`].
//! * Leg 2: RFC 8693 token exchange at the IdP: ID token → ID-JAG
//!   (`requested_token_type=urn:ietf:params:oauth:token-type:id-jag`, `audience` = the resource's
//!   authorization server, `resource`, `scope`).
//! * Leg 3: RFC 7523 JWT-bearer grant of the ID-JAG at the authorization server → access token.
//!
//! Legs 2–3 run silently while the ID token is usable; a refused or expired ID token surfaces as
//! [`OAuthClientError::IdTokenUnusable`], which recovery turns into leg 1. There is never an
//! ordinary authorization-code redirect at the resource's authorization server.
//!
//! The legs are free functions; the `impl OAuthClient` block at the end binds them to the
//! store (pending sign-ins, the cached IdP session, the minted tokens).

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::OAuthClientError;
use super::authorize::{AuthorizationStart, new_state_and_verifier};
use super::client::{CompletedGrant, OAuthClient, ResolvedClient};
use super::discovery::AuthorizationServerMetadata;
use super::grants::{Grant, TokenEndpoint, post_grant, request_token};
use super::identity::PreRegisteredClient;
use super::ids::{ClientId, Issuer};
use super::jwt::unverified_claims;
use super::wire::read_answer;
use crate::http::{HttpClient, HttpResponse};
use crate::random::{Entropy, random_token};
use crate::recovery::Clock;
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::store::{IdpSession, OAuthStore, PendingAuthorization, PendingKind};
use crate::tokens::TokenResponse;

pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

const SIGN_IN_STEP: &str = "IdP token (ID token)";

fn default_idp_scope() -> ScopeSet {
    ScopeSet::parse("openid email")
}

/// How a server's access is managed by an enterprise IdP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseConfig {
    pub idp_issuer: Issuer,
    /// This client at the IdP (leg 1 and leg 2).
    pub idp_client: PreRegisteredClient,
    #[serde(default = "default_idp_scope")]
    pub idp_scope: ScopeSet,
    /// This client at the resource's authorization server (leg 3); the ID-JAG names it.
    pub resource_client: PreRegisteredClient,
}

#[derive(Deserialize)]
struct ExchangeResponse {
    access_token: Secret,
    issued_token_type: String,
}

#[derive(Deserialize)]
struct IdTokenResponse {
    id_token: Secret,
}

/// Leg 2: exchanges the cached ID token for an ID-JAG for `resource` at `audience`.
#[allow(clippy::too_many_arguments)]
pub async fn exchange_for_id_jag(
    http: &impl HttpClient,
    entropy: &impl Entropy,
    now: u64,
    idp: TokenEndpoint<'_>,
    id_token: &Secret,
    audience: &str,
    resource: &str,
    scope: &ScopeSet,
) -> Result<Secret, OAuthClientError> {
    let grant = Grant::IdJagExchange {
        id_token,
        audience,
        scope,
    };
    let response = post_grant(http, entropy, now, idp, &grant, Some(resource)).await?;
    let answer: ExchangeResponse = read_answer(&response, grant.step()).map_err(|e| {
        // The IdP refusing the subject token means the sign-in must be renewed.
        match e.oauth_error() {
            Some(error) if error.error == "invalid_grant" => OAuthClientError::IdTokenUnusable,
            _ => e,
        }
    })?;
    if answer.issued_token_type != ID_JAG_TOKEN_TYPE {
        return Err(OAuthClientError::invalid(
            grant.step(),
            format!(
                "expected an ID-JAG, got issued_token_type `{}`",
                answer.issued_token_type
            ),
        ));
    }
    Ok(answer.access_token)
}

/// Leg 1, second half: reads the IdP's token response to the code exchange into a session.
/// The ID token's `nonce` must be the one sent.
pub(crate) fn id_token_session(
    body: &HttpResponse,
    idp_issuer: &Issuer,
    client_id: &ClientId,
    nonce: &str,
) -> Result<IdpSession, OAuthClientError> {
    let answer: IdTokenResponse = read_answer(body, SIGN_IN_STEP)?;
    let claims = unverified_claims(answer.id_token.expose())
        .ok_or_else(|| OAuthClientError::invalid(SIGN_IN_STEP, "the ID token is not a JWT"))?;
    if claims.get("nonce").and_then(|n| n.as_str()) != Some(nonce) {
        return Err(OAuthClientError::invalid(
            SIGN_IN_STEP,
            "the ID token's nonce is not the one sent",
        ));
    }
    let issuer = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
    if !super::discovery::same_issuer(issuer, idp_issuer.as_str()) {
        return Err(OAuthClientError::IssuerMismatch {
            expected: idp_issuer.to_string(),
            found: issuer.to_owned(),
        });
    }
    Ok(IdpSession {
        idp_issuer: idp_issuer.clone(),
        client_id: client_id.clone(),
        id_token: answer.id_token,
        expires_at: claims.get("exp").and_then(|v| v.as_u64()),
        subject: claims
            .get("sub")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    })
}

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// EMA leg 1: sign-in at the enterprise IdP; completing it mints `scopes` for the server.
    pub async fn begin_enterprise_sign_in(
        &self,
        server_url: &str,
        scopes: &ScopeSet,
    ) -> Result<AuthorizationStart, OAuthClientError> {
        let ema = self.enterprise(server_url)?;
        let metadata = self.issuer_metadata(&ema.idp_issuer).await?;
        if !metadata.supports_s256() {
            return Err(OAuthClientError::PkceUnsupported(metadata.issuer.clone()));
        }
        let endpoint = metadata.authorization_endpoint()?.to_owned();
        super::wire::check_endpoint(&endpoint, "IdP sign-in")?;
        let (state, verifier) = new_state_and_verifier(&self.entropy);
        let nonce = random_token(&self.entropy, 16);
        let pending = PendingAuthorization {
            state,
            verifier,
            kind: PendingKind::IdpSignIn {
                nonce: nonce.clone(),
            },
            server_url: server_url.to_owned(),
            issuer: ema.idp_issuer.clone(),
            iss_required: metadata.authorization_response_iss_parameter_supported,
            client_id: ema.idp_client.client_id.clone(),
            redirect_uri: self.config().redirect_uri.clone(),
            token_endpoint: metadata.token_endpoint()?.to_owned(),
            resource: None,
            requested: scopes.clone(),
            created_at: self.now(),
            fresh_client: false,
            dpop_key: None,
        };
        // The IdP is asked for an OpenID sign-in; the server's scopes wait in `requested`.
        self.start(pending, &endpoint, &ema.idp_scope, &[("nonce", &nonce)])
            .await
    }

    pub(crate) fn enterprise(
        &self,
        server_url: &str,
    ) -> Result<EnterpriseConfig, OAuthClientError> {
        self.server(server_url)
            .enterprise
            .ok_or_else(|| OAuthClientError::NotEnterpriseManaged(server_url.to_owned()))
    }

    async fn idp_client(
        &self,
        ema: &EnterpriseConfig,
    ) -> Result<(Arc<AuthorizationServerMetadata>, ResolvedClient), OAuthClientError> {
        let metadata = self.issuer_metadata(&ema.idp_issuer).await?;
        let advertised = metadata.token_endpoint_auth_methods_supported.clone();
        let client = ResolvedClient::from_config(&ema.idp_client, advertised.as_deref());
        Ok((metadata, client))
    }

    /// Leg 1's code exchange at the IdP; caches the ID token as the IdP session.
    pub(crate) async fn finish_idp_sign_in(
        &self,
        pending: &PendingAuthorization,
        code: &Secret,
        nonce: &str,
    ) -> Result<(), OAuthClientError> {
        let ema = self.enterprise(&pending.server_url)?;
        let (_, client) = self.idp_client(&ema).await?;
        let endpoint = TokenEndpoint {
            url: &pending.token_endpoint,
            issuer: pending.issuer.as_str(),
            client: client.credentials(),
            dpop_key: None,
        };
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &pending.redirect_uri,
            verifier: &pending.verifier,
        };
        let response = post_grant(
            &self.http,
            &self.entropy,
            self.now(),
            endpoint,
            &grant,
            None,
        )
        .await?;
        let session =
            id_token_session(&response, &ema.idp_issuer, &ema.idp_client.client_id, nonce)?;
        self.store
            .modify(move |d| d.save_idp_session(session.clone()))
            .await?;
        Ok(())
    }

    /// EMA legs 2–3 with the cached ID token; does not store the result.
    pub(crate) async fn mint_response(
        &self,
        server_url: &str,
        scopes: &ScopeSet,
    ) -> Result<TokenResponse, OAuthClientError> {
        let ema = self.enterprise(server_url)?;
        let discovery = self.discover(server_url, None).await?;
        let (idp, idp_client) = self.idp_client(&ema).await?;
        let session = self
            .store
            .read()
            .await?
            .idp_session(&ema.idp_issuer, &ema.idp_client.client_id)
            .cloned()
            .filter(|s| !s.is_expired(self.now()))
            .ok_or(OAuthClientError::IdTokenUnusable)?;
        let idp_endpoint = TokenEndpoint {
            url: idp.token_endpoint()?,
            issuer: idp.issuer.as_str(),
            client: idp_client.credentials(),
            dpop_key: None,
        };
        let now = self.now();
        let exchanged = exchange_for_id_jag(
            &self.http,
            &self.entropy,
            now,
            idp_endpoint,
            &session.id_token,
            discovery.issuer.as_str(),
            &discovery.resource,
            scopes,
        )
        .await;
        let id_jag = match exchanged {
            Err(OAuthClientError::IdTokenUnusable) => {
                let (issuer, client) = (ema.idp_issuer.clone(), ema.idp_client.client_id.clone());
                self.store
                    .modify(move |d| d.forget_idp_session(&issuer, &client))
                    .await?;
                return Err(OAuthClientError::IdTokenUnusable);
            }
            other => other?,
        };
        let metadata = &discovery.authorization_server;
        let advertised = metadata.token_endpoint_auth_methods_supported.as_deref();
        let as_client = ResolvedClient::from_config(&ema.resource_client, advertised);
        let dpop_key = self.dpop_key(&discovery, None);
        let endpoint = TokenEndpoint {
            url: metadata.token_endpoint()?,
            issuer: discovery.issuer.as_str(),
            client: as_client.credentials(),
            dpop_key: dpop_key.as_deref(),
        };
        let grant = Grant::JwtBearer {
            assertion: &id_jag,
            scope: None,
        };
        request_token(&self.http, &self.entropy, now, endpoint, grant, None).await
    }

    /// EMA legs 2–3, stored: what a silent re-mint does.
    pub async fn mint_enterprise(
        &self,
        server_url: &str,
        scopes: &ScopeSet,
    ) -> Result<CompletedGrant, OAuthClientError> {
        let response = self.mint_response(server_url, scopes).await?;
        let issuer = self.discover(server_url, None).await?.issuer.clone();
        self.record(server_url, &issuer, scopes, response, None)
            .await
    }
}
