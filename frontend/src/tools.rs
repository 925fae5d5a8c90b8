//! The Tools tab: the server's tools with a search box, and the selected tool's run panel.

use keyhole_shared::resume::TabState;
use leptos::prelude::*;
use serde_json::Value;

use crate::item_list::ItemRow;
use crate::session::Session;
use crate::text::fold_case;
use crate::tool_run::{FormSlot, ToolRunner};
use crate::ui_state::{select_when_listed, selected_name};

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

#[component]
pub fn ToolsTab(session: Session) -> impl IntoView {
    let tools = session.listing("tools/list", "tools", |c| c.0);
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
        form.pending.set_value(Some(saved.form));
    }
    session.ui.register("tools", move || TabState {
        selected: selected_name(selected).or_else(|| restored.get_value()),
        form: form.texts(),
        filter: Some(search.get_untracked()).filter(|s| !s.is_empty()),
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
                <Suspense fallback=|| view! { <p class="muted">"Loading tools…"</p> }>
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
                </Suspense>
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
    view! {
        <ItemRow testid=format!("tool-item-{name}") name=name title=title description=description
            selected=is_selected
            on_pick=Callback::new(move |()| selected.set(Some(tool.clone()))) />
    }
}
