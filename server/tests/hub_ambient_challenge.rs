//! A challenge on the GET stream with no command waiting becomes an `auth_challenge` event; one a
//! command just received is not repeated.

mod common;

use std::time::Duration;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn ambient_challenge_is_announced_on_the_event_stream() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let mut events = fixture.events(&session).await;
    fixture
        .control("servers/demo/ambient-challenge", json!({"status": 401}))
        .await;
    let event = events
        .next_named("auth_challenge", Duration::from_secs(10))
        .await
        .expect("an ambient challenge");
    assert_eq!(event["ok"], false);
    assert_eq!(event["kind"], "auth_challenge");
    assert_eq!(event["authChallenge"]["raw"]["httpStatus"], 401);
}

#[tokio::test]
async fn a_challenge_a_command_just_got_is_not_repeated() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let mut events = fixture.events(&session).await;
    fixture.control("tokens/expire", json!({})).await;
    let refused = fixture
        .call_tool(&session, 1, "echo", json!({"message": "x"}))
        .await;
    assert_eq!(refused["kind"], "auth_challenge");
    // The GET stream now meets the same expired token.
    fixture
        .control("servers/demo/ambient-challenge", json!({"status": 401}))
        .await;
    let repeated = events
        .next_named("auth_challenge", Duration::from_secs(3))
        .await;
    assert!(
        repeated.is_none(),
        "the command's challenge was repeated on SSE: {repeated:?}"
    );
}
