//! Access tokens are bound to the MCP server named in their RFC 8707 `resource`: a token for
//! another server, or one issued without a resource, is refused with 401 `invalid_token` (the
//! latter accepted only where `allowTokensWithoutResource` says so).

use crate::common;

use common::{Fixture, McpReply};
use serde_json::{Value, json};

/// `main` plus a second OAuth server, `other`.
fn two_servers(allow_tokens_without_resource: bool) -> Value {
    let mut config = common::base_config();
    config["servers"][0]["auth"]["allowTokensWithoutResource"] =
        json!(allow_tokens_without_resource);
    let servers = config["servers"].as_array_mut().unwrap();
    servers.push(json!({
        "name": "other",
        "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
        "tools": [{"preset": "echo"}]
    }));
    config
}

/// Asserts a 401 `invalid_token` whose description mentions `why`; returns the challenge.
fn assert_invalid_token(reply: &McpReply, why: &str) -> String {
    assert_eq!(reply.status, 401);
    let challenge = reply.www_authenticate().to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains(why), "{challenge}");
    challenge
}

/// A token for `resource` (none when `None`), with scope `mcp`.
async fn token_for(fixture: &Fixture, resource: Option<&str>) -> String {
    let client = fixture.register_public_client().await;
    let callback = fixture
        .authorize(&client.client_id, "mcp", resource, &["mcp"])
        .await;
    let (status, tokens) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_for_another_server_is_refused() {
    let fixture = Fixture::start(two_servers(false)).await;
    let token = token_for(&fixture, Some(&fixture.mcp_url("other"))).await;

    let mut other = fixture.mcp("other", Some(&token));
    assert_eq!(other.initialize().await.status, 200);
    let mut main = fixture.mcp("main", Some(&token));
    assert_invalid_token(&main.initialize().await, "another resource");
}

#[tokio::test]
async fn a_token_issued_without_a_resource_is_refused_by_default() {
    let fixture = Fixture::start(two_servers(false)).await;
    let token = token_for(&fixture, None).await;

    let mut main = fixture.mcp("main", Some(&token));
    let challenge = assert_invalid_token(&main.initialize().await, "without a resource indicator");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}

#[tokio::test]
async fn allow_tokens_without_resource_accepts_them_on_that_server_only() {
    let fixture = Fixture::start(two_servers(true)).await;
    let token = token_for(&fixture, None).await;

    let mut main = fixture.mcp("main", Some(&token));
    assert_eq!(main.initialize().await.status, 200);
    let reply = main.call_tool("echo", json!({"message": "unbound"})).await;
    assert_eq!(reply.status, 200);
    let mut other = fixture.mcp("other", Some(&token));
    assert_invalid_token(&other.initialize().await, "without a resource indicator");
}
