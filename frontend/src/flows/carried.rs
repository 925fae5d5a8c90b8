//! What a mid-session sign-in takes along besides the resume snapshot (`flows/oauth.rs`), in
//! `sessionStorage`, for the page that comes back (`flows/arrival.rs`): the auth timeline
//! ([`super::timeline`]: fingerprints and scopes, never a token) and the MCP App open in the Tools
//! tab (its tool, arguments and result), which the tool's panel reopens.

use leptos::prelude::*;

use super::oauth::session_storage;
use super::session::{OpenApp, Session};
use super::timeline::Incident;

/// The `sessionStorage` key of the timeline.
const TIMELINE_KEY: &str = "keyhole.timeline.v1";
/// The `sessionStorage` key of the open app.
const OPEN_APP_KEY: &str = "keyhole.open-app.v1";

/// Keeps `session`'s timeline and open app before the page leaves. Its own wasm chunk: only a
/// page about to leave needs the serialiser.
#[lazy]
pub async fn carry(session: Session) {
    let Some(storage) = session_storage() else {
        return;
    };
    if let Ok(text) = session.timeline.with_untracked(serde_json::to_string) {
        let _ = storage.set_item(TIMELINE_KEY, &text);
    }
    match session
        .open_app
        .get_value()
        .map(|app| serde_json::to_string(&app))
    {
        Some(Ok(text)) => {
            let _ = storage.set_item(OPEN_APP_KEY, &text);
        }
        _ => {
            let _ = storage.remove_item(OPEN_APP_KEY);
        }
    }
}

/// `key`'s value, removed from storage, read as `T`.
fn take<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    let storage = session_storage()?;
    let text = storage.get_item(key).ok().flatten();
    let _ = storage.remove_item(key);
    serde_json::from_str(&text?).ok()
}

/// The timeline [`carry`] kept (empty when none).
pub fn timeline() -> Vec<Incident> {
    take(TIMELINE_KEY).unwrap_or_default()
}

/// The open app [`carry`] kept.
pub fn open_app() -> Option<OpenApp> {
    take(OPEN_APP_KEY)
}
