//! The Tools tab: the server's tools with a search box and their annotation hints, and the
//! selected tool's run panel.
//!
//! Test ids: `tool-search`, `tool-list`, `tool-hint` badges (`data-hint="read-only|destructive|
//! idempotent|open-world|app"`) on each tool and in the run panel.

use keyhole_shared::resume::TabState;
use leptos::prelude::*;
use serde_json::Value;

use crate::flows::listing::Pager;
use crate::flows::session::Session;
use crate::model::ui_state::{select_when_listed, selected_name};
use crate::platform::text::fold_case;
use crate::views::item_list::{ItemRow, LoadMore};
use crate::views::tool_run::{FormSlot, SavedForm, ToolRunner};

/// Whether `tool` matches the search text (name, title or description).
fn matches(tool: &Value, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let needle = fold_case(needle);
    ["name", "title", "description"]
        .iter()
        .filter_map(|key| tool[*key].as_str())
        .any(|text| fold_case(text).contains(&needle))
}

/// The hints a tool's annotations state, as (badge, what it means). Only what the server says
/// explicitly: the protocol's defaults (e.g. "destructive" for a tool that is not read-only)
/// would mark most tools.
fn hints(tool: &Value) -> Vec<(&'static str, &'static str)> {
    let stated = |key: &str| tool["annotations"][key] == Value::Bool(true);
    let mut hints = Vec::new();
    if stated("readOnlyHint") {
        hints.push(("read-only", "The server says this tool changes nothing."));
    }
    if is_destructive(tool) {
        hints.push((
            "destructive",
            "The server says this tool may delete or overwrite data; Keyhole asks before running it.",
        ));
    }
    if stated("idempotentHint") {
        hints.push((
            "idempotent",
            "The server says running it again with the same arguments has no further effect.",
        ));
    }
    if crate::views::app_view::ui_resource(tool).is_some() {
        hints.push((
            "app",
            "The tool has an interactive app (MCP Apps): it opens, sandboxed, with the result.",
        ));
    }
    if stated("openWorldHint") {
        hints.push((
            "open-world",
            "The server says this tool reaches outside systems (e.g. the web).",
        ));
    }
    hints
}

/// Whether the server marks the tool destructive (`destructiveHint: true`, not read-only).
pub fn is_destructive(tool: &Value) -> bool {
    let annotations = &tool["annotations"];
    annotations["destructiveHint"] == Value::Bool(true)
        && annotations["readOnlyHint"] != Value::Bool(true)
}

/// The tool's hints as badges.
pub fn hint_badges(tool: &Value) -> AnyView {
    hints(tool)
        .into_iter()
        .map(|(hint, meaning)| {
            view! {
                <span class=format!("badge hint hint-{hint}") data-testid="tool-hint" data-hint=hint title=meaning>
                    {hint}
                </span>
            }
        })
        .collect_view()
        .into_any()
}

/// The tab, built by its own wasm chunk (fetched when the workspace first shows it): the page
/// that shows the connect form does not wait for the tools' code.
#[lazy]
pub fn tools_tab(session: Session) -> AnyView {
    view! { <ToolsTab session=session /> }.into_any()
}

#[component]
fn ToolsTab(session: Session) -> impl IntoView {
    let pager = Pager::new();
    let tools = session.listing("tools/list", "tools", |c| c.0, pager);
    let search = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<Value>);
    // The selected tool's form, for the resume snapshot; a restored form waits in `pending`.
    let form = FormSlot::new();
    // A restored selection counts until the list has loaded (a redirect may start before).
    let restored = StoredValue::new(None::<String>);
    if let Some(saved) = session.ui.take("tools") {
        search.set(saved.filter.unwrap_or_default());
        restored.set_value(saved.selected.clone());
        select_when_listed(tools, saved.selected, selected);
        form.restore_later(SavedForm {
            fields: saved.form,
            arguments_json: saved.arguments_json,
        });
    }
    session.ui.register("tools", move || {
        let saved = form.capture();
        TabState {
            selected: selected_name(selected).or_else(|| restored.get_value()),
            form: saved.fields,
            arguments_json: saved.arguments_json,
            filter: Some(search.get_untracked()).filter(|s| !s.is_empty()),
        }
    });

    view! {
        <div class="split">
            <aside class="list-pane">
                <input
                    type="search"
                    class="search"
                    placeholder="Search tools"
                    aria-label="Search tools"
                    data-testid="tool-search"
                    bind:value=search
                />
                <button type="button" class="small" on:click=move |_| tools.refetch()>"Refresh"</button>
                <Transition fallback=|| view! { <p class="muted">"Loading tools…"</p> }>
                    {move || tools.get().map(|result| match result {
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                        Ok(list) => {
                            let needle = search.get();
                            let shown: Vec<Value> = list.into_iter().filter(|t| matches(t, &needle)).collect();
                            if shown.is_empty() {
                                return view! { <p class="muted">"No tools match."</p> }.into_any();
                            }
                            view! {
                                <ul class="item-list" data-testid="tool-list">
                                    {shown.into_iter().map(|tool| view! { <ToolItem tool=tool selected=selected /> }).collect_view()}
                                </ul>
                            }
                            .into_any()
                        }
                    })}
                </Transition>
                <LoadMore pager=pager testid="tool-list-more" />
            </aside>
            <section class="detail-pane">
                {move || match selected.get() {
                    None => view! { <p class="muted">"Pick a tool to see its form."</p> }.into_any(),
                    Some(tool) => view! { <ToolRunner session=session tool=tool form_slot=form /> }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn ToolItem(tool: Value, selected: RwSignal<Option<Value>>) -> impl IntoView {
    let name = tool["name"].as_str().unwrap_or("").to_owned();
    let title = tool["title"]
        .as_str()
        .or(tool["annotations"]["title"].as_str())
        .map(str::to_owned);
    let description = tool["description"].as_str().map(str::to_owned);
    let key = name.clone();
    let is_selected = Signal::derive(move || {
        selected.with(|s| s.as_ref().and_then(|t| t["name"].as_str()) == Some(key.as_str()))
    });
    let badges = hint_badges(&tool);
    view! {
        <ItemRow testid=format!("tool-item-{name}") name=name title=title description=description
            badges=badges selected=is_selected
            on_pick=Callback::new(move |()| selected.set(Some(tool.clone()))) />
    }
}
