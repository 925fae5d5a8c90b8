//! Token lifetimes are enforced: an expired access token gets 401 `invalid_token`.

use crate::common;

use std::time::Duration;

use common::Fixture;
use serde_json::json;

#[tokio::test]
async fn a_real_lifetime_runs_out() {
    let mut config = common::base_config();
    config["oauth"]["accessTokenLifetimeSecs"] = json!(1);
    let fixture = Fixture::start(config).await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    assert_eq!(tokens["expires_in"], 1);
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    assert_eq!(mcp.initialize().await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = mcp.call_tool("echo", json!({"message": "late"})).await;
    assert_eq!(reply.status, 401);
    let challenge = reply.www_authenticate();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("expired"), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}

#[tokio::test]
async fn the_bare_style_omits_resource_metadata() {
    let mut config = common::base_config();
    config["servers"][0]["auth"]["challengeStyle"] = json!("bare");
    let fixture = Fixture::start(config).await;
    let mut anonymous = fixture.mcp("main", None);
    let reply = anonymous.initialize().await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.www_authenticate(), "Bearer");

    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    fixture.control_post("tokens/expire", json!({})).await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    let reply = mcp.initialize().await;
    assert_eq!(reply.status, 401);
    let challenge = reply.www_authenticate();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(!challenge.contains("resource_metadata"), "{challenge}");
}
