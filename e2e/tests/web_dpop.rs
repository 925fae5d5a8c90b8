//! DPoP in the browser, against the demo's `dpop` server (DPoP-bound tokens only, nonces at both
//! servers): the sign-in binds the token to the server's key, which stays in the backend (the page
//! only ever sees proofs, without their signature, decoded in the Network and Auth tabs), and a
//! mid-session refresh and a step-up keep the session and the binding.

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};
use serde_json::Value;

/// The decoded proofs the page shows (inside closed details too), as JSON pairs.
async fn shown_proofs(demo: &SignedIn) -> Vec<String> {
    let texts = demo
        .browser
        .script(
            "return Array.from(document.querySelectorAll('[data-testid=dpop-proof]'))\
             .map(e => e.textContent)",
        )
        .await;
    texts
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The testbed's access tokens: `(jkt, scope)` of each, in issue order.
async fn issued(demo: &SignedIn) -> Vec<(Option<String>, String)> {
    demo.control
        .get("/tokens")
        .await
        .as_array()
        .expect("a list")
        .iter()
        .filter(|t| t["kind"] == "access")
        .map(|t| {
            (
                t["jkt"].as_str().map(str::to_owned),
                t["scopes"].to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_dpop_server_signs_in_refreshes_and_steps_up_with_one_key_the_page_never_holds() {
    let demo = SignedIn::start_on("dpop").await;
    demo.run_tool("echo", &[("message", "bound")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("bound"))
        .await;

    // The token is DPoP-bound, and the Auth tab says so.
    let first = issued(&demo).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let jkt = first[0].0.clone().expect("the token is bound to a key");
    demo.browser.click("tab-auth").await;
    demo.browser
        .wait_text("auth-token-type", |t| t == "DPoP")
        .await;

    // The Network tab shows the MCP requests' proofs decoded: the public key, the request, the
    // token's hash and (after the server's demand) its nonce — and never a private key or a
    // signature.
    demo.browser.click("tab-network").await;
    demo.browser.wait_testid("network-log").await;
    let proofs = shown_proofs(&demo).await;
    let mcp_proof = proofs
        .iter()
        .find(|p| p.contains("\"ath\"") && p.contains("\"nonce\"") && p.contains(&demo.server_url))
        .unwrap_or_else(|| panic!("a decoded MCP proof: {proofs:?}"));
    for claim in [
        "\"dpop+jwt\"",
        "\"ES256\"",
        "\"htm\"",
        "\"jti\"",
        "\"iat\"",
        "\"nonce\"",
    ] {
        assert!(mcp_proof.contains(claim), "{claim} in {mcp_proof}");
    }
    assert!(!mcp_proof.contains("\"d\""), "no private key: {mcp_proof}");
    let network = demo
        .browser
        .script("return document.body.textContent")
        .await;
    let network = network.as_str().unwrap_or_default();
    assert!(
        network.contains("<signature removed>"),
        "the log keeps no signature"
    );

    // The key is in the backend's key file beside the store, and nowhere in the page.
    let keys_file = demo.keyhole.store_path().with_file_name("dpop-keys.json");
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(&keys_file).expect("the key file")).unwrap();
    let key = keys["keys"]
        .as_object()
        .and_then(|k| k.values().next())
        .and_then(Value::as_str)
        .expect("one key")
        .to_owned();
    let storage = demo
        .browser
        .script("return JSON.stringify(Object.assign({}, sessionStorage, localStorage))")
        .await;
    assert!(!storage.as_str().unwrap_or_default().contains(&key));
    assert!(!network.contains(&key));

    // Mid-session refresh: the expired token is renewed with a proof by the same key.
    demo.control.expire_access_tokens().await;
    demo.browser.click("tab-tools").await;
    demo.run_tool("echo", &[("message", "renewed")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("renewed"))
        .await;
    let renewed = messages::recovered_silently(SilentRecovery::Refresh);
    demo.browser.wait_toast("success", |t| t == renewed).await;
    let after_refresh = issued(&demo).await;
    assert_eq!(after_refresh.len(), 2, "{after_refresh:?}");
    assert_eq!(after_refresh[1].0.as_deref(), Some(jkt.as_str()));
    // The Auth tab lists the refresh's token request with its proof, decoded.
    demo.browser.click("tab-auth").await;
    demo.browser
        .wait_selector("[data-testid=auth-steps] [data-testid=dpop-proof]")
        .await;
    let incident_proofs = demo
        .browser
        .script(
            "return Array.from(document.querySelectorAll(\
             '[data-testid=auth-steps] [data-testid=dpop-proof]')).map(e => e.textContent)",
        )
        .await
        .to_string();
    assert!(
        incident_proofs.contains("/oauth/token") && !incident_proofs.contains("ath"),
        "the token request's proof (no ath at the token endpoint): {incident_proofs}"
    );
    demo.browser.click("tab-tools").await;

    // Step-up: the scope-gated tool, through the consent page and back, still bound.
    demo.run_tool("get-weather", &[("city", "Lisbon")]).await;
    demo.authorize_step_up().await;
    demo.browser.click("tool-run-again").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("Lisbon"))
        .await;
    let stepped_up = issued(&demo).await;
    assert_eq!(stepped_up.len(), 3, "{stepped_up:?}");
    assert_eq!(stepped_up[2].0.as_deref(), Some(jkt.as_str()));
    assert!(stepped_up[2].1.contains("weather:read"), "{stepped_up:?}");

    // One upstream session throughout.
    let sessions = demo.control.sessions("dpop").await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");

    // Every token request met the authorization server's nonce demand once at most: a code
    // exchange, a refresh and the step-up's code exchange succeeded.
    let granted: Vec<String> = demo
        .control
        .token_requests()
        .await
        .iter()
        .filter(|r| r["status"] == 200)
        .map(|r| r["grantType"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        granted,
        ["authorization_code", "refresh_token", "authorization_code"]
    );
    demo.close().await;
}
