//! Mid-session recovery in the browser (see ARCHITECTURE.md, “Recovery in the web app”): what
//! happens when the MCP server answers a command, or the event stream, with an auth challenge while
//! the session is up.
//!
//! The decisions and their order are the shared auth core's (`OAuthClient` as the `Authority`,
//! the recovery `Engine`, compiled to wasm); this module is the page's `Surface`:
//! - a silent outcome (stored tokens, refresh, EMA re-mint) pushes the tokens to the backend
//!   session and lets the caller send the same message once more;
//! - `insufficient_scope` asks through the step-up modal (one prompt at a time), then re-mints
//!   (EMA) or redirects;
//! - a 401 that needs a sign-in redirects after a short notice, leaving a resume snapshot (at
//!   most a few times in a row: [`keyhole_shared::sign_in_guard`]; never right after the user
//!   came back from an unfinished sign-in to that server: the banner asks them first);
//! - a failure shows the re-auth banner.
//!
//! Challenges from the event stream (*ambient*) recover the same way, except that nothing
//! interactive happens while the tab is hidden: it waits until the tab is visible and then starts
//! over, which re-reads the shared store first. Recoveries for one server never overlap, in this tab
//! or another ([`web_locks`]).

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures_channel::oneshot;
use keyhole_shared::challenge::{AuthChallenge, ChallengeContext};
use keyhole_shared::messages;
use keyhole_shared::recovery::{
    Engine, InteractiveFlow, Notice, Origin, Question, Refused, SignIn, StepUpGuard, StepUpPlan,
    Stop, Surface,
};
use keyhole_shared::resume::{RecoveryKind, Trigger};
use keyhole_shared::secret::Secret;
use keyhole_shared::sign_in_guard::{MAX_AUTOMATIC_SIGN_INS, SIGN_IN_WINDOW_SECS};
use keyhole_shared::tokens::Tokens;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::flows::oauth;
use crate::flows::session::{RecoveryFailure, RpcError, Session};
use crate::flows::timeline::Recorder;
use crate::platform::oauth_store;
use crate::platform::page;
use crate::platform::web_locks;
use crate::views::toast::{ToastKind, Toasts};

/// How long the "signing in again" notice shows before the page leaves for the sign-in.
const NOTICE_BEFORE_REDIRECT_MS: i32 = 1500;

/// The step-up modal's contents.
#[derive(Clone, Debug, PartialEq)]
pub struct StepUpPrompt {
    pub server_url: String,
    pub plan: StepUpPlan,
}

/// The persistent re-auth banner.
#[derive(Clone, Debug, PartialEq)]
pub struct Banner {
    pub server_url: String,
    /// What went wrong, in plain words.
    pub reason: String,
    /// The challenge to answer again from the banner's button; `None` when there is no live
    /// session to keep (the button then connects from scratch).
    pub challenge: Option<AuthChallenge>,
    /// The command that failed, when one did: a sign-in from the banner brings the user back to
    /// it (its panel then offers to run it again).
    pub command: Option<Trigger>,
}

/// The page's recovery state; `Copy`, shared by every session of the page.
#[derive(Clone, Copy)]
pub struct Recovery {
    /// The open step-up prompt, if any.
    pub prompt: RwSignal<Option<StepUpPrompt>>,
    answer: StoredValue<Option<oneshot::Sender<bool>>>,
    pub banner: RwSignal<Option<Banner>>,
    /// The connection is in trouble: the server refuses requests without a challenge (the header
    /// badge says so until a request succeeds).
    pub trouble: RwSignal<Option<String>>,
    /// An ambient challenge waiting for the tab to become visible.
    deferred: StoredValue<Option<(Session, AuthChallenge)>, LocalStorage>,
    /// A recovery decided to leave the page for a sign-in.
    leaving: StoredValue<bool>,
    /// The user was told that this browser has no Web Locks.
    warned_without_locks: StoredValue<bool>,
    /// The user came back from a sign-in to this server without finishing it: no automatic
    /// sign-in sends them there again until they ask (the banner).
    held: StoredValue<Option<String>>,
    /// The shared recovery engine, one per page.
    engine: StoredValue<Rc<Engine>, LocalStorage>,
    toasts: Toasts,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery").finish_non_exhaustive()
    }
}

