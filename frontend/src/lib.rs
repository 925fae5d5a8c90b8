//! Keyhole's web app. `App` is the root component; `main.rs` only mounts it.

mod api;
mod connection;
mod servers;

use leptos::prelude::*;

use crate::connection::{ConnectionStatus, StatusBadge};
use crate::servers::ServersView;

/// The root component: a header with the Keyhole version and connection status, then the servers view.
#[component]
pub fn App() -> impl IntoView {
    api::take_token_from_address_bar();
    let status = RwSignal::new(ConnectionStatus::Disconnected);
    let config = LocalResource::new(api::fetch_config);

    view! {
        <header class="topbar">
            <span class="brand">"Keyhole"</span>
            <span class="version" data-testid="keyhole-version">
                <Suspense fallback=|| "…">
                    {move || {
                        config
                            .get()
                            .map(|result| match result {
                                Ok(config) => format!("v{}", config.version),
                                Err(_) => String::new(),
                            })
                    }}
                </Suspense>
            </span>
            <StatusBadge status=status />
        </header>
        <main class="content">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    config
                        .get()
                        .map(|result| match result {
                            Ok(config) => view! { <ServersView config=config status=status /> }.into_any(),
                            Err(error) => {
                                view! {
                                    <p class="error" role="alert" data-testid="config-error">
                                        {error.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </main>
    }
}
