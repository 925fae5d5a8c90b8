//! The `/api/mcp/*` and `/api/oauth/fetch` contract, end to end: every reply of the real router
//! (against the real testbed) and every event is read strictly through the shared types
//! (`keyhole_shared::api::mcp`, which `deny_unknown_fields`), as the web app reads them. A field
//! the server adds, drops or renames without the shared type fails here.

use crate::common;

use std::time::Duration;

use common::hub::HubFixture;
use keyhole_shared::api::FetchReply;
use keyhole_shared::api::mcp::{
    Done, Envelope, Failure, NetworkLogReply, SendReply, SessionEvent, SessionReply,
};
use keyhole_shared::challenge::ChallengeReason;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn read<T: DeserializeOwned>(reply: Value) -> Result<T, Failure> {
    Envelope::<T>::from_json(reply.clone())
        .unwrap_or_else(|e| panic!("{e}: {reply}"))
        .into_result()
}

#[tokio::test]
async fn every_reply_reads_through_the_shared_types() {
    let fixture = HubFixture::start().await;
    let connected: SessionReply = read(
        fixture
            .connect(&fixture.demo_url(), Some(&fixture.token(&["mcp"])))
            .await,
    )
    .unwrap();
    assert_eq!(connected.server_url, fixture.demo_url());
    assert!(connected.protocol_version.is_some());
    let session = connected.session_id;

    let (_, again) = fixture
        .api_get(&format!("/api/mcp/session?sessionId={session}"))
        .await;
    assert_eq!(read::<SessionReply>(again).unwrap().session_id, session);

    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let listed: SendReply = read(fixture.send(&session, list).await).unwrap();
    assert!(listed.response.unwrap()["result"]["tools"].is_array());
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"});
    let sent: SendReply = read(fixture.send(&session, notification).await).unwrap();
    assert_eq!(sent.response, None);

    let (_, log) = fixture
        .api_get(&format!("/api/mcp/log?sessionId={session}"))
        .await;
    assert!(!read::<NetworkLogReply>(log).unwrap().exchanges.is_empty());

    let url = format!(
        "{}/.well-known/oauth-authorization-server/oauth",
        fixture.testbed.base_url()
    );
    let (_, fetched) = fixture
        .api(
            "/api/oauth/fetch",
            json!({"url": url, "sessionId": session}),
        )
        .await;
    assert_eq!(read::<FetchReply>(fetched).unwrap().status, 200);

    let token = fixture.token(&["mcp"]);
    let body = json!({"sessionId": session,
                      "authState": {"tokens": {"access_token": token, "token_type": "Bearer"}}});
    let (_, pushed) = fixture.api("/api/mcp/auth-state", body).await;
    read::<Done>(pushed).unwrap();
    let (_, gone) = fixture
        .api("/api/mcp/disconnect", json!({"sessionId": session}))
        .await;
    read::<Done>(gone).unwrap();
}

#[tokio::test]
async fn every_failure_kind_reads_through_the_shared_types() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    fixture
        .control(
            "servers/demo/fail-next",
            json!({"status": 403, "scopes": ["mcp", "weather:read"], "method": "tools/call"}),
        )
        .await;
    let refused = fixture
        .call_tool(&session, 2, "echo", json!({"message": "x"}))
        .await;
    match read::<SendReply>(refused) {
        Err(Failure::AuthChallenge { auth_challenge, .. }) => {
            assert_eq!(auth_challenge.reason, ChallengeReason::InsufficientScope);
            assert_eq!(auth_challenge.context.tool_name.as_deref(), Some("echo"));
        }
        other => panic!("expected an auth_challenge failure, got {other:?}"),
    }

    let unreachable = fixture.connect("http://127.0.0.1:1/mcp", None).await;
    match read::<SessionReply>(unreachable) {
        Err(Failure::TransportError {
            http_status, hint, ..
        }) => assert_eq!((http_status, hint), (None, None)),
        other => panic!("expected a transport_error failure, got {other:?}"),
    }
}

#[tokio::test]
async fn every_event_reads_through_the_shared_types() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let mut events = fixture.events(&session).await;
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    fixture.send(&session, ping).await;
    let http = events
        .next_named("http", Duration::from_secs(5))
        .await
        .expect("an http event");
    assert!(matches!(
        SessionEvent::parse("http", &http.to_string()),
        Ok(SessionEvent::Http(_))
    ));

    fixture
        .control("servers/demo/ambient-challenge", json!({"status": 401}))
        .await;
    let challenge = events
        .next_named("auth_challenge", Duration::from_secs(10))
        .await
        .expect("an auth_challenge event");
    match SessionEvent::parse("auth_challenge", &challenge.to_string()) {
        Ok(SessionEvent::AuthChallenge(Failure::AuthChallenge { auth_challenge, .. })) => {
            assert!(auth_challenge.reason.is_unauthorized());
        }
        other => panic!("{other:?}: {challenge}"),
    }
}
