//! The view of one connection: server identity, Disconnect, and the tabs (Tools, Resources,
//! Prompts, Tasks for a server that lists them, Protocol, Logs, Network, Auth). A tab is mounted the first time it is opened and then kept,
//! so switching tabs never loses a half-filled form. The server's instructions are rendered as
//! Markdown (`server-instructions`).

use leptos::prelude::*;

use crate::flows::session::Session;
use crate::platform::page::monotonic_ms;
use crate::platform::text::duration_text;
use crate::views::auth_view::auth_tab;
use crate::views::lazy::lazy_view;
use crate::views::logs::logs_tab;
use crate::views::markdown_view::Markdown;
use crate::views::network::network_tab;
use crate::views::prompts::prompts_tab;
use crate::views::protocol::protocol_tab;
use crate::views::resources::resources_tab;
use crate::views::server_requests::client_panel;
use crate::views::tasks_tab::tasks_tab;
use crate::views::tools::tools_tab;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Tools,
    Resources,
    Prompts,
    Tasks,
    Protocol,
    Logs,
    Network,
    Auth,
}

impl Tab {
    const ALL: [Tab; 8] = [
        Tab::Tools,
        Tab::Resources,
        Tab::Prompts,
        Tab::Tasks,
        Tab::Protocol,
        Tab::Logs,
        Tab::Network,
        Tab::Auth,
    ];

    fn slug(self) -> &'static str {
        match self {
            Tab::Tools => "tools",
            Tab::Resources => "resources",
            Tab::Prompts => "prompts",
            Tab::Tasks => "tasks",
            Tab::Protocol => "protocol",
            Tab::Logs => "logs",
            Tab::Network => "network",
            Tab::Auth => "auth",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Tools => "Tools",
            Tab::Resources => "Resources",
            Tab::Prompts => "Prompts",
            Tab::Tasks => "Tasks",
            Tab::Protocol => "Protocol",
            Tab::Logs => "Logs",
            Tab::Network => "Network",
            Tab::Auth => "Auth",
        }
    }
}

