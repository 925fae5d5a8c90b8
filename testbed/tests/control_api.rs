//! Every control action: expire, revoke, change required scopes, force 401/403, ambient
//! notification and challenge, and the token/session listings (Mcp-Session-Id kept across re-auth).

use crate::common;

use std::time::Duration;

use common::{Fixture, SseReader};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn expire_all_and_revoke_one() {
    let fixture = Fixture::standard().await;
    let (_, first) = fixture.obtain_tokens("mcp").await;
    let (_, second) = fixture.obtain_tokens("mcp").await;
    let mut a = fixture.mcp("main", first["access_token"].as_str());
    let mut b = fixture.mcp("main", second["access_token"].as_str());
    a.initialize().await;
    b.initialize().await;

    let (status, body) = fixture
        .control_post("tokens/revoke", json!({"token": first["access_token"]}))
        .await;
    assert_eq!((status, body["revoked"].as_bool()), (200, Some(true)));
    let reply = a.request("ping", json!({})).await;
    assert_eq!(reply.status, 401);
    assert!(reply.www_authenticate().contains("revoked"));
    assert_eq!(
        b.request("ping", json!({})).await.status,
        200,
        "only one token was revoked"
    );

    let (status, _) = fixture
        .control_post("tokens/revoke", json!({"token": "no-such-token"}))
        .await;
    assert_eq!(status, 404);

    let (status, body) = fixture.control_post("tokens/expire", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["expired"], 1, "one active access token was left");
    assert_eq!(b.request("ping", json!({})).await.status, 401);

    let tokens = fixture.control_get("tokens").await;
    let list = tokens.as_array().unwrap();
    assert_eq!(list.iter().filter(|t| t["kind"] == "access").count(), 2);
    assert!(
        list.iter()
            .all(|t| t.get("value").is_none() && t["fingerprint"].is_string())
    );
    assert!(list.iter().any(|t| t["revoked"] == true));
}

#[tokio::test]
async fn revoking_by_id_works_too() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let listed = fixture.control_get("tokens").await;
    let id = listed[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        fixture
            .control_post("tokens/revoke", json!({"token": id}))
            .await
            .0,
        200
    );
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    assert_eq!(mcp.initialize().await.status, 401);
}

