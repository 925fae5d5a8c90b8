//! The consent page: unticking a scope grants less; denying returns `access_denied`.

use crate::common;

use common::Fixture;
use serde_json::json;

#[tokio::test]
async fn unticked_scopes_are_not_granted() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let (verifier, challenge) = common::pkce_pair();
    let url = fixture.authorization_url(
        &client.client_id,
        &challenge,
        "mcp weather:read notes:read",
        Some(&fixture.mcp_url("main")),
    );
    let page = fixture
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"login-password\""));
    let request_id = fixture.login(&url).await;
    let consent = fixture
        .http
        .get(fixture.url(&format!("/oauth/consent?request={request_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for scope in ["mcp", "weather:read", "notes:read"] {
        assert!(
            consent.contains(&format!("data-testid=\"consent-scope-{scope}\"")),
            "{scope}"
        );
    }
    assert!(consent.contains("data-testid=\"consent-deny\""));

    let params = fixture
        .decide(&request_id, &["mcp", "notes:read"], true)
        .await;
    let callback = common::Callback { params, verifier };
    let (status, tokens) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["scope"], "mcp notes:read");

    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    assert_eq!(
        mcp.call_tool("get-weather", json!({"city": "Oslo"}))
            .await
            .status,
        403
    );
    let read = mcp
        .request("resources/read", json!({"uri": "keyhole://main/secret"}))
        .await;
    assert_eq!(read.status, 200);
}

#[tokio::test]
async fn denying_returns_access_denied_with_iss() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let (_, challenge) = common::pkce_pair();
    let url = fixture.authorization_url(&client.client_id, &challenge, "mcp", None);
    let request_id = fixture.login(&url).await;
    let params = fixture.decide(&request_id, &["mcp"], false).await;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("error"), Some("access_denied"));
    assert_eq!(get("state"), Some("xyz"));
    assert_eq!(get("iss"), Some(fixture.testbed.issuer_url().as_str()));
    assert_eq!(get("code"), None);
    // The request is gone once decided.
    let again = fixture
        .http
        .get(fixture.url(&format!("/oauth/consent?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
}
