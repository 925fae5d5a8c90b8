//! DPoP (RFC 9449) end to end with the CLI against a testbed server that takes DPoP-bound tokens
//! only and demands nonces: the sign-in binds the token to the server's key (after the
//! authorization server's nonce demand), every MCP request proves possession (after the
//! server's), and a mid-session refresh and a step-up keep the binding — with the one key kept
//! beside the store.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_testbed::config::TestbedConfig;
use serde_json::{Value, json};

fn dpop_config() -> TestbedConfig {
    let mut config = cli_fixture::config();
    config["servers"][0]["auth"]["dpop"] = json!("nonce");
    TestbedConfig::from_json_str(&config.to_string()).expect("valid config")
}

/// The testbed's records of the access tokens it issued.
async fn access_tokens(bed: &Bed) -> Vec<Value> {
    let tokens = bed.control_get("tokens").await;
    tokens
        .as_array()
        .expect("a list")
        .iter()
        .filter(|t| t["kind"] == "access")
        .cloned()
        .collect()
}

/// `(grant type, status)` of every token request, in order.
async fn token_requests(bed: &Bed) -> Vec<(String, u64)> {
    bed.control_get("token-requests")
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["grantType"].as_str().unwrap_or("").to_owned(),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

async fn run(bed: &Bed, argv: &[&str]) -> (u8, FakeTerminal) {
    let url = bed.mcp_url("main");
    let mut full = vec!["--url", url.as_str(), "--non-interactive", "--yes"];
    full.extend_from_slice(argv);
    let mut t = FakeTerminal::new();
    let code = bed.run(&full, &mut t).await;
    (code, t)
}

#[tokio::test]
async fn sign_in_binds_the_token_and_every_request_proves_the_key() {
    let bed = Bed::with_config(dpop_config()).await;
    let (code, t) = run(&bed, &["tools", "call", "echo", "--arg", "message=bound"]).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("bound"), "{}", t.stdout());

    let stored = bed.stored_token("main").expect("tokens stored");
    assert_eq!(stored.token_type, "DPoP");
    let issued = access_tokens(&bed).await;
    assert_eq!(issued.len(), 1, "{issued:?}");
    let jkt = issued[0]["jkt"].as_str().expect("the token is bound");
    // The authorization server demanded its nonce once; the retry with it got the token.
    assert_eq!(
        token_requests(&bed).await,
        [
            ("authorization_code".to_owned(), 400),
            ("authorization_code".to_owned(), 200)
        ]
    );
    // The key is kept beside the store (mode 0600); the store itself holds no key.
    let keys_file = bed.store().path().with_file_name("dpop-keys.json");
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(&keys_file).unwrap()).unwrap();
    assert_eq!(keys["keys"].as_object().unwrap().len(), 1, "{keys}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let store_text = std::fs::read_to_string(bed.store().path()).unwrap();
    let key_text = keys["keys"].as_object().unwrap().values().next().unwrap();
    assert!(!store_text.contains(key_text.as_str().unwrap()));

    // A second run uses the stored token with the same key: no new token, same binding.
    let (code, t) = run(
        &bed,
        &["tools", "call", "add", "--arg", "a=2", "--arg", "b=3"],
    )
    .await;
    assert_eq!(code, 0, "{}", t.stderr());
    let issued = access_tokens(&bed).await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["jkt"].as_str(), Some(jkt));
}

#[tokio::test]
async fn an_expired_bound_token_is_refreshed_with_a_proof_by_the_same_key() {
    let bed = Bed::with_config(dpop_config()).await;
    assert_eq!(run(&bed, &["tools", "list"]).await.0, 0);
    let before = bed.stored_token("main").unwrap();
    bed.control("tokens/expire", json!({})).await;

    let (code, t) = run(&bed, &["tools", "call", "echo", "--arg", "message=again"]).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("again"), "{}", t.stdout());
    let after = bed.stored_token("main").unwrap();
    assert_ne!(after.access_token.expose(), before.access_token.expose());
    assert_eq!(after.token_type, "DPoP");
    let grants: Vec<String> = token_requests(&bed)
        .await
        .into_iter()
        .filter(|(_, status)| *status == 200)
        .map(|(grant, _)| grant)
        .collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    let issued = access_tokens(&bed).await;
    assert_eq!(issued.len(), 2);
    assert_eq!(
        issued[0]["jkt"], issued[1]["jkt"],
        "the refreshed token has the same key"
    );
}

#[tokio::test]
async fn a_step_up_keeps_the_binding() {
    let bed = Bed::with_config(dpop_config()).await;
    assert_eq!(run(&bed, &["tools", "list"]).await.0, 0);
    let (code, t) = run(
        &bed,
        &["tools", "call", "get-weather", "--arg", "city=Paris"],
    )
    .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("Paris"), "{}", t.stdout());
    let stored = bed.stored_token("main").unwrap();
    assert_eq!(stored.token_type, "DPoP");
    assert!(stored.scopes.contains_str("weather:read"));
    let issued = access_tokens(&bed).await;
    assert_eq!(issued.len(), 2, "{issued:?}");
    assert!(issued.iter().all(|t| t["jkt"] == issued[0]["jkt"]));
}

#[tokio::test]
async fn a_bearer_token_is_refused_by_a_dpop_server_with_a_dpop_challenge() {
    let bed = Bed::with_config(dpop_config()).await;
    let token = bed
        .testbed
        .mint_access_token("main", &["mcp"], 300)
        .unwrap();
    let response = reqwest::Client::new()
        .post(bed.mcp_url("main"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"algs="ES256""#), "{challenge}");
}

#[tokio::test]
async fn the_http_sse_transport_proves_the_key_too() {
    let bed = Bed::with_config(dpop_config()).await;
    let url = format!("{}/sse", bed.mcp_url("main"));
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "--transport",
        "sse",
        "--non-interactive",
        "--yes",
        "tools",
        "call",
        "echo",
        "--arg",
        "message=over sse",
    ];
    let code = bed.run(&argv, &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("over sse"), "{}", t.stdout());
    let issued = access_tokens(&bed).await;
    assert!(issued.iter().all(|t| t["jkt"].is_string()), "{issued:?}");
}
