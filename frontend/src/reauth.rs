//! The re-auth banner (`reauth-banner`, `reauth-button`, `reauth-dismiss`): persistent, shown when
//! a recovery failed, was denied, or was left unfinished (a resume snapshot still there on a normal
//! page load). Its button authenticates again on the live session, without disconnecting; with no
//! session to keep it connects from scratch. Dismissing forgets the snapshot.

use keyhole_shared::resume::Trigger;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::oauth;
use crate::recovery::{self, Banner, Recovery};
use crate::session::Session;

#[component]
pub fn ReauthBanner(
    recovery: Recovery,
    session: RwSignal<Option<Session>>,
    /// Connects to a server from scratch.
    on_reconnect: Callback<String>,
) -> impl IntoView {
    let retry = move |banner: Banner| {
        oauth::clear_snapshot();
        oauth::forget_automatic_sign_ins(&banner.server_url);
        recovery.banner.set(None);
        let live = session
            .get_untracked()
            .filter(|s| s.url() == banner.server_url);
        match (live, banner.challenge) {
            (Some(live), Some(challenge)) => spawn_local(async move {
                let _ = recovery::recover(live, challenge, Trigger::Banner).await;
            }),
            _ => on_reconnect.run(banner.server_url),
        }
    };
    move || {
        recovery.banner.get().map(|banner| {
            let shown = banner.clone();
            view! {
                <div class="banner" role="alert" data-testid="reauth-banner">
                    <span>
                        <strong>"Authorization for " <code>{shown.server_url.clone()}</code> " needs attention. "</strong>
                        <span data-testid="reauth-reason">{shown.reason.clone()}</span>
                    </span>
                    <button type="button" data-testid="reauth-button"
                        on:click=move |_| retry(banner.clone())>
                        "Authorize again"
                    </button>
                    <button type="button" class="link" data-testid="reauth-dismiss"
                        on:click=move |_| {
                            oauth::clear_snapshot();
                            recovery.banner.set(None);
                        }>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}
