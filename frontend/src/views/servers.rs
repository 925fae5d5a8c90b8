//! The servers view: the saved servers (`views/saved_servers.rs`), the demo servers, the
//! `mcp.json` catalog, read-only (each entry with its own Connect
//! button, `server-connect-<name>`, which brings its URL and headers into the form and connects),
//! the servers set up in the connect form during this run, and "connect to URL" (custom headers;
//! enterprise-managed authorization, whose settings go to the backend, never to browser storage).

use keyhole_shared::ScopeSet;
use keyhole_shared::api::{AddServerRequest, CatalogEntry, ConfigResponse, StdioEntry};
use keyhole_shared::oauth_client::{
    EnterpriseConfig, Issuer, PreRegisteredClient, TokenEndpointAuthMethod,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::flows::connect::{self, ConnectOutcome, Connection};
use crate::flows::oauth;
use crate::platform::api;
use crate::views::bundle_view;
use crate::views::command_form;
use crate::views::doctor_view;
use crate::views::enterprise_form;
use crate::views::lazy::lazy_view;
use crate::views::saved_servers;
use crate::views::status_badge::ConnectionStatus;

/// The connect form's enterprise-managed authorization (SEP-990) fields.
#[derive(Clone, Copy)]
pub struct EnterpriseFields {
    pub idp_issuer: RwSignal<String>,
    pub idp_client_id: RwSignal<String>,
    pub idp_client_secret: RwSignal<String>,
    /// `client_secret_basic`, `client_secret_post`, or empty: what the server announces.
    pub idp_auth_method: RwSignal<String>,
    pub client_id: RwSignal<String>,
    pub client_secret: RwSignal<String>,
    pub auth_method: RwSignal<String>,
}

impl EnterpriseFields {
    fn new() -> Self {
        let field = || RwSignal::new(String::new());
        Self {
            idp_issuer: field(),
            idp_client_id: field(),
            idp_client_secret: field(),
            idp_auth_method: field(),
            client_id: field(),
            client_secret: field(),
            auth_method: field(),
        }
    }

    /// `Ok(None)` when the fields are empty, the settings when they are filled, else what is
    /// missing.
    fn settings(&self) -> Result<Option<EnterpriseConfig>, String> {
        let text = |field: RwSignal<String>| field.get_untracked().trim().to_owned();
        let all = [
            self.idp_issuer,
            self.idp_client_id,
            self.idp_client_secret,
            self.client_id,
            self.client_secret,
        ];
        if all.iter().all(|f| text(*f).is_empty()) {
            return Ok(None);
        }
        let required = [
            (self.idp_issuer, "the IdP issuer URL"),
            (self.idp_client_id, "the client ID at the IdP"),
            (
                self.client_id,
                "the client ID at the server's authorization server",
            ),
        ];
        if let Some((_, name)) = required.iter().find(|(f, _)| text(*f).is_empty()) {
            return Err(format!("Enterprise-managed authorization needs {name}."));
        }
        let client = |id: RwSignal<String>, secret: RwSignal<String>, method: RwSignal<String>| {
            let mut client = PreRegisteredClient::public(text(id));
            client.client_secret = Some(text(secret)).filter(|s| !s.is_empty()).map(Into::into);
            client.auth_method = TokenEndpointAuthMethod::parse(&text(method));
            client
        };
        Ok(Some(EnterpriseConfig {
            idp_issuer: Issuer::new(text(self.idp_issuer)),
            idp_client: client(
                self.idp_client_id,
                self.idp_client_secret,
                self.idp_auth_method,
            ),
            idp_scope: ScopeSet::parse("openid email"),
            resource_client: client(self.client_id, self.client_secret, self.auth_method),
        }))
    }
}

#[component]
pub fn ServersView(
    config: ConfigResponse,
    status: RwSignal<ConnectionStatus>,
    /// Called with the server URL and the successful `/api/mcp/connect` reply.
    on_connected: Callback<Connection>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let headers = RwSignal::new(String::new());
    // Empty: negotiate (2026-07-28 first, then the 2025 handshake).
    let protocol_version = RwSignal::new(String::new());
    let enterprise = EnterpriseFields::new();
    let connect = move || {
        let pinned = Some(protocol_version.get_untracked()).filter(|v| !v.is_empty());
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
        let settings = match enterprise.settings() {
            Ok(settings) => settings,
            Err(message) => {
                status.set(ConnectionStatus::Error { message });
                return;
            }
        };
        match settings {
            None => start_connect(target, extra, pinned, status, on_connected),
            Some(settings) => spawn_local(async move {
                let request = AddServerRequest {
                    url: target.clone(),
                    enterprise: settings.clone(),
                };
                if let Err(error) =
                    api::post_json::<_, Value>("/api/config/servers", &request).await
                {
                    status.set(ConnectionStatus::Error {
                        message: format!(
                            "The enterprise-managed settings were not accepted: {error}"
                        ),
                    });
                    return;
                }
                oauth::remember_enterprise(&target, settings);
                start_connect(target, extra, pinned, status, on_connected);
            }),
        }
    };
    // A catalog entry's button connects at once (its URL and headers also land in the form).
    let on_use = Callback::new(move |entry: CatalogEntry| {
        oauth::remember_entry(entry.clone());
        url.set(entry.url.unwrap_or_default());
        headers.set(entry_headers(&entry.headers));
        protocol_version.set(entry.protocol_version.unwrap_or_default());
        connect();
    });
    // A catalog stdio entry: the backend starts it (the button shows the command line first).
    let on_stdio = Callback::new(move |entry: StdioEntry| {
        status.set(ConnectionStatus::Connecting {
            url: entry.display.clone(),
        });
        spawn_local(async move {
            let outcome = connect::connect_stdio(&entry).await;
            finish_connect(outcome, None, status, on_connected);
        });
    });
    // The form for a command typed here is its own wasm chunk, fetched when first opened.
    let command_form_opened = RwSignal::new(false);
    // So are the enterprise-managed fields.
    let enterprise_opened = RwSignal::new(false);
    // The doctor (an authorization audit of the URL in the form, and the guided sign-in) is a
    // chunk of its own too; it opens by itself when a guided sign-in comes back.
    let guided = oauth::guided_pending();
    let doctor_opened = RwSignal::new(guided);
    let bundle_opened = RwSignal::new(false);
    let saved = config.saved;
    // The saved servers are their own chunk, fetched once the form is on screen (its fetch and
    // compilation would otherwise hold up the first view).
    let show_saved = RwSignal::new(false);
    spawn_local(async move {
        crate::platform::page::after_next_paint().await;
        show_saved.set(true);
    });
    let entries: Vec<CatalogEntry> = config
        .demo_servers
        .into_iter()
        .chain(config.catalog)
        .chain(config.added_servers)
        .collect();

    // Effects run once the view is in the page: the form can be used from here (benchmarks read
    // this mark).
    Effect::new(|_| crate::platform::page::mark("keyhole-form"));

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
                <label for="server-url">"Server URL (Streamable HTTP, or HTTP+SSE)"</label>
                <input
                    id="server-url"
                    type="url"
                    placeholder="http://127.0.0.1:3000/mcp"
                    data-testid="server-url-input"
                    bind:value=url
                />
                <select
                    aria-label="MCP protocol version"
                    data-testid="protocol-version-select"
                    on:change=move |ev| protocol_version.set(event_target_value(&ev))
                >
                    <option value="" prop:selected=move || protocol_version.get().is_empty()>"newest the server speaks"</option>
                    {["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]
                        .map(|v| view! { <option value=v prop:selected=move || protocol_version.get() == v>{v}</option> })}
                </select>
                <button type="submit" data-testid="connect-button">"Connect"</button>
                <details class="connect-headers">
                    <summary>"Custom headers"</summary>
                    <label for="server-headers">"One " <code>"Name: value"</code> " per line, sent with every MCP request (not kept across an OAuth redirect)"</label>
                    <textarea id="server-headers" rows="3" class="mono" data-testid="server-headers-input" bind:value=headers></textarea>
                </details>
                <details class="connect-headers" on:toggle=move |_| enterprise_opened.set(true)>
                    <summary>"Enterprise-managed authorization (SEP-990)"</summary>
                    <Show when=move || enterprise_opened.get()>
                        {lazy_view(enterprise_form::enterprise_form(enterprise))}
                    </Show>
                </details>
            </form>
            <details class="connect-headers" on:toggle=move |_| command_form_opened.set(true)>
                <summary data-testid="command-form-open">"Start a stdio server from a command line"</summary>
                <Show when=move || command_form_opened.get()>
                    {lazy_view(command_form::command_form(on_stdio))}
                </Show>
            </details>
            <details class="connect-headers" prop:open=guided on:toggle=move |_| doctor_opened.set(true)>
                <summary data-testid="doctor-open">"Audit the server's authorization set-up (doctor, debug sign-in)"</summary>
                <Show when=move || doctor_opened.get()>
                    {lazy_view(doctor_view::doctor_panel(url, headers))}
                </Show>
            </details>
            <details class="connect-headers" on:toggle=move |_| bundle_opened.set(true)>
                <summary data-testid="bundle-section">"Open an incident bundle (read-only)"</summary>
                <Show when=move || bundle_opened.get()>
                    {lazy_view(bundle_view::bundle_viewer())}
                </Show>
            </details>
        </section>
        {move || show_saved.get().then(|| lazy_view(saved_servers::saved_servers(saved.clone(), on_use, on_stdio)))}
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
                            .map(|entry| view! { <CatalogItem entry=entry on_use=on_use on_stdio=on_stdio /> })
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
    headers: BTreeMap<String, String>,
    protocol_version: Option<String>,
    status: RwSignal<ConnectionStatus>,
    on_connected: Callback<Connection>,
) {
    status.set(ConnectionStatus::Connecting {
        url: target.clone(),
    });
    spawn_local(async move {
        let outcome = connect::connect(&target, headers, protocol_version).await;
        if let ConnectOutcome::Redirecting = outcome {
            status.set(ConnectionStatus::Connecting {
                url: format!("{target} (signing in…)"),
            });
            return;
        }
        finish_connect(outcome, Some(target), status, on_connected);
    });
}

/// Reports how a connection attempt to `url` ended (`None`: the name the backend gives it, as
/// for a stdio server).
fn finish_connect(
    outcome: ConnectOutcome,
    url: Option<String>,
    status: RwSignal<ConnectionStatus>,
    on_connected: Callback<Connection>,
) {
    match outcome {
        ConnectOutcome::Connected { reply, bearer } => {
            let url = url.unwrap_or_else(|| reply.server_url.clone());
            on_connected.run(Connection {
                url: url.clone(),
                reply,
                bearer,
            });
            status.set(ConnectionStatus::Connected { url });
        }
        ConnectOutcome::Redirecting => {}
        ConnectOutcome::Failed(message) => status.set(ConnectionStatus::Error { message }),
    }
}

/// `Name: value` lines into headers.
pub fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut headers = BTreeMap::new();
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
        headers.insert(name.to_owned(), value.trim().to_owned());
    }
    Ok(headers)
}

