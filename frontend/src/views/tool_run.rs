//! Running one tool: its annotations, the form generated from its input schema, Run (after a
//! confirmation when the server marks the tool destructive), the input the server asks for while
//! the call runs ([`input_required`], answered in the server-requests panel), the result, and the tool's history.
//!
//! Test ids: `tool-args-json-toggle`, `tool-args-json`, `tool-as-task`, `tool-form-problem`, `tool-run`,
//! `tool-confirm` with `tool-confirm-run` and `tool-confirm-cancel`, `tool-history`.

use std::collections::BTreeMap;

use keyhole_shared::messages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::flows::input_required;
use crate::flows::session::Session;
use crate::flows::tasks::{self, TaskSupport, created_task};
use crate::platform::keys::submit_on_ctrl_enter;
use crate::platform::page::monotonic_ms;
use crate::views::app_view;
use crate::views::content::JsonBlock;
use crate::views::dialog::Dialog;
use crate::views::history::CallHistory;
use crate::views::lazy::lazy_view;
use crate::views::markdown_view::Markdown;
use crate::views::schema_form::{SchemaForm, SchemaFormView};
use crate::views::tool_result::{RunResult, RunState};
use crate::views::tools::{hint_badges, is_destructive};

/// The open form: its fields, whether the raw-JSON editor is on, and the raw JSON.
type OpenForm = (SchemaForm, RwSignal<bool>, RwSignal<String>);

/// Where the Tools tab finds the open form's values (for the resume snapshot), and where a
/// restored form's values wait until the tool's form exists.
#[derive(Clone, Copy)]
pub struct FormSlot {
    current: StoredValue<Option<OpenForm>>,
    pending: StoredValue<Option<SavedForm>>,
}

/// A form as the resume snapshot keeps it: the fields as typed, and the raw JSON when the
/// arguments were being edited as JSON.
#[derive(Clone, Default)]
pub struct SavedForm {
    pub fields: BTreeMap<String, String>,
    pub arguments_json: Option<String>,
}

impl FormSlot {
    pub fn new() -> Self {
        Self {
            current: StoredValue::new(None),
            pending: StoredValue::new(None),
        }
    }

    /// The open form as typed (or a restored one still waiting for its form).
    pub fn capture(&self) -> SavedForm {
        self.current.with_value(|current| match current {
            None => self.pending.get_value().unwrap_or_default(),
            Some((form, raw_mode, raw_text)) => SavedForm {
                fields: form.texts(),
                arguments_json: raw_mode.get_untracked().then(|| raw_text.get_untracked()),
            },
        })
    }

    /// Values for the next form that opens (a form saved before a redirect).
    pub fn restore_later(&self, saved: SavedForm) {
        self.pending.set_value(Some(saved));
    }

    fn attach(&self, form: SchemaForm, raw_mode: RwSignal<bool>, raw_text: RwSignal<String>) {
        if let Some(saved) = self.pending.try_update_value(Option::take).flatten() {
            form.restore(&saved.fields);
            if let Some(raw) = saved.arguments_json {
                raw_text.set(raw);
                raw_mode.set(true);
            }
        }
        self.current.set_value(Some((form, raw_mode, raw_text)));
    }
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
    let tool_name = StoredValue::new(name.clone());
    // Arguments waiting for the user's yes before a destructive tool runs.
    let confirming = RwSignal::new(None::<Value>);

