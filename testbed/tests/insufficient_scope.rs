//! A call lacking a scope gets 403 `insufficient_scope` naming the scopes; listing is never gated.

use crate::common;

use common::Fixture;
use serde_json::json;

#[tokio::test]
async fn a_tool_needing_an_extra_scope_answers_403_with_the_scopes() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    assert_eq!(mcp.initialize().await.status, 200);

    let listing = mcp.request("tools/list", json!({})).await;
    assert_eq!(listing.status, 200, "listing is never scope-gated");
    let tools = listing.response()["result"]["tools"]
        .as_array()
        .unwrap()
        .clone();
    assert!(tools.iter().any(|t| t["name"] == "get-weather"));

    let reply = mcp.call_tool("get-weather", json!({"city": "Oslo"})).await;
    assert_eq!(reply.status, 403);
    let challenge = reply.www_authenticate();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"mcp weather:read\""),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata=\""), "{challenge}");

    // The tool without an extra scope still works on the same session.
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "x"})).await.status,
        200
    );
}

#[tokio::test]
async fn resources_are_gated_on_read_only() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let listing = mcp.request("resources/list", json!({})).await;
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.response()["result"]["resources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let open = mcp
        .request("resources/read", json!({"uri": "keyhole://main/readme"}))
        .await;
    assert_eq!(open.response()["result"]["contents"][0]["text"], "hello");
    let secret = mcp
        .request("resources/read", json!({"uri": "keyhole://main/secret"}))
        .await;
    assert_eq!(secret.status, 403);
    assert!(
        secret
            .www_authenticate()
            .contains("scope=\"mcp notes:read\"")
    );
}

#[tokio::test]
async fn a_token_without_the_base_scope_is_refused() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("weather:read").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    let reply = mcp.initialize().await;
    assert_eq!(reply.status, 403);
    assert!(reply.www_authenticate().contains("scope=\"mcp\""));
}

#[tokio::test]
async fn step_up_with_a_wider_token_keeps_the_session() {
    let fixture = Fixture::standard().await;
    let (_, narrow) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", narrow["access_token"].as_str());
    mcp.initialize().await;
    assert_eq!(
        mcp.call_tool("get-weather", json!({"city": "Rome"}))
            .await
            .status,
        403
    );
    let (_, wide) = fixture.obtain_tokens("mcp weather:read").await;
    mcp.token = wide["access_token"].as_str().map(str::to_string);
    assert_eq!(
        mcp.call_tool("get-weather", json!({"city": "Rome"}))
            .await
            .status,
        200
    );
}
