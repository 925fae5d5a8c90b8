//! A challenge on the GET stream with no command waiting becomes an `auth_challenge` event; one a
//! command just received is not repeated.

use crate::common;

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
    // The GET stream now meets the same expired token: the reconnect really gets the challenge…
    fixture
        .control("servers/demo/ambient-challenge", json!({"status": 401}))
        .await;
    fixture.wait_until_get_challenge_served("demo").await;
    // …and the event stream, still open, does not repeat it.
    let repeated = events
        .next_named("auth_challenge", Duration::from_secs(2))
        .await;
    assert!(
        repeated.is_none(),
        "the command's challenge was repeated on SSE: {repeated:?}"
    );
}

#[tokio::test]
async fn an_ambient_challenge_during_a_command_is_announced_when_it_ends_without_it() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let mut events = fixture.events(&session).await;
    let slow = json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "long-running", "arguments": {"steps": 3, "delayMs": 700} }
    });
    let running = fixture.send(&session, slow);
    let trigger = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        fixture
            .control("servers/demo/ambient-challenge", json!({"status": 401}))
            .await;
        events
            .next_named("auth_challenge", Duration::from_millis(1500))
            .await
    };
    let (reply, during) = tokio::join!(running, trigger);
    assert_eq!(reply["ok"], true, "{reply}");
    assert!(
        during.is_none(),
        "announced while the command ran: {during:?}"
    );
    let after = events
        .next_named("auth_challenge", Duration::from_secs(5))
        .await;
    assert!(
        after.is_some(),
        "the held-back challenge was never announced"
    );
}
