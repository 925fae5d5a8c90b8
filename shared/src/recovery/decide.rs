//! The recovery rules (ARCHITECTURE.md, “The decision”), as functions over the injected
//! [`Ports`].

use super::{
    AuthorizationUrlBuilder, Clock, CredentialStore, EmaError, EmaReminter, InteractiveFlow,
    InteractivePlan, Ports, RecoveryError, RecoveryOutcome, ServerAuth, StepUpGuard, StepUpMethod,
    StepUpPlan, TokenRefresher,
};
use crate::challenge::{AuthChallenge, ChallengeReason};
use crate::messages::{self, SilentRecovery};
use crate::oauth_client::OAuthClientError;
use crate::scopes::{GrantPurpose, ScopeInputs, ScopeSet, refresh_can_cover, scopes_to_request};
use crate::secret::Secret;
use crate::tokens::{TokenResponse, Tokens};

/// Do the stored tokens already answer `challenge`?
///
/// `rejected` is the access token the refused request carried; a stored token equal to it cannot
/// be the answer. Without it, a 401 is never considered satisfied (the stored token may well be
/// the one that was refused). An `insufficient_scope` that names no scope never is either.
pub fn check_satisfied(
    challenge: &AuthChallenge,
    stored: Option<&Tokens>,
    rejected: Option<&Secret>,
    now: u64,
) -> bool {
    let Some(tokens) = stored else {
        return false;
    };
    if tokens.is_expired(now) || rejected == Some(&tokens.access_token) {
        return false;
    }
    match challenge.reason {
        ChallengeReason::InvalidToken | ChallengeReason::TokenExpired => rejected.is_some(),
        ChallengeReason::InsufficientScope => {
            challenge.names_scopes() && tokens.scopes.is_superset_of(&challenge.required_scopes)
        }
        ChallengeReason::Forbidden => false,
    }
}

/// Decides how to answer `challenge` for `server`. Storage is consulted first; 401s refresh once
/// (or re-mint for EMA) and otherwise need a sign-in; `insufficient_scope` needs the user's
/// confirmation unless a refresh within the token's grant fixes it; other 403s fail.
pub async fn handle_auth_challenge<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    challenge: &AuthChallenge,
    rejected: Option<&Secret>,
    guard: &StepUpGuard,
) -> RecoveryOutcome
where
    S: CredentialStore,
    R: TokenRefresher,
    M: EmaReminter,
    C: Clock,
    A: AuthorizationUrlBuilder,
{
    if challenge.reason == ChallengeReason::Forbidden {
        let description = challenge.error_description.clone();
        return RecoveryOutcome::Failed {
            error: RecoveryError::Forbidden { description },
        };
    }
    let stored = ports.store.load(&server.key).await;
    let now = ports.clock.now_unix();
    if let Some(tokens) = &stored
        && check_satisfied(challenge, Some(tokens), rejected, now)
    {
        return RecoveryOutcome::Satisfied {
            tokens: tokens.clone(),
            via: SilentRecovery::Storage,
            storage_error: None,
        };
    }
    if challenge.reason.is_unauthorized() {
        relogin(ports, server, challenge, stored.as_ref()).await
    } else {
        if let Err(error) = guard.begin(&server.key.server_url, &challenge.context) {
            return RecoveryOutcome::Failed { error };
        }
        step_up(ports, server, challenge, stored.as_ref()).await
    }
}

fn scope_inputs<'s>(
    server: &'s ServerAuth,
    challenge: &'s AuthChallenge,
    previous: &'s ScopeSet,
) -> ScopeInputs<'s> {
    ScopeInputs {
        previously_granted: previous,
        challenge: &challenge.required_scopes,
        configured: server.configured_scopes.as_ref(),
        supported: server.scopes_supported.as_ref(),
    }
}

/// 401: EMA re-mints silently; otherwise refresh once, else a fresh sign-in with a replaced set.
async fn relogin<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    challenge: &AuthChallenge,
    stored: Option<&Tokens>,
) -> RecoveryOutcome
where
    S: CredentialStore,
    R: TokenRefresher,
    M: EmaReminter,
    C: Clock,
    A: AuthorizationUrlBuilder,
{
    let previous = stored.map(|t| t.scopes.clone()).unwrap_or_default();
    let requested = scopes_to_request(
        GrantPurpose::Relogin,
        scope_inputs(server, challenge, &previous),
    );
    if server.enterprise_managed {
        return remint(ports, server, &requested).await;
    }
    if let Some(tokens) = stored
        && let Some(refresh_token) = &tokens.refresh_token
        && let Ok(response) = ports
            .refresher
            .refresh(&server.key, refresh_token, None)
            .await
    {
        let fresh = Tokens::from_grant(
            response,
            &tokens.scopes,
            Some(refresh_token),
            ports.clock.now_unix(),
        );
        return persist(ports, server, fresh, SilentRecovery::Refresh).await;
    }
    let message = messages::session_expired_reauthenticating();
    redirect(ports, server, requested, message).await
}

