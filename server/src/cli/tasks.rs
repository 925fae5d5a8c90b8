//! `tools call --task`: the call runs as a task (MCP 2025-11-25, experimental). The server
//! answers at once with the task; Keyhole polls `tasks/get` at the server's `pollInterval`,
//! printing each new status on stderr, until the task ends or needs input, then asks
//! `tasks/result` for the tool's result (input requests arrive with it and are answered like any
//! other: `--elicit-json`, `--sample-reply`…). Ctrl+C cancels the task (`tasks/cancel`).

use std::time::Duration;

use serde_json::{Value, json};

pub(super) use keyhole_shared::tasks::offers_tool_tasks;
use keyhole_shared::tasks::{created_task, is_terminal, poll_interval_ms};

use super::CliError;
use super::session::Session;

/// The delay before the next `tasks/get`.
fn poll_delay(task: &Value) -> Duration {
    Duration::from_millis(poll_interval_ms(task))
}

/// One line about the task's state.
fn status_line(task: &Value) -> String {
    let mut line = format!(
        "task {}: {}",
        task["taskId"].as_str().unwrap_or("?"),
        task["status"].as_str().unwrap_or("?").replace('_', " ")
    );
    if let Some(message) = task["statusMessage"].as_str() {
        line.push_str(&format!(" — {message}"));
    }
    line
}

/// Follows the task a `tools/call` created (its `CreateTaskResult`) and returns the tool's
/// result.
pub(super) async fn follow(session: &mut Session<'_>, created: &Value) -> Result<Value, CliError> {
    let Some(mut task) = created_task(created) else {
        return Err(CliError::error(format!(
            "the server's answer to a call as a task names no task: {created}"
        )));
    };
    let id = task["taskId"].as_str().unwrap_or_default().to_owned();
    let mut shown = status_line(&task);
    session.terminal.err(&shown);
    loop {
        let status = task["status"].as_str().unwrap_or("working");
        if is_terminal(status) || status == "input_required" {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll_delay(&task)) => {}
            _ = tokio::signal::ctrl_c() => return cancel(session, &id).await,
        }
        task = session
            .request("tasks/get", json!({ "taskId": id }))
            .await?;
        let line = status_line(&task);
        if line != shown {
            session.terminal.err(&line);
            shown = line;
        }
    }
    if task["status"] == "input_required" {
        session
            .terminal
            .err("the task needs input; its requests come with its result");
    }
    let result = tokio::select! {
        result = session.request("tasks/result", json!({ "taskId": id })) => result,
        _ = tokio::signal::ctrl_c() => return cancel(session, &id).await,
    };
    if task["status"] == "cancelled" || task["status"] == "failed" {
        session.terminal.err(&format!(
            "the task {}",
            task["status"].as_str().unwrap_or("")
        ));
    }
    result
}

/// Ctrl+C while a task runs: tell the server, then stop.
async fn cancel(session: &mut Session<'_>, id: &str) -> Result<Value, CliError> {
    let told = session
        .request("tasks/cancel", json!({ "taskId": id }))
        .await;
    Err(CliError::error(match told {
        Ok(_) => format!("interrupted: the task {id} was cancelled (tasks/cancel)"),
        Err(e) => format!("interrupted: cancelling the task {id} failed: {e}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_described_in_one_line_and_polled_within_bounds() {
        let task = json!({ "taskId": "t1", "status": "input_required",
                           "statusMessage": "Which one?", "pollInterval": 1 });
        assert_eq!(status_line(&task), "task t1: input required — Which one?");
        assert_eq!(poll_delay(&task), Duration::from_millis(100));
        assert_eq!(poll_delay(&json!({})), Duration::from_secs(1));
        assert!(is_terminal("failed") && !is_terminal("working"));
    }
}
