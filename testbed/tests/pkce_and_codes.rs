//! PKCE S256 is enforced; codes are single-use, bound to client and redirect URI, and short-lived.

use crate::common;

use std::time::Duration;

use common::{Callback, Fixture, REDIRECT_URI};
use serde_json::json;

fn error_of(params: &[(String, String)]) -> Option<&str> {
    params
        .iter()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn requests_without_s256_pkce_are_refused() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let (_, challenge) = common::pkce_pair();
    let with_pkce = fixture.authorization_url(&client.client_id, &challenge, "mcp", None);

    let without = with_pkce.replace(&format!("code_challenge={challenge}&"), "");
    let response = fixture.http.get(without).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let params = common::query_params(response.headers()["location"].to_str().unwrap());
    assert_eq!(error_of(&params), Some("invalid_request"));
    assert!(params.iter().any(|(k, _)| k == "iss"));

    let plain = with_pkce.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let response = fixture.http.get(plain).send().await.unwrap();
    let params = common::query_params(response.headers()["location"].to_str().unwrap());
    assert_eq!(error_of(&params), Some("invalid_request"));
}

#[tokio::test]
async fn a_wrong_verifier_fails_and_codes_are_single_use() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    let forged = Callback {
        params: callback.params.clone(),
        verifier: "a-different-verifier-0000000000000000000000".into(),
    };
    let (status, error) = fixture.exchange_code(&client, &forged).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The failed attempt consumed the code.
    let (status, _) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 400);

    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    let (status, tokens) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 200);
    let (status, error) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Replaying a code revokes what it produced.
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    assert_eq!(mcp.initialize().await.status, 401);
}

#[tokio::test]
async fn codes_are_bound_to_client_and_redirect_uri() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let thief = fixture.register_public_client().await;
    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    let (status, error) = fixture.exchange_code(&thief, &callback).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    let (status, error) = fixture
        .token_request(
            "/oauth/token",
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", callback.get("code").unwrap()),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("code_verifier", &callback.verifier),
            ],
        )
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(REDIRECT_URI.ends_with("/callback"));

    // The authorization request named the redirect URI, so the token request must repeat it.
    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    let (status, error) = fixture
        .token_request(
            "/oauth/token",
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", callback.get("code").unwrap()),
                ("code_verifier", &callback.verifier),
            ],
        )
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant")),
        "{error}"
    );
}

#[tokio::test]
async fn codes_expire() {
    let mut config = common::base_config();
    config["oauth"]["codeLifetimeSecs"] = json!(1);
    let fixture = Fixture::start(config).await;
    let client = fixture.register_public_client().await;
    let callback = fixture
        .authorize(&client.client_id, "mcp", None, &["mcp"])
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, error) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}
