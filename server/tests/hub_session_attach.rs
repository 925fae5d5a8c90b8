//! A page coming back from an OAuth redirect picks up the backend session it left with
//! `GET /api/mcp/session`: the same session, its server and its `initialize` result; tokens pushed
//! afterwards apply to that same upstream session.

use crate::common;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn a_live_session_is_described_for_the_returning_page() {
    let fixture = HubFixture::start().await;
    let token = fixture.token(&["mcp"]);
    let reply = fixture.connect(&fixture.demo_url(), Some(&token)).await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();

    let (status, described) = fixture
        .api_get(&format!("/api/mcp/session?sessionId={session}"))
        .await;
    assert_eq!(status, 200, "{described}");
    assert_eq!(described["ok"], true, "{described}");
    assert_eq!(described["sessionId"], session);
    assert_eq!(described["serverUrl"], fixture.demo_url());
    assert_eq!(described["initializeResult"], reply["initializeResult"]);
    assert_eq!(described["upstreamSessionId"], reply["upstreamSessionId"]);

    // A new token pushed after the "redirect" is used on the same upstream session.
    let fresh = fixture.token(&["mcp"]);
    fixture.push_token(&session, &fresh).await;
    let called = fixture
        .call_tool(&session, 7, "echo", json!({"message": "back"}))
        .await;
    assert_eq!(called["ok"], true, "{called}");
    let upstream = reply["upstreamSessionId"].as_str().unwrap();
    assert_eq!(fixture.testbed.sessions_used_by(&fresh), vec![upstream]);
}

#[tokio::test]
async fn an_unknown_session_is_a_404_with_a_reason() {
    let fixture = HubFixture::start().await;
    let (status, reply) = fixture.api_get("/api/mcp/session?sessionId=nope").await;
    assert_eq!(status, 404, "{reply}");
    assert!(reply.to_string().contains("nope"), "{reply}");
}
