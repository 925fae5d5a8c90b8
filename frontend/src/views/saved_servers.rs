//! The servers the user keeps: each connects in one click, and can be edited, cloned, removed or
//! moved; new ones are added with a form (a URL, or a command line for stdio; headers; the
//! protocol version and how to sign in: a client registered in advance, scopes, a client metadata
//! document, enterprise-managed settings), and the
//! whole list is exported as, or imported from, an `mcp.json` file. The backend keeps the list
//! in Keyhole's configuration folder (`PUT /api/config/saved`), so it is there after a restart;
//! settings the form does not show (enterprise-managed authorization, a stdio environment) are
//! kept as they were. A separate wasm chunk (`#[lazy]`).
//!
//! Test ids: `saved-servers`, `saved-path`, `saved-problem`, `saved-empty`, `saved-add`,
//! `saved-item-<name>` with `saved-transport-<name>`, `saved-connect-<name>`, `saved-edit-<name>`, `saved-clone-<name>`,
//! `saved-remove-<name>`, `saved-up-<name>`, `saved-down-<name>`; the editor `saved-editor`,
//! `saved-name-input`, `saved-transport-select` (`streamable-http|sse|stdio`), `saved-url-input`,
//! `saved-command-input`, `saved-headers-input`, `saved-more` (opens the rest:) `saved-protocol-select`, `saved-client-id-input`,
//! `saved-scopes-input`, `saved-metadata-url-input`, `saved-client-secret-input`,
//! `saved-ema-idp-issuer-input`, `saved-ema-idp-client-id-input`, `saved-ema-idp-client-secret-input`,
//! `saved-ema-idp-auth-method-select`,
//! `saved-ema-client-id-input`, `saved-ema-client-secret-input`, `saved-save`, `saved-cancel`; `saved-export`,
//! `saved-import` (a file input); `saved-held-<name>` marks a server the OAuth store holds
//! tokens for.

use keyhole_shared::api::{
    CatalogEntry, SaveServersRequest, SavedServer, SavedServers, StdioEntry,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value, json};

use std::collections::BTreeSet;

use keyhole_shared::store::OAuthStore;

use crate::flows::oauth::WebStore;
use crate::platform::api;
use crate::views::export::download;
use crate::views::servers::parse_headers;

/// The section, built by its own wasm chunk.
#[lazy]
pub fn saved_servers(
    initial: SavedServers,
    on_use: Callback<CatalogEntry>,
    on_stdio: Callback<StdioEntry>,
) -> AnyView {
    view! { <SavedServersSection initial=initial on_use=on_use on_stdio=on_stdio /> }.into_any()
}

/// What the editor is doing: adding a server, or editing the one at this index.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Editing {
    New,
    At(usize),
}

/// The editor's fields.
#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    transport: RwSignal<String>,
    url: RwSignal<String>,
    command: RwSignal<String>,
    headers: RwSignal<String>,
    /// Empty: negotiate.
    protocol_version: RwSignal<String>,
    /// The `oauth` object's settings.
    client_id: RwSignal<String>,
    client_secret: RwSignal<String>,
    scopes: RwSignal<String>,
    metadata_url: RwSignal<String>,
    /// The `enterprise` object's settings (enterprise-managed authorization).
    idp_issuer: RwSignal<String>,
    idp_client_id: RwSignal<String>,
    idp_client_secret: RwSignal<String>,
    idp_auth_method: RwSignal<String>,
    ema_client_id: RwSignal<String>,
    ema_client_secret: RwSignal<String>,
}

/// The keys of the entry's `oauth` and `enterprise` objects the form edits, with their fields
/// (the objects' other keys, such as auth methods, are kept as they were).
fn nested_fields(fields: &Fields) -> [(&'static str, &'static str, RwSignal<String>); 10] {
    [
        ("oauth", "clientId", fields.client_id),
        ("oauth", "clientSecret", fields.client_secret),
        ("oauth", "scopes", fields.scopes),
        ("oauth", "clientMetadataUrl", fields.metadata_url),
        ("enterprise", "idpIssuer", fields.idp_issuer),
        ("enterprise", "idpClientId", fields.idp_client_id),
        ("enterprise", "idpClientSecret", fields.idp_client_secret),
        ("enterprise", "idpClientAuthMethod", fields.idp_auth_method),
        ("enterprise", "clientId", fields.ema_client_id),
        ("enterprise", "clientSecret", fields.ema_client_secret),
    ]
}

