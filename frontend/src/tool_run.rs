//! Running one tool: the form generated from its input schema, Run, progress while it runs, and the
//! result rendered by content type (`data-testid="tool-result"`, `data-state="ok|error|pending"`).

use std::collections::BTreeMap;

use keyhole_shared::messages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::content::{ContentBlock, JsonBlock};
use crate::schema_form::{SchemaForm, SchemaFormView};
use crate::session::{Session, now_ms};
use crate::text::{number_text, whole};

/// The open form: its fields, whether the raw-JSON editor is on, and the raw JSON.
type OpenForm = (SchemaForm, RwSignal<bool>, RwSignal<String>);

/// Where the Tools tab finds the open form's values (for the resume snapshot), and where a
/// restored form's values wait until the tool's form exists.
#[derive(Clone, Copy)]
pub struct FormSlot {
    current: StoredValue<Option<OpenForm>>,
    pub pending: StoredValue<Option<BTreeMap<String, String>>>,
}

/// The form key under which the raw-JSON arguments are kept.
const RAW_JSON_KEY: &str = "(arguments as JSON)";

impl FormSlot {
    pub fn new() -> Self {
        Self {
            current: StoredValue::new(None),
            pending: StoredValue::new(None),
        }
    }

    /// The open form's values as typed (restored ones still waiting for the form, if it is
    /// not there yet).
    pub fn texts(&self) -> BTreeMap<String, String> {
        self.current.with_value(|current| match current {
            None => self.pending.get_value().unwrap_or_default(),
            Some((form, raw_mode, raw_text)) => {
                let mut texts = form.texts();
                if raw_mode.get_untracked() {
                    texts.insert(RAW_JSON_KEY.to_owned(), raw_text.get_untracked());
                }
                texts
            }
        })
    }

    fn attach(&self, form: SchemaForm, raw_mode: RwSignal<bool>, raw_text: RwSignal<String>) {
        if let Some(saved) = self.pending.try_update_value(Option::take).flatten() {
            form.restore(&saved);
            if let Some(raw) = saved.get(RAW_JSON_KEY) {
                raw_text.set(raw.clone());
                raw_mode.set(true);
            }
        }
        self.current.set_value(Some((form, raw_mode, raw_text)));
    }
}

#[derive(Debug, Clone, PartialEq)]
enum RunState {
    Idle,
    Pending {
        token: String,
    },
    /// The `tools/call` result (which may carry `isError`).
    Done {
        result: Value,
        elapsed_ms: f64,
    },
    Failed(String),
}