    let support = TaskSupport::of(&session.initialize_result()["capabilities"], &tool);
    let as_task = RwSignal::new(support == TaskSupport::Required);
    // The task the running call became, as the server last reported it.
    let task = RwSignal::new(None::<Value>);
    // The arguments of the last run (an app gets them with the result).
    let last_arguments = StoredValue::new(Value::Null);
    // The app that was open when a sign-in redirect left comes back with its result.
    let reopened = session
        .reopen_app
        .try_update_value(|app| app.take_if(|app| app.tool == name))
        .flatten();
    if let Some(app) = reopened {
        last_arguments.set_value(app.arguments);
        state.set(RunState::Done {
            result: app.result,
            elapsed_ms: 0.0,
        });
    }
    let execute = move |arguments: Value| {
        last_arguments.set_value(arguments.clone());
        let id = session.fresh_id();
        let token = format!("keyhole-{id}");
        state.set(RunState::Pending {
            token: token.clone(),
            id,
        });
        task.set(None);
        let mut params = json!({ "name": tool_name.get_value(), "arguments": arguments,
                                 "_meta": { "progressToken": token } });
        if as_task.get_untracked() {
            params["task"] = json!({});
        }
        let wanted = move || {
            state.with_untracked(
                |s| matches!(s, RunState::Pending { id: running, .. } if *running == id),
            )
        };
        spawn_local(async move {
            let started = monotonic_ms();
            let mut outcome = input_required::call(session, id, "tools/call", params).await;
            if let Some(created) = outcome.as_ref().ok().and_then(created_task) {
                outcome = tasks::follow(session, created, task, wanted)
                    .await
                    .map_err(|error| error.to_string());
            }
            let finished = match outcome {
                Ok(result) => RunState::Done {
                    result,
                    elapsed_ms: monotonic_ms() - started,
                },
                Err(error) => RunState::Failed(error),
            };
            // Unless the user cancelled this run (or started another) meanwhile.
            let _ = state.try_update(|now| {
                if matches!(now, RunState::Pending { id: running, .. } if *running == id) {
                    *now = finished;
                }
            });
        });
    };
    let destructive = is_destructive(&tool);
    // Runs with `arguments` (from the form or the history); a destructive tool asks first.
    let run_with = move |arguments: Value| {
        problem.set(None);
        if destructive {
            confirming.set(Some(arguments));
        } else {
            execute(arguments);
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
            match arguments {
                Ok(arguments) => run_with(arguments),
                Err(why) => problem.set(Some(why)),
            }
        }
    };
    let fill = {
        let form = form.clone();
        move |arguments: Value| {
            form.fill(&arguments);
            if raw_mode.get_untracked() {
                raw_text.set(serde_json::to_string_pretty(&arguments).unwrap_or_default());
            }
        }
    };
    let description = tool["description"].as_str().map(str::to_owned);
    let output_schema = tool.get("outputSchema").cloned();
    let badges = hint_badges(&tool);
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
            <h3>{name.clone()} " " {badges}</h3>
            {description.map(|d| view! { <div class="muted description"><Markdown text=d /></div> })}
            <form
                class="run-form"
                novalidate=true
                on:keydown=submit_on_ctrl_enter
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
                {(support != TaskSupport::Forbidden).then(|| view! {
                    <label class="field-inline muted">
                        <input type="checkbox" data-testid="tool-as-task"
                            disabled=support == TaskSupport::Required
                            prop:checked=move || as_task.get()
                            on:change=move |ev| as_task.set(event_target_checked(&ev)) />
                        {match support {
                            TaskSupport::Required => "Runs as a task (the server requires it): polled until it ends",
                            _ => "Run as a task: the server answers at once and Keyhole polls until it ends",
                        }}
                    </label>
                })}
                {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="tool-form-problem">{p}</p> })}
                <button
                    type="submit"
                    data-testid="tool-run"
                    title="Run (Ctrl+Enter)"
                    disabled=move || matches!(state.get(), RunState::Pending { .. })
                >
                    "Run"
                </button>
            </form>
            <JsonBlock value=schema summary="Input schema" />
            {output_schema.map(|s| view! { <JsonBlock value=s summary="Output schema" /> })}
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
            {app_view::ui_resource(&tool).map(|uri| {
                let tool = tool.clone();
                move || match state.get() {
                    RunState::Done { result, .. } => Some(lazy_view(app_view::app_frame(
                        session, uri.clone(), tool.clone(), last_arguments.get_value(), result,
                    ))),
                    _ => None,
                }
            })}
            <RunResult session=session state=state tool=tool task=task />
            <CallHistory session=session method="tools/call" target=name testid="tool-history"
                on_rerun=Callback::new(run_with) on_fill=Callback::new(fill) />
            {move || confirming.get().map(|arguments| {
                let answer = move |yes: bool| {
                    confirming.set(None);
                    if yes {
                        execute(arguments.clone());
                    }
                };
                view! { <ConfirmRun name=tool_name.get_value() on_answer=Callback::new(answer) /> }
            })}
        </div>
    }
}

/// Asks before a tool the server marks destructive runs; Escape or Cancel (focused first) says no.
#[component]
fn ConfirmRun(name: String, on_answer: Callback<bool>) -> impl IntoView {
    let cancel = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    view! {
        <Dialog testid="tool-confirm" title="Run a destructive tool?"
            on_cancel=Callback::new(move |()| on_answer.run(false))>
            <p>"The server marks " <code>{name}</code>
                " as destructive: it may delete or overwrite data."</p>
            <div class="modal-actions">
                <button type="button" class="danger" data-testid="tool-confirm-run"
                    on:click=move |_| on_answer.run(true)>"Run it"</button>
                <button type="button" data-testid="tool-confirm-cancel" node_ref=cancel
                    on:click=move |_| on_answer.run(false)>"Cancel"</button>
            </div>
        </Dialog>
    }
}
