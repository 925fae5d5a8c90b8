//! Markdown from a server (instructions, tool descriptions) as DOM nodes: the shared crate parses
//! the subset ([`keyhole_shared::markdown`]), this builds elements and text nodes from it. Nothing
//! the server sent is ever handed to the browser as HTML.

use keyhole_shared::markdown::{self, Block, Inline};
use leptos::prelude::*;

use crate::views::lazy::lazy_view;

#[component]
pub fn Markdown(text: String) -> impl IntoView {
    lazy_view(markdown_nodes(text))
}

/// The parser and the builder are a wasm chunk of their own: the first view needs neither.
#[lazy]
fn markdown_nodes(text: String) -> AnyView {
    markdown::parse(&text)
        .into_iter()
        .map(block_view)
        .collect_view()
        .into_any()
}

fn block_view(block: Block) -> AnyView {
    match block {
        Block::Paragraph(inlines) => view! { <p>{inlines_view(inlines)}</p> }.into_any(),
        Block::Heading(inlines) => view! { <h4>{inlines_view(inlines)}</h4> }.into_any(),
        Block::List {
            ordered: true,
            items,
        } => view! { <ol>{items_view(items)}</ol> }.into_any(),
        Block::List { items, .. } => view! { <ul>{items_view(items)}</ul> }.into_any(),
        Block::Code(code) => view! { <pre class="mono">{code}</pre> }.into_any(),
    }
}

fn items_view(items: Vec<Vec<Inline>>) -> Vec<AnyView> {
    items
        .into_iter()
        .map(|item| view! { <li>{inlines_view(item)}</li> }.into_any())
        .collect()
}

fn inlines_view(inlines: Vec<Inline>) -> Vec<AnyView> {
    inlines.into_iter().map(inline_view).collect()
}

fn inline_view(inline: Inline) -> AnyView {
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
        Inline::Emphasis(children) => view! { <em>{inlines_view(children)}</em> }.into_any(),
        Inline::Strong(children) => view! { <strong>{inlines_view(children)}</strong> }.into_any(),
        Inline::Link { href, children } => view! {
            <a href=href target="_blank" rel="noopener noreferrer">{inlines_view(children)}</a>
        }
        .into_any(),
    }
}
