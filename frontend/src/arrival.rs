//! What the page does when it loads after leaving for a sign-in (DESIGN §4):
//! - on `/oauth/callback`: the snapshot is checked against `state` (a mismatch exchanges
//!   nothing), the still-live backend session is picked up again, the new tokens are pushed to it,
//!   the tab and forms come back, and a message says what happened (success, partial consent, or
//!   the reason it failed, with the re-auth banner);
//! - on a normal load with a snapshot left over: the sign-in was abandoned, so the session is picked
//!   up again and the banner offers to finish it.

use keyhole_shared::messages;
use keyhole_shared::resume::ResumeSnapshot;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api;
use crate::connect::{self, ConnectOutcome, Connection};
use crate::connection::ConnectionStatus;
use crate::oauth;
use crate::recovery::Recovery;
use crate::session::{Session, encode};
use crate::toast::{ToastKind, Toasts};

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
        spawn_local(after_callback(page));
    } else if let Some(snapshot) = oauth::abandoned_sign_in() {
        spawn_local(after_abandoned(page, snapshot));
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
    let reply = api::get_json::<Value>(&path).await.ok()?;
    if reply["ok"] != Value::Bool(true) {
        return None;
    }
    let live = Session::new(
        snapshot.backend_session_id.clone(),
        snapshot.server_url.clone(),
        reply["initializeResult"].clone(),
        None,
        recovery,
    );
    live.ui
        .restore_from(&snapshot.active_tab, snapshot.tabs.clone());
    Some(live)
}

async fn after_callback(page: Page) {
    oauth::load_catalog().await;
    let callback = oauth::complete_callback().await;
    let snapshot = callback.snapshot;
    let live = match &snapshot {
        Some(snapshot) => pick_up(snapshot, page.recovery).await,
        None => None,
    };
    let challenge = snapshot.as_ref().map(|s| s.challenge.clone());
    match (live, callback.grant) {
        (Some(live), Ok(grant)) => {
            page.show.run(live);
            match live.push_tokens(&grant.tokens).await {
                Ok(()) if grant.missing.is_empty() => {
                    page.toasts.show(ToastKind::Success, grant.message)
                }
                Ok(()) => page.toasts.show(ToastKind::Warning, grant.message),
                Err(error) => page.recovery.show_banner(live.url(), error, challenge),
            }
        }
        (Some(live), Err(reason)) => {
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

async fn after_abandoned(page: Page, snapshot: ResumeSnapshot) {
    match pick_up(&snapshot, page.recovery).await {
        Some(live) => {
            page.show.run(live);
            page.recovery.show_banner(
                live.url(),
                messages::abandoned_sign_in(),
                Some(snapshot.challenge),
            );
        }
        None => page.recovery.show_banner(
            snapshot.server_url,
            "Signing in was not completed, so Keyhole is not connected to this server.".into(),
            None,
        ),
    }
}
