//! The HTTP+SSE transport of 2024-11-05 through the backend, against the testbed's
//! `/servers/<name>/mcp/sse`: found by detection when the server refuses the Streamable HTTP POST
//! (or chosen with `type: "sse"`), and recovering from challenges without a new Keyhole session —
//! a step-up and an expired token on the same stream, and a stream the server ended, which is
//! opened again with the token held then.

use crate::common;

use std::time::Duration;

use common::hub::HubFixture;
use serde_json::{Value, json};

impl HubFixture {
    fn legacy_url(&self) -> String {
        format!("{}/sse", self.demo_url())
    }

    fn demo_path(&self) -> String {
        url::Url::parse(&self.demo_url()).unwrap().path().to_owned()
    }

    async fn connect_typed(&self, kind: &str, url: &str, token: &str) -> Value {
        let body = json!({
            "config": { "type": kind, "url": url },
            "authState": { "tokens": { "access_token": token, "token_type": "Bearer" } },
        });
        self.api("/api/mcp/connect", body).await.1
    }

    /// `(method, URL path, status)` of each exchange in the session's network log.
    async fn exchanges(&self, session: &str) -> Vec<(String, String, u64)> {
        let (_, log) = self
            .api_get(&format!("/api/mcp/log?sessionId={session}"))
            .await;
        log["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|exchange| {
                let url = url::Url::parse(exchange["url"].as_str().unwrap()).unwrap();
                (
                    exchange["method"].as_str().unwrap().to_owned(),
                    url.path().to_owned(),
                    exchange["status"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }
}

fn text_of(reply: &Value) -> &str {
    reply["response"]["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_server_that_refuses_the_post_is_spoken_to_over_http_sse() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.legacy_url(), Some(&fixture.token(&["mcp"])))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["transport"], "sse");
    assert_eq!(reply["protocolVersion"], "2024-11-05");
    assert!(reply["upstreamSessionId"].is_string(), "{reply}");
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let called = fixture
        .call_tool(&session, 2, "echo", json!({"message": "legacy"}))
        .await;
    assert_eq!(text_of(&called), "legacy", "{called}");

    let mut events = fixture.events(&session).await;
    fixture
        .control(
            "servers/demo/notify",
            json!({"params": {"level": "info", "data": "over the stream"}}),
        )
        .await;
    loop {
        let heard = events
            .next_named("message", Duration::from_secs(5))
            .await
            .expect("the server's notification");
        if heard["params"]["data"] == "over the stream" {
            break;
        }
    }

    let sse_path = url::Url::parse(&fixture.legacy_url())
        .unwrap()
        .path()
        .to_owned();
    let exchanges = fixture.exchanges(&session).await;
    let first: Vec<_> = exchanges.iter().take(3).cloned().collect();
    assert_eq!(
        first,
        [
            ("POST".to_owned(), sse_path.clone(), 405),
            ("POST".to_owned(), sse_path.clone(), 405),
            (
                "POST".to_owned(),
                format!("{}/messages", fixture.demo_path()),
                202
            ),
        ],
        "the stateless probe and the Streamable HTTP handshake are refused; the stream opens \
         (its GET is logged when it ends) and the handshake goes to its endpoint: {exchanges:?}"
    );
}

#[tokio::test]
async fn type_sse_skips_detection() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect_typed("sse", &fixture.legacy_url(), &fixture.token(&["mcp"]))
        .await;
    assert_eq!(reply["transport"], "sse", "{reply}");
    let exchanges = fixture
        .exchanges(reply["sessionId"].as_str().unwrap())
        .await;
    assert!(
        exchanges
            .iter()
            .all(|(method, path, _)| method == "GET" || path.ends_with("/messages")),
        "nothing is POSTed to the stream's URL: {exchanges:?}"
    );

    let reply = fixture
        .connect_typed(
            "streamable-http",
            &fixture.demo_url(),
            &fixture.token(&["mcp"]),
        )
        .await;
    assert_eq!(reply["transport"], "streamable-http", "{reply}");
}

#[tokio::test]
async fn a_step_up_and_an_expired_token_are_recovered_on_the_same_stream() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.legacy_url(), Some(&fixture.token(&["mcp"])))
        .await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let upstream = reply["upstreamSessionId"].clone();

    fixture
        .recovers_step_up_then_expiry(&session, |scopes| fixture.token(scopes))
        .await;
    let (_, now) = fixture
        .api_get(&format!("/api/mcp/session?sessionId={session}"))
        .await;
    assert_eq!(
        now["upstreamSessionId"], upstream,
        "the server's session survived both: {now}"
    );
}

#[tokio::test]
async fn a_stream_the_server_ended_is_opened_again_with_the_token_held_now() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.legacy_url(), Some(&fixture.token(&["mcp"])))
        .await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let mut events = fixture.events(&session).await;

    fixture.control("tokens/expire", json!({})).await;
    assert_eq!(fixture.testbed.end_sessions("demo"), 1);
    let notice = events
        .next_named("notice", Duration::from_secs(5))
        .await
        .expect("the user hears that the stream ended");
    assert!(notice.to_string().contains("HTTP+SSE"), "{notice}");

    let refused = fixture
        .call_tool(&session, 7, "echo", json!({"message": "x"}))
        .await;
    assert_eq!(
        refused["authChallenge"]["raw"]["httpStatus"], 401,
        "the new stream's GET carries the expired token: {refused}"
    );
    fixture.push_token(&session, &fixture.token(&["mcp"])).await;
    let called = fixture
        .call_tool(&session, 8, "echo", json!({"message": "new stream"}))
        .await;
    assert_eq!(text_of(&called), "new stream", "{called}");
    let (_, now) = fixture
        .api_get(&format!("/api/mcp/session?sessionId={session}"))
        .await;
    assert_eq!(now["transport"], "sse");
    assert_ne!(now["upstreamSessionId"], reply["upstreamSessionId"]);
}
