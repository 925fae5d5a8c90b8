//! The servers view: the demo servers, the `mcp.json` catalog (each entry with its own Connect
//! button, `server-connect-<name>`), and "connect to URL".

use keyhole_shared::api::{CatalogEntry, ConfigResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use crate::connect::{self, ConnectOutcome, Connection};
use crate::connection::ConnectionStatus;

#[component]
pub fn ServersView(
    config: ConfigResponse,
    status: RwSignal<ConnectionStatus>,
    /// Called with the server URL and the successful `/api/mcp/connect` reply.
    on_connected: Callback<Connection>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let headers = RwSignal::new(String::new());
    let connect = move || {
        let extra = match parse_headers(&headers.get_untracked()) {
            Ok(extra) => extra,
            Err(message) => {
                status.set(ConnectionStatus::Error { message });
                return;
            }
        };
        let target = url.get_untracked().trim().to_owned();
        if target.is_empty() {
            status.set(ConnectionStatus::Error {
                message: "Enter the URL of an MCP server first.".into(),
            });
            return;
        }
        start_connect(target, extra, status, on_connected);
    };
    // A catalog entry's button connects at once (its URL also lands in the field).
    let on_use = Callback::new(move |target: String| {
        url.set(target);
        connect();
    });
    let entries: Vec<CatalogEntry> = config
        .demo_servers
        .into_iter()
        .chain(config.catalog)
        .collect();

    view! {
        <section class="panel" aria-labelledby="connect-heading">
            <h2 id="connect-heading">"Connect to an MCP server"</h2>
            <form
                class="connect-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    connect();
                }
            >
                <label for="server-url">"Streamable HTTP URL"</label>
                <input
                    id="server-url"
                    type="url"
                    placeholder="http://127.0.0.1:3000/mcp"
                    data-testid="server-url-input"
                    bind:value=url
                />
                <button type="submit" data-testid="connect-button">"Connect"</button>
                <details class="connect-headers">
                    <summary>"Custom headers"</summary>
                    <label for="server-headers">"One " <code>"Name: value"</code> " per line, sent with every MCP request (not kept across an OAuth redirect)"</label>
                    <textarea id="server-headers" rows="3" class="mono" data-testid="server-headers-input" bind:value=headers></textarea>
                </details>
            </form>
        </section>
        <section class="panel" aria-labelledby="catalog-heading">
            <h2 id="catalog-heading">"Servers"</h2>
            {config
                .demo_control_url
                .map(|href| {
                    view! {
                        <p class="muted">
                            "Demo servers are running. Trigger expiry, revocation or scope changes from the "
                            <a href=href target="_blank" rel="noopener" data-testid="demo-control-link">
                                "demo control page"
                            </a> "."
                        </p>
                    }
                })}
            {if entries.is_empty() {
                view! { <p class="muted">"No configured servers. Pass --config mcp.json to list some."</p> }
                    .into_any()
            } else {
                view! {
                    <ul class="catalog">
                        {entries
                            .into_iter()
                            .map(|entry| view! { <CatalogItem entry=entry on_use=on_use /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// Connects to `target` (signing in when needed), reporting through `status` and `on_connected`.
pub fn start_connect(
    target: String,
    headers: Map<String, Value>,
    status: RwSignal<ConnectionStatus>,
    on_connected: Callback<Connection>,
) {
    status.set(ConnectionStatus::Connecting {
        url: target.clone(),
    });
    spawn_local(async move {
        match connect::connect(&target, headers).await {
            ConnectOutcome::Connected { reply, bearer } => {
                on_connected.run(Connection {
                    url: target.clone(),
                    reply,
                    bearer,
                });
                status.set(ConnectionStatus::Connected { url: target });
            }
            ConnectOutcome::Redirecting => status.set(ConnectionStatus::Connecting {
                url: format!("{target} (signing in…)"),
            }),
            ConnectOutcome::Failed(message) => status.set(ConnectionStatus::Error { message }),
        }
    });
}

/// `Name: value` lines into a JSON object of headers.
fn parse_headers(text: &str) -> Result<Map<String, Value>, String> {
    let mut headers = Map::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "The header line \"{line}\" needs the form Name: value."
            ));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("\"{name}\" is not a valid header name."));
        }
        headers.insert(name.to_owned(), Value::String(value.trim().to_owned()));
    }
    Ok(headers)
}

#[component]
fn CatalogItem(entry: CatalogEntry, on_use: Callback<String>) -> impl IntoView {
    let pick = entry.url.clone();
    view! {
        <li class="catalog-item" data-testid=format!("server-item-{}", entry.name)>
            <strong>{entry.name.clone()}</strong>
            {entry.description.clone().map(|d| view! { <span class="muted">{d}</span> })}
            {match (pick, entry.unsupported_reason.clone()) {
                (Some(target), None) => {
                    view! {
                        <button type="button" data-testid=format!("server-connect-{}", entry.name)
                            on:click=move |_| on_use.run(target.clone())>"Connect"</button>
                    }
                        .into_any()
                }
                (_, reason) => {
                    view! {
                        <span class="unsupported">
                            {reason.unwrap_or_else(|| "Keyhole cannot connect to this entry yet.".into())}
                        </span>
                    }
                        .into_any()
                }
            }}
        </li>
    }
}
