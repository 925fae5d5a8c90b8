//! The one recovery driver, shared by every surface (see ARCHITECTURE.md, “One recovery”).
//!
//! [`decide`](super::decide) chooses *how* to answer a challenge; this module carries the choice
//! out the same way in the web app, the CLI and the tests: it sends a message, meets a refusal,
//! asks the [`Authority`] what to do, follows the outcome (install tokens, ask before a step-up,
//! sign in), and sends the *same* message (same JSON-RPC id) once more. What differs per surface —
//! how to ask, how to show progress, how to hand tokens to the transport, how a sign-in happens,
//! where the step-up counts live — is the [`Surface`] trait, a handful of methods.
//!
//! The rules it owns:
//! * **Retry once.** After a recovery that installed credentials the refused message is sent once
//!   more. A 401 to that resend is final ([`Stop::ChallengedAfterRetry`]); a 403
//!   `insufficient_scope` may step up again, as the server can ask for scopes one by one — the
//!   [`StepUpGuard`] bounds that (three per server and operation).
//! * **Step-up counts** are read and written inside [`Surface::exclusive`] and reset only when the
//!   operation finally succeeds.
//! * **Connecting** with a stored token the server refuses without a challenge drops the token
//!   and connects once more without it (no side effects to repeat); mid-session the same refusal
//!   asks first ([`Question::Reauthorize`]), since a resend may repeat a side effect.
//! * **One recovery at a time per server** within a process ([`Engine`]'s turns), and across tabs
//!   where the surface can ([`Surface::exclusive`], Web Locks). A recovery that queued behind
//!   another starts from the stored tokens, so a burst of refusals asks the user once.
//!
//! Nothing here is `Send`: in the browser nothing is, and the CLI runs on one thread.

use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::{Mutex, PoisonError};

use futures::lock::Mutex as AsyncMutex;

use super::{
    InteractiveFlow, InteractivePlan, RecoveryError, RecoveryOutcome, StepUpGuard, StepUpPlan,
};
use crate::challenge::{AuthChallenge, ChallengeContext, ChallengeReason};
use crate::messages::{SignInReason, SilentRecovery};
use crate::oauth_client::OAuthClientError;
use crate::resume::{RecoveryKind, Trigger};
use crate::secret::Secret;
use crate::tokens::Tokens;

/// The decisions: `OAuthClient` in the product, the fakes in tests.
#[allow(async_fn_in_trait)]
pub trait Authority {
    /// How to answer `challenge`; `rejected` is the token the refused message carried.
    async fn handle_challenge(
        &self,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        guard: &StepUpGuard,
    ) -> RecoveryOutcome;

    /// The user agreed to `plan`: re-mint or prepare the redirect.
    async fn confirm_step_up(&self, server_url: &str, plan: &StepUpPlan) -> RecoveryOutcome;
}

/// What happened to a refused message, as the surface's transport reports it.
#[derive(Debug)]
pub enum Refused<E> {
    /// 401 or 403 with (or read as) an auth challenge.
    Challenge(Box<AuthChallenge>),
    /// Refused without a challenge while carrying a token the server accepted before (or, when
    /// connecting, a stored token): the server may have forgotten it. `error` is what to report
    /// when nothing more is tried.
    NotRecognised { status: u16, error: E },
    /// Any other failure: reported as is.
    Other(E),
}

/// Where a recovery comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub trigger: Trigger,
    /// The user asked for it (the re-auth banner's button): that confirms a step-up, and a
    /// sign-in it leads to is not an automatic one.
    pub asked: bool,
    /// The message is the connection's `initialize`.
    pub connecting: bool,
}

impl Origin {
    /// A command the user ran.
    pub fn command(method: &str, target: Option<String>) -> Self {
        Self {
            trigger: Trigger::Command {
                method: method.to_owned(),
                target,
            },
            asked: false,
            connecting: false,
        }
    }

    /// A command the user ran, named by its request: the tool's name or the resource's URI.
    pub fn of_request(method: &str, params: &serde_json::Value) -> Self {
        let target = params["name"].as_str().or(params["uri"].as_str());
        Self::command(method, target.map(str::to_owned))
    }

    /// Connecting (`initialize`).
    pub fn connect() -> Self {
        Self {
            connecting: true,
            ..Self::command("initialize", None)
        }
    }
}

/// What the surface is asked before going on.
#[derive(Debug)]
pub enum Question<'a, E> {
    /// More scopes are needed: authorize with `plan.requested`?
    StepUp(&'a StepUpPlan),
    /// The server refused a token it accepted before, without a challenge: sign in again and
    /// send the message once more?
    Reauthorize {
        status: u16,
        challenge: &'a AuthChallenge,
        /// What the transport reported.
        refusal: &'a E,
    },
}

