//! Command-scoped recovery that needs nobody: an expired token is refreshed and the same message
//! is sent once more, for a tool call, a resource read and a prompt get, on the same upstream
//! session and without leaving the page. (A scope-gated resource reaches the step-up modal.)

use keyhole_e2e::demo::SignedIn;

#[tokio::test]
async fn an_expired_token_is_renewed_and_the_tool_call_retried_on_the_same_session() {
    let demo = SignedIn::start().await;
    let (upstream, before) = demo.only_demo_session().await;
    let issued = demo.control.token_count().await;
    demo.control.expire_access_tokens().await;

    demo.run_tool("echo", &[("message", "after expiry")]).await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("after expiry"))
        .await;
    demo.browser
        .wait_selector_text("[data-testid=\"toast\"][data-kind=\"success\"]", |t| {
            t.contains("Renewed the access token")
        })
        .await;

    assert_eq!(demo.browser.path().await, "/", "no redirect happened");
    assert!(
        demo.control.token_count().await > issued,
        "a refresh grant ran"
    );
    let (same, after) = demo.only_demo_session().await;
    assert_eq!(same, upstream, "the same Mcp-Session-Id");
    assert!(
        after.len() > before.len(),
        "the retried call used the new token on that session: {before:?} → {after:?}"
    );
    assert_eq!(
        demo.browser.count("[data-testid=\"step-up-modal\"]").await,
        0
    );

    // The refused call and the refresh grant are in the Network tab, the grant marked OAuth.
    demo.browser.click("tab-network").await;
    demo.browser
        .wait_count(
            "[data-testid=\"network-entry\"][data-kind=\"mcp\"][data-status=\"401\"]",
            1,
        )
        .await;
    demo.browser
        .wait_selector_text(
            "[data-testid=\"network-log\"] > [data-testid=\"network-entry\"][data-kind=\"oauth\"]",
            |t| t.contains("/token"),
        )
        .await;
    demo.close().await;
}

#[tokio::test]
async fn a_resource_read_and_a_prompt_get_recover_the_same_way() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;

    demo.control.expire_access_tokens().await;
    demo.browser.click("tab-resources").await;
    demo.browser.click("resource-item-readme").await;
    demo.browser
        .wait_text("resource-result", |t| {
            t.contains("Welcome to the Keyhole demo")
        })
        .await;

    demo.control.expire_access_tokens().await;
    demo.browser.click("tab-prompts").await;
    demo.browser.click("prompt-item-greeting").await;
    demo.browser.fill("prompt-arg-name", "Ada").await;
    demo.browser.click("prompt-get").await;
    demo.browser
        .wait_attr("prompt-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("prompt-result", |t| t.contains("Ada"))
        .await;

    assert_eq!(demo.browser.path().await, "/");
    let (same, tokens) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    assert!(tokens.len() >= 3, "two renewals on one session: {tokens:?}");

    // A scope-gated resource asks through the same step-up modal as a tool.
    demo.browser.click("tab-resources").await;
    demo.browser.click("resource-item-secret-notes").await;
    demo.browser
        .wait_attr("step-up-scope-notes:read", "data-new", &["true"])
        .await;
    demo.browser.click("step-up-cancel").await;
    demo.browser
        .wait_attr("resource-result", "data-state", &["error"])
        .await;
    demo.close().await;
}
