//! Upstream 401/403 become HTTP 200 `auth_challenge` envelopes, and new tokens pushed with
//! `auth-state` are used on the same upstream session.

use crate::common;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn connecting_without_a_token_is_a_challenge_envelope() {
    let fixture = HubFixture::start().await;
    let reply = fixture.connect(&fixture.demo_url(), None).await;
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["kind"], "auth_challenge");
    let challenge = &reply["authChallenge"];
    assert_eq!(challenge["raw"]["httpStatus"], 401);
    assert_eq!(challenge["context"]["method"], "initialize");
    assert!(
        challenge["resourceMetadata"]
            .as_str()
            .unwrap()
            .contains("/.well-known/oauth-protected-resource/")
    );
}

#[tokio::test]
async fn expired_token_then_auth_state_retries_on_the_same_upstream_session() {
    let fixture = HubFixture::start().await;
    let reply = fixture
        .connect(&fixture.demo_url(), Some(&fixture.token(&["mcp"])))
        .await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let upstream_session = reply["upstreamSessionId"].as_str().unwrap().to_owned();

    fixture.control("tokens/expire", json!({})).await;
    let refused = fixture
        .call_tool(&session, 5, "echo", json!({"message": "again"}))
        .await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["kind"], "auth_challenge");
    assert_eq!(refused["authChallenge"]["reason"], "invalid_token");
    assert_eq!(
        refused["authChallenge"]["context"],
        json!({"method": "tools/call", "toolName": "echo"})
    );

    let fresh = fixture.token(&["mcp"]);
    fixture.push_token(&session, &fresh).await;
    let retried = fixture
        .call_tool(&session, 5, "echo", json!({"message": "again"}))
        .await;
    assert_eq!(retried["ok"], true, "{retried}");
    assert_eq!(retried["response"]["id"], 5);

    // The testbed saw the new token on the session that existed before: no reconnect happened.
    assert_eq!(
        fixture.testbed.sessions_used_by(&fresh),
        vec![upstream_session]
    );
}

/// A refusal with no `WWW-Authenticate` at all is read by its status alone, as the CLI reads it
/// (`AuthChallenge::from_refusal`): a 401 is `token_expired` (stored token → refresh → sign-in),
/// a 403 `forbidden`.
#[tokio::test]
async fn a_refusal_without_a_challenge_is_classified_by_its_status() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    for (status, reason) in [(401, "token_expired"), (403, "forbidden")] {
        fixture
            .control(
                "servers/demo/fail-next",
                json!({"status": status, "method": "tools/call", "withoutHeader": true}),
            )
            .await;
        let refused = fixture
            .call_tool(&session, 7, "echo", json!({"message": "x"}))
            .await;
        assert_eq!(refused["kind"], "auth_challenge", "{refused}");
        let challenge = &refused["authChallenge"];
        assert_eq!(challenge["reason"], reason, "{challenge}");
        assert_eq!(challenge["raw"]["httpStatus"], status);
        assert_eq!(challenge["raw"]["wwwAuthenticate"], json!([]));
    }
}

#[tokio::test]
async fn missing_scope_is_an_insufficient_scope_envelope_with_the_scopes() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let refused = fixture
        .call_tool(&session, 9, "get-weather", json!({"city": "Oslo"}))
        .await;
    assert_eq!(refused["kind"], "auth_challenge", "{refused}");
    let challenge = &refused["authChallenge"];
    assert_eq!(challenge["reason"], "insufficient_scope");
    assert_eq!(challenge["raw"]["httpStatus"], 403);
    assert!(
        challenge["requiredScopes"]
            .as_array()
            .unwrap()
            .contains(&json!("weather:read")),
        "{challenge}"
    );
    assert_eq!(challenge["context"]["toolName"], "get-weather");
}
