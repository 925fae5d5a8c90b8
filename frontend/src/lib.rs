//! Keyhole's web app. `App` is the root component; `main.rs` only mounts it.

mod api;
mod auth_view;
mod connect;
mod connection;
mod content;
mod events;
mod network;
mod oauth;
mod prompts;
mod protocol;
mod reauth;
mod resources;
mod schema_form;
mod servers;
mod session;
mod toast;
mod tool_run;
mod tools;
mod workspace;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::connect::ConnectOutcome;
use crate::connection::{ConnectionStatus, StatusBadge};
use crate::events::EventStream;
use crate::reauth::ReauthBanner;
use crate::servers::ServersView;
use crate::session::Session;
use crate::toast::{ToastKind, ToastStack, Toasts};
use crate::workspace::Workspace;

/// The root component: a header with the Keyhole version and connection status, then the servers
/// view, or the connection's workspace once connected.
#[component]
pub fn App() -> impl IntoView {
    api::take_token_from_address_bar();
    let status = RwSignal::new(ConnectionStatus::Disconnected);
    let config = LocalResource::new(api::fetch_config);
    let toasts = Toasts::new();
    provide_context(toasts);
    let session = RwSignal::new(None::<Session>);
    let stream = StoredValue::new_local(None::<EventStream>);

    let on_connected = Callback::new(move |(url, reply): (String, Value)| {
        let id = reply["sessionId"].as_str().unwrap_or("").to_owned();
        let live = Session::new(id, url, reply["initializeResult"].clone());
        stream.set_value(events::open(live, toasts));
        spawn_local(async move { live.load_network_log().await });
        session.set(Some(live));
        toasts.show(ToastKind::Success, format!("Connected to {}.", live.url()));
    });
    let abandoned = RwSignal::new(if oauth::is_callback() {
        None
    } else {
        oauth::abandoned_sign_in()
    });
    let on_retry = Callback::new(move |url: String| {
        servers::start_connect(url, Default::default(), status, on_connected);
    });
    if oauth::is_callback() {
        status.set(ConnectionStatus::Connecting {
            url: "the server (finishing sign-in…)".into(),
        });
        spawn_local(async move {
            let (url, outcome) = connect::finish_callback().await;
            match (url, outcome) {
                (Some(url), ConnectOutcome::Connected(reply)) => {
                    on_connected.run((url.clone(), reply));
                    status.set(ConnectionStatus::Connected { url });
                }
                (_, ConnectOutcome::Failed(message)) => {
                    toasts.show(ToastKind::Error, message.clone());
                    status.set(ConnectionStatus::Error { message });
                }
                _ => status.set(ConnectionStatus::Disconnected),
            }
        });
    }
    let on_disconnect = Callback::new(move |()| {
        oauth::clear_snapshot();
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
            <StatusBadge status=status />
        </header>
        <main class="content">
            <ReauthBanner server=abandoned on_retry=on_retry />
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
        <ToastStack toasts=toasts />
    }
}
