//! The server's requests that wait for the user (and, over MCP 2026-07-28, the input requests of
//! a call's `input_required` result, `flows/input_required.rs`), and the roots the connection
//! offers: one card
//! per request (what the server asks, when it asked, and when Keyhole answers it for the user if
//! they do not: `requests-timeout` sets how long), answered from the card.
//!
//! * `sampling/createMessage`: the messages, the system prompt, the model preferences and the
//!   token limit; the user writes the reply (as the model would), or picks an image or audio file
//!   to reply with, or rejects the request.
//! * `elicitation/create`: a form built from `requestedSchema` (defaults, enums, required fields,
//!   validation), answered with Accept, Decline or Cancel; in URL mode the URL, opened on request.
//! * Roots: `file://` URIs with names; every change tells the server
//!   (`notifications/roots/list_changed`), which asks again with `roots/list`.
//!
//! A separate wasm chunk (`#[lazy]`), fetched when the first request arrives or the user opens
//! the panel.
//!
//! Test ids: `server-requests`, `requests-timeout`, `server-request` (`data-method`),
//! `request-purpose` (an input request of a 2026-07-28 call: "input for tools/call"),
//! `request-deadline`, `sampling-message`,
//! `sampling-system`, `sampling-kind`, `sampling-reply`, `sampling-file`, `sampling-picked`,
//! `sampling-problem`,
//! `sampling-model`, `sampling-send`, `sampling-reject`,
//! `elicitation-message`, form fields `elicit-<field>`, `elicitation-problem`,
//! `elicitation-accept`, `elicitation-decline`, `elicitation-cancel`, `elicitation-url`,
//! `elicitation-open`; `roots`, `root-item`, `root-remove`, `root-uri-input`, `root-name-input`,
//! `root-add`, `roots-problem`.

use std::time::Duration;

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::flows::client_side::{Root, ServerRequest};
use crate::flows::session::{Session, now_ms};
use crate::views::content::ContentBlock;
use crate::views::protocol::clock;
use crate::views::schema_form::{SchemaForm, SchemaFormView};

/// The panel, built by its own wasm chunk.
#[lazy]
pub fn client_panel(session: Session) -> AnyView {
    view! { <ClientPanel session=session /> }.into_any()
}

#[component]
fn ClientPanel(session: Session) -> impl IntoView {
    let pending = session.client.pending;
    // The clock the cards count down by, ticking while the panel exists.
    let now = RwSignal::new(now_ms());
    if let Ok(ticker) = set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    let within = session.client.answer_within_s;
    view! {
        <section class="client-panel" data-testid="server-requests" aria-label="Requests from the server">
            <h3>"Requests from the server"</h3>
            <label class="field-inline muted">
                "Answer for me after "
                <input type="number" min="0" max="86400" class="narrow" data-testid="requests-timeout"
                    prop:value=move || within.get().to_string()
                    on:change=move |ev| within.set(
                        event_target_value(&ev).trim().parse::<u32>().unwrap_or(0).min(86_400))/>
                " seconds (0: never). Sampling is then refused and elicitation cancelled."
            </label>
            <Show when=move || pending.with(Vec::is_empty)>
                <p class="muted">"None waiting."</p>
            </Show>
            <For each=move || pending.get() key=|request| request.id.to_string() let:request>
                <RequestCard session=session request=request now=now />
            </For>
            <RootsEditor session=session />
        </section>
    }
}

#[component]
fn RequestCard(session: Session, request: ServerRequest, now: RwSignal<f64>) -> impl IntoView {
    let asked = clock(request.received_at);
    let deadline = request.deadline;
    let purpose = request.purpose.clone();
    let countdown = move || {
        deadline.map(|deadline| {
            let left = ((deadline - now.get()) / 1000.0).ceil().max(0.0) as u64;
            view! {
                <span class="muted" data-testid="request-deadline">
                    {format!(" · answered for you in {}:{:02} unless you answer", left / 60, left % 60)}
                </span>
            }
        })
    };
    let method = request.method.clone();
    let body = if method == "sampling/createMessage" {
        view! { <SamplingAnswer session=session request=request /> }.into_any()
    } else if request.params["mode"] == "url" {
        view! { <UrlElicitation session=session request=request /> }.into_any()
    } else {
        view! { <FormElicitation session=session request=request /> }.into_any()
    };
    view! {
        <article class="card" data-testid="server-request" data-method=method.clone()>
            <p><strong>{method.clone()}</strong>
                {purpose.map(|p| view! { " " <span class="badge" data-testid="request-purpose">{p}</span> })}
                <span class="muted">" asked at " {asked}</span>{countdown}</p>
            {body}
        </article>
    }
}

/// A sampling message's content blocks (one block, or since 2025-11-25 a list).
fn content_blocks(content: &Value) -> Vec<Value> {
    match content {
        Value::Array(blocks) => blocks.clone(),
        block => vec![block.clone()],
    }
}