impl Fields {
    fn new() -> Self {
        let field = || RwSignal::new(String::new());
        Self {
            name: field(),
            transport: RwSignal::new("streamable-http".into()),
            url: field(),
            command: field(),
            headers: field(),
            protocol_version: field(),
            client_id: field(),
            client_secret: field(),
            scopes: field(),
            metadata_url: field(),
            idp_issuer: field(),
            idp_client_id: field(),
            idp_client_secret: field(),
            idp_auth_method: field(),
            ema_client_id: field(),
            ema_client_secret: field(),
        }
    }

    /// Fills the fields from a saved server (`name` may differ: a clone).
    fn fill(&self, name: String, entry: &Value) {
        self.name.set(name);
        let stdio = entry.get("command").is_some();
        self.transport.set(match (stdio, entry["type"].as_str()) {
            (true, _) => "stdio".into(),
            (false, Some("sse")) => "sse".into(),
            _ => "streamable-http".into(),
        });
        self.url
            .set(entry["url"].as_str().unwrap_or_default().to_owned());
        let words: Vec<String> = std::iter::once(&entry["command"])
            .chain(entry["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        self.command
            .set(shlex::try_join(words.iter().map(String::as_str)).unwrap_or_default());
        let headers: String = entry["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, value)| format!("{name}: {}\n", value.as_str().unwrap_or_default()))
            .collect();
        self.headers.set(headers);
        self.protocol_version.set(
            entry["protocolVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        for (object, key, field) in nested_fields(self) {
            field.set(entry[object][key].as_str().unwrap_or_default().to_owned());
        }
    }

    /// The saved server the fields describe, keeping what `previous` had that the form does not
    /// show (enterprise settings, a stdio environment and folder).
    fn server(&self, previous: Option<&Value>) -> Result<SavedServer, String> {
        let name = self.name.get_untracked().trim().to_owned();
        if name.is_empty() {
            return Err("Give the server a name.".into());
        }
        let mut entry: Map<String, Value> = previous
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for key in [
            "url",
            "type",
            "headers",
            "command",
            "args",
            "protocolVersion",
        ] {
            entry.remove(key);
        }
        let mut nested: Vec<(&str, Map<String, Value>)> = ["oauth", "enterprise"]
            .into_iter()
            .map(|object| {
                let kept = entry.remove(object).and_then(|o| o.as_object().cloned());
                (object, kept.unwrap_or_default())
            })
            .collect();
        match self.transport.get_untracked().as_str() {
            "stdio" => {
                let line = self.command.get_untracked();
                let words = shlex::split(&line)
                    .filter(|words| !words.is_empty())
                    .ok_or("Type the command line that starts the server (quotes closed).")?;
                entry.insert("command".into(), json!(words[0]));
                if words.len() > 1 {
                    entry.insert("args".into(), json!(words[1..]));
                }
            }
            transport => {
                let url = self.url.get_untracked().trim().to_owned();
                if url.is_empty() {
                    return Err("Type the server's URL.".into());
                }
                entry.insert("url".into(), json!(url));
                if transport == "sse" {
                    entry.insert("type".into(), json!("sse"));
                }
                let headers = parse_headers(&self.headers.get_untracked())?;
                if !headers.is_empty() {
                    entry.insert("headers".into(), json!(headers));
                }
                entry.remove("env");
                entry.remove("cwd");
                let version = self.protocol_version.get_untracked();
                if !version.is_empty() {
                    entry.insert("protocolVersion".into(), json!(version));
                }
                for (object, key, field) in nested_fields(self) {
                    let Some((_, settings)) = nested.iter_mut().find(|(o, _)| *o == object) else {
                        continue;
                    };
                    match field.get_untracked().trim() {
                        "" => settings.remove(key),
                        value => settings.insert(key.into(), json!(value)),
                    };
                }
                for (object, settings) in nested.drain(..) {
                    if !settings.is_empty() {
                        entry.insert(object.into(), Value::Object(settings));
                    }
                }
            }
        }
        Ok(SavedServer {
            name,
            entry: Value::Object(entry),
        })
    }
}

/// The transport a saved entry uses, as the row names it.
fn transport_name(entry: &Value) -> &'static str {
    match (entry.get("command").is_some(), entry["type"].as_str()) {
        (true, _) | (_, Some("stdio")) => "stdio",
        (false, Some("sse")) => "HTTP+SSE",
        _ => "Streamable HTTP",
    }
}

/// A name not yet in `servers`, for a clone of `name`.
fn copy_name(servers: &[SavedServer], name: &str) -> String {
    (2..)
        .map(|n| format!("{name} ({n})"))
        .find(|candidate| servers.iter().all(|s| &s.name != candidate))
        .unwrap_or_else(|| format!("{name} (copy)"))
}

#[component]
fn SavedServersSection(
    initial: SavedServers,
    on_use: Callback<CatalogEntry>,
    on_stdio: Callback<StdioEntry>,
) -> impl IntoView {
    let saved = RwSignal::new(initial);
    let problem = RwSignal::new(saved.with_untracked(|s| s.problem.clone()));
    // The servers the OAuth store holds tokens for, to mark their rows.
    let held = RwSignal::new(BTreeSet::<String>::new());
    spawn_local(async move {
        if let Ok(document) = WebStore.read().await {
            held.set(
                document
                    .credentials
                    .into_iter()
                    .filter(|c| c.tokens.is_some())
                    .map(|c| c.server_url)
                    .collect(),
            );
        }
    });
    let editing = RwSignal::new(None::<Editing>);
    let fields = Fields::new();
    // Sends the whole list; the backend checks it, writes it and answers with what it kept.
    let store = move |servers: Vec<SavedServer>| {
        spawn_local(async move {
            let request = SaveServersRequest { servers };
            let sent = api::send_json("PUT", "/api/config/saved", &request).await;
            match sent.and_then(api::read_json::<SavedServers>) {
                Ok(now) => {
                    saved.set(now);
                    problem.set(None);
                    editing.set(None);
                }
                Err(error) => problem.set(Some(error.to_string())),
            }
        });
    };
    let change = move |edit: &dyn Fn(&mut Vec<SavedServer>)| {
        let mut servers = saved.with_untracked(|s| s.servers.clone());
        edit(&mut servers);
        store(servers);
    };
    let save_form = move || {
        let at = editing.get_untracked();
        let previous = match at {
            Some(Editing::At(index)) => {
                saved.with_untracked(|s| s.servers.get(index).map(|s| s.entry.clone()))
            }
            _ => None,
        };
        match fields.server(previous.as_ref()) {
            Err(why) => problem.set(Some(why)),
            Ok(server) => change(&|servers| match at {
                Some(Editing::At(index)) if index < servers.len() => {
                    servers[index] = server.clone()
                }
                _ => servers.push(server.clone()),
            }),
        }
    };
    let export = move |_| {
        spawn_local(async move {
            match api::get_text("/api/config/saved/export").await {
                Ok(text) => {
                    if download("mcp.json", &text).is_err() {
                        problem.set(Some("The browser did not start the download.".into()));
                    }
                }
                Err(error) => problem.set(Some(format!("Not exported: {error}"))),
            }
        });
    };
    let import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        spawn_local(async move {
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => text.as_string().unwrap_or_default(),
                Err(_) => return problem.set(Some("The file could not be read.".into())),
            };
            input.set_value("");
            let sent =
                api::send_json("POST", "/api/config/saved/import", &json!({ "text": text })).await;
            match sent.and_then(api::read_json::<SavedServers>) {
                Ok(now) => {
                    saved.set(now);
                    problem.set(None);
                }
                Err(error) => problem.set(Some(format!("Not imported: {error}"))),
            }
        });
    };
    let open_editor = move |mode: Editing| {
        problem.set(None);
        match mode {
            Editing::New => fields.fill(String::new(), &json!({})),
            Editing::At(index) => {
                if let Some(server) = saved.with_untracked(|s| s.servers.get(index).cloned()) {
                    fields.fill(server.name, &server.entry);
                }
            }
        }
        editing.set(Some(mode));
    };

    view! {
        <section class="panel" aria-labelledby="saved-heading" data-testid="saved-servers">
            <h2 id="saved-heading">"Saved servers"</h2>
            {move || saved.with(|s| s.path.clone()).map(|path| view! {
                <p class="muted">"Kept in " <code data-testid="saved-path">{path}</code></p>
            })}
            {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="saved-problem">{p}</p> })}
            {move || {
                let (servers, entries) = saved.with(|s| (s.servers.clone(), s.entries.clone()));
                if servers.is_empty() {
                    return view! { <p class="muted" data-testid="saved-empty">"No saved servers yet."</p> }.into_any();
                }
                let last = servers.len() - 1;
                view! {
                    <ul class="catalog">
                        {servers.into_iter().zip(entries).enumerate().map(|(index, (server, entry))| {
                            let name = server.name.clone();
                            let clone_of = server.clone();
                            let url = entry.url.clone();
                            let holds = Signal::derive(move || {
                                url.as_ref().is_some_and(|url| held.with(|h| h.contains(url)))
                            });
                            let transport = transport_name(&server.entry);
                            view! {
                                <SavedRow entry=entry transport=transport holds=holds on_use=on_use on_stdio=on_stdio>
                                    <button type="button" class="small" data-testid=format!("saved-edit-{name}")
                                        on:click=move |_| open_editor(Editing::At(index))>"Edit"</button>
                                    <button type="button" class="small" data-testid=format!("saved-clone-{name}")
                                        on:click=move |_| {
                                            let copy = clone_of.clone();
                                            change(&|servers| {
                                                let name = copy_name(servers, &copy.name);
                                                servers.insert(index + 1, SavedServer { name, entry: copy.entry.clone() });
                                            })
                                        }>"Clone"</button>
                                    <button type="button" class="small" data-testid=format!("saved-up-{name}")
                                        disabled=index == 0
                                        on:click=move |_| change(&|servers| servers.swap(index, index - 1))>"↑"</button>
                                    <button type="button" class="small" data-testid=format!("saved-down-{name}")
                                        disabled=index == last
                                        on:click=move |_| change(&|servers| servers.swap(index, index + 1))>"↓"</button>
                                    <button type="button" class="small danger" data-testid=format!("saved-remove-{name}")
                                        on:click=move |_| change(&|servers| { servers.remove(index); })>"Remove"</button>
                                </SavedRow>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <div class="row-actions">
                <button type="button" data-testid="saved-add" on:click=move |_| open_editor(Editing::New)>"Add a server"</button>
                <button type="button" class="small" data-testid="saved-export" on:click=export>"Export mcp.json"</button>
                <label class="small">"Import mcp.json "
                    <input type="file" accept=".json,application/json" data-testid="saved-import" on:change=import />
                </label>
            </div>
            {move || editing.get().map(|_| view! { <Editor fields=fields on_save=Callback::new(move |()| save_form())
                on_cancel=Callback::new(move |()| editing.set(None)) /> })}
        </section>
    }
}

/// One saved server: its name, what it is, Connect, and the row's other buttons.
#[component]
fn SavedRow(
    entry: CatalogEntry,
    /// How Keyhole talks to it ("Streamable HTTP", "HTTP+SSE", "stdio").
    transport: &'static str,
    /// Keyhole holds tokens for this server.
    holds: Signal<bool>,
    on_use: Callback<CatalogEntry>,
    on_stdio: Callback<StdioEntry>,
    children: Children,
) -> impl IntoView {
    let name = entry.name.clone();
    let (what, connect): (String, Callback<()>) = match (&entry.stdio, &entry.url) {
        (Some(stdio), _) => {
            let stdio = stdio.clone();
            (
                stdio.display.clone(),
                Callback::new(move |()| on_stdio.run(stdio.clone())),
            )
        }
        (None, Some(url)) => {
            let chosen = entry.clone();
            (
                url.clone(),
                Callback::new(move |()| on_use.run(chosen.clone())),
            )
        }
        (None, None) => (
            entry.unsupported_reason.clone().unwrap_or_default(),
            Callback::new(|()| {}),
        ),
    };
    view! {
        <li class="catalog-item" data-testid=format!("saved-item-{name}")>
            <strong>{name.clone()}</strong>
            <span class="muted" data-testid=format!("saved-transport-{name}")>{transport}</span>
            <code>{what}</code>
            {let held_id = format!("saved-held-{name}");
             move || holds.get().then(|| view! {
                <span class="muted" data-testid=held_id.clone()
                    title="The OAuth store holds tokens for this server">"signed in"</span>
            })}
            <button type="button" data-testid=format!("saved-connect-{name}")
                on:click=move |_| connect.run(())>"Connect"</button>
            <span class="row-actions">{children()}</span>
        </li>
    }
}

#[component]
fn Editor(fields: Fields, on_save: Callback<()>, on_cancel: Callback<()>) -> impl IntoView {
    let stdio = move || fields.transport.get() == "stdio";
    view! {
        <form class="connect-form" data-testid="saved-editor" on:submit=move |ev| {
            ev.prevent_default();
            on_save.run(());
        }>
            <label>"Name" <input type="text" data-testid="saved-name-input" bind:value=fields.name /></label>
            <label>"Transport "
                <select data-testid="saved-transport-select" prop:value=move || fields.transport.get()
                    on:change=move |ev| fields.transport.set(event_target_value(&ev))>
                    <option value="streamable-http">"Streamable HTTP"</option>
                    <option value="sse">"HTTP+SSE (2024-11-05)"</option>
                    <option value="stdio">"stdio (a command on this machine)"</option>
                </select>
            </label>
            <label hidden=stdio>"URL" <input type="url" data-testid="saved-url-input" bind:value=fields.url /></label>
            <label hidden=move || !stdio()>"Command line"
                <input type="text" class="mono" data-testid="saved-command-input" bind:value=fields.command />
            </label>
            <label hidden=stdio>"Headers (one " <code>"Name: value"</code> " per line)"
                <textarea rows="2" class="mono" data-testid="saved-headers-input" bind:value=fields.headers></textarea>
            </label>
            <details hidden=stdio>
                <summary data-testid="saved-more">"Protocol version and sign-in"</summary>
                <label>"Protocol version "
                    <select data-testid="saved-protocol-select" on:change=move |ev| fields.protocol_version.set(event_target_value(&ev))>
                        {["", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"].map(|v| view! {
                            <option value=v prop:selected=move || fields.protocol_version.get() == v>
                                {if v.is_empty() { "newest the server speaks" } else { v }}
                            </option>
                        })}
                    </select>
                </label>
                <label>"Client ID registered in advance (else Keyhole registers itself)"
                    <input type="text" data-testid="saved-client-id-input" autocomplete="off" bind:value=fields.client_id />
                </label>
                <label>"Scopes to ask for when the server names none (space-separated)"
                    <input type="text" data-testid="saved-scopes-input" autocomplete="off" bind:value=fields.scopes />
                </label>
                <label>"Client metadata document URL (https)"
                    <input type="url" data-testid="saved-metadata-url-input" bind:value=fields.metadata_url />
                </label>
                <label>"Client secret (of the client registered in advance)"
                    <input type="password" data-testid="saved-client-secret-input" autocomplete="off" bind:value=fields.client_secret />
                </label>
                <fieldset>
                    <legend>"Enterprise-managed authorization (SEP-990)"</legend>
                    <label>"IdP issuer" <input type="url" data-testid="saved-ema-idp-issuer-input" bind:value=fields.idp_issuer /></label>
                    <label>"Client ID at the IdP" <input type="text" data-testid="saved-ema-idp-client-id-input" autocomplete="off" bind:value=fields.idp_client_id /></label>
                    <label>"Client secret at the IdP" <input type="password" data-testid="saved-ema-idp-client-secret-input" autocomplete="off" bind:value=fields.idp_client_secret /></label>
                    <label>"How the client authenticates at the IdP "
                        <select data-testid="saved-ema-idp-auth-method-select" on:change=move |ev| fields.idp_auth_method.set(event_target_value(&ev))>
                            {["", "client_secret_basic", "client_secret_post"].map(|v| view! {
                                <option value=v prop:selected=move || fields.idp_auth_method.get() == v>
                                    {if v.is_empty() { "as the IdP announces" } else { v }}
                                </option>
                            })}
                        </select>
                    </label>
                    <label>"Client ID at the server's authorization server" <input type="text" data-testid="saved-ema-client-id-input" autocomplete="off" bind:value=fields.ema_client_id /></label>
                    <label>"Client secret there" <input type="password" data-testid="saved-ema-client-secret-input" autocomplete="off" bind:value=fields.ema_client_secret /></label>
                </fieldset>
                <p class="muted">"Secrets are kept in the OS keychain when Keyhole has one (else in the file, readable by you only)."</p>
            </details>
            <div class="modal-actions">
                <button type="submit" data-testid="saved-save">"Save"</button>
                <button type="button" data-testid="saved-cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_names_its_transport() {
        assert_eq!(
            transport_name(&json!({ "url": "http://h/mcp" })),
            "Streamable HTTP"
        );
        assert_eq!(
            transport_name(&json!({ "url": "http://h/sse", "type": "sse" })),
            "HTTP+SSE"
        );
        assert_eq!(transport_name(&json!({ "command": "npx" })), "stdio");
    }

    #[test]
    fn a_clone_gets_the_first_free_name() {
        let servers = vec![
            SavedServer {
                name: "a".into(),
                entry: json!({}),
            },
            SavedServer {
                name: "a (2)".into(),
                entry: json!({}),
            },
        ];
        assert_eq!(copy_name(&servers, "a"), "a (3)");
        assert_eq!(copy_name(&servers, "b"), "b (2)");
    }

    #[test]
    fn the_form_makes_an_entry_and_keeps_what_it_does_not_show() {
        let fields = Fields::new();
        let previous = json!({ "url": "http://old/mcp", "enterprise": { "clientId": "c" } });
        fields.fill("api".into(), &previous);
        fields.url.set("http://127.0.0.1:9/mcp".into());
        fields.headers.set("X-Team: blue\n".into());
        let server = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            server.entry,
            json!({ "url": "http://127.0.0.1:9/mcp", "headers": { "X-Team": "blue" },
                    "enterprise": { "clientId": "c" } })
        );
        fields.transport.set("stdio".into());
        fields.command.set("npx -y 'my server'".into());
        fields.ema_client_id.set(String::new());
        let stdio = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            stdio.entry,
            json!({ "command": "npx", "args": ["-y", "my server"] })
        );
        fields.fill("stdio".into(), &stdio.entry);
        assert_eq!(fields.command.get_untracked(), "npx -y 'my server'");
        fields.name.set(" ".into());
        assert!(fields.server(None).is_err());
    }

    #[test]
    fn the_sign_in_settings_make_the_oauth_and_enterprise_objects() {
        let fields = Fields::new();
        let previous = json!({ "url": "http://h/mcp", "protocolVersion": "2025-06-18",
                               "oauth": { "clientId": "old", "clientSecret": "s3cret" } });
        fields.fill("api".into(), &previous);
        assert_eq!(fields.protocol_version.get_untracked(), "2025-06-18");
        assert_eq!(fields.client_id.get_untracked(), "old");
        fields.client_id.set("registered".into());
        fields.scopes.set(" mcp files:read ".into());
        fields.protocol_version.set(String::new());
        assert_eq!(fields.client_secret.get_untracked(), "s3cret");
        let server = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            server.entry,
            json!({ "url": "http://h/mcp", "oauth": { "clientId": "registered",
                    "clientSecret": "s3cret", "scopes": "mcp files:read" } })
        );
        fields.idp_issuer.set("https://idp.example".into());
        fields.idp_client_id.set("kh".into());
        fields.ema_client_id.set("kh-rs".into());
        let managed = fields.server(Some(&server.entry)).unwrap();
        assert_eq!(
            managed.entry["enterprise"],
            json!({ "idpIssuer": "https://idp.example", "idpClientId": "kh", "clientId": "kh-rs" })
        );
    }
}