/// An entry's headers as the headers field shows them (`Name: value` lines).
pub fn entry_headers(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect()
}

#[component]
fn CatalogItem(
    entry: CatalogEntry,
    on_use: Callback<CatalogEntry>,
    on_stdio: Callback<StdioEntry>,
) -> impl IntoView {
    if let Some(stdio) = entry.stdio.clone() {
        return view! {
            <li class="catalog-item" data-testid=format!("server-item-{}", entry.name)>
                <strong>{entry.name.clone()}</strong>
                <code data-testid=format!("server-command-{}", entry.name)>{stdio.display.clone()}</code>
                <button type="button" data-testid=format!("server-connect-{}", entry.name)
                    title="Starts this command on this machine and talks to it over stdio"
                    on:click=move |_| on_stdio.run(stdio.clone())>
                    "Start"
                </button>
            </li>
        }
        .into_any();
    }
    let pick = entry.url.clone();
    let managed = entry.enterprise.is_some();
    let chosen = entry.clone();
    view! {
        <li class="catalog-item" data-testid=format!("server-item-{}", entry.name)>
            <strong>{entry.name.clone()}</strong>
            {entry.description.clone().map(|d| view! { <span class="muted">{d}</span> })}
            {match (pick, entry.unsupported_reason.clone()) {
                (Some(_), None) => {
                    view! {
                        {managed.then(|| view! { <span class="muted">"enterprise-managed"</span> })}
                        <button type="button" data-testid=format!("server-connect-{}", entry.name)
                            on:click=move |_| on_use.run(chosen.clone())>
                            "Connect"
                        </button>
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
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::parse_headers;

    #[test]
    fn header_lines_become_headers_and_values_keep_their_colons() {
        let text = "X-Team: green\n\n  Authorization: Bearer a:b  \n";
        let headers: Vec<(String, String)> = parse_headers(text).unwrap().into_iter().collect();
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        assert_eq!(
            headers,
            [pair("Authorization", "Bearer a:b"), pair("X-Team", "green")]
        );
        assert!(parse_headers("  \n").unwrap().is_empty());
    }

    #[test]
    fn a_bad_line_is_refused_with_the_line_named() {
        assert_eq!(
            parse_headers("X-Team green").unwrap_err(),
            "The header line \"X-Team green\" needs the form Name: value."
        );
        assert_eq!(
            parse_headers("X Team: green").unwrap_err(),
            "\"X Team\" is not a valid header name."
        );
        assert_eq!(
            parse_headers(": green").unwrap_err(),
            "\"\" is not a valid header name."
        );
    }
}
