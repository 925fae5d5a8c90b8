//! The Tasks tab, for a server that lists its tasks (`tasks.list`, MCP 2025-11-25,
//! experimental): each task with its status and message, Result (`tasks/result`, which waits for
//! the end) and, while it runs, Cancel (`tasks/cancel`, when the server offers it). Tool calls
//! become tasks in the Tools tab ([`crate::flows::tasks`]). A separate wasm chunk (`#[lazy]`).
//!
//! Test ids: `task-refresh`, `task-list-problem`, `task-empty`, `task-row` (`data-task-id`,
//! `data-status`), `task-get-result`, `task-cancel`, `task-outcome`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::flows::listing::Pager;
use crate::flows::session::Session;
use crate::flows::tasks::is_terminal;
use crate::views::content::JsonBlock;
use crate::views::item_list::LoadMore;

/// The tab, built by its own wasm chunk.
#[lazy]
pub fn tasks_tab(session: Session) -> AnyView {
    view! { <TasksTab session=session /> }.into_any()
}

#[component]
fn TasksTab(session: Session) -> impl IntoView {
    let refreshed = RwSignal::new(0_u32);
    let pager = Pager::new();
    let tasks = LocalResource::new(move || {
        refreshed.track();
        let limit = pager.limit.get();
        async move {
            let (items, more) = session.list_all("tasks/list", "tasks", limit).await?;
            pager.more.set(more);
            Ok::<_, crate::flows::session::RpcError>(items)
        }
    });
    let can_cancel = session
        .initialize_result()
        .pointer("/capabilities/tasks/cancel")
        .is_some();
    // What Result or Cancel returned last, by task id.
    let outcome = RwSignal::new(None::<(String, Value)>);
    let act = move |method: &'static str, id: String| {
        spawn_local(async move {
            let answer = match session.request(method, json!({ "taskId": id })).await {
                Ok(result) => result,
                Err(error) => json!({ "error": error.to_string() }),
            };
            outcome.set(Some((id, answer)));
            refreshed.update(|n| *n += 1);
        });
    };
    view! {
        <div class="tasks">
            <p class="muted">
                "Tasks the server keeps for this connection. Run a tool as a task from the Tools tab. "
                <button type="button" class="small" data-testid="task-refresh"
                    on:click=move |_| refreshed.update(|n| *n += 1)>"Refresh"</button>
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading tasks…"</p> }>
                {move || tasks.get().map(|listed| match listed {
                    Err(error) => view! { <p class="error" role="alert" data-testid="task-list-problem">{error.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="task-empty">"No tasks."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="tasks-table">
                            <thead><tr><th>"Task"</th><th>"Status"</th><th>"Message"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|task| task_row(task, can_cancel, act)).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
            <LoadMore pager=pager testid="task-list-more" />
            {move || outcome.get().map(|(id, answer)| view! {
                <div class="result" data-testid="task-outcome" data-task-id=id.clone()>
                    <JsonBlock value=answer summary=format!("Task {id}") open=true />
                </div>
            })}
        </div>
    }
}

fn task_row(
    task: Value,
    can_cancel: bool,
    act: impl Fn(&'static str, String) + Copy + 'static,
) -> impl IntoView {
    let id = task["taskId"].as_str().unwrap_or_default().to_owned();
    let status = task["status"].as_str().unwrap_or_default().to_owned();
    let running = !is_terminal(&status);
    let (for_result, for_cancel) = (id.clone(), id.clone());
    view! {
        <tr data-testid="task-row" data-task-id=id.clone() data-status=status.clone()>
            <td><code>{id.clone()}</code></td>
            <td>{status.replace('_', " ")}</td>
            <td>{task["statusMessage"].as_str().unwrap_or_default().to_owned()}</td>
            <td class="muted">{task["createdAt"].as_str().unwrap_or_default().to_owned()}</td>
            <td>
                <button type="button" class="small" data-testid="task-get-result"
                    title="tasks/result: waits until the task ends"
                    on:click=move |_| act("tasks/result", for_result.clone())>"Result"</button>
                {(running && can_cancel).then(|| view! {
                    <button type="button" class="small danger" data-testid="task-cancel"
                        on:click=move |_| act("tasks/cancel", for_cancel.clone())>"Cancel"</button>
                })}
            </td>
        </tr>
    }
}
