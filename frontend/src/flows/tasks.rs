//! Tool calls run as tasks (MCP 2025-11-25, experimental): whether a tool may or must run as one,
//! and following a task the server created — polling `tasks/get` at the server's `pollInterval`
//! until the task ends or needs input, then `tasks/result` for the tool's result. While a task
//! needs input, the server sends its requests (elicitation, sampling) on the `tasks/result`
//! response, which the server-requests panel answers like any other.
//!
//! Keyhole is the requestor only: it does not announce the client `tasks` capability, so servers
//! do not send it task-augmented requests.

use leptos::prelude::*;
use serde_json::{Value, json};

pub use keyhole_shared::tasks::{TaskSupport, created_task, is_terminal, poll_interval_ms};

use crate::flows::session::{RpcError, Session};
use crate::platform::page::sleep_ms;

/// The delay before the next `tasks/get`, in milliseconds, as a browser timer takes it.
fn poll_delay(task: &Value) -> i32 {
    poll_interval_ms(task) as i32
}

/// How many times `tasks/result` is asked again after it failed without an answer from the
/// server (a request that outlived the backend's timeout) while the task still runs.
const RESULT_ATTEMPTS: usize = 5;

/// Follows `task` (as created) to its end and returns the tool's result. `shown` gets each state
/// the server reports; `wanted` turning false (the user cancelled or started another run) stops
/// the polling.
pub async fn follow(
    session: Session,
    task: Value,
    shown: RwSignal<Option<Value>>,
    wanted: impl Fn() -> bool + Copy + 'static,
) -> Result<Value, RpcError> {
    let id = task["taskId"].as_str().unwrap_or_default().to_owned();
    shown.set(Some(task.clone()));
    let mut latest = task;
    // Poll until the task ends or needs input (its requests then come with `tasks/result`).
    while wanted() {
        let status = latest["status"].as_str().unwrap_or("working");
        if is_terminal(status) || status == "input_required" {
            break;
        }
        sleep_ms(poll_delay(&latest)).await;
        latest = session
            .request("tasks/get", json!({ "taskId": id }))
            .await?;
        shown.set(Some(latest.clone()));
    }
    // Status updates go on while `tasks/result` waits for the end.
    let poller = {
        let id = id.clone();
        let delay = poll_delay(&latest);
        async move {
            loop {
                sleep_ms(delay).await;
                if !wanted() || shown.with_untracked(|t| is_terminal(status_of(t))) {
                    return;
                }
                if let Ok(now) = session.request("tasks/get", json!({ "taskId": id })).await {
                    shown.set(Some(now));
                }
            }
        }
    };
    if !is_terminal(latest["status"].as_str().unwrap_or_default()) {
        leptos::task::spawn_local(poller);
    }
    let mut attempts = 0;
    loop {
        match session
            .request("tasks/result", json!({ "taskId": id }))
            .await
        {
            Err(RpcError::Transport(_))
                if attempts < RESULT_ATTEMPTS
                    && wanted()
                    && !shown.with_untracked(|t| is_terminal(status_of(t))) =>
            {
                attempts += 1;
            }
            outcome => return outcome,
        }
    }
}

fn status_of(task: &Option<Value>) -> &str {
    task.as_ref()
        .and_then(|t| t["status"].as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_delay_is_the_shared_interval() {
        assert_eq!(poll_delay(&json!({ "pollInterval": 5 })), 100);
        assert_eq!(poll_delay(&json!({})), 1_000);
    }
}
