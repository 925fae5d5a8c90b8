//! Client authentication at the token endpoint: none, client_secret_basic, client_secret_post.

use crate::common;

use common::{ClientCredentials, Fixture};

fn confidential(id: &str, secret: &str, basic: bool) -> ClientCredentials {
    ClientCredentials {
        client_id: id.into(),
        client_secret: Some(secret.into()),
        basic,
    }
}

#[tokio::test]
async fn static_clients_authenticate_with_their_method() {
    let fixture = Fixture::standard().await;
    for client in [
        confidential("basic-client", "basic-secret", true),
        confidential("post-client", "post-secret", false),
    ] {
        let callback = fixture
            .authorize(&client.client_id, "mcp", None, &["mcp"])
            .await;
        let (status, tokens) = fixture.exchange_code(&client, &callback).await;
        assert_eq!(status, 200, "{}: {tokens}", client.client_id);
    }
}

#[tokio::test]
async fn wrong_secrets_and_wrong_methods_are_invalid_client() {
    let fixture = Fixture::standard().await;
    let callback = fixture
        .authorize("basic-client", "mcp", None, &["mcp"])
        .await;
    let response = fixture
        .http
        .post(fixture.url("/oauth/token"))
        .basic_auth("basic-client", Some("nope"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", callback.get("code").unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // A basic client using client_secret_post.
    let (status, body) = fixture
        .token_request(
            "/oauth/token",
            &confidential("basic-client", "basic-secret", false),
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A confidential client pretending to be public.
    let (status, body) = fixture
        .token_request(
            "/oauth/token",
            &ClientCredentials::public("post-client"),
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, body) = fixture
        .token_request(
            "/oauth/token",
            &ClientCredentials::public("nobody"),
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn malformed_token_requests_are_invalid_request() {
    let fixture = Fixture::standard().await;
    let response = fixture
        .http
        .post(fixture.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&grant_type=refresh_token&client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let response = fixture
        .http
        .post(fixture.url("/oauth/token"))
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn confidential_dynamic_clients_get_a_secret() {
    let fixture = Fixture::standard().await;
    let response = fixture
        .http
        .post(fixture.url("/oauth/register"))
        .json(&serde_json::json!({"redirect_uris": [common::REDIRECT_URI], "token_endpoint_auth_method": "client_secret_post"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let client = confidential(
        body["client_id"].as_str().unwrap(),
        body["client_secret"].as_str().unwrap(),
        false,
    );
    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    assert_eq!(fixture.exchange_code(&client, &callback).await.0, 200);
}

#[tokio::test]
async fn registration_can_be_disabled() {
    let mut config = common::base_config();
    config["oauth"]["dynamicRegistration"] = serde_json::json!(false);
    let fixture = Fixture::start(config).await;
    let metadata: serde_json::Value = fixture
        .http
        .get(fixture.url("/.well-known/oauth-authorization-server/oauth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(metadata.get("registration_endpoint").is_none());
    let response = fixture
        .http
        .post(fixture.url("/oauth/register"))
        .json(&serde_json::json!({"redirect_uris": [common::REDIRECT_URI]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
