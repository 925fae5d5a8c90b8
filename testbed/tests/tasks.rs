//! Tasks (2025-11-25) with the testbed as the receiver: a `tools/call` with `task` returns the
//! created task at once; `tasks/get` polls it, `tasks/result` waits for the tool's result,
//! `tasks/list` lists the session's tasks, `tasks/cancel` stops one; each tool's `taskSupport`
//! decides whether it may, or must, run as a task.

use crate::common;

use common::{Fixture, McpClient};
use serde_json::{Value, json};

fn config() -> Value {
    let mut config = common::base_config();
    config["servers"][2]["tools"] = json!([
        {"preset": "echo"},
        {"preset": "longRunning"},
        {"preset": "longRunning", "name": "batch", "taskSupport": "required"},
    ]);
    config
}

async fn session(fixture: &Fixture) -> McpClient {
    let mut mcp = fixture.mcp("open", None);
    assert_eq!(mcp.initialize().await.status, 200);
    mcp
}

async fn start_task(mcp: &mut McpClient, tool: &str, arguments: Value) -> Value {
    let reply = mcp
        .request(
            "tools/call",
            json!({"name": tool, "arguments": arguments, "task": {"ttl": 30000}}),
        )
        .await;
    let task = reply.response()["result"]["task"].clone();
    assert_eq!(task["status"], "working", "{:?}", reply.messages);
    assert_eq!(task["ttl"], 30000);
    assert!(task["pollInterval"].as_u64().is_some());
    assert!(task["createdAt"].as_str().unwrap().ends_with('Z'));
    task
}

#[tokio::test]
async fn the_capability_and_each_tools_task_support_are_announced() {
    let fixture = Fixture::start(config()).await;
    let mut mcp = fixture.mcp("open", None);
    let init = mcp.initialize().await;
    let capabilities = &init.response()["result"]["capabilities"];
    assert_eq!(
        capabilities["tasks"]["requests"]["tools"]["call"],
        json!({})
    );
    assert_eq!(capabilities["tasks"]["list"], json!({}));
    let tools = mcp.request("tools/list", json!({})).await;
    let tools = &tools.response()["result"]["tools"];
    let support = |name: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["execution"]["taskSupport"]
            .clone()
    };
    assert_eq!(support("echo"), Value::Null);
    assert_eq!(support("long-running"), "optional");
    assert_eq!(support("batch"), "required");

    let mut older = fixture.mcp("open", None);
    let init = older.initialize_with("2025-06-18").await;
    assert!(
        init.response()["result"]["capabilities"]
            .get("tasks")
            .is_none()
    );
}

#[tokio::test]
async fn a_task_is_polled_listed_and_gives_the_tools_result() {
    let fixture = Fixture::start(config()).await;
    let mut mcp = session(&fixture).await;
    let task = start_task(
        &mut mcp,
        "long-running",
        json!({"steps": 2, "delayMs": 100}),
    )
    .await;
    let id = task["taskId"].as_str().unwrap();

    let polled = mcp.request("tasks/get", json!({"taskId": id})).await;
    assert_eq!(polled.response()["result"]["taskId"], id);
    let listed = mcp.request("tasks/list", json!({})).await;
    assert_eq!(listed.response()["result"]["tasks"][0]["taskId"], id);

    // tasks/result waits for the end, then returns what the call would have returned.
    let result = mcp.request("tasks/result", json!({"taskId": id})).await;
    let result = &result.response()["result"];
    assert_eq!(
        result["content"][0]["text"],
        "Completed 2 steps (100 ms each)."
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id
    );
    let polled = mcp.request("tasks/get", json!({"taskId": id})).await;
    assert_eq!(polled.response()["result"]["status"], "completed");

    // Another session does not see it.
    let mut other = session(&fixture).await;
    let unknown = other.request("tasks/get", json!({"taskId": id})).await;
    assert_eq!(unknown.response()["error"]["code"], -32602);
}

#[tokio::test]
async fn a_cancelled_task_stays_cancelled_and_cannot_be_cancelled_twice() {
    let fixture = Fixture::start(config()).await;
    let mut mcp = session(&fixture).await;
    let task = start_task(&mut mcp, "batch", json!({"steps": 50, "delayMs": 200})).await;
    let id = task["taskId"].as_str().unwrap();
    let cancelled = mcp.request("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(cancelled.response()["result"]["status"], "cancelled");
    let result = mcp.request("tasks/result", json!({"taskId": id})).await;
    assert_eq!(result.response()["result"]["isError"], true);
    let again = mcp.request("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(again.response()["error"]["code"], -32602);
    let polled = mcp.request("tasks/get", json!({"taskId": id})).await;
    assert_eq!(polled.response()["result"]["status"], "cancelled");
}

#[tokio::test]
async fn task_support_is_enforced() {
    let fixture = Fixture::start(config()).await;
    let mut mcp = session(&fixture).await;
    let forbidden = mcp
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "hi"}, "task": {}}),
        )
        .await;
    assert_eq!(forbidden.response()["error"]["code"], -32601);
    let required = mcp.call_tool("batch", json!({"steps": 1})).await;
    assert_eq!(required.response()["error"]["code"], -32601);
    let plain = mcp
        .call_tool("long-running", json!({"steps": 1, "delayMs": 0}))
        .await;
    assert!(plain.response()["result"]["content"].is_array());
}