/// What the surface tells the user along the way.
#[derive(Debug)]
pub enum Notice<'a> {
    /// Tokens were obtained without the user; `storage_error`: they could not be saved.
    Recovered {
        via: SilentRecovery,
        storage_error: Option<&'a OAuthClientError>,
    },
    /// Connecting: the stored token was refused without a challenge; trying without it.
    StoredTokenDropped { status: u16 },
}

/// A sign-in the surface has to carry out.
#[derive(Debug)]
pub struct SignIn<'a> {
    pub server_url: &'a str,
    pub plan: &'a InteractivePlan,
    pub kind: RecoveryKind,
    /// Why, for a sign-in that answers a 401 (`None`: a step-up, whose plan says what is asked).
    pub reason: Option<SignInReason>,
    /// Nobody asked for it: the surface's automatic sign-in budget applies.
    pub automatic: bool,
    pub challenge: &'a AuthChallenge,
    pub origin: &'a Origin,
}

/// Why the engine gave up, for the surface to turn into its error.
#[derive(Debug)]
pub enum Stop<'a> {
    /// The decision failed (forbidden, a limit, the IdP, the authorization request).
    Failed {
        error: RecoveryError,
        challenge: &'a AuthChallenge,
    },
    /// The message was refused again after the recovery.
    ChallengedAfterRetry,
}

/// What differs per surface.
#[allow(async_fn_in_trait)]
pub trait Surface {
    type Error;

    /// A challenge is about to be answered (before any decision): a surface that keeps an auth
    /// timeline starts an incident here.
    fn challenged(&mut self, _challenge: &AuthChallenge) {}

    /// The token the transport sends now.
    fn bearer(&self) -> Option<Secret>;

    /// Hands `tokens` to the transport (`None`: send without a token).
    async fn install(&mut self, tokens: Option<&Tokens>) -> Result<(), Self::Error>;

