//! Tasks (MCP 2025-11-25, experimental), with the testbed as the receiver: a `tools/call` that
//! carries a `task` field is answered at once with the created task, and the tool runs in the
//! background; the client polls `tasks/get`, waits on `tasks/result`, lists its tasks and cancels
//! them. A task belongs to the session that created it and is forgotten when its `ttl` has passed.
//! Status changes are also sent as `notifications/tasks/status` on the session's GET stream.
//!
//! Which tools may run as tasks is each tool's `taskSupport` ([`crate::config::TaskSupport`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::watch;

use super::cancellation::Cancellation;
use super::dispatch::{RequestContext, RpcError, notification_message};
use super::presets;
use super::session::{GET_STREAM, Session};
use crate::config::ToolPreset;

/// How often clients are told to poll.
pub const POLL_INTERVAL_MS: u64 = 250;
/// A task's lifetime when the client asks for none, and the longest it may ask for.
const DEFAULT_TTL_MS: u64 = 60_000;
const MAX_TTL_MS: u64 = 3_600_000;
/// The `_meta` key tying a message to its task.
pub const META_RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// The `tasks` server capability (2025-11-25 on).
pub fn capability() -> Value {
    json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Working,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Working => "working",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    fn is_terminal(self) -> bool {
        self != Status::Working
    }
}

#[derive(Debug, Clone)]
struct Progress {
    status: Status,
    message: &'static str,
    updated_at: SystemTime,
    /// What `tasks/result` returns, once terminal.
    outcome: Option<Result<Value, RpcError>>,
}

struct Task {
    id: String,
    created_at: SystemTime,
    ttl_ms: u64,
    progress: watch::Sender<Progress>,
    cancel: watch::Sender<bool>,
}

impl Task {
    fn expired(&self, now: SystemTime) -> bool {
        now.duration_since(self.created_at)
            .is_ok_and(|age| age > Duration::from_millis(self.ttl_ms))
    }

    /// The task as the protocol shows it (`Task`).
    fn to_json(&self) -> Value {
        let progress = self.progress.borrow();
        json!({
            "taskId": self.id,
            "status": progress.status.as_str(),
            "statusMessage": progress.message,
            "createdAt": timestamp(self.created_at),
            "lastUpdatedAt": timestamp(progress.updated_at),
            "ttl": self.ttl_ms,
            "pollInterval": POLL_INTERVAL_MS,
        })
    }

    /// Moves a working task to `status`; a terminal task stays as it is (a cancelled task stays
    /// cancelled even when its work finishes). True when it moved.
    fn finish(
        &self,
        status: Status,
        message: &'static str,
        outcome: Result<Value, RpcError>,
    ) -> bool {
        self.progress.send_if_modified(|progress| {
            if progress.status.is_terminal() {
                return false;
            }
            *progress = Progress {
                status,
                message,
                updated_at: SystemTime::now(),
                outcome: Some(outcome.map(|result| with_related_task(result, &self.id))),
            };
            true
        })
    }
}

fn timestamp(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn with_related_task(mut result: Value, task_id: &str) -> Value {
    if let Some(object) = result.as_object_mut() {
        let meta = object.entry("_meta").or_insert_with(|| json!({}));
        meta[META_RELATED_TASK] = json!({"taskId": task_id});
    }
    result
}

/// The tasks of one session, oldest first.
#[derive(Default)]
pub struct TaskTable {
    tasks: Mutex<Vec<Arc<Task>>>,
}

impl TaskTable {
    /// The live tasks (expired ones are dropped on the way).
    fn live(&self) -> MutexGuard<'_, Vec<Arc<Task>>> {
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let now = SystemTime::now();
        tasks.retain(|task| !task.expired(now));
        tasks
    }

    fn find(&self, params: &Value) -> Result<Arc<Task>, RpcError> {
        let id = params["taskId"].as_str().ok_or_else(|| {
            RpcError::new(RpcError::INVALID_PARAMS, "`taskId` (string) is required")
        })?;
        self.live()
            .iter()
            .find(|task| task.id == id)
            .cloned()
            .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMS, format!("unknown task `{id}`")))
    }
}