/// A file the user picked as the reply: its media type and its bytes in base64.
#[derive(Clone, Debug, PartialEq)]
struct Media {
    mime: String,
    data: String,
}

/// Reads the file picked in `input` (the first one).
async fn read_picked(input: web_sys::HtmlInputElement) -> Option<Media> {
    use base64::Engine;
    let file = input.files()?.get(0)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .ok()?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    Some(Media {
        mime: file.type_(),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// The reply's content: text, or the picked image or audio (which must be of that kind).
fn reply_content(kind: &str, text: String, media: Option<Media>) -> Result<Value, String> {
    if kind == "text" {
        return Ok(json!({ "type": "text", "text": text }));
    }
    let Some(media) = media else {
        return Err(format!("Choose an {kind} file to send."));
    };
    if !media.mime.starts_with(&format!("{kind}/")) {
        return Err(format!("The file is {}, not {kind}.", media.mime));
    }
    Ok(json!({ "type": kind, "mimeType": media.mime, "data": media.data }))
}

#[component]
fn SamplingAnswer(session: Session, request: ServerRequest) -> impl IntoView {
    let params = &request.params;
    let messages: Vec<(String, Vec<Value>)> = params["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    let role = m["role"].as_str().unwrap_or("user").to_owned();
                    (role, content_blocks(&m["content"]))
                })
                .collect()
        })
        .unwrap_or_default();
    let system = params["systemPrompt"].as_str().map(str::to_owned);
    let limits = format!(
        "max tokens {}{}",
        params["maxTokens"],
        params
            .get("modelPreferences")
            .map(|p| format!(", model preferences {p}"))
            .unwrap_or_default()
    );
    let reply = RwSignal::new(String::new());
    let model = RwSignal::new(String::from("keyhole-user"));
    // What the reply is: "text", "image" or "audio" (a picked file).
    let kind = RwSignal::new(String::from("text"));
    let media = RwSignal::new(None::<Media>);
    let problem = RwSignal::new(None::<String>);
    let id = request.id.clone();
    let send = {
        let id = id.clone();
        move || {
            let content = reply_content(
                &kind.get_untracked(),
                reply.get_untracked(),
                media.get_untracked(),
            );
            let content = match content {
                Ok(content) => content,
                Err(why) => return problem.set(Some(why)),
            };
            let result = json!({
                "role": "assistant",
                "content": content,
                "model": model.get_untracked(),
                "stopReason": "endTurn",
            });
            session.reply(id.clone(), "sampling/createMessage", Ok(result));
        }
    };
    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        leptos::task::spawn_local(async move {
            media.set(read_picked(input).await);
            problem.set(None);
        });
    };
    let reject = move |_| {
        let why = "The user rejected the sampling request".to_owned();
        session.reply(id.clone(), "sampling/createMessage", Err((-1, why)));
    };
    view! {
        {system.map(|s| view! { <p data-testid="sampling-system"><em>"System: "</em>{s}</p> })}
        <ol class="log">
            {messages.into_iter().map(|(role, blocks)| view! {
                <li data-testid="sampling-message"><strong>{role} ": "</strong>
                    {blocks.into_iter().map(|block| view! { <ContentBlock block=block /> }).collect_view()}
                </li>
            }).collect_view()}
        </ol>
        <p class="muted">{limits}</p>
        <form on:submit=move |ev| {
            ev.prevent_default();
            send();
        }>
            <label class="field"><span>"Reply with"</span>
                <select data-testid="sampling-kind" prop:value=move || kind.get()
                    on:change=move |ev| { kind.set(event_target_value(&ev)); problem.set(None); }>
                    <option value="text">"text"</option>
                    <option value="image">"an image"</option>
                    <option value="audio">"audio"</option>
                </select>
            </label>
            <label class="field" hidden=move || kind.get() != "text"><span>"Reply (as the model)"</span>
                <textarea rows="3" data-testid="sampling-reply" bind:value=reply></textarea>
            </label>
            <label class="field" hidden=move || kind.get() == "text"><span>"File to send"</span>
                <input type="file" data-testid="sampling-file"
                    accept=move || format!("{}/*", kind.get()) on:change=pick />
                {move || media.get().map(|m| view! {
                    <span class="muted" data-testid="sampling-picked">
                        {format!("{}, {} bytes", m.mime, m.data.len() / 4 * 3)}
                    </span>
                })}
            </label>
            {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="sampling-problem">{p}</p> })}
            <label class="field"><span>"Model name"</span>
                <input type="text" data-testid="sampling-model" bind:value=model />
            </label>
            <button type="submit" data-testid="sampling-send">"Send reply"</button>
            <button type="button" data-testid="sampling-reject" on:click=reject>"Reject"</button>
        </form>
    }
}

