//! When the page stops waiting for a command, the upstream request is dropped with it, and the
//! network log says so.

use crate::common;

use std::time::Duration;

use common::hub::{API_TOKEN, HubFixture};
use serde_json::json;

#[tokio::test]
async fn a_page_that_goes_away_cancels_the_upstream_request() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let slow = json!({
        "jsonrpc": "2.0", "id": 11, "method": "tools/call",
        "params": { "name": "long-running", "arguments": {"steps": 20, "delayMs": 500} }
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(format!("{}/api/mcp/send", fixture.base))
        .header("X-Keyhole-Token", API_TOKEN)
        .json(&json!({"sessionId": session, "message": slow}))
        .send()
        .await;
    assert!(gave_up.is_err(), "the call should still have been running");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, log) = fixture
            .api_get(&format!("/api/mcp/log?sessionId={session}"))
            .await;
        let abandoned = log["exchanges"].as_array().unwrap().iter().any(|e| {
            e["requestBody"]
                .as_str()
                .unwrap_or("")
                .contains("long-running")
                && e["error"].as_str().unwrap_or("").starts_with("abandoned")
        });
        if abandoned {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream call was not cancelled: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