/// Starts `preset` as a task for a `tools/call` whose params carry `task`; returns the
/// `CreateTaskResult`.
pub fn start_tool(preset: ToolPreset, params: &Value, context: &RequestContext) -> Value {
    let session = Arc::clone(&context.session);
    let ttl_ms = params["task"]["ttl"]
        .as_u64()
        .unwrap_or(DEFAULT_TTL_MS)
        .min(MAX_TTL_MS);
    let now = SystemTime::now();
    let (cancel, cancellation) = Cancellation::new();
    let task = Arc::new(Task {
        id: format!("task-{}", crate::support::random_string(9)),
        created_at: now,
        ttl_ms,
        progress: watch::Sender::new(Progress {
            status: Status::Working,
            message: "The tool is running.",
            updated_at: now,
            outcome: None,
        }),
        cancel,
    });
    session.tasks.live().push(Arc::clone(&task));
    let created = json!({"task": task.to_json()});
    // The tool's progress and log messages go to the GET stream: the call's own stream ends
    // with the created task.
    let run_context = RequestContext {
        session: Arc::clone(&session),
        stream: Some(GET_STREAM),
        progress_token: context.progress_token.clone(),
        cancellation,
    };
    let arguments = params.get("arguments").cloned().unwrap_or(json!({}));
    tokio::spawn(async move {
        let result = presets::call(preset, &arguments, &run_context).await;
        let (status, message) = if result["isError"] == json!(true) {
            (Status::Failed, "The tool reported an error.")
        } else {
            (Status::Completed, "The tool finished.")
        };
        if task.finish(status, message, Ok(result)) {
            announce(&session, &task);
        }
    });
    created
}

/// Sends `notifications/tasks/status` with the task as it is now.
fn announce(session: &Session, task: &Task) {
    session.publish(
        GET_STREAM,
        notification_message("notifications/tasks/status", task.to_json()),
        false,
    );
}

/// Answers `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`; `None` for other methods.
pub async fn handle(
    session: &Session,
    method: &str,
    params: &Value,
    page: impl FnOnce(Value) -> Result<Value, RpcError>,
) -> Option<Result<Value, RpcError>> {
    let tasks = &session.tasks;
    Some(match method {
        "tasks/get" => tasks.find(params).map(|task| task.to_json()),
        "tasks/list" => {
            let listed: Vec<Value> = tasks.live().iter().map(|task| task.to_json()).collect();
            page(json!({"tasks": listed}))
        }
        "tasks/result" => match tasks.find(params) {
            Ok(task) => result_of(&task).await,
            Err(error) => Err(error),
        },
        "tasks/cancel" => tasks.find(params).and_then(|task| {
            let cancelled = json!({"content": [{"type": "text", "text": "The task was cancelled."}],
                                   "isError": true});
            if !task.finish(
                Status::Cancelled,
                "The task was cancelled by request.",
                Ok(cancelled),
            ) {
                return Err(RpcError::new(
                    RpcError::INVALID_PARAMS,
                    format!(
                        "task `{}` is already {}",
                        task.id,
                        task.progress.borrow().status.as_str()
                    ),
                ));
            }
            let _ = task.cancel.send(true);
            announce(session, &task);
            Ok(task.to_json())
        }),
        _ => return None,
    })
}

/// Waits for the task to end, then returns what the tool call would have returned.
async fn result_of(task: &Task) -> Result<Value, RpcError> {
    let mut progress = task.progress.subscribe();
    let ended = progress
        .wait_for(|progress| progress.status.is_terminal())
        .await
        .map(|progress| progress.outcome.clone());
    match ended {
        Ok(Some(outcome)) => outcome,
        _ => Err(RpcError::new(-32603, "the task ended without a result")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc_3339() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_547_200);
        assert_eq!(timestamp(at), "2025-12-01T00:00:00Z");
    }
}
