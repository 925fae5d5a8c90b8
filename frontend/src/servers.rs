//! The servers view: the demo servers, the `mcp.json` catalog, and "connect to URL".

use keyhole_shared::api::{CatalogEntry, ConfigResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::api;
use crate::connection::ConnectionStatus;

#[component]
pub fn ServersView(config: ConfigResponse, status: RwSignal<ConnectionStatus>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let connect = move || {
        let target = url.get_untracked().trim().to_owned();
        if target.is_empty() {
            status.set(ConnectionStatus::Error {
                message: "Enter the URL of an MCP server first.".into(),
            });
            return;
        }
        status.set(ConnectionStatus::Connecting {
            url: target.clone(),
        });
        spawn_local(async move {
            let body = json!({ "config": { "type": "streamable-http", "url": target } });
            let outcome = api::post_json::<_, Value>("/api/mcp/connect", &body).await;
            status.set(match outcome {
                Ok(reply) if reply["ok"] == Value::Bool(true) => {
                    ConnectionStatus::Connected { url: target }
                }
                Ok(reply) => ConnectionStatus::Error {
                    message: reply["message"]
                        .as_str()
                        .unwrap_or("The connection failed.")
                        .to_owned(),
                },
                Err(error) => ConnectionStatus::Error {
                    message: error.to_string(),
                },
            });
        });
    };
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
                            .map(|entry| view! { <CatalogItem entry=entry url=url /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn CatalogItem(entry: CatalogEntry, url: RwSignal<String>) -> impl IntoView {
    let pick = entry.url.clone();
    view! {
        <li class="catalog-item" data-testid=format!("server-item-{}", entry.name)>
            <strong>{entry.name.clone()}</strong>
            {entry.description.clone().map(|d| view! { <span class="muted">{d}</span> })}
            {match (pick, entry.unsupported_reason.clone()) {
                (Some(target), None) => {
                    view! {
                        <button type="button" on:click=move |_| url.set(target.clone())>"Use"</button>
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