#[tokio::test]
async fn changing_required_scopes_applies_at_once_and_announces_it() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let mut stream = SseReader::new(mcp.open_stream(None).await);
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "x"})).await.status,
        200
    );

    let (status, body) = fixture
        .control_post(
            "servers/main/required-scopes",
            json!({"tool": "echo", "requiredScopes": ["notes:read"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The echo call's log message also went to the GET stream (JSON answers carry no notifications).
    let (_, log) = stream
        .next_message(WAIT)
        .await
        .expect("the echo log message");
    assert_eq!(log["method"], "notifications/message");
    let (_, message) = stream
        .next_message(WAIT)
        .await
        .expect("a list_changed notification");
    assert_eq!(message["method"], "notifications/tools/list_changed");
    let reply = mcp.call_tool("echo", json!({"message": "x"})).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .www_authenticate()
            .contains("scope=\"mcp notes:read\"")
    );

    fixture
        .control_post(
            "servers/main/required-scopes",
            json!({"tool": "echo", "requiredScopes": []}),
        )
        .await;
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "x"})).await.status,
        200
    );

    let (status, _) = fixture
        .control_post(
            "servers/main/required-scopes",
            json!({"tool": "nope", "requiredScopes": []}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = fixture
        .control_post(
            "servers/main/required-scopes",
            json!({"tool": "echo", "requiredScopes": ["root"]}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = fixture
        .control_post(
            "servers/main/required-scopes",
            json!({"resource": "keyhole://main/readme", "requiredScopes": ["notes:read"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        mcp.request("resources/read", json!({"uri": "keyhole://main/readme"}))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_next_requests_can_be_forced_to_fail() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;

    let (status, _) = fixture
        .control_post("servers/main/fail-next", json!({"status": 401, "count": 2}))
        .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let reply = mcp.request("ping", json!({})).await;
        assert_eq!(reply.status, 401);
        assert!(reply.www_authenticate().contains("invalid_token"));
    }
    assert_eq!(mcp.request("ping", json!({})).await.status, 200);

    fixture
        .control_post(
            "servers/main/fail-next",
            json!({"status": 403, "scopes": ["mcp", "notes:read"]}),
        )
        .await;
    let reply = mcp.request("tools/list", json!({})).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .www_authenticate()
            .contains("scope=\"mcp notes:read\"")
    );
    assert_eq!(mcp.request("ping", json!({})).await.status, 200);

    let (status, _) = fixture
        .control_post("servers/main/fail-next", json!({"status": 500}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = fixture
        .control_post("servers/nope/fail-next", json!({"status": 401}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn ambient_notifications_and_challenges_use_the_get_stream() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let mut stream = SseReader::new(mcp.open_stream(None).await);

    let (status, body) = fixture
        .control_post(
            "servers/main/notify",
            json!({"method": "notifications/resources/list_changed", "params": {}}),
        )
        .await;
    assert_eq!((status, body["delivered"].as_u64()), (200, Some(1)));
    let (_, message) = stream.next_message(WAIT).await.unwrap();
    assert_eq!(message["method"], "notifications/resources/list_changed");

    let (status, _) = fixture
        .control_post("servers/main/ambient-challenge", json!({"status": 401}))
        .await;
    assert_eq!(status, 200);
    assert!(
        stream.ends_within(WAIT).await,
        "the open GET stream is closed"
    );
    let reconnect = mcp.open_stream(None).await;
    assert_eq!(reconnect.status(), 401);
    assert!(
        reconnect.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        mcp.open_stream(None).await.status(),
        200,
        "the challenge is answered once"
    );

    fixture
        .control_post(
            "servers/main/ambient-challenge",
            json!({"status": 403, "scopes": ["mcp", "weather:read"]}),
        )
        .await;
    let reconnect = mcp.open_stream(None).await;
    assert_eq!(reconnect.status(), 403);
    assert!(
        reconnect.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("scope=\"mcp weather:read\"")
    );
}

#[tokio::test]
async fn listings_show_the_session_kept_across_reauthorization() {
    let fixture = Fixture::standard().await;
    let (client, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let session = mcp.session_id.clone().unwrap();

    fixture.control_post("tokens/expire", json!({})).await;
    assert_eq!(mcp.request("ping", json!({})).await.status, 401);
    let (_, renewed) = fixture
        .token_request(
            "/oauth/token",
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    mcp.token = renewed["access_token"].as_str().map(str::to_string);
    assert_eq!(mcp.request("ping", json!({})).await.status, 200);

    let sessions = fixture.control_get("sessions").await;
    let entry = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sessionId"] == session.as_str())
        .expect("the session is listed")
        .clone();
    assert_eq!(entry["server"], "main");
    assert_eq!(entry["protocolVersion"], common::LATEST);
    assert_eq!(
        entry["tokens"].as_array().unwrap().len(),
        2,
        "both access tokens were used on the same session"
    );

    let tokens_list = fixture.control_get("tokens").await;
    let access: Vec<&Value> = tokens_list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "access")
        .collect();
    for token in access {
        assert_eq!(
            token["sessions"],
            json!([{"server": "main", "sessionId": session}])
        );
    }
    let state = fixture.control_get("state").await;
    assert_eq!(state["servers"][0]["name"], "main");
    assert!(state["tokens"].is_array() && state["sessions"].is_array());
}

#[tokio::test]
async fn the_control_page_has_a_button_per_action() {
    let fixture = Fixture::standard().await;
    let html = fixture
        .http
        .get(fixture.testbed.control_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for testid in [
        "control-expire-access",
        "control-fail-401-",
        "control-fail-403-",
        "control-notify-",
        "control-ambient-401-",
        "control-set-scopes-",
        "control-revoke-",
    ] {
        assert!(html.contains(testid), "{testid}");
    }
}

#[tokio::test]
async fn the_control_api_refuses_remote_peers() {
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;

    let config = keyhole_testbed::TestbedConfig::demo();
    let state = keyhole_testbed::TestbedState::new(
        config,
        keyhole_testbed::TestbedUrls::new("http://127.0.0.1:1"),
    );
    let request = |peer: &str| {
        let mut request = axum::http::Request::get("/control/api/tokens")
            .body(axum::body::Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo::<std::net::SocketAddr>(peer.parse().unwrap()));
        request
    };
    let app = keyhole_testbed::app(state);
    let remote = app
        .clone()
        .oneshot(request("192.0.2.7:5000"))
        .await
        .unwrap();
    assert_eq!(remote.status(), 403);
    let local = app.oneshot(request("127.0.0.1:5000")).await.unwrap();
    assert_eq!(local.status(), 200);
}

#[tokio::test]
async fn token_requests_are_logged_refused_ones_too_and_can_be_held() {
    let fixture = Fixture::standard().await;
    let (client, tokens) = fixture.obtain_tokens("mcp").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = fixture
        .token_request(
            "/oauth/token",
            &client,
            &[("grant_type", "authorization_code"), ("code", "forged")],
        )
        .await;
    assert_eq!(status, 400);

    let log = fixture.control_get("token-requests").await;
    let log = log.as_array().unwrap();
    let summary: Vec<(&str, u64)> = log
        .iter()
        .map(|r| {
            (
                r["grantType"].as_str().unwrap(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("authorization_code", 200), ("authorization_code", 400)]
    );
    assert!(
        log.iter()
            .all(|r| r["finishedAtMs"].as_u64() >= r["startedAtMs"].as_u64())
    );

    // Held requests are listed while in flight, without a status.
    let (status, _) = fixture
        .control_post("token-delay", json!({"ms": 800}))
        .await;
    assert_eq!(status, 200);
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let held = fixture.token_request("/oauth/token", &client, &form);
    let observe = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fixture.control_get("token-requests").await
    };
    let ((status, _), during) = tokio::join!(held, observe);
    assert_eq!(status, 200);
    let last = &during.as_array().unwrap()[2];
    assert_eq!(last["grantType"], "refresh_token");
    assert!(last["status"].is_null(), "{last}");
    let after = fixture.control_get("token-requests").await;
    let last = &after.as_array().unwrap()[2];
    assert_eq!(last["status"], 200);
    assert!(last["finishedAtMs"].as_u64().unwrap() >= last["startedAtMs"].as_u64().unwrap() + 800);

    let (status, _) = fixture
        .control_post("token-delay", json!({"ms": 999_999}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn forced_failures_can_target_one_method_and_count_down() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;

    let (status, _) = fixture
        .control_post(
            "servers/main/fail-next",
            json!({"status": 401, "count": 2, "method": "tools/call"}),
        )
        .await;
    assert_eq!(status, 200);
    let state = fixture.control_get("state").await;
    assert_eq!(
        state["servers"][0]["pendingPostChallenge"]["method"], "tools/call",
        "{state}"
    );
    // Other methods pass untouched and do not count.
    assert_eq!(mcp.request("ping", json!({})).await.status, 200);
    assert_eq!(mcp.request("tools/list", json!({})).await.status, 200);
    for _ in 0..2 {
        let reply = mcp.call_tool("echo", json!({"message": "x"})).await;
        assert_eq!(reply.status, 401);
    }
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "x"})).await.status,
        200
    );
    let state = fixture.control_get("state").await;
    assert!(
        state["servers"][0]["pendingPostChallenge"].is_null(),
        "{state}"
    );
}
