//! One row of the list panes (tools, resources, templates, prompts): a button with the item's
//! name and badges, an optional title, an optional description or URI, highlighted while selected;
//! and the "Load more" under a list the server has more of.

use leptos::prelude::*;

use crate::flows::listing::Pager;

#[component]
pub fn ItemRow(
    testid: String,
    name: String,
    #[prop(optional_no_strip)] title: Option<String>,
    #[prop(optional_no_strip)] description: Option<String>,
    /// A URI or URI template, shown as code.
    #[prop(optional_no_strip)]
    code: Option<String>,
    /// Badges after the name (a tool's annotation hints).
    #[prop(optional)]
    badges: Option<AnyView>,
    /// Whether the row is the selected one (rows without a selection never are).
    #[prop(optional, into)]
    selected: Option<Signal<bool>>,
    on_pick: Callback<()>,
) -> impl IntoView {
    view! {
        <li>
            <button
                type="button"
                class="item"
                class:selected=move || selected.is_some_and(|s| s.get())
                data-testid=testid
                on:click=move |_| on_pick.run(())
            >
                <span class="item-name">{name} " " {badges}</span>
                {title.map(|t| view! { <span class="item-title">{t}</span> })}
                {description.map(|d| view! { <span class="item-desc">{d}</span> })}
                {code.map(|c| view! { <span class="item-desc"><code>{c}</code></span> })}
            </button>
        </li>
    }
}

/// "Load more" under a list the server has more of.
#[component]
pub fn LoadMore(pager: Pager, testid: &'static str) -> impl IntoView {
    move || {
        pager.more.get().then(|| {
            view! {
                <button type="button" class="small" data-testid=testid
                    title="The server has more; fetch the next items"
                    on:click=move |_| pager.load_more()>"Load more"</button>
            }
        })
    }
}