/// Decline and Cancel, for either mode of elicitation.
fn refuse_buttons(session: Session, id: Value) -> impl IntoView {
    let answer = move |action: &'static str| {
        let id = id.clone();
        move |_| {
            session.reply(
                id.clone(),
                "elicitation/create",
                Ok(json!({ "action": action })),
            )
        }
    };
    view! {
        <button type="button" data-testid="elicitation-decline" on:click=answer("decline")>"Decline"</button>
        <button type="button" data-testid="elicitation-cancel" on:click=answer("cancel")>"Cancel"</button>
    }
}

#[component]
fn FormElicitation(session: Session, request: ServerRequest) -> impl IntoView {
    let form = SchemaForm::new(&request.params["requestedSchema"], "elicit");
    let message = request.params["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let problem = RwSignal::new(None::<String>);
    let id = request.id.clone();
    let accept = {
        let (form, id) = (form.clone(), id.clone());
        move || match form.value() {
            Ok(content) => {
                let result = json!({ "action": "accept", "content": content });
                session.reply(id.clone(), "elicitation/create", Ok(result));
            }
            Err(why) => problem.set(Some(why)),
        }
    };
    view! {
        <p data-testid="elicitation-message">{message}</p>
        <form novalidate=true on:submit=move |ev| {
            ev.prevent_default();
            accept();
        }>
            <SchemaFormView form=form />
            {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="elicitation-problem">{p}</p> })}
            <button type="submit" data-testid="elicitation-accept">"Accept"</button>
            {refuse_buttons(session, id)}
        </form>
    }
}

#[component]
fn UrlElicitation(session: Session, request: ServerRequest) -> impl IntoView {
    let url = request.params["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let message = request.params["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = request.id.clone();
    let open = {
        let (url, id) = (url.clone(), id.clone());
        move |_| {
            if let Some(window) = web_sys::window() {
                let _ = window.open_with_url_and_target_and_features(&url, "_blank", "noopener");
            }
            session.reply(
                id.clone(),
                "elicitation/create",
                Ok(json!({ "action": "accept" })),
            );
        }
    };
    view! {
        <p data-testid="elicitation-message">{message}</p>
        <p>"The server asks you to open " <code data-testid="elicitation-url">{url}</code></p>
        <button type="button" data-testid="elicitation-open" on:click=open>"Open it"</button>
        {refuse_buttons(session, id)}
    }
}

#[component]
fn RootsEditor(session: Session) -> impl IntoView {
    let roots = session.client.roots;
    let uri = RwSignal::new(String::from("file:///"));
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let changed = move || session.notify("notifications/roots/list_changed", Value::Null);
    let add = move || {
        let entered = uri.get_untracked().trim().to_owned();
        if !entered.starts_with("file://") || entered.len() <= "file://".len() {
            problem.set(Some("A root is a file:// URI.".into()));
            return;
        }
        problem.set(None);
        let root = Root {
            uri: entered,
            name: name.get_untracked().trim().to_owned(),
        };
        roots.update(|roots| roots.push(root));
        name.set(String::new());
        changed();
    };
    view! {
        <h3>"Roots"</h3>
        <ul data-testid="roots">
            <For each=move || roots.get().into_iter().enumerate() key=|(i, root)| (*i, root.uri.clone()) let:entry>
                <li data-testid="root-item">
                    <code>{entry.1.uri.clone()}</code> " " {entry.1.name.clone()} " "
                    <button type="button" class="small" data-testid="root-remove" on:click=move |_| {
                        roots.update(|roots| {
                            if entry.0 < roots.len() {
                                roots.remove(entry.0);
                            }
                        });
                        changed();
                    }>"Remove"</button>
                </li>
            </For>
        </ul>
        <form class="field-inline" on:submit=move |ev| {
            ev.prevent_default();
            add();
        }>
            <input type="text" class="mono" aria-label="Root URI" data-testid="root-uri-input" bind:value=uri />
            <input type="text" aria-label="Root name" placeholder="name" data-testid="root-name-input" bind:value=name />
            <button type="submit" data-testid="root-add">"Add root"</button>
        </form>
        {move || problem.get().map(|p| view! { <p class="error" data-testid="roots-problem">{p}</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_text_or_a_picked_file_of_the_chosen_kind() {
        assert_eq!(
            reply_content("text", "hi".into(), None),
            Ok(json!({ "type": "text", "text": "hi" }))
        );
        let png = Media {
            mime: "image/png".into(),
            data: "iVBO".into(),
        };
        assert_eq!(
            reply_content("image", String::new(), Some(png.clone())),
            Ok(json!({ "type": "image", "mimeType": "image/png", "data": "iVBO" }))
        );
        assert_eq!(
            reply_content("audio", String::new(), Some(png)),
            Err("The file is image/png, not audio.".into())
        );
        assert!(
            reply_content("image", String::new(), None)
                .unwrap_err()
                .contains("Choose")
        );
    }
}
