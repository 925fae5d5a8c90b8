//! A server that forgets tokens and then answers them with an HTTP error instead of a challenge
//! (the TypeScript SDK's example answers an unknown token with 500 after a restart): the envelope
//! says so (`hint: "token_not_recognised"`, `httpStatus`) when the token worked before, so the page
//! can offer to authorize again — and only then.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::hub::HubFixture;
use serde_json::{Value, json};

/// A Streamable HTTP server that accepts any token until it "restarts", then answers 500.
struct Forgetful {
    url: String,
    restarted: Arc<AtomicBool>,
    _task: tokio::task::JoinHandle<()>,
}

async fn forgetful() -> Forgetful {
    let restarted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&restarted);
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move |headers: HeaderMap, Json(message): Json<Value>| {
            let flag = Arc::clone(&flag);
            async move { answer(&flag, &headers, &message) }
        })
        .get(|| async { StatusCode::METHOD_NOT_ALLOWED }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Forgetful {
        url,
        restarted,
        _task: task,
    }
}

fn answer(restarted: &AtomicBool, headers: &HeaderMap, message: &Value) -> Response {
    let with_token = headers.contains_key("authorization");
    if restarted.load(Ordering::SeqCst) && with_token {
        let body = json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal server error"}, "id": null});
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
    }
    let Some(id) = message.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match message["method"].as_str() {
        Some("initialize") => json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "forgetful", "version": "1"},
        }),
        _ => json!({"content": [{"type": "text", "text": "ok"}]}),
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

fn call() -> Value {
    json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "t", "arguments": {}}})
}

#[tokio::test]
async fn a_500_on_a_token_that_worked_before_says_the_server_may_not_recognise_it() {
    let fixture = HubFixture::start().await;
    let upstream = forgetful().await;
    let reply = fixture.connect(&upstream.url, Some("token-1")).await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(fixture.send(&session, call()).await["ok"], true);

    upstream.restarted.store(true, Ordering::SeqCst);
    let reply = fixture.send(&session, call()).await;
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["kind"], "transport_error", "{reply}");
    assert_eq!(reply["httpStatus"], 500, "{reply}");
    assert_eq!(reply["hint"], "token_not_recognised", "{reply}");
    assert!(!reply.to_string().contains("token-1"), "{reply}");
}

#[tokio::test]
async fn a_new_token_that_never_worked_gets_no_hint() {
    let fixture = HubFixture::start().await;
    let upstream = forgetful().await;
    let reply = fixture.connect(&upstream.url, Some("token-1")).await;
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    upstream.restarted.store(true, Ordering::SeqCst);
    let (status, _) = fixture
        .api(
            "/api/mcp/auth-state",
            json!({"sessionId": session, "authState": {"tokens": {"access_token": "token-2"}}}),
        )
        .await;
    assert_eq!(status, 200);
    let reply = fixture.send(&session, call()).await;
    assert_eq!(reply["httpStatus"], 500, "{reply}");
    assert!(reply.get("hint").is_none(), "{reply}");
}

#[tokio::test]
async fn connecting_with_a_stored_token_the_server_refuses_without_a_challenge_is_hinted() {
    let fixture = HubFixture::start().await;
    let upstream = forgetful().await;
    upstream.restarted.store(true, Ordering::SeqCst);
    let reply = fixture.connect(&upstream.url, Some("stored")).await;
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["hint"], "token_not_recognised", "{reply}");
    let without = fixture.connect(&upstream.url, None).await;
    assert_eq!(
        without["ok"], true,
        "without the token it connects: {without}"
    );
}

#[tokio::test]
async fn without_a_token_a_500_is_only_a_500() {
    let fixture = HubFixture::start().await;
    let broken = axum::Router::new().route(
        "/mcp",
        axum::routing::post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let _task = tokio::spawn(async move {
        let _ = axum::serve(listener, broken).await;
    });
    let reply = fixture.connect(&url, None).await;
    assert_eq!(reply["httpStatus"], 500, "{reply}");
    assert!(reply.get("hint").is_none(), "{reply}");
}