#[component]
pub fn ToolRunner(session: Session, tool: Value, form_slot: FormSlot) -> impl IntoView {
    let name = tool["name"].as_str().unwrap_or("").to_owned();
    let schema = tool["inputSchema"].clone();
    let form = SchemaForm::new(&schema, "tool-arg");
    let state = RwSignal::new(RunState::Idle);
    let problem = RwSignal::new(None::<String>);
    // The raw-JSON fallback: edit the whole arguments object as JSON.
    let raw_mode = RwSignal::new(false);
    let raw_text = RwSignal::new(String::new());
    form_slot.attach(form.clone(), raw_mode, raw_text);
    let toggle_raw = {
        let form = form.clone();
        move |on: bool| {
            if on {
                let current = form.value().unwrap_or_else(|_| json!({}));
                raw_text.set(serde_json::to_string_pretty(&current).unwrap_or_default());
            }
            raw_mode.set(on);
        }
    };

    let run = {
        let form = form.clone();
        let name = name.clone();
        move || {
            if session
                .interrupted_call
                .with_untracked(|t| t.as_ref() == Some(&name))
            {
                session.interrupted_call.set(None);
            }
            let arguments = if raw_mode.get_untracked() {
                serde_json::from_str::<Value>(&raw_text.get_untracked())
                    .map_err(|e| format!("The arguments are not valid JSON: {e}"))
                    .and_then(|v| {
                        if v.is_object() {
                            Ok(v)
                        } else {
                            Err("The arguments must be a JSON object.".to_owned())
                        }
                    })
            } else {
                form.value()
            };
            let arguments = match arguments {
                Ok(arguments) => arguments,
                Err(why) => {
                    problem.set(Some(why));
                    return;
                }
            };
            problem.set(None);
            let id = session.fresh_id();
            let token = format!("keyhole-{id}");
            state.set(RunState::Pending {
                token: token.clone(),
            });
            let params = json!({ "name": name, "arguments": arguments, "_meta": { "progressToken": token } });
            spawn_local(async move {
                let started = now_ms();
                let outcome = session.request_with_id(id, "tools/call", params).await;
                let _ = state.try_set(match outcome {
                    Ok(result) => RunState::Done {
                        result,
                        elapsed_ms: now_ms() - started,
                    },
                    Err(error) => RunState::Failed(error.to_string()),
                });
            });
        }
    };
    let description = tool["description"].as_str().map(str::to_owned);
    let empty_form = form.is_empty();
    let run_again = run.clone();
    let interrupted = {
        let name = name.clone();
        move || {
            let this = session.interrupted_call.with(|t| t.as_ref() == Some(&name));
            (this && state.with(|s| *s == RunState::Idle)).then(|| messages::not_sent_again(&name))
        }
    };

    view! {
        <div class="runner">
            <h3>{name.clone()}</h3>
            {description.map(|d| view! { <p class="muted">{d}</p> })}
            <form
                class="run-form"
                novalidate=true
                on:submit=move |ev| {
                    ev.prevent_default();
                    run();
                }
            >
                <label class="field-inline muted">
                    <input type="checkbox" data-testid="tool-args-json-toggle"
                        prop:checked=move || raw_mode.get()
                        on:change=move |ev| toggle_raw(event_target_checked(&ev)) />
                    "Edit arguments as JSON"
                </label>
                <div hidden=move || raw_mode.get()>
                    {empty_form.then(|| view! { <p class="muted">"This tool takes no arguments."</p> })}
                    <SchemaFormView form=form />
                </div>
                <div class="field" hidden=move || !raw_mode.get()>
                    <textarea rows="8" class="mono" aria-label="Arguments as JSON"
                        data-testid="tool-args-json" bind:value=raw_text></textarea>
                </div>
                {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="tool-form-problem">{p}</p> })}
                <button
                    type="submit"
                    data-testid="tool-run"
                    disabled=move || matches!(state.get(), RunState::Pending { .. })
                >
                    "Run"
                </button>
            </form>
            <details class="json">
                <summary>"Input schema"</summary>
                <pre class="mono">{serde_json::to_string_pretty(&schema).unwrap_or_default()}</pre>
            </details>
            {move || interrupted().map(|text| {
                let run_again = run_again.clone();
                view! {
                    <div class="result" role="status" data-testid="tool-rerun-notice">
                        <p>{text}</p>
                        <button type="button" data-testid="tool-run-again"
                            on:click=move |_| run_again()>"Run again"</button>
                    </div>
                }
            })}
            <RunResult session=session state=state />
        </div>
    }
}

#[component]
fn RunResult(session: Session, state: RwSignal<RunState>) -> impl IntoView {
    move || {
        match state.get() {
        RunState::Idle => ().into_any(),
        RunState::Pending { token } => {
            let progress = move || {
                session.progress.get().filter(|p| p.token == token).map(|p| {
                    let text = match p.total {
                        Some(total) => format!("{} / {}", number_text(p.progress), number_text(total)),
                        None => number_text(p.progress),
                    };
                    view! {
                        <p class="progress" data-testid="tool-progress">
                            {match p.total {
                                Some(total) => view! { <progress max=number_text(total) value=number_text(p.progress)></progress> }.into_any(),
                                None => view! { <progress></progress> }.into_any(),
                            }}
                            " " {text} " " {p.message.unwrap_or_default()}
                        </p>
                    }
                })
            };
            view! {
                <div class="result" data-testid="tool-result" data-state="pending" aria-busy="true">
                    <p class="muted">"Running…"</p>
                    {progress}
                </div>
            }
            .into_any()
        }
        RunState::Failed(message) => view! {
            <div class="result result-error" data-testid="tool-result" data-state="error" role="alert">
                <p class="error">{message}</p>
            </div>
        }
        .into_any(),
        RunState::Done { result, elapsed_ms } => {
            let is_error = result["isError"].as_bool().unwrap_or(false);
            let blocks = result["content"].as_array().cloned().unwrap_or_default();
            let structured = result.get("structuredContent").cloned();
            view! {
                <div
                    class="result"
                    class:result-error=is_error
                    data-testid="tool-result"
                    data-state=if is_error { "error" } else { "ok" }
                >
                    <p class="muted">
                        {if is_error { "The tool reported an error" } else { "Result" }}
                        {format!(" · {} ms", whole(elapsed_ms))}
                    </p>
                    {blocks.into_iter().map(|block| view! { <ContentBlock block=block /> }).collect_view()}
                    {structured.map(|s| view! { <JsonBlock value=s summary="Structured content" open=true /> })}
                    <JsonBlock value=result summary="Raw result" />
                </div>
            }
            .into_any()
        }
    }
    }
}
