//! Tool calls as tasks (MCP 2025-11-25, experimental), the rules the web app and the CLI share:
//! whether a tool may or must run as a task, the task a `CreateTaskResult` carries, which
//! statuses are final, and how often to poll.

use serde_json::Value;

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

/// Whether the server (its `initialize` result) lets tools run as tasks
/// (`tasks.requests.tools.call`).
pub fn offers_tool_tasks(initialize_result: &Value) -> bool {
    initialize_result
        .pointer("/capabilities/tasks/requests/tools/call")
        .is_some()
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

/// The delay before the next `tasks/get`, in milliseconds: the server's `pollInterval`, within
/// reason (100 ms to 10 s; 1 s when it gives none).
pub fn poll_interval_ms(task: &Value) -> u64 {
    task["pollInterval"]
        .as_u64()
        .unwrap_or(1_000)
        .clamp(100, 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(offers_tool_tasks(&json!({ "capabilities": offers })));
        assert!(!offers_tool_tasks(&json!({ "capabilities": lists_only })));
    }

    #[test]
    fn a_created_task_is_read_from_its_result_and_polled_within_bounds() {
        let created = json!({ "task": { "taskId": "t1", "status": "working", "pollInterval": 5 } });
        let task = created_task(&created).unwrap();
        assert_eq!(poll_interval_ms(&task), 100);
        assert_eq!(
            poll_interval_ms(&json!({ "pollInterval": 1_000_000 })),
            10_000
        );
        assert_eq!(poll_interval_ms(&json!({})), 1_000);
        assert!(created_task(&json!({ "content": [] })).is_none());
        assert!(is_terminal("cancelled") && !is_terminal("input_required"));
    }
}
