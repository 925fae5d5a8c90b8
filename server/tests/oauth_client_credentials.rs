//! The client-credentials grant for machine clients, with `client_secret_basic` and with
//! `private_key_jwt` (an ES256 assertion whose audience is the issuer), against a scripted
//! authorization server.

use crate::oauth_fixture;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::{
    ClientConfig, PreRegisteredClient, ServerConfig, TokenEndpointAuthMethod,
};
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{REDIRECT_URI, new_client};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Value, json};

const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/6Btlq/vy5BN1uOA
mlN5LJcKLzoWMdfOdz11A94DvTKhRANCAAR6Q21RogSI6GQUVdfTXhMt/aZ6p8fe
HtsvolKQzl5VrGfM1zXbFAX5p4JW7UPG+rBKQjcXb5R6SfqkOBwoMkH/
-----END PRIVATE KEY-----";

async fn machine_server() -> FakeServer {
    let fake = FakeServer::start().await;
    fake.discovery(json!({
        "issuer": "{base}",
        "token_endpoint": "{base}/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
    }));
    fake.json(
        "POST",
        "/token",
        200,
        json!({"access_token": "machine-at", "token_type": "bearer", "expires_in": 60, "scope": "jobs:run"}),
    );
    fake
}

#[tokio::test]
async fn client_secret_basic() {
    let fake = machine_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ClientConfig::new(REDIRECT_URI);
    config.preregistered = vec![PreRegisteredClient::confidential("robot", "s3cret:+")];
    let client = new_client(&dir, config);
    let grant = client
        .client_credentials(&fake.url("/mcp"), &ScopeSet::parse("jobs:run"))
        .await
        .unwrap();
    assert_eq!(grant.tokens.access_token.expose(), "machine-at");
    assert_eq!(
        grant.tokens.token_type, "bearer",
        "token types compare case-insensitively"
    );
    let request = &fake.requests_to("/token")[0];
    let form = request.form();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "jobs:run");
    assert_eq!(form["resource"], fake.url("/mcp"));
    assert!(!form.contains_key("client_secret"));
    // RFC 6749 §2.3.1: both parts form-encoded before Basic.
    let basic = request.headers["authorization"]
        .strip_prefix("Basic ")
        .unwrap();
    assert_eq!(STANDARD.decode(basic).unwrap(), b"robot:s3cret%3A%2B");
    let stored = client.store().read_document().unwrap();
    assert!(stored.credential(&fake.url("/mcp"), None).is_some());
}

#[tokio::test]
async fn private_key_jwt() {
    let fake = machine_server().await;
    let dir = tempfile::tempdir().unwrap();
    let client = new_client(&dir, ClientConfig::new(REDIRECT_URI));
    let mut robot = PreRegisteredClient::public("robot");
    robot.private_key_pem = Some(KEY_PEM.into());
    robot.key_id = Some("k1".into());
    client.add_server(ServerConfig {
        client: Some(robot),
        ..ServerConfig::new(fake.url("/mcp"))
    });
    client
        .client_credentials(&fake.url("/mcp"), &ScopeSet::parse("jobs:run"))
        .await
        .unwrap();
    let request = &fake.requests_to("/token")[0];
    assert!(!request.headers.contains_key("authorization"));
    let form = request.form();
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    let assertion = &form["client_assertion"];
    let parts: Vec<&str> = assertion.split('.').collect();
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let header = decode(parts[0]);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("ES256"), Some("k1"))
    );
    let claims = decode(parts[1]);
    assert_eq!(claims["iss"], "robot");
    assert_eq!(claims["sub"], "robot");
    assert_eq!(claims["aud"], fake.base);
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(KEY_PEM).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    VerifyingKey::from(&key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("a valid ES256 signature");
    let _ = TokenEndpointAuthMethod::PrivateKeyJwt;
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let fake = machine_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ClientConfig::new(REDIRECT_URI);
    config.preregistered = vec![PreRegisteredClient::public("browser-app")];
    let client = new_client(&dir, config);
    let error = client
        .client_credentials(&fake.url("/mcp"), &ScopeSet::new())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("confidential"), "{error}");
    assert!(fake.requests_to("/token").is_empty());
}