    fn notify(&mut self, notice: Notice<'_>);

    /// `Ok`: go on. `Err`: declined, or nobody can answer; the error says so.
    async fn confirm(&mut self, question: Question<'_, Self::Error>) -> Result<(), Self::Error>;

    /// Signs in and installs the new tokens (`Ok`: the message can be sent again). A surface that
    /// leaves the page for the sign-in never returns.
    async fn sign_in(&mut self, request: SignIn<'_>) -> Result<(), Self::Error>;

    fn stop(&mut self, stop: Stop<'_>) -> Self::Error;

    /// Whether nothing interactive may happen now (the web app: an ambient challenge in a hidden
    /// tab). The surface then keeps the challenge for later and returns what to report now.
    fn postpone(&mut self, _challenge: &AuthChallenge, _origin: &Origin) -> Option<Self::Error> {
        None
    }

    /// Runs `work` while no other tab or process recovers for `server_url` (Web Locks).
    async fn exclusive<T>(&self, _server_url: &str, work: impl Future<Output = T>) -> T {
        work.await
    }

    /// The step-up counts (read inside [`Surface::exclusive`]).
    fn step_ups(&self) -> StepUpGuard;

    /// Keeps the counts for the next recovery (across page loads in the web app).
    fn keep_step_ups(&self, guard: &StepUpGuard);
}

/// Serialises recoveries per server within this process; one per page, CLI session or TUI.
#[derive(Default)]
pub struct Engine {
    turns: Mutex<HashMap<String, Rc<AsyncMutex<()>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    fn turn(&self, server_url: &str) -> Rc<AsyncMutex<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
        turns.entry(server_url.to_owned()).or_default().clone()
    }

    /// Sends a message with `send`, recovers from a refusal and sends it once more (see the
    /// module doc for the rules). `send` sends the same message each time.
    #[allow(clippy::too_many_arguments)]
    pub async fn run<A, U, T, F, Fut>(
        &self,
        authority: &A,
        surface: &mut U,
        server_url: &str,
        context: &ChallengeContext,
        origin: &Origin,
        mut send: F,
    ) -> Result<T, U::Error>
    where
        A: Authority,
        U: Surface,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Refused<U::Error>>>,
    {
        let mut resent = false;
        let mut dropped_stored_token = false;
        let mut not_recognised = false;
        loop {
            let bearer = surface.bearer();
            let challenge = match send().await {
                Ok(value) => {
                    self.settle(surface, server_url, context).await;
                    return Ok(value);
                }
                Err(Refused::Other(error)) => return Err(error),
                Err(Refused::NotRecognised { status, error }) => {
                    if bearer.is_none() || resent || dropped_stored_token {
                        return Err(error);
                    }
                    not_recognised = true;
                    if origin.connecting {
                        surface.notify(Notice::StoredTokenDropped { status });
                        surface.install(None).await?;
                        dropped_stored_token = true;
                        continue;
                    }
                    let challenge = AuthChallenge::token_not_recognised(status, context.clone());
                    surface
                        .confirm(Question::Reauthorize {
                            status,
                            challenge: &challenge,
                            refusal: &error,
                        })
                        .await?;
                    challenge
                }
                Err(Refused::Challenge(challenge)) => {
                    let step_up = challenge.reason == ChallengeReason::InsufficientScope;
                    if resent && !step_up {
                        return Err(surface.stop(Stop::ChallengedAfterRetry));
                    }
                    *challenge
                }
            };
            let reason = match (std::mem::take(&mut not_recognised), &bearer) {
                (true, _) => SignInReason::NotRecognised,
                (false, Some(_)) => SignInReason::Expired,
                (false, None) => SignInReason::First,
            };
            self.answer(
                authority,
                surface,
                server_url,
                &challenge,
                bearer.as_ref(),
                origin,
                reason,
            )
            .await?;
            resent = true;
        }
    }

    /// Answers `challenge` with no message to resend: an ambient challenge, or the banner's
    /// button. `Ok`: new credentials are installed.
    pub async fn recover<A: Authority, U: Surface>(
        &self,
        authority: &A,
        surface: &mut U,
        server_url: &str,
        challenge: &AuthChallenge,
        origin: &Origin,
    ) -> Result<(), U::Error> {
        let rejected = surface.bearer();
        let reason = if rejected.is_some() {
            SignInReason::Expired
        } else {
            SignInReason::First
        };
        self.answer(
            authority,
            surface,
            server_url,
            challenge,
            rejected.as_ref(),
            origin,
            reason,
        )
        .await
    }

    /// The operation went through: its next step-up counts from zero.
    async fn settle<U: Surface>(&self, surface: &U, server_url: &str, context: &ChallengeContext) {
        if surface.step_ups().attempts(server_url, context) == 0 {
            return;
        }
        let turn = self.turn(server_url);
        let _turn = turn.lock().await;
        surface
            .exclusive(server_url, async {
                let guard = surface.step_ups();
                guard.reset(server_url, context);
                surface.keep_step_ups(&guard);
            })
            .await;
    }

    /// One decision, taken in this server's turn and the surface's exclusive section.
    async fn decide<U: Surface>(
        &self,
        surface: &U,
        server_url: &str,
        decision: impl AsyncFnOnce(&StepUpGuard) -> RecoveryOutcome,
    ) -> RecoveryOutcome {
        let turn = self.turn(server_url);
        let _turn = turn.lock().await;
        surface
            .exclusive(server_url, async {
                let guard = surface.step_ups();
                let outcome = decision(&guard).await;
                surface.keep_step_ups(&guard);
                outcome
            })
            .await
    }

    /// Follows the authority's outcome for `challenge` until credentials are installed or the
    /// recovery stops.
    #[allow(clippy::too_many_arguments)]
    async fn answer<A: Authority, U: Surface>(
        &self,
        authority: &A,
        surface: &mut U,
        server_url: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        origin: &Origin,
        reason: SignInReason,
    ) -> Result<(), U::Error> {
        surface.challenged(challenge);
        let mut outcome = self
            .decide(surface, server_url, async |guard| {
                authority
                    .handle_challenge(server_url, challenge, rejected, guard)
                    .await
            })
            .await;
        let mut kind = RecoveryKind::Relogin;
        loop {
            if !outcome.replays_automatically()
                && let Some(error) = surface.postpone(challenge, origin)
            {
                return Err(error);
            }
            match outcome {
                RecoveryOutcome::Satisfied {
                    tokens,
                    via,
                    storage_error,
                } => {
                    surface.install(Some(&tokens)).await?;
                    surface.notify(Notice::Recovered {
                        via,
                        storage_error: storage_error.as_ref(),
                    });
                    return Ok(());
                }
                RecoveryOutcome::StepUpConfirm(plan) => {
                    kind = RecoveryKind::StepUp;
                    if !origin.asked {
                        surface.confirm(Question::StepUp(&plan)).await?;
                    }
                    outcome = self
                        .decide(surface, server_url, async |_| {
                            authority.confirm_step_up(server_url, &plan).await
                        })
                        .await;
                }
                RecoveryOutcome::Interactive(plan) => {
                    let stepped_up = kind == RecoveryKind::StepUp;
                    let unauthorized = challenge.reason.is_unauthorized();
                    let kind = match plan.flow {
                        InteractiveFlow::EnterpriseSignIn => RecoveryKind::EnterpriseSignIn,
                        InteractiveFlow::AuthorizationCode { .. } => kind,
                    };
                    return surface
                        .sign_in(SignIn {
                            server_url,
                            plan: &plan,
                            kind,
                            reason: (unauthorized && !stepped_up).then_some(reason),
                            automatic: !origin.asked && !stepped_up,
                            challenge,
                            origin,
                        })
                        .await;
                }
                RecoveryOutcome::Failed { error } => {
                    return Err(surface.stop(Stop::Failed { error, challenge }));
                }
            }
        }
    }
}