enum Answer {
    Authorize,
    Cancel,
    /// Another prompt is open.
    Busy,
}

impl Recovery {
    pub fn new(toasts: Toasts) -> Self {
        let recovery = Self {
            prompt: RwSignal::new(None),
            answer: StoredValue::new(None),
            banner: RwSignal::new(None),
            trouble: RwSignal::new(None),
            deferred: StoredValue::new_local(None),
            leaving: StoredValue::new(false),
            warned_without_locks: StoredValue::new(false),
            held: StoredValue::new(None),
            engine: StoredValue::new_local(Rc::new(Engine::new())),
            toasts,
        };
        page::on_visible(move || {
            if let Some((session, challenge)) =
                recovery.deferred.try_update_value(Option::take).flatten()
            {
                spawn_local(async move {
                    let _ = recover(session, challenge, Trigger::Ambient, false).await;
                });
            }
        });
        recovery
    }

    pub fn toasts(&self) -> Toasts {
        self.toasts
    }

    /// The user's answer to the step-up modal.
    pub fn answer(&self, authorize: bool) {
        if let Some(sender) = self.answer.try_update_value(Option::take).flatten() {
            let _ = sender.send(authorize);
        }
        self.prompt.set(None);
    }

    async fn ask(&self, server_url: String, plan: StepUpPlan) -> Answer {
        if self.prompt.get_untracked().is_some() {
            return Answer::Busy;
        }
        let (sender, receiver) = oneshot::channel();
        self.answer.set_value(Some(sender));
        self.prompt.set(Some(StepUpPrompt { server_url, plan }));
        match receiver.await {
            Ok(true) => Answer::Authorize,
            _ => Answer::Cancel,
        }
    }

    /// Says once per page that recoveries are serialised within this tab only.
    fn warn_without_web_locks(&self) {
        if !self.warned_without_locks.get_value() {
            self.warned_without_locks.set_value(true);
            self.toasts
                .show(ToastKind::Warning, messages::web_locks_unavailable());
        }
    }

    /// The user disconnected: nothing pending may come back for that session.
    pub fn reset(&self) {
        self.deferred.set_value(None);
        if self.prompt.get_untracked().is_some() {
            self.answer(false);
        }
        self.banner.set(None);
        self.trouble.set(None);
        self.held.set_value(None);
    }

    /// Automatic sign-ins to `server_url` wait for the user, or resume (`None`).
    pub fn hold_sign_ins(&self, server_url: Option<String>) {
        self.held.set_value(server_url);
    }

    pub fn show_banner(
        &self,
        server_url: String,
        reason: String,
        challenge: Option<AuthChallenge>,
    ) {
        self.banner.set(Some(Banner {
            server_url,
            reason,
            challenge,
            command: None,
        }));
    }
}

/// The Web Lock that serialises recoveries for `server_url` across tabs.
fn lock_name(server_url: &str) -> String {
    format!("keyhole.recovery {server_url}")
}

/// Sends a message with `send` through the shared recovery engine: a refusal is answered and
/// the same message sent once more (ARCHITECTURE.md, “One recovery”).
pub async fn run<F, Fut>(
    session: Session,
    context: &ChallengeContext,
    origin: Origin,
    send: F,
) -> Result<Value, RpcError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Value, Refused<RpcError>>>,
{
    let engine = session.recovery.engine.get_value();
    let client = oauth::client_in(Some(session.id()));
    let mut surface = WebSurface::new(Scope::Session(Box::new(session)), session.url(), &origin);
    let result = engine
        .run(
            &client,
            &mut surface,
            &session.url(),
            context,
            &origin,
            send,
        )
        .await;
    surface.settle(result.as_ref().err(), true);
    result
}