/// 403 `insufficient_scope`: a refresh when the union stays within the token's grant, else ask.
async fn step_up<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    challenge: &AuthChallenge,
    stored: Option<&Tokens>,
) -> RecoveryOutcome
where
    S: CredentialStore,
    R: TokenRefresher,
    M: EmaReminter,
    C: Clock,
    A: AuthorizationUrlBuilder,
{
    let previous = stored.map(|t| t.scopes.clone()).unwrap_or_default();
    let requested = scopes_to_request(
        GrantPurpose::StepUp,
        scope_inputs(server, challenge, &previous),
    );
    let refreshable = stored.and_then(|t| t.refresh_token.as_ref().map(|r| (t, r)));
    if let Some((tokens, refresh_token)) = refreshable
        && !server.enterprise_managed
        && challenge.names_scopes()
        && refresh_can_cover(&requested, &tokens.scopes)
        && let Ok(response) = ports
            .refresher
            .refresh(&server.key, refresh_token, Some(&requested))
            .await
    {
        let now = ports.clock.now_unix();
        let fresh = Tokens::from_grant(response, &requested, Some(refresh_token), now);
        if fresh.scopes.is_superset_of(&challenge.required_scopes) {
            return persist(ports, server, fresh, SilentRecovery::Refresh).await;
        }
        // The grant fell short, but it is still the newest one (and a rotating server has already
        // retired the old refresh token): keep it, then ask for more.
        let _ = ports.store.save(&server.key, &fresh).await;
    }
    let new_scopes = requested.difference(&previous);
    let tool_name = challenge.context.tool_name.clone();
    let message = messages::step_up_needed(tool_name.as_deref(), &new_scopes);
    RecoveryOutcome::StepUpConfirm(StepUpPlan {
        tool_name,
        already_granted: requested.intersection(&previous),
        new_scopes,
        requested,
        method: if server.enterprise_managed {
            StepUpMethod::EmaRemint
        } else {
            StepUpMethod::Redirect
        },
        message,
    })
}

/// The user said yes to `plan`: re-mint (EMA) or prepare the redirect.
pub async fn confirm_step_up<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    plan: &StepUpPlan,
) -> RecoveryOutcome
where
    S: CredentialStore,
    R: TokenRefresher,
    M: EmaReminter,
    C: Clock,
    A: AuthorizationUrlBuilder,
{
    match plan.method {
        StepUpMethod::EmaRemint => remint(ports, server, &plan.requested).await,
        StepUpMethod::Redirect => {
            let message = messages::redirecting_for_step_up(&plan.requested);
            redirect(ports, server, plan.requested.clone(), message).await
        }
    }
}

/// EMA legs 2–3; leg 1 (interactive IdP sign-in) only when the ID token is unusable. Never an
/// ordinary authorization-code redirect.
async fn remint<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    requested: &ScopeSet,
) -> RecoveryOutcome
where
    S: CredentialStore,
    M: EmaReminter,
    C: Clock,
{
    match ports.ema.remint(&server.key, requested).await {
        Ok(response) => {
            let now = ports.clock.now_unix();
            let fresh = Tokens::from_grant(response, requested, None, now);
            persist(ports, server, fresh, SilentRecovery::EmaRemint).await
        }
        Err(EmaError::IdTokenUnusable) => RecoveryOutcome::Interactive(InteractivePlan {
            flow: InteractiveFlow::EnterpriseSignIn,
            requested: requested.clone(),
            message: messages::ema_in_progress(),
        }),
        Err(EmaError::Failed(error)) => RecoveryOutcome::Failed {
            error: RecoveryError::Ema(error),
        },
    }
}

async fn redirect<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    requested: ScopeSet,
    message: String,
) -> RecoveryOutcome
where
    A: AuthorizationUrlBuilder,
{
    match ports
        .authorizer
        .authorization_url(&server.key, &requested)
        .await
    {
        Ok(authorization_url) => RecoveryOutcome::Interactive(InteractivePlan {
            flow: InteractiveFlow::AuthorizationCode { authorization_url },
            requested,
            message,
        }),
        Err(error) => RecoveryOutcome::Failed {
            error: RecoveryError::Authorization(error),
        },
    }
}

/// Stores tokens that were just granted; a storage failure does not void them.
async fn persist<S, R, M, C, A>(
    ports: Ports<'_, S, R, M, C, A>,
    server: &ServerAuth,
    tokens: Tokens,
    via: SilentRecovery,
) -> RecoveryOutcome
where
    S: CredentialStore,
{
    let storage_error = ports.store.save(&server.key, &tokens).await.err();
    RecoveryOutcome::Satisfied {
        tokens,
        via,
        storage_error,
    }
}

/// After an interactive grant (code exchange or EMA after IdP sign-in) produced `response`:
/// stores the tokens, with the response's `scope` taking precedence over `requested`.
/// Call only on success — a failed or abandoned flow stores nothing.
pub async fn record_grant<S: CredentialStore>(
    store: &S,
    server: &ServerAuth,
    requested: &ScopeSet,
    response: TokenResponse,
    now: u64,
) -> (Tokens, Result<(), OAuthClientError>) {
    let tokens = Tokens::from_grant(response, requested, None, now);
    let saved = store.save(&server.key, &tokens).await;
    (tokens, saved)
}
