//! Refresh tokens: plain refresh, rotation, scope narrowing, and the errors of RFC 6749 §5.2.

use crate::common;

use common::Fixture;
use serde_json::json;

async fn refresh(
    fixture: &Fixture,
    client: &common::ClientCredentials,
    token: &str,
    scope: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut params = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    fixture.token_request("/oauth/token", client, &params).await
}

#[tokio::test]
async fn refresh_after_expiry_restores_access_on_the_same_session() {
    let fixture = Fixture::standard().await;
    let (client, tokens) = fixture.obtain_tokens("mcp weather:read").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let session = mcp.session_id.clone();

    fixture.control_post("tokens/expire", json!({})).await;
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "a"})).await.status,
        401
    );

    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = refresh(&fixture, &client, refresh_token, None).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["scope"], "mcp weather:read");
    assert!(
        renewed.get("refresh_token").is_none(),
        "no rotation configured"
    );
    mcp.token = renewed["access_token"].as_str().map(str::to_string);
    assert_eq!(
        mcp.call_tool("echo", json!({"message": "b"})).await.status,
        200
    );
    assert_eq!(mcp.session_id, session);

    // Without rotation the refresh token stays usable.
    assert_eq!(refresh(&fixture, &client, refresh_token, None).await.0, 200);
    // A refresh may narrow the scope but never widen it.
    let (status, narrowed) = refresh(&fixture, &client, refresh_token, Some("mcp")).await;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("mcp")));
    let (status, error) = refresh(&fixture, &client, refresh_token, Some("mcp notes:read")).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"], "invalid_scope");
}

#[tokio::test]
async fn rotation_invalidates_the_previous_refresh_token() {
    let mut config = common::base_config();
    config["oauth"]["refreshTokens"]["rotate"] = json!(true);
    let fixture = Fixture::start(config).await;
    let (client, tokens) = fixture.obtain_tokens("mcp").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = refresh(&fixture, &client, first, None).await;
    assert_eq!(status, 200);
    let second = renewed["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(first, second);
    let (status, error) = refresh(&fixture, &client, first, None).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(refresh(&fixture, &client, second, None).await.0, 200);
}

#[tokio::test]
async fn a_narrowing_rotation_keeps_the_original_grant_in_the_new_refresh_token() {
    let mut config = common::base_config();
    config["oauth"]["refreshTokens"]["rotate"] = json!(true);
    let fixture = Fixture::start(config).await;
    let (client, tokens) = fixture.obtain_tokens("mcp weather:read").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, narrowed) = refresh(&fixture, &client, first, Some("mcp")).await;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("mcp")));
    let second = narrowed["refresh_token"].as_str().unwrap();
    let (status, widened) = refresh(&fixture, &client, second, Some("mcp weather:read")).await;
    assert_eq!(status, 200, "{widened}");
    assert_eq!(widened["scope"], "mcp weather:read");
}

#[tokio::test]
async fn refresh_errors_follow_rfc_6749() {
    let fixture = Fixture::standard().await;
    let (client, tokens) = fixture.obtain_tokens("mcp").await;
    let other = fixture.register_public_client().await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, error) = refresh(&fixture, &other, refresh_token, None).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (status, error) = refresh(&fixture, &client, "kh_rt_unknown", None).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    fixture
        .control_post("tokens/expire", json!({"includeRefreshTokens": true}))
        .await;
    let (status, error) = refresh(&fixture, &client, refresh_token, None).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let (status, error) = fixture
        .token_request("/oauth/token", &client, &[("grant_type", "password")])
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn disabled_refresh_tokens_are_not_issued() {
    let mut config = common::base_config();
    config["oauth"]["refreshTokens"]["enabled"] = json!(false);
    let fixture = Fixture::start(config).await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    assert!(tokens.get("refresh_token").is_none());
}