/// Connects to `url` through the engine (`initialize` recovers like any message): `sent` holds
/// the tokens the next connect request carries. A sign-in leaves the page: [`RpcError::Leaving`].
pub async fn connect<T, F, Fut>(
    url: &str,
    sent: Rc<RefCell<Option<Tokens>>>,
    send: F,
) -> Result<T, RpcError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Refused<RpcError>>>,
{
    let context = ChallengeContext {
        method: Some("initialize".into()),
        tool_name: None,
    };
    // Pressing Connect is the user's request: a step-up needs no second confirmation, and the
    // sign-in is not an automatic one.
    let origin = Origin {
        asked: true,
        ..Origin::connect()
    };
    let mut surface = WebSurface::new(Scope::Connect(sent), url.to_owned(), &origin);
    Engine::new()
        .run(&oauth::client(), &mut surface, url, &context, &origin, send)
        .await
}

/// Answers `challenge` for `session` with no message to resend (the event stream, the banner's
/// button). `asked`: the user asked for this, which confirms a step-up and is not an automatic
/// sign-in. Interactive flows leave the page (this future then never finishes).
pub async fn recover(
    session: Session,
    challenge: AuthChallenge,
    trigger: Trigger,
    asked: bool,
) -> Result<(), RpcError> {
    let origin = Origin {
        trigger,
        asked,
        connecting: false,
    };
    let engine = session.recovery.engine.get_value();
    let client = oauth::client_in(Some(session.id()));
    let mut surface = WebSurface::new(Scope::Session(Box::new(session)), session.url(), &origin);
    let result = engine
        .recover(&client, &mut surface, &session.url(), &challenge, &origin)
        .await;
    surface.settle(result.as_ref().err(), false);
    result
}

/// A challenge that arrived on the event stream, with no command waiting for it.
pub fn ambient(session: Session, challenge: AuthChallenge) {
    session.recovery.toasts.show(
        ToastKind::Warning,
        "The server asked for authorization again; Keyhole is recovering.",
    );
    spawn_local(async move {
        let _ = recover(session, challenge, Trigger::Ambient, false).await;
    });
}

/// What a recovery works for.
enum Scope {
    /// A live session: tokens go to its backend session.
    Session(Box<Session>),
    /// A connection being made: the tokens the next `/api/mcp/connect` carries.
    Connect(Rc<RefCell<Option<Tokens>>>),
}

/// The page as the recovery engine's surface: toasts, the step-up modal, the re-auth banner, a
/// redirect for a sign-in (with a resume snapshot), the Web Lock, counts in `sessionStorage`.
/// Connecting uses the same surface (one engine instance in the wasm, not two): there is no
/// session to push tokens to or to come back to yet, and nobody to ask.
struct WebSurface {
    scope: Scope,
    url: String,
    trigger: Trigger,
    /// The session's auth timeline (a live session only).
    timeline: Option<Recorder>,
}

impl WebSurface {
    fn new(scope: Scope, url: String, origin: &Origin) -> Self {
        if let Scope::Session(session) = &scope
            && !web_locks::available()
        {
            session.recovery.warn_without_web_locks();
        }
        let timeline = match &scope {
            Scope::Session(session) => Some(Recorder::new(**session)),
            Scope::Connect(_) => None,
        };
        Self {
            scope,
            url,
            trigger: origin.trigger.clone(),
            timeline,
        }
    }

    /// Records `text` as a step of the incident under way.
    fn step(&self, text: impl Into<String>) {
        if let Some(timeline) = &self.timeline {
            timeline.step(text);
        }
    }

    /// Ends the incident under way (if any) with how the recovery ended (`error`: it failed),
    /// `resent` when the refused message went out again.
    fn settle(&self, error: Option<&RpcError>, resent: bool) {
        let Some(timeline) = &self.timeline else {
            return;
        };
        match error {
            None if resent => timeline.finish(Ok(
                "Recovered: the request was sent again and answered.".into(),
            )),
            None => timeline.finish(Ok("Recovered.".into())),
            Some(RpcError::Leaving) => {}
            Some(error) => timeline.finish(Err(error.to_string())),
        }
    }

    fn recovery(&self) -> Option<Recovery> {
        match &self.scope {
            Scope::Session(session) => Some(session.recovery),
            Scope::Connect(_) => None,
        }
    }

