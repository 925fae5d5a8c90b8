//! A second opinion: the backend against an MCP server built with the official Rust SDK (rmcp),
//! whose Streamable HTTP transport answers with SSE by default and manages sessions its own way.
//! rmcp 3.11 speaks both eras, so a negotiated connection is stateless (2026-07-28) and one pinned
//! to 2025-11-25 gets a session.

use crate::common;

use std::sync::Arc;

use common::hub::{HubFixture, quick_options};
use keyhole_testbed::TestbedConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;

/// The SDK's default handler: initialize, ping and not much else.
struct Minimal;

impl rmcp::ServerHandler for Minimal {}

async fn start_rmcp_server() -> String {
    let service = StreamableHttpService::new(
        || Ok(Minimal),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let app = axum::Router::new().nest_service("/mcp", service);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn negotiation_with_rmcp_lands_on_the_stateless_revision() {
    let fixture = HubFixture::with(TestbedConfig::demo(), quick_options()).await;
    let url = start_rmcp_server().await;
    let reply = fixture.connect(&url, None).await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["protocolVersion"], "2026-07-28", "{reply}");
    assert_eq!(reply["upstreamSessionId"], serde_json::Value::Null);
    assert_eq!(reply["initializeResult"]["serverInfo"]["name"], "rmcp");
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let listed = fixture
        .send(
            &session,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .await;
    assert_eq!(listed["ok"], true, "{listed}");
    assert_eq!(listed["response"]["id"], 1, "{listed}");
}

#[tokio::test]
async fn connect_ping_and_disconnect_against_rmcp() {
    let fixture = HubFixture::with(TestbedConfig::demo(), quick_options()).await;
    let url = start_rmcp_server().await;
    let body =
        json!({"config": {"type": "streamable-http", "url": url, "protocolVersion": "2025-11-25"}});
    let (status, reply) = fixture.api("/api/mcp/connect", body).await;
    assert_eq!(status, 200);
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["protocolVersion"], "2025-11-25", "{reply}");
    assert!(
        reply["upstreamSessionId"].is_string(),
        "rmcp assigns a session: {reply}"
    );
    let session = reply["sessionId"].as_str().unwrap().to_owned();

    let pong = fixture
        .send(
            &session,
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
    assert_eq!(pong["ok"], true, "{pong}");
    assert_eq!(pong["response"]["id"], 1);
    assert!(pong["response"]["result"].is_object(), "{pong}");

    // A method the server does not offer is a JSON-RPC error inside an ok envelope.
    let missing = fixture
        .send(
            &session,
            json!({"jsonrpc": "2.0", "id": 2, "method": "prompts/list"}),
        )
        .await;
    assert_eq!(missing["ok"], true, "{missing}");
    assert!(missing["response"]["error"].is_object(), "{missing}");

    let (status, _) = fixture
        .api("/api/mcp/disconnect", json!({"sessionId": session}))
        .await;
    assert_eq!(status, 200);
}
