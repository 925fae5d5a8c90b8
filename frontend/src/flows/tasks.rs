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

use crate::flows::session::{RpcError, Session};
use crate::platform::page::sleep_ms;

/// How a tool may be called, from the server's `tasks` capability and the tool's
/// `execution.taskSupport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskSupport {
    /// A plain call only (the default).
    Forbidden,
    /// A plain call or a task, as the user chooses.
    Optional,
    /// A task only.
    Required,
}

impl TaskSupport {
    /// The support `server_capabilities` and `tool` (a `tools/list` entry) declare. Without the
    /// server's `tasks.requests.tools.call`, no tool may run as a task, whatever it says.
    pub fn of(server_capabilities: &Value, tool: &Value) -> Self {
        if server_capabilities
            .pointer("/tasks/requests/tools/call")
            .is_none()
        {
            return Self::Forbidden;
        }
        match tool
            .pointer("/execution/taskSupport")
            .and_then(Value::as_str)
        {
            Some("required") => Self::Required,
            Some("optional") => Self::Optional,
            _ => Self::Forbidden,
        }
    }
}

/// Whether a task in `status` will not change any more.
pub fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// The task a `CreateTaskResult` carries.
pub fn created_task(result: &Value) -> Option<Value> {
    result
        .get("task")
        .filter(|task| task["taskId"].is_string())
        .cloned()
}

/// The delay before the next `tasks/get`: the server's `pollInterval`, within reason.
fn poll_delay(task: &Value) -> i32 {
    task["pollInterval"]
        .as_u64()
        .unwrap_or(1_000)
        .clamp(100, 10_000) as i32
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
    fn a_tool_runs_as_a_task_only_when_the_server_and_the_tool_both_say_so() {
        let offers = json!({ "tasks": { "requests": { "tools": { "call": {} } } } });
        let tool = |support: &str| json!({ "name": "t", "execution": { "taskSupport": support } });
        assert_eq!(
            TaskSupport::of(&offers, &tool("required")),
            TaskSupport::Required
        );
        assert_eq!(
            TaskSupport::of(&offers, &tool("optional")),
            TaskSupport::Optional
        );
        assert_eq!(
            TaskSupport::of(&offers, &tool("forbidden")),
            TaskSupport::Forbidden
        );
        assert_eq!(
            TaskSupport::of(&offers, &json!({ "name": "t" })),
            TaskSupport::Forbidden
        );
        let lists_only = json!({ "tasks": { "list": {} } });
        assert_eq!(
            TaskSupport::of(&lists_only, &tool("required")),
            TaskSupport::Forbidden
        );
    }

    #[test]
    fn a_created_task_is_read_from_its_result_and_polled_within_bounds() {
        let created = json!({ "task": { "taskId": "t1", "status": "working", "pollInterval": 5 } });
        let task = created_task(&created).unwrap();
        assert_eq!(poll_delay(&task), 100);
        assert_eq!(poll_delay(&json!({ "pollInterval": 1_000_000 })), 10_000);
        assert_eq!(poll_delay(&json!({})), 1_000);
        assert!(created_task(&json!({ "content": [] })).is_none());
        assert!(is_terminal("cancelled") && !is_terminal("input_required"));
    }
}
