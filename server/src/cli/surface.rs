//! The terminal as a recovery [`Surface`]: what the shared engine asks of the CLI (see
//! ARCHITECTURE.md, “One recovery”). Tokens go to the session's [`Credentials`]; progress and
//! questions go to stderr; a step-up or a sign-in after a refusal without a challenge asks
//! `[y/N]` (`--yes` accepts, no terminal refuses); the sign-in itself is [`super::sign_in`]'s.
//!
//! [`CliAuthority`] is the decision side: the shared OAuth client's, except with
//! `--client-credentials`, where every challenge is answered with that grant (the client acts for
//! itself: there is nobody to sign in).
//!
//! [`Credentials`]: crate::native::mcp_client::Credentials

use std::cell::RefCell;

use keyhole_shared::messages::{self, SilentRecovery};
use keyhole_shared::recovery::{
    Authority, Notice, Question, RecoveryError, RecoveryOutcome, SignIn, StepUpGuard, StepUpPlan,
    Stop, Surface,
};
use keyhole_shared::tokens::Tokens;
use keyhole_shared::{AuthChallenge, Secret};

use super::session::{AuthOptions, OAuth, WorkloadToken, stored_scopes};
use super::{CliError, Terminal};
use crate::native::mcp_client::McpClient;
use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::{CompletedGrant, OAuthClientError};

/// What the sign-ins of one CLI session remember.
#[derive(Debug, Default)]
pub(super) struct SignInState {
    pub guard: RefCell<StepUpGuard>,
    /// Authorization requests made for the current message (sign-ins and step-ups together).
    pub authorizations: u32,
    /// The client was registered again in this run (after the authorization server forgot it):
    /// never twice.
    pub reregistered: bool,
}

/// The parts of a CLI session a recovery works with.
pub(super) struct CliSurface<'s> {
    pub terminal: &'s mut dyn Terminal,
    pub client: &'s McpClient,
    pub oauth: &'s OAuth,
    pub url: &'s str,
    pub options: &'s AuthOptions,
    pub state: &'s mut SignInState,
}

impl CliSurface<'_> {
    /// `[y/N]`: `--yes` accepts; without a terminal, `refusal` is the error.
    fn agree(&mut self, question: &str, refusal: String) -> Result<bool, CliError> {
        self.agree_with(|terminal| terminal.confirm(question), refusal)
    }

    /// `ask` the terminal, unless `--yes` accepts or there is nobody to ask (`refusal`).
    fn agree_with(
        &mut self,
        ask: impl FnOnce(&mut dyn Terminal) -> bool,
        refusal: String,
    ) -> Result<bool, CliError> {
        if self.options.yes {
            Ok(true)
        } else if self.terminal.is_interactive() {
            Ok(ask(&mut *self.terminal))
        } else {
            Err(CliError::auth(refusal))
        }
    }
}

impl Surface for CliSurface<'_> {
    type Error = CliError;

    fn bearer(&self) -> Option<Secret> {
        self.client.credentials().bearer()
    }

    async fn install(&mut self, tokens: Option<&Tokens>) -> Result<(), CliError> {
        super::session::install_tokens(self.client, self.oauth, self.url, tokens)
    }

    fn notify(&mut self, notice: Notice<'_>) {
        match notice {
            Notice::Recovered { via, storage_error } => {
                self.terminal.err(&messages::recovered_silently(via));
                if let Some(error) = storage_error {
                    self.terminal.err(&messages::token_not_saved(error));
                }
            }
            Notice::StoredTokenDropped { status } => {
                self.terminal
                    .err(&messages::token_maybe_not_recognised(status));
            }
        }
    }

    async fn confirm(&mut self, question: Question<'_, CliError>) -> Result<(), CliError> {
        match question {
            Question::StepUp(plan) => {
                self.terminal.err(&plan.message);
                let ask = format!(
                    "Authorize again with {}?",
                    messages::scope_list(&plan.requested)
                );
                let refusal = format!(
                    "{} Not asking without a terminal: re-run with --yes to authorize.",
                    plan.message
                );
                match self.agree_with(|terminal| terminal.confirm_step_up(plan, &ask), refusal)? {
                    true => Ok(()),
                    false => Err(CliError::auth(
                        "Step-up declined: the request was not sent again.",
                    )),
                }
            }
            Question::Reauthorize { status, .. } => {
                // Sending the request again may repeat a side effect: ask first.
                let hint = messages::token_maybe_not_recognised(status);
                self.terminal.err(&hint);
                let refusal = format!(
                    "{hint} Re-run with --yes to sign in again, or forget the stored tokens with \
                     `keyhole cli auth forget --url {} --tokens`.",
                    self.url
                );
                match self.agree("Sign in again and send the request once more?", refusal)? {
                    true => Ok(()),
                    false => Err(CliError::auth(
                        "Not signing in again: the request was not sent again.",
                    )),
                }
            }
        }
    }

    async fn sign_in(&mut self, request: SignIn<'_>) -> Result<(), CliError> {
        self.interactive(request.plan, request.reason).await
    }

    fn stop(&mut self, stop: Stop<'_>) -> CliError {
        match stop {
            Stop::Failed { error, .. } => CliError::auth(error.to_string()),
            Stop::ChallengedAfterRetry => CliError::auth(messages::challenged_after_retry()),
        }
    }

    fn step_ups(&self) -> StepUpGuard {
        self.state.guard.borrow().clone()
    }

    fn keep_step_ups(&self, guard: &StepUpGuard) {
        *self.state.guard.borrow_mut() = guard.clone();
    }
}

