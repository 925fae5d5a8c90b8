//! Ways out that never need the store file edited by hand: the Auth tab forgets a server's tokens,
//! its client registration, or both; the re-auth banner starts over with a new registration; a
//! sign-in the user walked away from is not started again behind their back; and a tool call that
//! an interactive sign-in interrupted is offered again, not replayed.

use keyhole_e2e::demo::{SignedIn, answer_consent, oauth_store};
use serde_json::{Value, json};

async fn store(demo: &SignedIn) -> Value {
    oauth_store(&demo.keyhole).await
}

async fn client_ids(demo: &SignedIn) -> Vec<String> {
    store(demo).await["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["registration"]["clientId"].as_str().map(str::to_owned))
        .collect()
}

async fn credentials(demo: &SignedIn) -> usize {
    store(demo).await["credentials"]
        .as_array()
        .map_or(0, Vec::len)
}

/// Polls the store until `check` holds.
async fn until(demo: &SignedIn, what: &str, check: impl AsyncFn(&SignedIn) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check(demo).await {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_auth_tab_forgets_tokens_then_the_registration_and_the_next_connect_registers_again() {
    let demo = SignedIn::start().await;
    let first = client_ids(&demo).await;
    assert_eq!(first.len(), 1);
    demo.browser.click("tab-auth").await;
    demo.browser.wait_testid("auth-credentials").await;

    demo.browser.click("auth-forget-tokens").await;
    demo.browser.wait_testid("auth-none").await;
    until(&demo, "tokens forgotten", async |d| {
        credentials(d).await == 0
    })
    .await;
    assert_eq!(client_ids(&demo).await, first, "the registration stays");

    demo.browser.click("auth-forget-client").await;
    until(&demo, "registration forgotten", async |d| {
        client_ids(d).await.is_empty()
    })
    .await;

    demo.browser.click("disconnect-button").await;
    demo.browser
        .fill("server-url-input", &demo.server_url)
        .await;
    demo.browser.click("connect-button").await;
    answer_consent(&demo.browser, &[], true).await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let second = client_ids(&demo).await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a new registration");
    demo.close().await;
}

#[tokio::test]
async fn the_banner_starts_over_with_a_new_registration_and_the_call_is_offered_again() {
    let demo = SignedIn::start().await;
    let first = client_ids(&demo).await;
    demo.control
        .post("/tokens/expire", json!({ "includeRefreshTokens": true }))
        .await;
    demo.run_tool("echo", &[("message", "interrupted")]).await;
    // At the authorization server: the user goes back instead of signing in.
    demo.browser
        .first_of(&["login-username", "consent-approve"])
        .await;
    demo.browser.client.back().await.unwrap();
    demo.browser
        .wait_text("reauth-reason", |t| t.contains("never finished"))
        .await;
    // Coming back was the user's choice: no automatic sign-in sends them there again (the
    // refused tool list would, after its short notice).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(demo.browser.path().await, "/", "the page stayed");

    demo.browser.click("reauth-start-over").await;
    answer_consent(&demo.browser, &[], true).await;

    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let second = client_ids(&demo).await;
    assert_eq!(second.len(), 1, "the old registration is gone");
    assert_ne!(second, first);

    assert_eq!(demo.browser.value("tool-arg-message").await, "interrupted");
    demo.browser
        .wait_text("tool-rerun-notice", |t| {
            t.contains("\"echo\" was not sent again")
        })
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"tool-result\"]").await,
        0,
        "not replayed"
    );
    demo.browser.click("tool-run-again").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("interrupted"))
        .await;
    assert_eq!(
        demo.browser
            .count("[data-testid=\"tool-rerun-notice\"]")
            .await,
        0
    );
    demo.close().await;
}
