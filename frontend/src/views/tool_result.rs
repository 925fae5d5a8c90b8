//! The result of one tool run: progress while it runs (a task's status, and Cancel, which tells the server), the content blocks by type, the structured
//! content checked against the tool's output schema (a mismatch is shown as a server bug, with the
//! path that failed), the raw result, and Copy / Download.
//!
//! Test ids: `tool-result` (`data-state="ok|error|pending"`), `tool-progress`, `tool-task`
//! (`data-status`), `tool-cancel`,
//! `tool-output-valid`, `tool-output-invalid` with `tool-output-violation` rows (`data-path`, a
//! JSON Pointer into `structuredContent`).

use keyhole_shared::output_schema::{OutputCheck, check_tool_result};
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::flows::session::Session;
use crate::platform::text::{duration_text, number_text};
use crate::views::content::{ContentBlock, JsonBlock};
use crate::views::export::ResultActions;

/// Tells the server the user cancelled run `id` (its task, once it is one); returns what the
/// run then shows.
fn cancel(session: Session, id: u64, task: Option<Value>) -> String {
    match task.as_ref().and_then(|t| t["taskId"].as_str()) {
        Some(task_id) => {
            let params = json!({ "taskId": task_id });
            leptos::task::spawn_local(async move {
                let _ = session.request("tasks/cancel", params).await;
            });
            "You cancelled the task; the server was told (tasks/cancel).".into()
        }
        None => {
            session.notify(
                "notifications/cancelled",
                json!({ "requestId": id, "reason": "The user cancelled the call" }),
            );
            "You cancelled the call; the server was told (notifications/cancelled).".into()
        }
    }
}

/// A running task's state as the server last reported it.
fn task_status(task: Value) -> impl IntoView {
    let status = task["status"].as_str().unwrap_or("working").to_owned();
    view! {
        <p class="muted" data-testid="tool-task" data-status=status.clone()>
            "Task " <code>{task["taskId"].as_str().unwrap_or_default().to_owned()}</code>
            ": " <strong>{status.replace('_', " ")}</strong>
            {task["statusMessage"].as_str().map(|m| format!(" — {m}"))}
        </p>
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    /// Request `id` is running; its progress notifications carry `token`.
    Pending {
        token: String,
        id: u64,
    },
    /// The `tools/call` result (which may carry `isError`).
    Done {
        result: Value,
        elapsed_ms: f64,
    },
    Failed(String),
}

fn output_check_view(tool: &Value, result: &Value) -> Option<AnyView> {
    let (what, violations) = match check_tool_result(tool, result) {
        OutputCheck::NotApplicable => return None,
        OutputCheck::Valid => {
            return Some(
                view! {
                    <p class="muted" data-testid="tool-output-valid">
                        "The structured content matches the tool's output schema."
                    </p>
                }
                .into_any(),
            );
        }
        OutputCheck::Missing => (
            "the tool declares an output schema, but the result has no structuredContent.",
            Vec::new(),
        ),
        OutputCheck::Invalid(violations) => (
            "the structured content does not match the tool's output schema:",
            violations,
        ),
    };
    Some(
        view! {
            <div class="schema-error" role="alert" data-testid="tool-output-invalid">
                <p><strong>"Server bug: "</strong>{what}</p>
                <ul>
                    {violations.into_iter().map(|v| view! {
                        <li data-testid="tool-output-violation" data-path=v.path.clone()>
                            <code>{format!("structuredContent{}", v.path)}</code>": "{v.message}
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        }
        .into_any(),
    )
}

#[component]
pub fn RunResult(
    session: Session,
    state: RwSignal<RunState>,
    tool: Value,
    /// The task the run became (a tool called as a task), as last reported.
    task: RwSignal<Option<Value>>,
) -> impl IntoView {
    let name = tool["name"].as_str().unwrap_or("tool").to_owned();
    move || {
        match state.get() {
        RunState::Idle => ().into_any(),
        RunState::Pending { token, id } => {
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
                    <p class="muted">"Running… "
                        <button type="button" class="small" data-testid="tool-cancel" on:click=move |_| {
                            state.set(RunState::Failed(cancel(session, id, task.get_untracked())));
                        }>"Cancel"</button>
                    </p>
                    {move || task.get().map(task_status)}
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
            let check = output_check_view(&tool, &result);
            view! {
                <div
                    class="result"
                    class:result-error=is_error
                    data-testid="tool-result"
                    data-state=if is_error { "error" } else { "ok" }
                >
                    <p class="muted">
                        {if is_error { "The tool reported an error" } else { "Result" }}
                        {format!(" · {}", duration_text(elapsed_ms))}
                    </p>
                    {blocks.into_iter().map(|block| view! { <ContentBlock block=block /> }).collect_view()}
                    {check}
                    {structured.map(|s| view! { <JsonBlock value=s summary="Structured content" open=true /> })}
                    <JsonBlock value=result.clone() summary="Raw result" />
                    <ResultActions value=result name=format!("{name}-result") />
                </div>
            }
            .into_any()
        }
    }
    }
}
