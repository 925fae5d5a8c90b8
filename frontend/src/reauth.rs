//! The re-auth banner (`reauth-banner`, `reauth-button`, `reauth-dismiss`): shown when a sign-in
//! was left unfinished (a resume snapshot is still there on a normal page load). Its button signs in
//! again; dismissing forgets the snapshot.

use leptos::prelude::*;

use crate::oauth;

#[component]
pub fn ReauthBanner(
    /// The server whose sign-in was abandoned; the banner shows while this is set.
    server: RwSignal<Option<String>>,
    on_retry: Callback<String>,
) -> impl IntoView {
    move || {
        server.get().map(|url| {
            let retry_url = url.clone();
            view! {
                <div class="banner" role="alert" data-testid="reauth-banner">
                    <span>
                        "Signing in to " <code>{url.clone()}</code>
                        " was not completed, so Keyhole is not connected to it."
                    </span>
                    <button
                        type="button"
                        data-testid="reauth-button"
                        on:click=move |_| {
                            oauth::clear_snapshot();
                            server.set(None);
                            on_retry.run(retry_url.clone());
                        }
                    >
                        "Sign in again"
                    </button>
                    <button
                        type="button"
                        class="link"
                        data-testid="reauth-dismiss"
                        on:click=move |_| {
                            oauth::clear_snapshot();
                            server.set(None);
                        }
                    >
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}
