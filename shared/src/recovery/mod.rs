//! Deciding how to answer an auth challenge in the middle of a session (see ARCHITECTURE.md,
//! “The decision”).
//!
//! This is the policy half of recovery: given an [`AuthChallenge`](crate::challenge::AuthChallenge),
//! what is stored, and the server's configuration, choose between answering silently, asking the
//! user, redirecting, or giving up. Every effect (storage, the token endpoint, the enterprise IdP,
//! the clock, building an authorization URL) is reached through the traits below, so the same code
//! runs natively in the CLI and as WebAssembly in the browser, and the tests use in-memory fakes.
//!
//! * [`decide`]: the rules themselves ([`check_satisfied`], [`handle_auth_challenge`],
//!   [`confirm_step_up`], [`record_grant`]).
//! * [`policy`]: the step-up loop guard.
//! * [`engine`]: the one driver every surface runs: send, recover, send the same message once
//!   more; what differs per surface is its [`Surface`] trait.
//!
//! The traits use `async fn` without `Send` bounds on purpose: in the browser nothing is `Send`.

pub mod decide;
pub mod engine;
pub mod policy;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::messages::{self, SilentRecovery};
use crate::oauth_client::OAuthClientError;
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::tokens::{OAuthErrorResponse, TokenResponse, Tokens};

pub use decide::{check_satisfied, confirm_step_up, handle_auth_challenge, record_grant};
pub use engine::{Authority, Engine, Notice, Origin, Question, Refused, SignIn, Stop, Surface};
pub use policy::{MAX_STEP_UP_ATTEMPTS, StepUpGuard};

/// Credentials are kept per MCP server **and** authorization server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialKey {
    pub server_url: String,
    #[serde(default)]
    pub issuer: Option<String>,
}

/// What recovery needs to know about one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAuth {
    pub key: CredentialKey,
    /// Scopes the user configured for this server, if any.
    pub configured_scopes: Option<ScopeSet>,
    /// `scopes_supported` from the protected-resource metadata, if known.
    pub scopes_supported: Option<ScopeSet>,
    /// Enterprise-managed authorization (SEP-990): tokens come from the IdP, never a redirect.
    pub enterprise_managed: bool,
}

/// Reads and writes stored tokens (shared with other tabs and the CLI).
#[allow(async_fn_in_trait)]
pub trait CredentialStore {
    async fn load(&self, key: &CredentialKey) -> Option<Tokens>;
    async fn save(&self, key: &CredentialKey, tokens: &Tokens) -> Result<(), OAuthClientError>;
}

/// Performs the refresh-token grant.
#[allow(async_fn_in_trait)]
pub trait TokenRefresher {
    /// `scope` narrows the request when given; `None` keeps the original grant's scopes.
    async fn refresh(
        &self,
        key: &CredentialKey,
        refresh_token: &Secret,
        scope: Option<&ScopeSet>,
    ) -> Result<TokenResponse, GrantError>;
}

/// Re-runs EMA legs 2–3 (token exchange at the IdP, then JWT-bearer grant) with the cached ID token.
#[allow(async_fn_in_trait)]
pub trait EmaReminter {
    async fn remint(
        &self,
        key: &CredentialKey,
        scope: &ScopeSet,
    ) -> Result<TokenResponse, EmaError>;
}

/// Seconds since the Unix epoch.
pub trait Clock {
    fn now_unix(&self) -> u64;
}

/// Prepares an authorization-code request (PKCE, state, resource) and returns the URL to visit.
#[allow(async_fn_in_trait)]
pub trait AuthorizationUrlBuilder {
    async fn authorization_url(
        &self,
        key: &CredentialKey,
        scope: &ScopeSet,
    ) -> Result<String, GrantError>;
}

/// For servers that are not enterprise-managed: re-minting is never possible.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEma;

impl EmaReminter for NoEma {
    async fn remint(&self, _: &CredentialKey, _: &ScopeSet) -> Result<TokenResponse, EmaError> {
        Err(EmaError::Failed(GrantError::NotEnterpriseManaged))
    }
}

