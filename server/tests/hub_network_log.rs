//! Every upstream exchange is logged, redacted, streamed and kept for a page that comes back.

use crate::common;

use std::time::Duration;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn exchanges_are_streamed_and_kept_without_secrets() {
    let fixture = HubFixture::start().await;
    let token = fixture.token(&["mcp"]);
    let reply = fixture.connect(&fixture.demo_url(), Some(&token)).await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let mut events = fixture.events(&session).await;
    fixture
        .call_tool(&session, 4, "echo", json!({"message": "logged"}))
        .await;

    // The connection's own exchanges come first: the `server/discover` probe (400 from this
    // 2025 server), then the handshake.
    let probe = events
        .next_named("http", Duration::from_secs(5))
        .await
        .expect("an http event");
    assert_eq!(probe["method"], "POST");
    assert_eq!(probe["status"], 400, "{probe}");
    let streamed = events
        .next_named("http", Duration::from_secs(5))
        .await
        .expect("an http event");
    assert_eq!(streamed["method"], "POST");
    assert_eq!(streamed["status"], 200);

    let (status, log) = fixture
        .api_get(&format!("/api/mcp/log?sessionId={session}"))
        .await;
    assert_eq!(status, 200);
    let exchanges = log["exchanges"].as_array().unwrap();
    let methods: Vec<&str> = exchanges
        .iter()
        .map(|e| e["method"].as_str().unwrap())
        .collect();
    assert!(
        methods.iter().filter(|m| **m == "POST").count() >= 3,
        "{methods:?}"
    ); // initialize, initialized, call
    let call = exchanges
        .iter()
        .find(|e| e["requestBody"].as_str().unwrap_or("").contains("logged"))
        .unwrap();
    assert!(call["durationMs"].as_f64().unwrap() > 0.0);
    let authorization = call["requestHeaders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "authorization")
        .unwrap();
    assert_eq!(authorization[1], keyhole_server::native::redact::REDACTED);
    assert!(
        !log.to_string().contains(&token),
        "the token leaked into the log"
    );
}
