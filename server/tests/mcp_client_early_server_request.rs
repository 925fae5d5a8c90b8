//! A server request sent the moment the server hears `notifications/initialized` reaches the
//! client: `initialize` opens the GET stream, and waits for the server to answer it, before it
//! announces `initialized`.
//!
//! The server here behaves like the TypeScript SDK's Streamable HTTP transport (and the MCP
//! conformance suite's servers built on it): a message for the GET stream is dropped when no GET
//! stream is open. Its GET stream also counts what it dropped, so a failure says why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use keyhole_server::native::mcp_client::{
    ClientConfig, ClientEvents, Credentials, McpClient, UpstreamChallenge,
};
use keyhole_shared::api::HttpExchange;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const SESSION: &str = "early-request-session";

/// The server's side: the open GET stream, if any, and what it could not deliver.
#[derive(Default)]
struct Server {
    get_stream: Mutex<Option<mpsc::UnboundedSender<Value>>>,
    dropped: Mutex<Vec<Value>>,
}

impl Server {
    /// Sends `message` on the GET stream, or drops it when none is open.
    fn send_on_get_stream(&self, message: Value) {
        let stream = self.get_stream.lock().unwrap().clone();
        match stream {
            Some(stream) if stream.send(message.clone()).is_ok() => {}
            _ => self.dropped.lock().unwrap().push(message),
        }
    }
}

async fn handle_post(State(server): State<Arc<Server>>, body: Bytes) -> Response {
    let message: Value = serde_json::from_slice(&body).unwrap();
    match message["method"].as_str() {
        Some("initialize") => {
            let result = json!({
                "jsonrpc": "2.0", "id": message["id"],
                "result": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "serverInfo": { "name": "early-request", "version": "1" },
                },
            });
            ([("mcp-session-id", SESSION)], axum::Json(result)).into_response()
        }
        Some("notifications/initialized") => {
            server.send_on_get_stream(json!({
                "jsonrpc": "2.0", "id": "server-1", "method": "roots/list", "params": {},
            }));
            StatusCode::ACCEPTED.into_response()
        }
        _ => StatusCode::ACCEPTED.into_response(),
    }
}

async fn open_get_stream(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    assert_eq!(
        headers.get("mcp-session-id").and_then(|v| v.to_str().ok()),
        Some(SESSION)
    );
    let (sender, receiver) = mpsc::unbounded_channel::<Value>();
    *server.get_stream.lock().unwrap() = Some(sender);
    let events = tokio_stream::wrappers::UnboundedReceiverStream::new(receiver).map(|message| {
        Ok::<_, std::convert::Infallible>(Event::default().data(message.to_string()))
    });
    Sse::new(events).into_response()
}

async fn start(server: Arc<Server>) -> url::Url {
    let app = Router::new()
        .route("/mcp", post(handle_post).get(open_get_stream))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url.parse().unwrap()
}

/// Hands the server's messages to the test.
struct Received(mpsc::UnboundedSender<Value>);

impl ClientEvents for Received {
    fn server_message(&self, message: Value) {
        let _ = self.0.send(message);
    }
    fn exchange(&self, _: HttpExchange) {}
    fn ambient_challenge(&self, _: UpstreamChallenge) {}
    fn notice(&self, _: String) {}
}

#[tokio::test]
async fn a_request_sent_right_after_initialized_is_not_lost() {
    let server = Arc::new(Server::default());
    let endpoint = start(server.clone()).await;
    let (sender, mut received) = mpsc::unbounded_channel();
    let client = McpClient::new(
        reqwest::Client::new(),
        ClientConfig::new(endpoint),
        Arc::new(Credentials::new(None)),
        Arc::new(Received(sender)),
    );
    client.initialize().await.expect("initialize");

    let message = tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .ok()
        .flatten();
    let dropped = server.dropped.lock().unwrap().clone();
    assert_eq!(
        message.as_ref().and_then(|m| m["method"].as_str()),
        Some("roots/list"),
        "the server's request never arrived; it dropped {dropped:?} (no GET stream was open)"
    );
    assert!(dropped.is_empty(), "{dropped:?}");
    client.close().await;
}