/// The CLI's decisions: the OAuth client's, or the grant the client makes for itself (client
/// credentials, workload identity).
pub(super) struct CliAuthority<'s> {
    pub oauth: &'s OAuth,
    pub options: &'s AuthOptions,
}

impl CliAuthority<'_> {
    /// The scopes to ask for: those held (when a token was refused), plus those the challenge
    /// names (else `--scope`).
    async fn scopes_for(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
    ) -> ScopeSet {
        let held = match rejected {
            Some(_) => stored_scopes(self.oauth, server_url)
                .await
                .unwrap_or_default(),
            None => Default::default(),
        };
        let wanted = Some(challenge.required_scopes.clone())
            .filter(|s| !s.is_empty())
            .or_else(|| self.options.scopes.clone())
            .unwrap_or_default();
        held.union(&wanted)
    }

    /// Workload identity: the JWT-bearer grant with the workload's token as it is now, for the
    /// scopes to ask for. A refusal is the answer (SEP-1933: no retry, no other grant).
    async fn workload(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        source: &WorkloadToken,
    ) -> RecoveryOutcome {
        let scopes = self.scopes_for(server_url, challenge, rejected).await;
        let granted = match source.read() {
            Ok(assertion) => {
                self.oauth
                    .workload_grant(server_url, &assertion, &scopes)
                    .await
            }
            Err(message) => Err(OAuthClientError::Config(message)),
        };
        own_grant_outcome(granted, SilentRecovery::Workload)
    }

    /// The client-credentials grant for the scopes to ask for.
    async fn client_credentials(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
    ) -> RecoveryOutcome {
        let scopes = self.scopes_for(server_url, challenge, rejected).await;
        let granted = self.oauth.client_credentials(server_url, &scopes).await;
        own_grant_outcome(granted, SilentRecovery::ClientCredentials)
    }
}

/// What a grant the client made for itself (`via`) means for recovery.
fn own_grant_outcome(
    granted: Result<CompletedGrant, OAuthClientError>,
    via: SilentRecovery,
) -> RecoveryOutcome {
    match granted {
        Ok(grant) => RecoveryOutcome::Satisfied {
            tokens: grant.tokens,
            via,
            storage_error: None,
        },
        Err(error) => RecoveryOutcome::Failed {
            error: RecoveryError::ClientCredentials(error.into()),
        },
    }
}

impl Authority for CliAuthority<'_> {
    async fn handle_challenge(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        guard: &StepUpGuard,
    ) -> RecoveryOutcome {
        if let Some(source) = &self.options.workload_token {
            return self.workload(server_url, challenge, rejected, source).await;
        }
        if self.options.client_credentials {
            return self
                .client_credentials(server_url, challenge, rejected)
                .await;
        }
        self.oauth
            .handle_challenge(server_url, challenge, rejected, guard)
            .await
    }

    async fn confirm_step_up(&self, server_url: &str, plan: &StepUpPlan) -> RecoveryOutcome {
        self.oauth.confirm_step_up(server_url, plan).await
    }
}
