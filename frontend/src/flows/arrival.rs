//! What the page does when it loads after leaving for a sign-in (see ARCHITECTURE.md, “Resume
//! after a redirect”):
//! - on `/oauth/callback`: the snapshot is checked against `state` (a mismatch exchanges
//!   nothing), the still-live backend session is picked up again, the new tokens are pushed to it,
//!   the tab and forms come back, and a message says what happened (success, partial consent, or
//!   the reason it failed, with the re-auth banner);
//! - on a normal load with a snapshot left over: the sign-in was abandoned, so the session is picked
//!   up again and the banner offers to finish it — unless the authorization server turned the
//!   user away because it no longer knows Keyhole's client registration (it restarted): the
//!   abandoned request is checked, and then a new registration is made and the sign-in starts
//!   again by itself, once. A code exchange refused with `invalid_client` does the same.
//!
//! A callback for a guided sign-in ("Debug sign-in") is left to it: it checks the response
//! step by step itself.
//!
//! A tool call that needed the sign-in is not sent again by itself (it may have side effects):
//! its panel says so and offers to run it again.

use keyhole_shared::api::mcp::SessionReply;
use keyhole_shared::messages;
use keyhole_shared::oauth_client::SignInCheck;
use keyhole_shared::resume::{ResumeSnapshot, Trigger};
use keyhole_shared::scopes::ScopeSet;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::connect::{self, ConnectOutcome, Connection};
use crate::flows::oauth;
use crate::flows::recovery::Recovery;
use crate::flows::session::{Session, encode};
use crate::flows::timeline::Recorder;
use crate::platform::api;
use crate::views::status_badge::ConnectionStatus;
use crate::views::toast::{ToastKind, Toasts};

/// What the arrival needs from the app.
#[derive(Clone, Copy)]
pub struct Page {
    pub recovery: Recovery,
    pub toasts: Toasts,
    pub status: RwSignal<ConnectionStatus>,
    /// Shows a session (events, network log, workspace).
    pub show: Callback<Session>,
    /// A new connection was made.
    pub on_connected: Callback<Connection>,
}

/// Runs the arrival for this page load, if it is one.
pub fn on_load(page: Page) {
    if oauth::is_callback() {
        page.status.set(ConnectionStatus::Connecting {
            url: "the server (finishing sign-in…)".into(),
        });
        spawn_local(arrive(page, None));
    } else if let Some(snapshot) = oauth::abandoned_sign_in() {
        spawn_local(arrive(page, Some(snapshot)));
    }
}

/// The arrival, from its own wasm chunk: only a page coming back from a sign-in needs the code
/// exchange and the resume, so the page every user loads does not carry them. `abandoned`: the
/// snapshot of a sign-in the user never finished; `None` on the callback.
#[lazy]
async fn arrive(page: Page, abandoned: Option<ResumeSnapshot>) {
    match abandoned {
        None => after_callback(page).await,
        Some(snapshot) => after_abandoned(page, snapshot).await,
    }
}

/// The backend session the snapshot was taken on, if it is still live, with the UI state to
/// restore.
async fn pick_up(snapshot: &ResumeSnapshot, recovery: Recovery) -> Option<Session> {
    if snapshot.backend_session_id.is_empty() {
        return None;
    }
    let path = format!(
        "/api/mcp/session?sessionId={}",
        encode(&snapshot.backend_session_id)
    );
    let reply = api::get_call::<SessionReply>(&path).await.ok()?.ok()?;
    let live = Session::new(snapshot.server_url.clone(), reply, None, recovery);
    live.timeline.set(crate::flows::carried::timeline());
    live.reopen_app.set_value(crate::flows::carried::open_app());
    live.ui
        .restore_from(&snapshot.active_tab, snapshot.tabs.clone());
    Some(live)
}

/// The tool whose call the snapshot's sign-in interrupted.
fn interrupted_tool(snapshot: &ResumeSnapshot) -> Option<String> {
    match &snapshot.trigger {
        Trigger::Command { method, target } if method == "tools/call" => target.clone(),
        _ => None,
    }
}

/// The authorization server forgot the client of `snapshot`'s sign-in (its registration was
/// dropped): registers again and signs in again by itself, once per sign-in. `false` when it
/// did not (already done once, or the new sign-in could not start).
async fn sign_in_again(page: Page, snapshot: &ResumeSnapshot, requested: &ScopeSet) -> bool {
    if snapshot.reregistered {
        return false;
    }
    page.toasts.show(
        ToastKind::Info,
        messages::client_forgotten_registering_again(),
    );
    match oauth::sign_in_with_new_registration(snapshot.clone(), requested).await {
        Ok(()) => true,
        Err(error) => {
            page.toasts.show(ToastKind::Error, error.to_string());
            false
        }
    }
}

