//! The upstream server forgetting the session (404) is repaired by initializing again, on the same
//! backend session, with the current credentials.

use crate::common;

use std::time::Duration;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn upstream_404_reinitializes_and_the_call_succeeds() {
    let fixture = HubFixture::start().await;
    let token = fixture.token(&["mcp"]);
    let reply = fixture.connect(&fixture.demo_url(), Some(&token)).await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let first_upstream = reply["upstreamSessionId"].as_str().unwrap().to_owned();
    let mut events = fixture.events(&session).await;

    // End the upstream session behind Keyhole's back.
    let ended = reqwest::Client::new()
        .delete(fixture.demo_url())
        .bearer_auth(&token)
        .header("Mcp-Session-Id", &first_upstream)
        .header("MCP-Protocol-Version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());

    let called = fixture
        .call_tool(&session, 3, "echo", json!({"message": "still here"}))
        .await;
    assert_eq!(called["ok"], true, "{called}");
    let notice = events
        .next_named("notice", Duration::from_secs(5))
        .await
        .expect("a notice");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains(&first_upstream),
        "{notice}"
    );
    let sessions = fixture.testbed.sessions_used_by(&token);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_ne!(sessions[1], first_upstream);
}
