//! Connecting through the backend and calling the server: responses come back inline.

use crate::common;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn connect_then_list_and_call_tools() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.demo_url(), Some(&fixture.token(&["mcp"])))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["protocolVersion"], "2025-11-25");
    assert!(
        reply["initializeResult"]["serverInfo"]["name"].is_string(),
        "{reply}"
    );
    assert!(reply["upstreamSessionId"].is_string());
    let session = reply["sessionId"].as_str().unwrap();

    let listed = fixture
        .send(
            session,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await;
    assert_eq!(listed["ok"], true);
    let names: Vec<&str> = listed["response"]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"echo"), "{names:?}");

    let called = fixture
        .call_tool(session, 2, "echo", json!({"message": "hello"}))
        .await;
    assert_eq!(called["response"]["id"], 2);
    let text = called["response"]["result"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("hello"), "{text}");

    // A notification gets no response, just ok.
    let notified = fixture
        .send(
            session,
            json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}),
        )
        .await;
    assert_eq!(notified, json!({"ok": true}));
}

#[tokio::test]
async fn streamed_responses_deliver_progress_on_the_event_stream() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let mut events = fixture.events(&session).await;
    let message = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": "long-running", "arguments": {"steps": 3}, "_meta": {"progressToken": "p1"} }
    });
    let reply = fixture.send(&session, message).await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["response"]["id"], 7);
    let progress = events
        .next_named("message", std::time::Duration::from_secs(5))
        .await
        .expect("progress event");
    assert_eq!(progress["method"], "notifications/progress");
}

#[tokio::test]
async fn disconnect_ends_the_session() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let (status, reply) = fixture
        .api("/api/mcp/disconnect", json!({"sessionId": session}))
        .await;
    assert_eq!((status, reply), (200, json!({"ok": true})));
    let (status, _) = fixture
        .api(
            "/api/mcp/send",
            json!({"sessionId": session, "message": {"jsonrpc": "2.0", "id": 1, "method": "ping"}}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(fixture.hub.is_empty());
}
