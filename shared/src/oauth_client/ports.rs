//! [`OAuthClient`] as the effects of `handle_auth_challenge`: it loads and saves credentials in
//! the OAuth store, refreshes, re-mints through the enterprise IdP, prepares redirects and tells
//! the time. So recovery decisions (Auth core I) run the real flows without knowing about them.

use super::OAuthClientError;
use super::client::OAuthClient;
use super::ids::Issuer;
use crate::challenge::AuthChallenge;
use crate::http::HttpClient;
use crate::random::Entropy;
use crate::recovery::{
    Authority, AuthorizationUrlBuilder, Clock, CredentialKey, CredentialStore, EmaError,
    EmaReminter, GrantError, Ports, RecoveryOutcome, StepUpGuard, StepUpPlan, TokenRefresher,
    confirm_step_up, handle_auth_challenge,
};
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::store::OAuthStore;
use crate::tokens::{TokenResponse, Tokens};

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// This client as every port of the recovery logic.
    pub fn ports(&self) -> Ports<'_, Self, Self, Self, Self, Self> {
        Ports {
            store: self,
            refresher: self,
            ema: self,
            clock: self,
            authorizer: self,
        }
    }

    async fn issuer_of(&self, key: &CredentialKey) -> Result<Issuer, OAuthClientError> {
        match &key.issuer {
            Some(issuer) => Ok(Issuer::new(issuer.clone())),
            None => Ok(self.discover(&key.server_url, None).await?.issuer.clone()),
        }
    }
}

fn failed(error: OAuthClientError) -> RecoveryOutcome {
    RecoveryOutcome::Failed {
        error: crate::recovery::RecoveryError::Authorization(error.into()),
    }
}

/// The decisions of the recovery engine, with discovery: what the product's surfaces use.
impl<H, S, C, E> Authority for OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// Runs `handle_auth_challenge` for a challenge from `server_url` (discovery included).
    /// `rejected` is the access token the refused request carried.
    async fn handle_challenge(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        guard: &StepUpGuard,
    ) -> RecoveryOutcome {
        let (server, read) = match self.server_auth_read(server_url, Some(challenge)).await {
            Ok(found) => found,
            Err(error) => return failed(error),
        };
        let outcome =
            handle_auth_challenge(self.ports(), &server, challenge, rejected, guard).await;
        if read || outcome.replays_automatically() || !challenge.reason.is_unauthorized() {
            return outcome;
        }
        // Metadata from the cache did not give a silent recovery: it may be out of date (the
        // resource may name another authorization server now, SEP-2352). Read it again and
        // decide again, as if nothing had been cached.
        self.forget_discovery(server_url);
        match self.server_auth(server_url, Some(challenge)).await {
            Ok(server) => {
                handle_auth_challenge(self.ports(), &server, challenge, rejected, guard).await
            }
            Err(error) => failed(error),
        }
    }

    /// The user confirmed a step-up: re-mint (EMA) or prepare the redirect for the union.
    async fn confirm_step_up(&self, server_url: &str, plan: &StepUpPlan) -> RecoveryOutcome {
        match self.server_auth(server_url, None).await {
            Ok(server) => confirm_step_up(self.ports(), &server, plan).await,
            Err(error) => failed(error),
        }
    }
}

impl<H, S, C, E> CredentialStore for OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    async fn load(&self, key: &CredentialKey) -> Option<Tokens> {
        let issuer = key.issuer.clone().map(Issuer::new);
        let document = self.store.read().await.ok()?;
        document
            .credential(&key.server_url, issuer.as_ref())?
            .tokens
            .clone()
    }

    async fn save(&self, key: &CredentialKey, tokens: &Tokens) -> Result<(), OAuthClientError> {
        let issuer = self.issuer_of(key).await?;
        let (url, saved, now) = (key.server_url.clone(), tokens.clone(), self.now());
        self.store
            .modify(move |d| d.save_tokens(&url, &issuer, &saved, now))
            .await?;
        Ok(())
    }
}

impl<H, S, C, E> TokenRefresher for OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    async fn refresh(
        &self,
        key: &CredentialKey,
        refresh_token: &Secret,
        scope: Option<&ScopeSet>,
    ) -> Result<TokenResponse, GrantError> {
        // A DPoP-bound refresh token is refreshed with a proof by the same key (RFC 9449 §5),
        // whatever this client has seen of the server yet. (Inside a recovery the store is read
        // once: this costs the web app no request.)
        let issuer = key.issuer.clone().map(Issuer::new);
        let held_type = self.store.read().await.ok().and_then(|document| {
            let record = document.credential(&key.server_url, issuer.as_ref())?;
            Some(record.tokens.as_ref()?.token_type.clone())
        });
        self.refresh_response(&key.server_url, refresh_token, scope, held_type.as_deref())
            .await
            .map_err(GrantError::from)
    }
}

impl<H, S, C, E> EmaReminter for OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    async fn remint(
        &self,
        key: &CredentialKey,
        scope: &ScopeSet,
    ) -> Result<TokenResponse, EmaError> {
        self.mint_response(&key.server_url, scope)
            .await
            .map_err(|error| match error {
                OAuthClientError::IdTokenUnusable => EmaError::IdTokenUnusable,
                other => EmaError::Failed(other.into()),
            })
    }
}

impl<H, S, C, E> AuthorizationUrlBuilder for OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    async fn authorization_url(
        &self,
        key: &CredentialKey,
        scope: &ScopeSet,
    ) -> Result<String, GrantError> {
        self.begin_authorization(&key.server_url, scope)
            .await
            .map(|start| start.authorization_url)
            .map_err(GrantError::from)
    }
}

impl<H, S, C, E> Clock for OAuthClient<H, S, C, E>
where
    C: Clock,
{
    fn now_unix(&self) -> u64 {
        self.clock.now_unix()
    }
}
