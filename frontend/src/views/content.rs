//! Rendering MCP content blocks (tool results, prompt messages, resource contents) by type: text,
//! images, audio, resource links, embedded resources, and JSON for anything unknown. Text beyond
//! 64 KiB shows its beginning, the rest in a closed `<details>` (test id `content-truncated`).

use leptos::prelude::*;
use serde_json::Value;

/// Text longer than this shows its beginning until the user asks for all of it: laying out
/// megabytes of text held the page for seconds (#25).
const SHOWN_BYTES: usize = 64 * 1024;

/// Where the preview of `text` ends (a line end when there is one near the limit), or `None`
/// when all of it is shown.
fn preview_end(text: &str, limit: usize) -> Option<usize> {
    if text.len() <= limit {
        return None;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].rfind('\n').map_or(end, |line_end| line_end + 1))
}

/// `text` in a `<pre class=class>`; when it is long, its beginning, and the rest in a closed
/// `<details>` (`content-truncated`), which the browser does not lay out until it is opened.
#[component]
pub fn LongText(
    mut text: String,
    class: &'static str,
    #[prop(optional)] content: Option<&'static str>,
) -> impl IntoView {
    let rest = preview_end(&text, SHOWN_BYTES).map(|end| {
        let rest = text.split_off(end);
        let note = format!(
            "Showing the first {end} of {} bytes: the rest",
            end + rest.len()
        );
        view! {
            <details data-testid="content-truncated">
                <summary>{note}</summary>
                <pre class=class>{rest}</pre>
            </details>
        }
    });
    view! { <pre class=class data-content=content>{text}</pre> {rest} }
}

/// Pretty-printed JSON in a collapsible block. Closed, it is printed only once opened (a
/// history of large results costs nothing until then).
#[component]
pub fn JsonBlock(
    value: Value,
    #[prop(optional, into)] summary: Option<String>,
    #[prop(optional)] open: bool,
) -> impl IntoView {
    let pretty = move || serde_json::to_string_pretty(&value).unwrap_or_default();
    match summary {
        Some(summary) => {
            let opened = RwSignal::new(open);
            let pretty = StoredValue::new(pretty);
            view! {
                <details class="json" open=open on:toggle=move |_| opened.set(true)>
                    <summary>{summary}</summary>
                    {move || opened.get().then(|| view! {
                        <LongText text=pretty.with_value(|p| p()) class="mono" />
                    })}
                </details>
            }
            .into_any()
        }
        None => view! { <LongText text=pretty() class="mono json" /> }.into_any(),
    }
}

/// One content block.
#[component]
pub fn ContentBlock(block: Value) -> impl IntoView {
    let kind = block["type"].as_str().unwrap_or("").to_owned();
    match kind.as_str() {
        "text" => {
            let text = block["text"].as_str().unwrap_or("").to_owned();
            view! { <LongText text class="content-text" content="text" /> }.into_any()
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
        view! { <LongText text=text.to_owned() class="content-text" content="text" /> }.into_any()
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

#[cfg(test)]
mod tests {
    use super::preview_end;

    #[test]
    fn short_text_is_shown_whole() {
        assert_eq!(preview_end("a\nb", 3), None);
        assert_eq!(preview_end("", 0), None);
    }

    #[test]
    fn long_text_is_cut_after_a_line_or_at_a_character() {
        assert_eq!(preview_end("one\ntwo\nthree", 9), Some(8));
        assert_eq!(preview_end("abcdef", 4), Some(4));
        // "é" is two bytes: no cut inside it.
        assert_eq!(preview_end("aéb", 2), Some(1));
    }
}