#[component]
pub fn Workspace(session: Session, on_disconnect: Callback<()>) -> impl IntoView {
    // The active tab lives in the session's UI state, so a resume snapshot can carry it.
    let active_slug = session.ui.active_tab;
    let active = Memo::new(move |_| {
        let slug = active_slug.get();
        Tab::ALL
            .into_iter()
            .find(|t| t.slug() == slug)
            .unwrap_or(Tab::Tools)
    });
    let seen = RwSignal::new(vec![active.get_untracked()]);
    let open = move |tab: Tab| {
        active_slug.set(tab.slug().to_owned());
        seen.update(|s| {
            if !s.contains(&tab) {
                s.push(tab);
            }
        });
    };
    let init = session.initialize_result();
    let server_name = init["serverInfo"]["title"]
        .as_str()
        .or(init["serverInfo"]["name"].as_str())
        .unwrap_or("MCP server")
        .to_owned();
    let server_version = init["serverInfo"]["version"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let protocol_version = init["protocolVersion"].as_str().unwrap_or("").to_owned();
    // Versions are dates: 2026-07-28 and later have no session (see the backend's MCP client).
    let era = if protocol_version.as_str() >= "2026-07-28" {
        "stateless"
    } else {
        "session"
    };
    let instructions = init["instructions"].as_str().map(str::to_owned);
    // The Tasks tab is for a server that lists its tasks.
    let lists_tasks = init.pointer("/capabilities/tasks/list").is_some();
    let target = target_of(&session.url());

    // The server's requests and the roots: a panel of its own chunk, shown while requests wait
    // or when opened, and kept once loaded.
    let client_open = RwSignal::new(false);
    let pinged = RwSignal::new(None::<String>);
    let client_shown =
        move || client_open.get() || session.client.pending.with(|pending| !pending.is_empty());
    let client_loaded = Memo::new(move |was: Option<&bool>| was == Some(&true) || client_shown());

    let panel = move |tab: Tab, body: fn(Session) -> AnyView| {
        view! {
            <Show when=move || seen.with(|s| s.contains(&tab))>
                <div
                    role="tabpanel"
                    id=format!("panel-{}", tab.slug())
                    aria-labelledby=format!("tab-{}", tab.slug())
                    hidden=move || active.get() != tab
                >
                    {body(session)}
                </div>
            </Show>
        }
    };

    view! {
        <section class="panel workspace">
            <div class="server-head">
                <div>
                    <h2>{server_name} " " <span class="muted">{server_version}</span></h2>
                    <p class="muted">
                        <span data-testid="transport">{session.transport}</span> " · "
                        <code data-testid="server-target">{target}</code>
                        " · protocol "
                        <span data-testid="protocol-version" data-era=era>{protocol_version} " (" {era} ")"</span>
                    </p>
                    {instructions.map(|i| view! {
                        <div class="instructions" data-testid="server-instructions"><Markdown text=i /></div>
                    })}
                </div>
                <span>
                    <button type="button" data-testid="ping-button" title="Send ping and time the answer"
                        on:click=move |_| leptos::task::spawn_local(async move {
                            let started = monotonic_ms();
                            let answer = session.request("ping", serde_json::json!({})).await;
                            pinged.set(Some(match answer {
                                Ok(_) => format!("answered in {}", duration_text(monotonic_ms() - started)),
                                Err(error) => error.to_string(),
                            }));
                        })>"Ping"</button>
                    {move || pinged.get().map(|text| view! { " " <span class="muted" data-testid="ping-result">{text}</span> })}
                </span>
                <button type="button" data-testid="client-panel-toggle"
                    on:click=move |_| client_open.update(|open| *open = !*open)>
                    "Server requests & roots"
                    {move || {
                        let waiting = session.client.pending.with(Vec::len);
                        (waiting > 0).then(|| view! { " " <span class="badge" data-testid="requests-badge">{waiting}</span> })
                    }}
                </button>
                <button
                    type="button"
                    data-testid="disconnect-button"
                    on:click=move |_| on_disconnect.run(())
                >
                    "Disconnect"
                </button>
            </div>
            <Show when=move || client_loaded.get()>
                <div hidden=move || !client_shown()>{lazy_view(client_panel(session))}</div>
            </Show>
            <nav class="tabs" role="tablist">
                {Tab::ALL
                    .into_iter()
                    .filter(move |tab| *tab != Tab::Tasks || lists_tasks)
                    .map(|tab| {
                        view! {
                            <button
                                type="button"
                                role="tab"
                                id=format!("tab-{}", tab.slug())
                                class="tab"
                                class:active=move || active.get() == tab
                                aria-selected=move || (active.get() == tab).to_string()
                                aria-controls=format!("panel-{}", tab.slug())
                                data-testid=format!("tab-{}", tab.slug())
                                on:click=move |_| open(tab)
                            >
                                {tab.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </nav>
            {panel(Tab::Tools, |s| lazy_view(tools_tab(s)).into_any())}
            {panel(Tab::Resources, |s| lazy_view(resources_tab(s)).into_any())}
            {panel(Tab::Prompts, |s| lazy_view(prompts_tab(s)).into_any())}
            {panel(Tab::Tasks, |s| lazy_view(tasks_tab(s)).into_any())}
            {panel(Tab::Protocol, |s| lazy_view(protocol_tab(s)).into_any())}
            {panel(Tab::Logs, |s| lazy_view(logs_tab(s)).into_any())}
            {panel(Tab::Network, |s| lazy_view(network_tab(s)).into_any())}
            {panel(Tab::Auth, |s| lazy_view(auth_tab(s)).into_any())}
        </section>
    }
}

/// What the server is, for the header: a stdio server's command line (the backend names it
/// `stdio:` and the form-encoded line), or the URL.
fn target_of(url: &str) -> String {
    match url.strip_prefix("stdio:") {
        Some(encoded) => js_sys::decode_uri_component(&encoded.replace('+', " "))
            .map(String::from)
            .unwrap_or_else(|_| encoded.to_owned()),
        None => url.to_owned(),
    }
}
