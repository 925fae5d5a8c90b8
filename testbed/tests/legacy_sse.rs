//! The HTTP+SSE transport of 2024-11-05 at `/servers/<name>/mcp/sse`: the `endpoint` event,
//! POSTs answered 202 with the response on the stream, authorization on the GET and the POSTs,
//! and the session ending with its stream.

use crate::common;

use std::time::Duration;

use common::Fixture;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(3);

/// Reads named events (`event:` and `data:`) from a legacy stream.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event's name and data.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            let normalized = self.buffer.replace("\r\n", "\n");
            if let Some(end) = normalized.find("\n\n") {
                self.buffer = normalized[end + 2..].to_owned();
                let mut name = "message".to_owned();
                let mut data = Vec::new();
                for line in normalized[..end].lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.trim_start().to_owned());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name, data.join("\n")));
            }
            match tokio::time::timeout(WAIT, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next response on the stream (the notifications before it are skipped).
    async fn next_response(&mut self) -> Value {
        loop {
            let (name, data) = self.next().await.expect("a message on the stream");
            assert_eq!(name, "message");
            let message: Value = serde_json::from_str(&data).expect("JSON-RPC");
            if message.get("id").is_some() {
                return message;
            }
        }
    }
}

async fn open(fixture: &Fixture, server: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{}/sse", fixture.mcp_url(server)))
        .header("accept", "text/event-stream");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Opens the stream and returns it with the absolute message endpoint it names.
async fn connect(fixture: &Fixture, server: &str, token: Option<&str>) -> (Events, String) {
    let response = open(fixture, server, token).await;
    assert_eq!(response.status(), 200);
    let mut events = Events {
        response,
        buffer: String::new(),
    };
    let (name, endpoint) = events.next().await.expect("the endpoint event");
    assert_eq!(name, "endpoint");
    assert!(
        endpoint.starts_with(&format!("/servers/{server}/mcp/messages?sessionId=")),
        "{endpoint}"
    );
    (events, fixture.url(&endpoint))
}

async fn post(endpoint: &str, token: Option<&str>, message: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(endpoint).json(&message);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn requests_are_accepted_and_answered_on_the_stream_at_2024_11_05() {
    let fixture = Fixture::standard().await;
    let (mut events, endpoint) = connect(&fixture, "open", None).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let response = post(&endpoint, None, initialize).await;
    assert_eq!(response.status(), 202);
    let answer = events.next_response().await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["protocolVersion"], "2024-11-05");

    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(&endpoint, None, initialized).await.status(), 202);
    let call = json!({"jsonrpc": "2.0", "id": "c", "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "over sse"}}});
    assert_eq!(post(&endpoint, None, call).await.status(), 202);
    let answer = events.next_response().await;
    assert_eq!(answer["id"], "c");
    assert!(
        answer["result"].to_string().contains("over sse"),
        "{answer}"
    );

    // POST is not how the stream opens: a client probing for Streamable HTTP gets a 4xx.
    let probe = reqwest::Client::new()
        .post(format!("{}/sse", fixture.mcp_url("open")))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize"}))
        .send()
        .await
        .unwrap();
    assert!(probe.status().is_client_error(), "{}", probe.status());
}

#[tokio::test]
async fn the_session_ends_with_its_stream() {
    let fixture = Fixture::standard().await;
    let (events, endpoint) = connect(&fixture, "open", None).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(post(&endpoint, None, ping.clone()).await.status(), 202);
    drop(events);
    let mut status = 0;
    for _ in 0..50 {
        status = post(&endpoint, None, ping.clone()).await.status().as_u16();
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 404, "a POST for a session whose stream is gone");
    let unknown = format!("{}/messages?sessionId=nope", fixture.mcp_url("open"));
    assert_eq!(post(&unknown, None, ping).await.status(), 404);
}

#[tokio::test]
async fn the_stream_and_every_post_are_authorized_like_streamable_http() {
    let fixture = Fixture::standard().await;
    let refused = open(&fixture, "main", None).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");

    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let token = tokens["access_token"].as_str().unwrap();
    let (mut events, endpoint) = connect(&fixture, "main", Some(token)).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(post(&endpoint, None, list.clone()).await.status(), 401);
    assert_eq!(post(&endpoint, Some(token), list).await.status(), 202);
    assert_eq!(events.next_response().await["id"], 1);

    let weather = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get-weather", "arguments": {"city": "Oslo"}}});
    let step_up = post(&endpoint, Some(token), weather).await;
    assert_eq!(step_up.status(), 403);
    let challenge = step_up.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert!(challenge.contains("weather:read"), "{challenge}");
}
