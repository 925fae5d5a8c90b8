//! The `askClient` preset over a 2025 session: the server's request arrives on the tool call's
//! SSE stream, the client POSTs its answer, and the call's result tells what the client said;
//! a refusal is reported as a tool error.

use crate::common;

use std::time::Duration;

use common::Fixture;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);

fn config() -> Value {
    let mut config = common::base_config();
    config["servers"][2]["tools"] = json!([{"preset": "echo"}, {"preset": "askClient"}]);
    config
}

/// Calls `ask-client` with `arguments`; the server's request, then (after `answer`) the result.
async fn ask(kind: &str, answer: impl Fn(&Value) -> Value) -> (Value, Value) {
    let fixture = Fixture::start(config()).await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "ask-client", "arguments": {"kind": kind, "prompt": "a haiku"}}});
    let mut stream = mcp.post_streaming(&call).await;
    let (_, asked) = stream
        .next_message(WAIT)
        .await
        .expect("the server's request");
    let reply = mcp.post(answer(&asked)).await;
    assert_eq!(reply.status, 202);
    let (_, result) = stream.next_message(WAIT).await.expect("the call's result");
    assert_eq!(result["id"], 7);
    (asked, result["result"].clone())
}

#[tokio::test]
async fn a_sampling_request_is_answered_on_the_calls_stream() {
    let (asked, result) = ask("sampling", |asked| {
        json!({"jsonrpc": "2.0", "id": asked["id"], "result": {"role": "assistant",
            "content": {"type": "text", "text": "Autumn moonlight"}, "model": "m"}})
    })
    .await;
    assert_eq!(asked["method"], "sampling/createMessage");
    assert_eq!(asked["params"]["messages"][0]["content"]["text"], "a haiku");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Autumn moonlight"), "{text}");
    assert!(result.get("isError").is_none(), "{result}");
}

#[tokio::test]
async fn an_elicitation_and_roots_are_asked_and_a_refusal_is_a_tool_error() {
    let (asked, result) = ask("elicitation", |asked| {
        json!({"jsonrpc": "2.0", "id": asked["id"],
               "result": {"action": "accept", "content": {"name": "Ada"}}})
    })
    .await;
    assert_eq!(
        asked["params"]["requestedSchema"]["required"],
        json!(["name"])
    );
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Ada")
    );

    let (asked, result) = ask("roots", |asked| {
        json!({"jsonrpc": "2.0", "id": asked["id"],
               "error": {"code": -32601, "message": "no roots here"}})
    })
    .await;
    assert_eq!(asked["method"], "roots/list");
    assert_eq!(result["isError"], true);
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("no roots here")
    );
}
