//! Both eras of MCP through the backend: a connection negotiates (2026-07-28 first, the 2025
//! handshake when the server does not speak it) unless the page pins a version, and a stateless
//! connection recovers from challenges on the same Keyhole session and hears list changes over
//! `subscriptions/listen`.

use crate::common;

use std::time::Duration;

use common::hub::HubFixture;
use serde_json::{Value, json};

const MODERN: &str = "2026-07-28";

impl HubFixture {
    fn modern_url(&self) -> String {
        self.testbed.mcp_url("modern").unwrap()
    }

    fn modern_token(&self, scopes: &[&str]) -> String {
        self.testbed
            .mint_access_token("modern", scopes, 300)
            .unwrap()
    }

    async fn connect_pinned(&self, url: &str, token: &str, version: &str) -> (u16, Value) {
        let body = json!({
            "config": { "type": "streamable-http", "url": url, "protocolVersion": version },
            "authState": { "tokens": { "access_token": token, "token_type": "Bearer" } },
        });
        self.api("/api/mcp/connect", body).await
    }

    /// The JSON-RPC methods the session's network log shows, in order, with their statuses.
    async fn logged_calls(&self, session: &str) -> Vec<(String, u64)> {
        let (_, log) = self
            .api_get(&format!("/api/mcp/log?sessionId={session}"))
            .await;
        log["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|exchange| {
                let body: Value = serde_json::from_str(exchange["requestBody"].as_str()?).ok()?;
                Some((
                    body["method"].as_str()?.to_owned(),
                    exchange["status"].as_u64().unwrap_or(0),
                ))
            })
            .collect()
    }
}

#[tokio::test]
async fn a_modern_server_is_spoken_to_statelessly_and_a_legacy_one_through_the_handshake() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.modern_url(), Some(&fixture.modern_token(&["mcp"])))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["protocolVersion"], MODERN);
    assert_eq!(reply["upstreamSessionId"], Value::Null);
    assert_eq!(reply["initializeResult"]["serverInfo"]["name"], "modern");
    let session = reply["sessionId"].as_str().unwrap();
    let called = fixture
        .call_tool(session, 2, "echo", json!({"message": "stateless"}))
        .await;
    assert_eq!(
        called["response"]["result"]["content"][0]["text"], "stateless",
        "{called}"
    );
    let calls = fixture.logged_calls(session).await;
    assert_eq!(calls[0], ("server/discover".to_owned(), 200), "{calls:?}");
    assert!(
        !calls.iter().any(|(method, _)| method == "initialize"),
        "{calls:?}"
    );

    let reply = fixture
        .connect(&fixture.demo_url(), Some(&fixture.token(&["mcp"])))
        .await;
    assert_eq!(reply["protocolVersion"], "2025-11-25", "{reply}");
    assert!(reply["upstreamSessionId"].is_string());
    let calls = fixture
        .logged_calls(reply["sessionId"].as_str().unwrap())
        .await;
    assert_eq!(
        calls[..2],
        [
            ("server/discover".to_owned(), 400),
            ("initialize".to_owned(), 200)
        ],
        "the probe comes first, then the handshake: {calls:?}"
    );
}

#[tokio::test]
async fn a_pinned_version_is_the_one_spoken_and_an_unknown_one_is_refused_before_connecting() {
    let fixture = HubFixture::start().await;
    let (_, reply) = fixture
        .connect_pinned(&fixture.demo_url(), &fixture.token(&["mcp"]), "2025-06-18")
        .await;
    assert_eq!(reply["protocolVersion"], "2025-06-18", "{reply}");
    let calls = fixture
        .logged_calls(reply["sessionId"].as_str().unwrap())
        .await;
    assert_eq!(calls[0].0, "initialize", "no probe when pinned: {calls:?}");

    let (status, reply) = fixture
        .connect_pinned(&fixture.demo_url(), &fixture.token(&["mcp"]), "2024-01-01")
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["message"].as_str().unwrap().contains(MODERN),
        "the error names what Keyhole speaks: {reply}"
    );

    let (_, reply) = fixture
        .connect_pinned(&fixture.demo_url(), &fixture.token(&["mcp"]), MODERN)
        .await;
    assert_eq!(reply["ok"], false, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("server/discover"),
        "{reply}"
    );
}

#[tokio::test]
async fn challenges_on_a_stateless_server_are_recovered_on_the_same_keyhole_session() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.modern_url(), Some(&fixture.modern_token(&["mcp"])))
        .await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();

    fixture
        .recovers_step_up_then_expiry(&session, |scopes| fixture.modern_token(scopes))
        .await;
}

#[tokio::test]
async fn list_changes_reach_the_page_over_subscriptions_listen() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.modern_url(), Some(&fixture.modern_token(&["mcp"])))
        .await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let mut events = fixture.events(&session).await;
    let acknowledged = events
        .next_named("message", Duration::from_secs(5))
        .await
        .expect("the listen stream is acknowledged");
    assert_eq!(
        acknowledged["method"], "notifications/subscriptions/acknowledged",
        "{acknowledged}"
    );
    fixture
        .control(
            "servers/modern/required-scopes",
            json!({"tool": "echo", "requiredScopes": ["weather:read"]}),
        )
        .await;
    let changed = events
        .next_named("message", Duration::from_secs(5))
        .await
        .expect("a list change");
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].is_string(),
        "{changed}"
    );
}
