//! Upstream failures are `transport_error` envelopes with a clear message; misuse of our API is 4xx.

use crate::common;

use std::time::Duration;

use common::hub::{API_TOKEN, HubFixture, quick_options};
use keyhole_server::web::hub::HubOptions;
use keyhole_testbed::TestbedConfig;
use serde_json::json;

#[tokio::test]
async fn an_upstream_that_is_down_is_a_transport_error() {
    let fixture = HubFixture::start().await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reply = fixture
        .connect(&format!("http://127.0.0.1:{closed_port}/mcp"), None)
        .await;
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["kind"], "transport_error");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_hung_upstream_times_out_with_a_clear_message() {
    let options = HubOptions {
        request_timeout: Duration::from_millis(600),
        ..quick_options()
    };
    let fixture = HubFixture::with(TestbedConfig::demo(), options).await;
    // Accepts connections and never answers.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", hung.local_addr().unwrap());
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let reply = fixture.connect(&url, None).await;
    assert_eq!(reply["kind"], "transport_error", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within"),
        "{reply}"
    );
}

#[tokio::test]
async fn malformed_requests_are_400_with_a_message() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let cases = [
        (
            "/api/mcp/connect",
            json!({"config": {"type": "websocket", "url": "x"}}),
            "not supported",
        ),
        (
            "/api/mcp/connect",
            json!({"config": {"type": "streamable-http", "url": "file:///etc/passwd"}}),
            "http(s)",
        ),
        (
            "/api/mcp/connect",
            json!({"config": {"type": "streamable-http", "url": "not a url"}}),
            "not a URL",
        ),
        ("/api/mcp/connect", json!({"nothing": true}), ""),
        (
            "/api/mcp/connect",
            json!({"config": {"type": "streamable-http", "url": "http://127.0.0.1:1/mcp",
                              "headers": {"Authorization": "Bearer x"}}}),
            "managed by Keyhole",
        ),
        (
            "/api/mcp/send",
            json!({"sessionId": session, "message": [1, 2]}),
            "one JSON-RPC message",
        ),
        (
            "/api/mcp/send",
            json!({"sessionId": session, "message": {"jsonrpc": "1.0", "method": "ping"}}),
            "2.0",
        ),
        (
            "/api/mcp/send",
            json!({"sessionId": session, "message": {"jsonrpc": "2.0", "id": 1}}),
            "neither",
        ),
        (
            "/api/mcp/auth-state",
            json!({"sessionId": session, "authState": {"tokens": {"access_token": "t", "token_type": "MAC"}}}),
            "use Bearer or DPoP",
        ),
    ];
    for (path, body, needle) in cases {
        let (status, reply) = fixture.api(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {reply}");
        assert_eq!(reply["error"], "bad_request");
        assert!(
            reply["message"].as_str().unwrap().contains(needle),
            "{path}: {reply}"
        );
    }
    let not_json = fixture
        .http
        .post(format!("{}/api/mcp/send", fixture.base))
        .header("X-Keyhole-Token", API_TOKEN)
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

#[tokio::test]
async fn unknown_session_is_404_and_the_perimeter_holds() {
    let fixture = HubFixture::start().await;
    let ping =
        json!({"sessionId": "nope", "message": {"jsonrpc": "2.0", "id": 1, "method": "ping"}});
    let (status, reply) = fixture.api("/api/mcp/send", ping.clone()).await;
    assert_eq!(status, 404, "{reply}");
    let no_token = fixture
        .http
        .post(format!("{}/api/mcp/send", fixture.base))
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let foreign = fixture
        .http
        .post(format!("{}/api/mcp/send", fixture.base))
        .header("X-Keyhole-Token", API_TOKEN)
        .header("Origin", "http://evil.example")
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn secrets_in_the_url_stay_out_of_error_messages() {
    let fixture = HubFixture::start().await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{closed_port}/mcp?access_token=SECRET-IN-URL");
    let reply = fixture.connect(&url, None).await;
    assert_eq!(reply["kind"], "transport_error");
    assert!(!reply.to_string().contains("SECRET-IN-URL"), "{reply}");
}

#[tokio::test]
async fn an_oversized_answer_is_refused_not_buffered() {
    let fixture = HubFixture::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let huge = axum::Router::new().route(
        "/mcp",
        axum::routing::post(|| async {
            (
                [("content-type", "application/json")],
                vec![b' '; 17 * 1024 * 1024],
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, huge).await.unwrap() });
    let reply = fixture.connect(&url, None).await;
    assert_eq!(reply["kind"], "transport_error", "{reply}");
}
