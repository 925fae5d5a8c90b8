//! The servers the user keeps: each connects in one click, and can be edited, cloned, removed or
//! moved; new ones are added with the editor ([`super::saved_editor`]), and the whole list is
//! exported as, or imported from, an `mcp.json` file. The backend keeps the list in Keyhole's
//! configuration folder (`PUT /api/config/saved`), so it is there after a restart. Each row names
//! its transport and says when the OAuth store holds tokens for the server. A separate wasm chunk
//! (`#[lazy]`).
//!
//! Test ids: `saved-servers`, `saved-path`, `saved-problem`, `saved-empty`, `saved-add`,
//! `saved-item-<name>` with `saved-transport-<name>`, `saved-held-<name>` (tokens held),
//! `saved-connect-<name>`, `saved-edit-<name>`, `saved-clone-<name>`, `saved-remove-<name>`,
//! `saved-up-<name>`, `saved-down-<name>`; `saved-export`, `saved-import` (a file input).

use keyhole_shared::api::{
    CatalogEntry, SaveServersRequest, SavedServer, SavedServers, StdioEntry,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use std::collections::BTreeSet;

use keyhole_shared::store::OAuthStore;

use crate::flows::oauth::WebStore;
use crate::platform::api;
use crate::views::export::download;
use crate::views::saved_editor::{Editor, Fields};

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
}
