//! Command-scoped recovery that needs nobody: an expired token is refreshed and the same message
//! is sent once more, for a tool call, a resource read and a prompt get, on the same upstream
//! session and without leaving the page. (A scope-gated resource reaches the step-up modal.) A
//! renewal that works but cannot be saved says so.

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};

/// The toast of a silent refresh.
fn renewed() -> String {
    messages::recovered_silently(SilentRecovery::Refresh)
}

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
    demo.browser.wait_toast("success", |t| t == renewed()).await;

    assert_eq!(demo.browser.path().await, "/", "no redirect happened");
    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "one refresh grant ran"
    );
    assert_eq!(
        demo.control.token_count().await,
        issued + 2,
        "a new access token and the rotated refresh token"
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

    // "OAuth exchanges only" leaves exactly the OAuth legs (discovery, then the grant), in
    // order, and unticking brings the rest back.
    let everything = demo.network_entries().await;
    demo.browser.click("network-oauth-only").await;
    demo.browser
        .wait_absent(
            "[data-testid=\"network-log\"] > [data-testid=\"network-entry\"][data-kind=\"mcp\"]",
        )
        .await;
    let oauth_only = demo.network_entries().await;
    let expected: Vec<_> = everything
        .iter()
        .filter(|(kind, ..)| kind == "oauth")
        .cloned()
        .collect();
    assert_eq!(oauth_only, expected);
    assert!(everything.len() > oauth_only.len(), "{everything:?}");
    let grant = oauth_only.last().expect("the refresh grant");
    assert!(
        grant.1 == "POST" && grant.2.ends_with("/oauth/token") && grant.3 == "200",
        "{oauth_only:?}"
    );
    demo.browser.click("network-oauth-only").await;
    demo.browser
        .wait_count(
            "[data-testid=\"network-log\"] > [data-testid=\"network-entry\"]",
            everything.len(),
        )
        .await;
    demo.close().await;
}

/// The read and the get themselves meet the expired token (their lists were loaded before),
/// so each is refused, renewed and sent once more.
#[tokio::test]
async fn a_resource_read_and_a_prompt_get_recover_the_same_way() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;
    demo.browser.click("tab-resources").await;
    demo.browser.wait_testid("resource-item-readme").await;
    demo.browser.click("tab-prompts").await;
    demo.browser.click("prompt-item-greeting").await;
    demo.browser.fill("prompt-arg-name", "Ada").await;
    // Typing asks the demo for completions: let them be answered before the token expires, so
    // the read and the get are the requests that meet the expired token.
    completions_answered(&demo).await;

    demo.control.expire_access_tokens().await;
    demo.browser.click("tab-resources").await;
    demo.browser.click("resource-item-readme").await;
    demo.browser
        .wait_text("resource-result", |t| {
            t.contains("Welcome to the Keyhole demo")
        })
        .await;
    demo.browser.wait_toast("success", |t| t == renewed()).await;
    refused_then_answered(&demo, "resources/read").await;

    demo.control.expire_access_tokens().await;
    demo.browser.click("tab-prompts").await;
    demo.browser.click("prompt-get").await;
    demo.browser
        .wait_attr("prompt-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("prompt-result", |t| t.contains("Ada"))
        .await;
    refused_then_answered(&demo, "prompts/get").await;

    assert_eq!(demo.browser.path().await, "/");
    let (same, tokens) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    assert_eq!(tokens.len(), 3, "two renewals on one session: {tokens:?}");
    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token", "refresh_token"]
    );

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

/// Waits in the Protocol view until every `completion/complete` sent has been answered.
async fn completions_answered(demo: &SignedIn) {
    demo.browser.click("tab-protocol").await;
    let entries = |direction: &str| {
        format!(
            "[data-testid=\"protocol-entry\"][data-direction=\"{direction}\"][data-method=\"completion/complete\"]"
        )
    };
    demo.browser.wait_count(&entries("sent"), 1).await;
    for _ in 0..100 {
        let sent = demo.browser.count(&entries("sent")).await;
        if demo.browser.count(&entries("received")).await == sent {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the completions typed were never all answered");
}

/// In the Protocol view: `method` was sent twice (refused, then sent once more) and answered once.
async fn refused_then_answered(demo: &SignedIn, method: &str) {
    demo.browser.click("tab-protocol").await;
    let entries = |direction: &str| {
        format!(
            "[data-testid=\"protocol-entry\"][data-direction=\"{direction}\"][data-method=\"{method}\"]"
        )
    };
    demo.browser.wait_count(&entries("received"), 1).await;
    assert_eq!(
        demo.browser.count(&entries("sent")).await,
        2,
        "{method} sent twice"
    );
    assert_eq!(
        demo.browser.count(&entries("received")).await,
        1,
        "{method} answered once"
    );
}

/// The store cannot be written (its lock file is a directory now): the renewed token still
/// answers the call, and the page says it could not be saved.
#[tokio::test]
async fn a_renewal_that_cannot_be_saved_still_works_and_says_so() {
    let demo = SignedIn::start().await;
    demo.browser.wait_testid("tool-item-echo").await;
    let store = demo.keyhole.store_path();
    let mut lock = store.clone().into_os_string();
    lock.push(".lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).expect("a directory where the store's lock file goes");
    demo.control.expire_access_tokens().await;

    demo.run_tool("echo", &[("message", "unsaved")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("unsaved"))
        .await;
    demo.browser.wait_toast("success", |t| t == renewed()).await;
    let warning = demo
        .browser
        .wait_toast("warning", |t| t.starts_with(&messages::token_not_saved("")))
        .await;
    assert!(
        warning.len() > messages::token_not_saved("").len(),
        "says why: {warning}"
    );
    assert_eq!(demo.browser.path().await, "/");
    demo.close().await;
}
