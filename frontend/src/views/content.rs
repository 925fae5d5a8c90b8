//! Rendering MCP content blocks (tool results, prompt messages, resource contents) by type: text,
//! images, audio, resource links, embedded resources, and JSON for anything unknown.

use leptos::prelude::*;
use serde_json::Value;

/// Pretty-printed JSON in a collapsible block.
#[component]
pub fn JsonBlock(
    value: Value,
    #[prop(optional, into)] summary: Option<String>,
    #[prop(optional)] open: bool,
) -> impl IntoView {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    match summary {
        Some(summary) => view! {
            <details class="json" open=open>
                <summary>{summary}</summary>
                <pre class="mono">{text}</pre>
            </details>
        }
        .into_any(),
        None => view! { <pre class="mono json">{text}</pre> }.into_any(),
    }
}

/// One content block.
#[component]
pub fn ContentBlock(block: Value) -> impl IntoView {
    let kind = block["type"].as_str().unwrap_or("").to_owned();
    match kind.as_str() {
        "text" => {
            let text = block["text"].as_str().unwrap_or("").to_owned();
            view! { <pre class="content-text" data-content="text">{text}</pre> }.into_any()
        }
        "image" => {
            let src = format!(
                "data:{};base64,{}",
                block["mimeType"].as_str().unwrap_or("image/png"),
                block["data"].as_str().unwrap_or("")
            );
            view! { <img class="content-image" data-content="image" src=src alt="image returned by the server" /> }
                .into_any()
        }
        "audio" => {
            let mime = block["mimeType"].as_str().unwrap_or("audio").to_owned();
            let size = block["data"].as_str().map(|d| d.len() * 3 / 4).unwrap_or(0);
            view! { <p class="muted" data-content="audio">{format!("Audio ({mime}, about {size} bytes)")}</p> }
                .into_any()
        }
        "resource_link" => {
            let uri = block["uri"].as_str().unwrap_or("").to_owned();
            let name = block["name"].as_str().unwrap_or(&uri).to_owned();
            let description = block["description"].as_str().map(str::to_owned);
            view! {
                <div class="content-link" data-content="resource_link">
                    <strong>{name}</strong>
                    " "
                    <code>{uri}</code>
                    {description.map(|d| view! { <span class="muted">" — " {d}</span> })}
                </div>
            }
            .into_any()
        }
        "resource" => view! { <ResourceContents contents=block["resource"].clone() /> }.into_any(),
        _ => view! { <JsonBlock value=block /> }.into_any(),
    }
}

/// One entry of `resources/read`'s `contents` (or an embedded resource): text or a blob.
#[component]
pub fn ResourceContents(contents: Value) -> impl IntoView {
    let uri = contents["uri"].as_str().unwrap_or("").to_owned();
    let mime = contents["mimeType"].as_str().unwrap_or("").to_owned();
    let body = if let Some(text) = contents["text"].as_str() {
        view! { <pre class="content-text" data-content="text">{text.to_owned()}</pre> }.into_any()
    } else if let Some(blob) = contents["blob"].as_str() {
        if mime.starts_with("image/") {
            let src = format!("data:{mime};base64,{blob}");
            view! { <img class="content-image" data-content="image" src=src alt=uri.clone() /> }
                .into_any()
        } else {
            let size = blob.len() * 3 / 4;
            let preview: String = blob.chars().take(120).collect();
            view! {
                <p class="muted" data-content="blob">{format!("Binary contents, about {size} bytes (base64):")}</p>
                <pre class="mono">{preview}"…"</pre>
            }
            .into_any()
        }
    } else {
        view! { <JsonBlock value=contents.clone() /> }.into_any()
    };
    view! {
        <div class="resource-contents">
            <div class="muted"><code>{uri.clone()}</code>" " {mime}</div>
            {body}
        </div>
    }
}