    /// A recovery that failed: the banner for a live session; returns the error for the panel.
    fn failed(&self, challenge: &AuthChallenge, reason: String) -> RpcError {
        match self.recovery() {
            Some(recovery) => {
                recovery.show_banner(self.url.clone(), reason.clone(), Some(challenge.clone()));
                RpcError::Recovery(RecoveryFailure::Failed(reason))
            }
            None => RpcError::Recovery(RecoveryFailure::Failed(format!(
                "Signing in to {} failed: {reason}",
                self.url
            ))),
        }
    }

    /// Connecting: leaves for the sign-in with a snapshot that brings the user back connecting.
    async fn sign_in_to_connect(&self, request: &SignIn<'_>) -> RpcError {
        let left = match &request.plan.flow {
            InteractiveFlow::AuthorizationCode { authorization_url } => {
                oauth::leave_for_connect(&self.url, request.challenge, authorization_url)
            }
            InteractiveFlow::EnterpriseSignIn => {
                oauth::redirect_for_connect(&self.url, request.challenge).await
            }
        };
        match left {
            Ok(()) => RpcError::Leaving,
            Err(error) => self.failed(request.challenge, error.to_string()),
        }
    }
}

impl Surface for WebSurface {
    type Error = RpcError;

    fn challenged(&mut self, challenge: &AuthChallenge) {
        if let Some(timeline) = &mut self.timeline {
            timeline.start(challenge);
        }
    }

    fn bearer(&self) -> Option<Secret> {
        match &self.scope {
            Scope::Session(session) => session.bearer(),
            Scope::Connect(sent) => sent.borrow().as_ref().map(|t| t.access_token.clone()),
        }
    }

    async fn install(&mut self, tokens: Option<&Tokens>) -> Result<(), RpcError> {
        match (&self.scope, tokens) {
            (Scope::Session(session), Some(tokens)) => {
                if let Some(timeline) = &self.timeline {
                    timeline.tokens(tokens);
                    timeline.step("The token was handed to the session.");
                }
                session.push_tokens(tokens).await.map_err(|reason| {
                    RpcError::Recovery(RecoveryFailure::TokenNotHandedOver(reason))
                })
            }
            // Only connecting drops a token.
            (Scope::Session(_), None) => Ok(()),
            (Scope::Connect(sent), tokens) => {
                *sent.borrow_mut() = tokens.cloned();
                Ok(())
            }
        }
    }

    fn notify(&mut self, notice: Notice<'_>) {
        let Notice::Recovered { via, storage_error } = notice else {
            return;
        };
        self.step(messages::recovered_silently(via));
        if let Some(error) = storage_error {
            self.step(messages::token_not_saved(error));
        }
        match self.recovery() {
            Some(recovery) => {
                let toasts = recovery.toasts;
                toasts.show(ToastKind::Success, messages::recovered_silently(via));
                if let Some(error) = storage_error {
                    toasts.show(ToastKind::Warning, messages::token_not_saved(error));
                }
            }
            None => {
                if let Some(error) = storage_error {
                    leptos::logging::warn!("{}", messages::token_not_saved(error));
                }
            }
        }
    }

    async fn confirm(&mut self, question: Question<'_, RpcError>) -> Result<(), RpcError> {
        // Connecting is asked for: the engine asks nothing then.
        let Some(recovery) = self.recovery() else {
            return Ok(());
        };
        match question {
            Question::StepUp(plan) => {
                self.step(format!(
                    "Asked to authorize more scopes: {} (already granted: {}).",
                    plan.new_scopes, plan.already_granted
                ));
                match recovery.ask(self.url.clone(), plan.clone()).await {
                    Answer::Authorize => Ok(()),
                    Answer::Cancel => Err(RpcError::Recovery(RecoveryFailure::StepUpCancelled {
                        not_granted: plan.new_scopes.clone(),
                    })),
                    Answer::Busy => {
                        let busy = RecoveryFailure::PromptBusy;
                        recovery.toasts.show(ToastKind::Info, busy.to_string());
                        Err(RpcError::Recovery(busy))
                    }
                }
            }
            Question::Reauthorize {
                status,
                challenge,
                refusal,
            } => {
                // Not answered by itself: the request may have had side effects, and the server
                // may just be failing. The banner offers to authorize again.
                let command =
                    matches!(self.trigger, Trigger::Command { .. }).then(|| self.trigger.clone());
                recovery.banner.set(Some(Banner {
                    server_url: self.url.clone(),
                    reason: messages::token_maybe_not_recognised(status),
                    challenge: Some(challenge.clone()),
                    command,
                }));
                Err(refusal.clone())
            }
        }
    }

