//! Mid-session recovery in the browser (see ARCHITECTURE.md, “Recovery in the web app”): what
//! happens when the MCP server answers a command, or the event stream, with an auth challenge while
//! the session is up.
//!
//! The decisions are the shared auth core's (`OAuthClient::handle_challenge`, compiled to wasm);
//! this module carries them out in the page:
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

use futures_channel::oneshot;
use keyhole_shared::challenge::AuthChallenge;
use keyhole_shared::messages;
use keyhole_shared::recovery::{InteractiveFlow, RecoveryOutcome, StepUpPlan};
use keyhole_shared::resume::{RecoveryKind, Trigger};
use keyhole_shared::sign_in_guard::{MAX_AUTOMATIC_SIGN_INS, SIGN_IN_WINDOW_SECS};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::oauth;
use crate::page;
use crate::session::{RpcError, Session};
use crate::toast::{ToastKind, Toasts};
use crate::web_locks;

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

/// Answers `challenge` for `session`. `Ok(())`: the session now holds tokens that should answer
/// it, so the refused message can be sent once more. Interactive flows leave the page (this
/// future then never finishes). `asked`: the user asked for this (the banner's button), which
/// confirms a step-up and is not an automatic sign-in.
pub async fn recover(
    session: Session,
    challenge: AuthChallenge,
    trigger: Trigger,
    asked: bool,
) -> Result<(), RpcError> {
    let recovery = session.recovery;
    let url = session.url();
    let client = oauth::client_in(Some(session.id()));
    let rejected = session.bearer();
    if !web_locks::available() {
        recovery.warn_without_web_locks();
    }
    let mut outcome = web_locks::exclusive(&lock_name(&url), async {
        // Read and written under the lock: another recovery of this tab may be counting too.
        let guard = oauth::step_up_guard();
        let outcome = client
            .handle_challenge(&url, &challenge, rejected.as_ref(), &guard)
            .await;
        oauth::save_step_up_guard(&guard);
        outcome
    })
    .await;
    let mut kind = RecoveryKind::Relogin;
    loop {
        let waits =
            !outcome.replays_automatically() && trigger == Trigger::Ambient && page::is_hidden();
        if waits {
            recovery.toasts.show(
                ToastKind::Info,
                "The server asked for authorization again. Keyhole will handle it when you come back to this tab.",
            );
            recovery.deferred.set_value(Some((session, challenge)));
            return Err(RpcError::Recovery(
                "waiting until the tab is visible".into(),
            ));
        }
        match outcome {
            RecoveryOutcome::Satisfied {
                tokens,
                via,
                storage_error,
            } => {
                session
                    .push_tokens(&tokens)
                    .await
                    .map_err(RpcError::Recovery)?;
                recovery
                    .toasts
                    .show(ToastKind::Success, messages::recovered_silently(via));
                if let Some(error) = storage_error {
                    recovery
                        .toasts
                        .show(ToastKind::Warning, messages::token_not_saved(&error));
                }
                return Ok(());
            }
            RecoveryOutcome::StepUpConfirm(plan) => {
                kind = RecoveryKind::StepUp;
                let answer = if asked {
                    // Pressing the banner's button is the confirmation.
                    Answer::Authorize
                } else {
                    recovery.ask(url.clone(), plan.clone()).await
                };
                match answer {
                    Answer::Authorize => {
                        outcome = web_locks::exclusive(
                            &lock_name(&url),
                            client.confirm_step_up(&url, &plan),
                        )
                        .await;
                    }
                    Answer::Cancel => {
                        return Err(RpcError::Recovery(format!(
                            "Step-up cancelled: {} was not granted, so the request was not sent again. \
                             The session is still connected.",
                            messages::scope_list(&plan.new_scopes)
                        )));
                    }
                    Answer::Busy => {
                        let text = "Another authorization request is already waiting for your answer; \
                                    answer it, then try again.";
                        recovery.toasts.show(ToastKind::Info, text);
                        return Err(RpcError::Recovery(text.into()));
                    }
                }
            }
            RecoveryOutcome::Interactive(plan) => {
                // Another recovery is already taking the page to a sign-in (two lists refused
                // together, say): this one ends with the page, and does not count as a sign-in.
                if recovery.leaving.get_value() {
                    return std::future::pending().await;
                }
                let asked = asked || kind == RecoveryKind::StepUp;
                let authorization_url = match plan.flow {
                    InteractiveFlow::AuthorizationCode { authorization_url } => authorization_url,
                    InteractiveFlow::EnterpriseSignIn => {
                        kind = RecoveryKind::EnterpriseSignIn;
                        match client.begin_enterprise_sign_in(&url, &plan.requested).await {
                            Ok(start) => start.authorization_url,
                            Err(error) => {
                                return Err(failed(session, &challenge, error.to_string()));
                            }
                        }
                    }
                };
                if recovery.leaving.get_value() {
                    return std::future::pending().await;
                }
                if !asked
                    && recovery
                        .held
                        .with_value(|held| held.as_deref() == Some(&url))
                {
                    return Err(RpcError::Recovery(messages::abandoned_sign_in()));
                }
                if !asked && let Err(cause) = oauth::allow_automatic_sign_in(&url) {
                    let reason = messages::sign_in_loop_stopped(
                        MAX_AUTOMATIC_SIGN_INS,
                        SIGN_IN_WINDOW_SECS,
                        cause,
                    );
                    return Err(failed(session, &challenge, reason));
                }
                recovery.leaving.set_value(true);
                if kind == RecoveryKind::Relogin {
                    recovery.toasts.show(ToastKind::Info, plan.message.clone());
                    page::sleep_ms(NOTICE_BEFORE_REDIRECT_MS).await;
                }
                if let Err(error) = oauth::leave_for_sign_in(
                    &session,
                    &authorization_url,
                    &challenge,
                    kind,
                    trigger.clone(),
                ) {
                    recovery.leaving.set_value(false);
                    return Err(failed(session, &challenge, error));
                }
                // The page is leaving; nothing more happens here.
                return std::future::pending().await;
            }
            RecoveryOutcome::Failed { error } => {
                return Err(failed(session, &challenge, error.to_string()));
            }
        }
    }
}

/// Shows the banner for a recovery that failed; returns the error for the panel.
fn failed(session: Session, challenge: &AuthChallenge, reason: String) -> RpcError {
    session
        .recovery
        .show_banner(session.url(), reason.clone(), Some(challenge.clone()));
    RpcError::Recovery(reason)
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
