//! The CLI's sign-in, when the recovery engine needs one: the wording of each situation (first
//! sign-in, expired, token not recognised, step-up), the browser or `--non-interactive` visit,
//! the code exchange, and the repair of a client registration the authorization server forgot
//! (it restarted): the registration is dropped and made again, once per run, then the sign-in
//! goes on.

use keyhole_shared::recovery::{InteractiveFlow, InteractivePlan};
use keyhole_shared::store::OAuthStore;
use keyhole_shared::{ScopeSet, messages};

use keyhole_shared::messages::SignInReason;
use keyhole_shared::oauth_client::{ClientId, Issuer, SignInCheck};

use super::CliError;
use super::authorize::{self, CallbackFailure};
use super::surface::CliSurface;

impl CliSurface<'_> {
    /// Says why, then signs in: in a browser or `--non-interactive`.
    pub(super) async fn interactive(
        &mut self,
        plan: &InteractivePlan,
        reason: Option<SignInReason>,
    ) -> Result<(), CliError> {
        match reason {
            Some(reason) => self.terminal.err(&messages::cli_signing_in(reason)),
            None => self.terminal.err(&plan.message),
        }
        match &plan.flow {
            InteractiveFlow::AuthorizationCode { authorization_url } => {
                self.complete_redirect(authorization_url).await
            }
            InteractiveFlow::EnterpriseSignIn => Err(CliError::auth(
                "this server is enterprise-managed and the IdP sign-in has to be renewed: pass a fresh \
                 --idp-id-token",
            )),
        }
    }

    /// Visits the authorization URL (browser or non-interactive) and exchanges the code. A client
    /// registration the authorization server no longer knows is dropped and made again (once per
    /// run) before the sign-in goes on.
    async fn complete_redirect(&mut self, authorization_url: &str) -> Result<(), CliError> {
        let mut authorization_url = authorization_url.to_owned();
        loop {
            if self.state.authorizations >= keyhole_shared::recovery::MAX_STEP_UP_ATTEMPTS {
                return Err(CliError::auth(messages::step_up_limit_reached(
                    self.state.authorizations,
                )));
            }
            self.state.authorizations += 1;
            let state = state_of(&authorization_url);
            let pending = self.pending(&state).await;
            let forgotten = match self.sign_in_once(&authorization_url, &state).await {
                Ok(()) => return Ok(()),
                Err(SignInFailure::ClientForgotten) => true,
                Err(SignInFailure::Other(error)) => return Err(error),
            };
            let Some(started) = pending.filter(|_| forgotten) else {
                return Err(CliError::auth(
                    "the authorization server does not know the client".to_owned(),
                ));
            };
            if self.state.reregistered {
                return Err(CliError::auth(messages::client_refused_after_registering(
                    &format!("it does not know the client `{}`.", started.client_id),
                )));
            }
            self.state.reregistered = true;
            self.terminal
                .err(&messages::client_forgotten_registering_again());
            let start = self
                .oauth
                .begin_authorization(self.url, &started.requested)
                .await
                .map_err(|e| CliError::auth(e.to_string()))?;
            authorization_url = start.authorization_url;
        }
    }

    /// One pass of the sign-in: check a stale registration (browser mode), visit, exchange.
    async fn sign_in_once(
        &mut self,
        authorization_url: &str,
        state: &str,
    ) -> Result<(), SignInFailure> {
        if !self.options.callback.non_interactive {
            // The browser would land on the authorization server's error page and never come
            // back: check a registration from an earlier run before sending anyone there.
            match self.oauth.check_sign_in(state, true).await {
                Ok(SignInCheck::ClientForgotten { .. }) => {
                    return Err(SignInFailure::ClientForgotten);
                }
                Ok(SignInCheck::ClientRefused(detail)) => {
                    let text = messages::client_refused_after_registering(&detail);
                    return Err(SignInFailure::Other(CliError::auth(text)));
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "could not check the client registration"),
            }
        }
        let callback = match authorize::obtain_callback(
            authorization_url,
            &self.options.callback,
            self.terminal,
        )
        .await
        {
            Ok(callback) => callback,
            Err(CallbackFailure::ClientUnknown(error)) => {
                let dropped = self.oauth.drop_client_of(state).await.unwrap_or(false);
                if dropped {
                    return Err(SignInFailure::ClientForgotten);
                }
                let text =
                    messages::client_refused_after_registering(&messages::oauth_error(&error));
                return Err(SignInFailure::Other(CliError::auth(text)));
            }
            Err(CallbackFailure::Other(error)) => return Err(SignInFailure::Other(error)),
        };
        let started = self.pending(state).await;
        let grant = match self.oauth.complete_authorization(&callback).await {
            Ok(grant) => grant,
            Err(error) => {
                // `invalid_client` at the token endpoint drops a registration that predates the
                // sign-in (see `OAuthClient::drop_if_rejected`): then register again.
                let rejected = error
                    .oauth_error()
                    .is_some_and(|e| e.error == "invalid_client");
                let dropped = match &started {
                    Some(started) => !self.client_held(started).await,
                    None => false,
                };
                if rejected && dropped {
                    return Err(SignInFailure::ClientForgotten);
                }
                return Err(SignInFailure::Other(CliError::auth(error.to_string())));
            }
        };
        super::session::install_tokens(self.client, self.oauth, self.url, Some(&grant.tokens))
            .map_err(SignInFailure::Other)?;
        // Partial consent says what is missing; otherwise the web app's "back where you were"
        // means nothing in a terminal.
        if grant.missing.is_empty() {
            self.terminal.err(&messages::cli_signed_in());
        } else {
            self.terminal.err(&grant.message);
        }
        Ok(())
    }

    /// What the store holds about the sign-in started with `state`.
    async fn pending(&self, state: &str) -> Option<Started> {
        let document = self.oauth.store().read().await.ok()?;
        let pending = document.pending_for(state)?;
        Some(Started {
            requested: pending.requested.clone(),
            issuer: pending.issuer.clone(),
            client_id: pending.client_id.clone(),
        })
    }

    /// Whether the store still holds the registration `started` used.
    async fn client_held(&self, started: &Started) -> bool {
        let Ok(document) = self.oauth.store().read().await else {
            return true;
        };
        document
            .client_with_id(&started.issuer, &started.client_id)
            .is_some()
    }
}

/// A sign-in in flight, as the store records it.
struct Started {
    requested: ScopeSet,
    issuer: Issuer,
    client_id: ClientId,
}

/// Why one pass of the sign-in did not produce tokens.
enum SignInFailure {
    /// The authorization server forgot the client; its registration was dropped.
    ClientForgotten,
    Other(CliError),
}

/// The `state` of an authorization URL.
fn state_of(authorization_url: &str) -> String {
    url::Url::parse(authorization_url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}