    async fn sign_in(&mut self, request: SignIn<'_>) -> Result<(), RpcError> {
        let (session, recovery) = match &self.scope {
            Scope::Session(session) => (**session, session.recovery),
            Scope::Connect(_) => return Err(self.sign_in_to_connect(&request).await),
        };
        let url = &self.url;
        // Another recovery is already taking the page to a sign-in (two lists refused together,
        // say): this one ends with the page, and does not count as a sign-in.
        if recovery.leaving.get_value() {
            return std::future::pending().await;
        }
        let authorization_url = match &request.plan.flow {
            InteractiveFlow::AuthorizationCode { authorization_url } => authorization_url.clone(),
            InteractiveFlow::EnterpriseSignIn => {
                let client = oauth::client_in(Some(session.id()));
                match client
                    .begin_enterprise_sign_in(url, &request.plan.requested)
                    .await
                {
                    Ok(start) => start.authorization_url,
                    Err(error) => return Err(self.failed(request.challenge, error.to_string())),
                }
            }
        };
        if recovery.leaving.get_value() {
            return std::future::pending().await;
        }
        if request.automatic
            && recovery
                .held
                .with_value(|held| held.as_deref() == Some(url))
        {
            return Err(RpcError::Recovery(RecoveryFailure::AbandonedSignIn));
        }
        if request.automatic
            && let Err(cause) = oauth::allow_automatic_sign_in(url)
        {
            let reason =
                messages::sign_in_loop_stopped(MAX_AUTOMATIC_SIGN_INS, SIGN_IN_WINDOW_SECS, cause);
            return Err(self.failed(request.challenge, reason));
        }
        recovery.leaving.set_value(true);
        self.step(format!(
            "Left for the sign-in at the authorization server (scopes: {}).",
            request.plan.requested
        ));
        if request.kind == RecoveryKind::Relogin {
            recovery
                .toasts
                .show(ToastKind::Info, request.plan.message.clone());
            page::sleep_ms(NOTICE_BEFORE_REDIRECT_MS).await;
        }
        crate::flows::carried::carry(session).await;
        if let Err(error) = oauth::leave_for_sign_in(
            &session,
            &authorization_url,
            request.challenge,
            request.kind,
            request.origin.trigger.clone(),
        ) {
            recovery.leaving.set_value(false);
            return Err(self.failed(request.challenge, error.to_string()));
        }
        // The page is leaving; nothing more happens here.
        std::future::pending().await
    }

    fn stop(&mut self, stop: Stop<'_>) -> RpcError {
        match stop {
            Stop::Failed { error, challenge } => self.failed(challenge, error.to_string()),
            Stop::ChallengedAfterRetry => RpcError::Recovery(RecoveryFailure::ChallengedAfterRetry),
        }
    }

    fn postpone(&mut self, challenge: &AuthChallenge, origin: &Origin) -> Option<RpcError> {
        let Scope::Session(session) = &self.scope else {
            return None;
        };
        if origin.trigger != Trigger::Ambient || !page::is_hidden() {
            return None;
        }
        session.recovery.toasts.show(
            ToastKind::Info,
            "The server asked for authorization again. Keyhole will handle it when you come back to this tab.",
        );
        session
            .recovery
            .deferred
            .set_value(Some((**session, challenge.clone())));
        Some(RpcError::Recovery(RecoveryFailure::Postponed))
    }

    /// The server's Web Lock; inside it the store's reads are answered from one document
    /// ([`oauth_store::holding`]).
    async fn exclusive<T>(&self, server_url: &str, work: impl Future<Output = T>) -> T {
        web_locks::exclusive(&lock_name(server_url), oauth_store::holding(work)).await
    }

    fn step_ups(&self) -> StepUpGuard {
        oauth::step_up_guard()
    }

    fn keep_step_ups(&self, guard: &StepUpGuard) {
        oauth::save_step_up_guard(guard);
    }
}
