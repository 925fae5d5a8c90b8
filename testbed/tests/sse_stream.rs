//! The standalone GET stream: event ids, `Last-Event-ID` resumption (GET and POST streams),
//! replacement by a newer stream, and the end of the stream with the session.

use crate::common;

use std::time::Duration;

use common::{Fixture, SseReader};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(3);

async fn notify(fixture: &Fixture, text: &str) {
    let (status, body) = fixture
        .control_post(
            "servers/open/notify",
            json!({"params": {"level": "info", "data": text}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn notifications_resume_after_the_last_event_id() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let response = mcp.open_stream(None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = SseReader::new(response);
    notify(&fixture, "one").await;
    let (first_id, first) = stream.next_message(WAIT).await.expect("first notification");
    assert_eq!(first["params"]["data"], "one");
    assert!(first_id.starts_with("0-"), "{first_id}");
    drop(stream);

    notify(&fixture, "two").await;
    notify(&fixture, "three").await;
    let mut resumed = SseReader::new(mcp.open_stream(Some(&first_id)).await);
    let (_, second) = resumed.next_message(WAIT).await.expect("replayed");
    let (_, third) = resumed.next_message(WAIT).await.expect("replayed");
    assert_eq!(
        (
            second["params"]["data"].as_str(),
            third["params"]["data"].as_str()
        ),
        (Some("two"), Some("three"))
    );

    // Replaying from the first id again yields the same events (the log is kept).
    let mut again = SseReader::new(mcp.open_stream(Some(&first_id)).await);
    assert_eq!(
        again.next_message(WAIT).await.unwrap().1["params"]["data"],
        "two"
    );
}

#[tokio::test]
async fn a_fresh_stream_gets_what_was_never_delivered() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    notify(&fixture, "early").await;
    let mut stream = SseReader::new(mcp.open_stream(None).await);
    assert_eq!(
        stream.next_message(WAIT).await.unwrap().1["params"]["data"],
        "early"
    );
}

#[tokio::test]
async fn a_new_stream_replaces_the_old_and_delete_ends_it() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let mut old = SseReader::new(mcp.open_stream(None).await);
    let mut new = SseReader::new(mcp.open_stream(None).await);
    assert!(old.ends_within(WAIT).await, "the older GET stream ends");
    let deleted = mcp
        .request_builder(reqwest::Method::DELETE)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(new.ends_within(WAIT).await, "DELETE ends the stream");
    assert_eq!(mcp.open_stream(None).await.status(), 404);
}

#[tokio::test]
async fn an_interrupted_post_stream_resumes_over_get() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let mut post_stream = mcp
        .post_streaming(&json!({"jsonrpc": "2.0", "id": 42, "method": "tools/call",
            "params": {"name": "long-running", "arguments": {"steps": 4, "delayMs": 60}, "_meta": {"progressToken": "t"}}}))
        .await;
    let (event_id, first) = post_stream
        .next_message(WAIT)
        .await
        .expect("first progress");
    assert_eq!(first["method"], "notifications/progress");
    assert!(
        !event_id.starts_with("0-"),
        "POST streams have their own stream id: {event_id}"
    );
    drop(post_stream);

    let mut resumed = SseReader::new(mcp.open_stream(Some(&event_id)).await);
    let mut progress = vec![first["params"]["progress"].as_u64().unwrap()];
    loop {
        let (_, message) = resumed
            .next_message(WAIT)
            .await
            .expect("the rest of the POST stream");
        if message["id"] == 42 {
            assert!(
                message["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("Completed 4 steps")
            );
            break;
        }
        if message["method"] == "notifications/progress" {
            progress.push(message["params"]["progress"].as_u64().unwrap());
        }
    }
    assert_eq!(progress, vec![1, 2, 3, 4]);
    assert!(
        resumed.ends_within(WAIT).await,
        "a resumed POST stream ends after its response"
    );
}

#[tokio::test]
async fn the_get_stream_needs_a_session_and_the_right_accept_header() {
    let fixture = Fixture::standard().await;
    let mcp = fixture.mcp("open", None);
    assert_eq!(mcp.open_stream(None).await.status(), 400);
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let wrong_accept = fixture
        .http
        .get(&mcp.url)
        .header("accept", "application/json")
        .header("mcp-session-id", mcp.session_id.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_accept.status(), 406);
}

#[tokio::test]
async fn a_resource_update_reaches_only_the_sessions_subscribed_to_it() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let mut stream = SseReader::new(mcp.open_stream(None).await);
    let touch = json!({"uri": "keyhole://main/readme"});
    let (_, reply) = fixture
        .control_post("servers/main/resource-updated", touch.clone())
        .await;
    assert_eq!(reply["delivered"], 0, "nobody subscribed yet");

    let subscribed = mcp
        .request(
            "resources/subscribe",
            json!({"uri": "keyhole://main/readme"}),
        )
        .await;
    assert_eq!(subscribed.response()["result"], json!({}));
    let unknown = mcp
        .request("resources/subscribe", json!({"uri": "keyhole://main/nope"}))
        .await;
    assert!(unknown.response()["error"].is_object());
    let (_, reply) = fixture
        .control_post("servers/main/resource-updated", touch.clone())
        .await;
    assert_eq!(reply["delivered"], 1);
    let (_, updated) = stream.next_message(WAIT).await.expect("the update");
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "keyhole://main/readme");

    mcp.request(
        "resources/unsubscribe",
        json!({"uri": "keyhole://main/readme"}),
    )
    .await;
    let (_, reply) = fixture
        .control_post("servers/main/resource-updated", touch)
        .await;
    assert_eq!(reply["delivered"], 0);
}
