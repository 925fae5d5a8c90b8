//! The re-auth banner (`reauth-banner`, `reauth-button`, `reauth-start-over`, `reauth-dismiss`):
//! persistent, shown when a recovery failed, was denied, or was left unfinished (a resume snapshot
//! still there on a normal page load), or when the server refuses a token it accepted before. Its
//! button authenticates again on the live session, without disconnecting; with no session to keep
//! it connects from scratch. "Start over with a new registration" first forgets the client
//! registration (and the tokens issued to it): the way out when the authorization server forgot
//! it. Dismissing forgets the snapshot.

use keyhole_shared::resume::Trigger;
use keyhole_shared::store::Forget;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::oauth;
use crate::flows::recovery::{self, Banner, Recovery};
use crate::flows::session::Session;

#[component]
pub fn ReauthBanner(
    recovery: Recovery,
    session: RwSignal<Option<Session>>,
    /// Connects to a server from scratch.
    on_reconnect: Callback<String>,
) -> impl IntoView {
    let retry = move |banner: Banner, start_over: bool| {
        oauth::clear_snapshot();
        oauth::note_sign_in(&banner.server_url, true);
        recovery.hold_sign_ins(None);
        recovery.banner.set(None);
        let live = session
            .get_untracked()
            .filter(|s| s.url() == banner.server_url);
        spawn_local(async move {
            if start_over {
                let session_id = live.map(|s| s.id());
                if let Err(error) = oauth::client_in(session_id)
                    .forget(&banner.server_url, Forget::CLIENT)
                    .await
                {
                    recovery.show_banner(banner.server_url, error.to_string(), banner.challenge);
                    return;
                }
            }
            match (live, banner.challenge) {
                (Some(live), Some(challenge)) => {
                    let trigger = banner.command.unwrap_or(Trigger::Banner);
                    let _ = recovery::recover(live, challenge, trigger, true).await;
                }
                _ => on_reconnect.run(banner.server_url),
            }
        });
    };
    move || {
        recovery.banner.get().map(|banner| {
            let (shown, again) = (banner.clone(), banner.clone());
            view! {
                <div class="banner" role="alert" data-testid="reauth-banner">
                    <span>
                        <strong>"Authorization for " <code>{shown.server_url.clone()}</code> " needs attention. "</strong>
                        <span data-testid="reauth-reason">{shown.reason.clone()}</span>
                    </span>
                    <button type="button" data-testid="reauth-button"
                        on:click=move |_| retry(banner.clone(), false)>
                        "Authorize again"
                    </button>
                    <button type="button" class="small" data-testid="reauth-start-over"
                        title="Forget Keyhole's client registration at the authorization server, register again and sign in"
                        on:click=move |_| retry(again.clone(), true)>
                        "Start over with a new registration"
                    </button>
                    <button type="button" class="link" data-testid="reauth-dismiss"
                        on:click=move |_| {
                            oauth::clear_snapshot();
                            recovery.hold_sign_ins(None);
                            recovery.banner.set(None);
                        }>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}
