//! `notifications/cancelled`: the long-running tool stops at its next step, and its SSE stream
//! ends without a response (the specification asks for none).

use crate::common;

use std::time::{Duration, Instant};

use common::Fixture;
use serde_json::json;

#[tokio::test]
async fn a_cancelled_call_stops_and_gets_no_response() {
    let mut config = common::base_config();
    config["servers"][2]["tools"] = json!([{"preset": "longRunning"}]);
    let fixture = Fixture::start(config).await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let call = json!({"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {
        "name": "long-running", "arguments": {"steps": 50, "delayMs": 100},
        "_meta": {"progressToken": "p"}}});
    let mut stream = mcp.post_streaming(&call).await;
    let (_, first) = stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("a first progress notification");
    assert_eq!(first["method"], "notifications/progress");

    let started = Instant::now();
    let cancel = mcp
        .post(
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": 41, "reason": "the user gave up"}}),
        )
        .await;
    assert_eq!(cancel.status, 202);
    let mut rest = Vec::new();
    while let Some((_, message)) = stream.next_message(Duration::from_secs(5)).await {
        rest.push(message);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the tool went on for {:?}",
        started.elapsed()
    );
    assert!(
        rest.iter().all(|m| m.get("id").is_none()),
        "a response came after the cancellation: {rest:?}"
    );
    assert!(rest.len() < 5, "the tool went on: {rest:?}");
}