/// The injected effects, borrowed for the duration of a recovery.
pub struct Ports<'a, S, R, M, C, A> {
    pub store: &'a S,
    pub refresher: &'a R,
    pub ema: &'a M,
    pub clock: &'a C,
    pub authorizer: &'a A,
}

impl<S, R, M, C, A> Clone for Ports<'_, S, R, M, C, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, R, M, C, A> Copy for Ports<'_, S, R, M, C, A> {}

/// A grant that did not produce tokens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("{}", messages::oauth_error(.0))]
    OAuth(OAuthErrorResponse),
    /// The flow stopped before the authorization server answered with an OAuth error.
    #[error(transparent)]
    Flow(Box<OAuthClientError>),
    #[error("this server is not enterprise-managed")]
    NotEnterpriseManaged,
}

/// Why re-minting through the enterprise IdP failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmaError {
    /// The cached ID token is missing, expired or rejected: leg 1 (IdP sign-in) is needed.
    #[error("the identity provider sign-in has to be renewed")]
    IdTokenUnusable,
    #[error(transparent)]
    Failed(GrantError),
}

/// Why recovery gave up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    #[error("{}", messages::forbidden(.description.as_deref()))]
    Forbidden { description: Option<String> },
    #[error("{}", messages::step_up_limit_reached(*.attempts))]
    StepUpLimit { attempts: u32 },
    #[error("{}", messages::challenged_after_retry())]
    ChallengedAfterRetry,
    #[error("{}", messages::ema_failed(Some(&.0.to_string())))]
    Ema(GrantError),
    #[error("could not prepare the authorization request: {0}")]
    Authorization(GrantError),
    /// The client-credentials grant failed (the CLI's `--client-credentials`).
    #[error("{0}")]
    ClientCredentials(GrantError),
}

/// How a challenge can be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// Usable tokens are at hand: push them and replay the request once.
    Satisfied {
        tokens: Tokens,
        via: SilentRecovery,
        /// Saving the new tokens failed; they still work for this session.
        storage_error: Option<OAuthClientError>,
    },
    /// More scopes are needed; ask the user, then call [`confirm_step_up`].
    StepUpConfirm(StepUpPlan),
    /// The user has to go through a sign-in; never replayed automatically afterwards.
    Interactive(InteractivePlan),
    Failed {
        error: RecoveryError,
    },
}

impl RecoveryOutcome {
    /// Only a silent success replays the refused request by itself.
    pub fn replays_automatically(&self) -> bool {
        matches!(self, Self::Satisfied { .. })
    }

    /// The sentence to show the user about this outcome.
    pub fn message(&self) -> String {
        match self {
            Self::Satisfied { via, .. } => messages::recovered_silently(*via),
            Self::StepUpConfirm(plan) => plan.message.clone(),
            Self::Interactive(plan) => plan.message.clone(),
            Self::Failed { error } => error.to_string(),
        }
    }
}

/// How a confirmed step-up will obtain the new token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUpMethod {
    /// Authorization-code redirect at the server's authorization server.
    Redirect,
    /// Silent re-mint through the enterprise IdP (after the user agrees).
    EmaRemint,
}

/// What the step-up prompt shows, and what confirming it will request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepUpPlan {
    pub tool_name: Option<String>,
    /// The full set to request: previously granted first, then the new ones.
    pub requested: ScopeSet,
    /// Scopes not granted yet (`data-new="true"` in the modal).
    pub new_scopes: ScopeSet,
    /// Scopes the session already holds and keeps.
    pub already_granted: ScopeSet,
    pub method: StepUpMethod,
    pub message: String,
}

/// The kind of interactive flow needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum InteractiveFlow {
    /// Visit `authorization_url` (authorization code + PKCE), then exchange the code.
    AuthorizationCode { authorization_url: String },
    /// EMA leg 1: sign in at the enterprise IdP, then mint silently.
    EnterpriseSignIn,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteractivePlan {
    pub flow: InteractiveFlow,
    /// The scopes the sign-in asks for; persist them only once tokens are issued ([`record_grant`]).
    pub requested: ScopeSet,
    pub message: String,
}