async fn after_callback(page: Page) {
    if oauth::guided_pending() {
        // The guided sign-in's own step takes this callback (the Doctor section reopens).
        page.status.set(ConnectionStatus::Disconnected);
        return;
    }
    oauth::load_catalog().await;
    let callback = oauth::complete_callback().await;
    let snapshot = callback.snapshot;
    if let (Some(snapshot), Some(requested)) = (&snapshot, &callback.client_rejected)
        && sign_in_again(page, snapshot, requested).await
    {
        return;
    }
    let live = match &snapshot {
        Some(snapshot) => pick_up(snapshot, page.recovery).await,
        None => None,
    };
    let challenge = snapshot.as_ref().map(|s| s.challenge.clone());
    let interrupted = snapshot.as_ref().and_then(interrupted_tool);
    match (live, callback.grant) {
        (Some(live), Ok(grant)) => {
            oauth::note_sign_in(&live.url(), false);
            let incident = Recorder::resumed(live);
            incident.step("Came back from the authorization server; the code was exchanged.");
            incident.tokens(&grant.tokens);
            // The new token first: the views start sending requests as soon as they show.
            let pushed = live.push_tokens(&grant.tokens).await;
            incident.finish(match &pushed {
                Ok(()) => Ok(grant.message.clone()),
                Err(error) => Err(error.to_string()),
            });
            if pushed.is_ok() {
                live.interrupted_call.set(interrupted.clone());
            }
            page.show.run(live);
            let message = match &interrupted {
                Some(tool) if grant.missing.is_empty() => messages::not_sent_again(tool),
                _ => grant.message,
            };
            match pushed {
                Ok(()) if grant.missing.is_empty() => page.toasts.show(ToastKind::Success, message),
                Ok(()) => page.toasts.show(ToastKind::Warning, message),
                Err(error) => page.recovery.show_banner(live.url(), error, challenge),
            }
        }
        (Some(live), Err(reason)) => {
            Recorder::resumed(live).finish(Err(reason.clone()));
            page.show.run(live);
            page.toasts.show(ToastKind::Error, reason.clone());
            page.recovery.show_banner(live.url(), reason, challenge);
        }
        (None, Ok(grant)) => {
            let url = snapshot
                .map(|s| s.server_url)
                .unwrap_or(grant.server_url.clone());
            match connect::connect_with(&url, &grant.tokens).await {
                ConnectOutcome::Connected { reply, bearer } => {
                    page.on_connected.run(Connection { url, reply, bearer });
                    if !grant.missing.is_empty() {
                        page.toasts.show(ToastKind::Warning, grant.message);
                    }
                }
                ConnectOutcome::Failed(message) => failed(page, message),
                ConnectOutcome::Redirecting => {}
            }
        }
        (None, Err(reason)) => {
            if let Some(snapshot) = snapshot {
                page.recovery
                    .show_banner(snapshot.server_url, reason.clone(), None);
            }
            failed(page, reason);
        }
    }
}

fn failed(page: Page, message: String) {
    page.toasts.show(ToastKind::Error, message.clone());
    page.status.set(ConnectionStatus::Error { message });
}

/// Why the authorization server turned the user away, when it did because of the client.
async fn check_abandoned(page: Page, snapshot: &ResumeSnapshot) -> Option<String> {
    if snapshot.state.is_empty() {
        return None;
    }
    let session_id = Some(snapshot.backend_session_id.clone()).filter(|id| !id.is_empty());
    let check = oauth::client_in(session_id)
        .check_sign_in(&snapshot.state, false)
        .await;
    match check {
        Ok(SignInCheck::ClientForgotten { requested }) => {
            if sign_in_again(page, snapshot, &requested).await {
                // The page is leaving.
                std::future::pending::<()>().await;
            }
            Some(messages::client_refused_after_registering(
                "it did not know the client Keyhole registered.",
            ))
        }
        Ok(SignInCheck::ClientRefused(detail)) => {
            Some(messages::client_refused_after_registering(&detail))
        }
        _ => None,
    }
}

async fn after_abandoned(page: Page, snapshot: ResumeSnapshot) {
    oauth::load_catalog().await;
    let refused = check_abandoned(page, &snapshot).await;
    // The user came back on purpose: nothing sends them to the sign-in again by itself.
    page.recovery
        .hold_sign_ins(Some(snapshot.server_url.clone()));
    match pick_up(&snapshot, page.recovery).await {
        Some(live) => {
            Recorder::resumed(live).finish(Err(refused
                .clone()
                .unwrap_or_else(messages::abandoned_sign_in)));
            page.show.run(live);
            let command = interrupted_tool(&snapshot).map(|_| snapshot.trigger.clone());
            page.recovery.show_banner(
                live.url(),
                refused.unwrap_or_else(messages::abandoned_sign_in),
                Some(snapshot.challenge),
            );
            page.recovery
                .banner
                .update(|banner| banner.iter_mut().for_each(|b| b.command = command.clone()));
        }
        None => page.recovery.show_banner(
            snapshot.server_url,
            refused.unwrap_or_else(|| {
                "Signing in was not completed, so Keyhole is not connected to this server.".into()
            }),
            None,
        ),
    }
}
