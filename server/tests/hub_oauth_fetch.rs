//! `/api/oauth/fetch`: the browser's OAuth legs, proxied without following redirects and recorded.

use crate::common;

use common::hub::HubFixture;
use serde_json::json;

#[tokio::test]
async fn metadata_is_fetched_and_recorded_in_the_session_log() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let url = format!(
        "{}/.well-known/oauth-authorization-server/oauth",
        fixture.testbed.base_url()
    );
    let (status, reply) = fixture
        .api(
            "/api/oauth/fetch",
            json!({"url": url, "sessionId": session}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ok"], true);
    assert_eq!(reply["status"], 200);
    let metadata: serde_json::Value =
        serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(metadata["issuer"], fixture.testbed.issuer_url());

    let (_, log) = fixture
        .api_get(&format!("/api/mcp/log?sessionId={session}"))
        .await;
    let oauth: Vec<_> = log["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "oauth")
        .collect();
    assert_eq!(oauth.len(), 1);
    assert_eq!(oauth[0]["url"], url);
}

#[tokio::test]
async fn token_requests_are_redacted_in_the_log_and_redirects_not_followed() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let body =
        "grant_type=authorization_code&code=SECRET-CODE&code_verifier=SECRET-VERIFIER&client_id=x";
    let (_, reply) = fixture
        .api(
            "/api/oauth/fetch",
            json!({
                "url": format!("{}/oauth/token", fixture.testbed.base_url()),
                "method": "POST",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "body": body,
                "sessionId": session,
            }),
        )
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    let status = reply["status"].as_u64();
    assert!(
        matches!(status, Some(400 | 401)),
        "an OAuth error is passed through: {reply}"
    );
    let (_, log) = fixture
        .api_get(&format!("/api/mcp/log?sessionId={session}"))
        .await;
    assert!(!log.to_string().contains("SECRET-"), "{log}");

    // A redirect is returned to the page, not followed.
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = redirector.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/moved",
        axum::routing::get(|| async {
            axum::response::Redirect::temporary("http://127.0.0.1:1/elsewhere")
        }),
    );
    tokio::spawn(async move { axum::serve(redirector, app).await.unwrap() });
    let (_, reply) = fixture
        .api(
            "/api/oauth/fetch",
            json!({"url": format!("http://{at}/moved")}),
        )
        .await;
    assert_eq!(reply["status"], 307, "{reply}");
    let location = reply["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "location")
        .unwrap();
    assert_eq!(location[1], "http://127.0.0.1:1/elsewhere");
}

#[tokio::test]
async fn only_http_urls_and_real_methods() {
    let fixture = HubFixture::start().await;
    for (body, needle) in [
        (json!({"url": "file:///etc/passwd"}), "only http(s)"),
        (
            json!({"url": "http://127.0.0.1:1/", "method": "NOT A METHOD"}),
            "not an HTTP method",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "sessionId": "nope"}),
            "",
        ),
    ] {
        let (status, reply) = fixture.api("/api/oauth/fetch", body).await;
        assert!(status == 400 || status == 404, "{status} {reply}");
        assert!(
            reply["message"].as_str().unwrap().contains(needle),
            "{reply}"
        );
    }
    let (_, refused) = fixture
        .api("/api/oauth/fetch", json!({"url": "http://127.0.0.1:1/"}))
        .await;
    assert_eq!(refused["kind"], "transport_error", "{refused}");
}
