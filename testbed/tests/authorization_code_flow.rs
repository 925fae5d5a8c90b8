//! DCR → authorize (login + consent) → token → MCP call, with the discovery documents and `iss`.

use crate::common;

use common::{Fixture, REDIRECT_URI};
use serde_json::{Value, json};

#[tokio::test]
async fn discovery_documents_describe_the_servers() {
    let fixture = Fixture::standard().await;
    let mcp_url = fixture.mcp_url("main");
    let metadata_url = mcp_url.replace(
        fixture.testbed.base_url(),
        &format!(
            "{}/.well-known/oauth-protected-resource",
            fixture.testbed.base_url()
        ),
    );
    let prm: Value = fixture
        .http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], mcp_url);
    assert_eq!(
        prm["authorization_servers"],
        json!([fixture.testbed.issuer_url()])
    );
    let scopes: Vec<&str> = prm["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(scopes.contains(&"mcp") && scopes.contains(&"weather:read"));

    let as_metadata: Value = fixture
        .http
        .get(fixture.url("/.well-known/oauth-authorization-server/oauth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_metadata["issuer"], fixture.testbed.issuer_url());
    assert_eq!(
        as_metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        as_metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert!(as_metadata["registration_endpoint"].is_string());

    let open = fixture.url("/.well-known/oauth-protected-resource/servers/open/mcp");
    assert_eq!(fixture.http.get(open).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn an_unauthenticated_request_is_challenged_with_resource_metadata() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("main", None);
    let reply = mcp.initialize().await;
    assert_eq!(reply.status, 401);
    let challenge = reply.www_authenticate();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains(&format!(
        "resource_metadata=\"{}/.well-known/oauth-protected-resource/servers/main/mcp\"",
        fixture.testbed.base_url()
    )));
    assert!(challenge.contains("scope=\"mcp\""));

    let mut bogus = fixture.mcp("main", Some("not-a-token"));
    let reply = bogus.initialize().await;
    assert_eq!(reply.status, 401);
    assert!(reply.www_authenticate().contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn dynamic_registration_login_consent_token_and_call() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let callback = fixture
        .authorize(
            &client.client_id,
            "mcp weather:read",
            Some(&fixture.mcp_url("main")),
            &["mcp", "weather:read"],
        )
        .await;
    assert_eq!(callback.get("state"), Some("xyz"));
    assert_eq!(
        callback.get("iss"),
        Some(fixture.testbed.issuer_url().as_str()),
        "RFC 9207 iss"
    );

    let (status, tokens) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "mcp weather:read");
    assert_eq!(tokens["expires_in"], 120);
    assert!(tokens["refresh_token"].is_string());

    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    let reply = mcp.initialize().await;
    assert_eq!(reply.status, 200);
    assert!(mcp.session_id.is_some());
    let reply = mcp.call_tool("echo", json!({"message": "hi"})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.response()["result"]["content"][0]["text"], "hi");
    let reply = mcp.call_tool("get-weather", json!({"city": "Oslo"})).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.response()["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Weather in Oslo")
    );
}

#[tokio::test]
async fn a_token_for_one_server_is_refused_by_another() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut ema = fixture.mcp("ema", tokens["access_token"].as_str());
    let reply = ema.initialize().await;
    assert_eq!(reply.status, 401);
    assert!(reply.www_authenticate().contains("invalid_token"));
}

#[tokio::test]
async fn authorization_errors_are_reported_to_the_right_party() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let (_, challenge) = common::pkce_pair();

    // An unregistered redirect URI is never redirected to.
    let url = fixture
        .authorization_url(&client.client_id, &challenge, "mcp", None)
        .replace("9%2Fcallback", "9%2Felsewhere");
    let response = fixture.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 400);

    // An unknown scope is sent back to the client with state and iss.
    let url = fixture.authorization_url(&client.client_id, &challenge, "mcp admin", None);
    let response = fixture.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let params = common::query_params(response.headers()["location"].to_str().unwrap());
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("error"), Some("invalid_scope"));
    assert_eq!(get("state"), Some("xyz"));
    assert!(get("iss").is_some());

    // Enterprise-managed servers never hand out authorization codes.
    let url = fixture.authorization_url(
        &client.client_id,
        &challenge,
        "mcp",
        Some(&fixture.mcp_url("ema")),
    );
    let response = fixture.http.get(url).send().await.unwrap();
    let params = common::query_params(response.headers()["location"].to_str().unwrap());
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "error" && v == "invalid_target")
    );

    // Registration rejects bad metadata.
    let response = fixture
        .http
        .post(fixture.url("/oauth/register"))
        .json(&json!({"redirect_uris": ["not a url"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_redirect_uri");
    assert!(REDIRECT_URI.starts_with("http://127.0.0.1"));
}

#[tokio::test]
async fn wrong_credentials_keep_the_login_form() {
    let fixture = Fixture::standard().await;
    let client = fixture.register_public_client().await;
    let (_, challenge) = common::pkce_pair();
    let url = fixture.authorization_url(&client.client_id, &challenge, "mcp", None);
    let html = fixture
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Demo credentials"),
        "the login page shows the demo credentials"
    );
    let request_id = common::hidden_request_id(&html);
    let response = fixture
        .http
        .post(fixture.url("/oauth/login"))
        .form(&[
            ("request", request_id.as_str()),
            ("username", "demo"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"login-submit\"")
    );
}

#[tokio::test]
async fn auto_consent_approves_at_once() {
    let mut config = common::base_config();
    config["oauth"]["consent"] = json!("auto");
    let fixture = Fixture::start(config).await;
    let client = fixture.register_public_client().await;
    let (verifier, challenge) = common::pkce_pair();
    let url = fixture.authorization_url(&client.client_id, &challenge, "mcp weather:read", None);
    let response = fixture.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let callback = common::Callback {
        params: common::query_params(response.headers()["location"].to_str().unwrap()),
        verifier,
    };
    let (status, tokens) = fixture.exchange_code(&client, &callback).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["scope"], "mcp weather:read");
}
