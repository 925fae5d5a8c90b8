//! Keyhole's web app. `App` is the root component; `main.rs` only mounts it.

mod flows;
mod model;
mod platform;
mod views;

use crate::flows::{arrival, oauth};
use crate::platform::{api, events, keys};
use crate::views::servers;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::connect::Connection;
use crate::flows::recovery::Recovery;
use crate::flows::session::Session;
use crate::platform::events::EventStream;
use crate::views::reauth::ReauthBanner;
use crate::views::servers::ServersView;
use crate::views::status_badge::{ConnectionStatus, StatusBadge};
use crate::views::step_up::StepUpModal;
use crate::views::toast::{ToastKind, ToastStack, Toasts};
use crate::views::workspace::Workspace;

/// The root component: a header with the Keyhole version and connection status, the re-auth
/// banner, then the servers view, or the connection's workspace once connected.
#[component]
pub fn App() -> impl IntoView {
    crate::platform::page::mark("keyhole-app");
    api::take_token_from_address_bar();
    keys::install();
    let status = RwSignal::new(ConnectionStatus::Disconnected);
    let config = LocalResource::new(|| async {
        let config = api::fetch_config().await;
        if let Ok(config) = &config {
            oauth::remember_catalog(config);
        }
        config
    });
    let toasts = Toasts::new();
    provide_context(toasts);
    let recovery = Recovery::new(toasts);
    let session = RwSignal::new(None::<Session>);
    let stream = StoredValue::new_local(None::<EventStream>);

    let show = Callback::new(move |live: Session| {
        stream.set_value(events::open(live));
        spawn_local(async move { live.load_network_log().await });
        session.set(Some(live));
        status.set(ConnectionStatus::Connected { url: live.url() });
    });
    let on_connected = Callback::new(move |connection: Connection| {
        let live = Session::new(
            connection.url,
            connection.reply,
            connection.bearer,
            recovery,
        );
        show.run(live);
        toasts.show(ToastKind::Success, format!("Connected to {}.", live.url()));
    });
    let on_reconnect = Callback::new(move |url: String| {
        servers::start_connect(url, Default::default(), None, status, on_connected);
    });
    arrival::on_load(arrival::Page {
        recovery,
        toasts,
        status,
        show,
        on_connected,
    });
    let on_disconnect = Callback::new(move |()| {
        oauth::clear_snapshot();
        recovery.reset();
        stream.set_value(None);
        if let Some(live) = session.get_untracked() {
            spawn_local(async move { live.disconnect().await });
        }
        session.set(None);
        status.set(ConnectionStatus::Disconnected);
        toasts.show(ToastKind::Info, "Disconnected.");
    });

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
            <StatusBadge status=status trouble=recovery.trouble />
        </header>
        <main class="content">
            <ReauthBanner recovery=recovery session=session on_reconnect=on_reconnect />
            {move || match session.get() {
                Some(live) => view! { <Workspace session=live on_disconnect=on_disconnect /> }.into_any(),
                None => view! {
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || {
                            config
                                .get()
                                .map(|result| match result {
                                    Ok(config) => view! {
                                        <ServersView config=config status=status on_connected=on_connected />
                                    }
                                    .into_any(),
                                    Err(error) => view! {
                                        <p class="error" role="alert" data-testid="config-error">
                                            {error.to_string()}
                                        </p>
                                    }
                                    .into_any(),
                                })
                        }}
                    </Suspense>
                }
                .into_any(),
            }}
        </main>
        <StepUpModal recovery=recovery />
        <ToastStack toasts=toasts />
    }
}
