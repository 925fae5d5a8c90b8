//! A 401 that no refresh can answer (the refresh token is gone too) signs in again: a short
//! notice, no modal, the demo's login and consent, and back on the same tab and form, on the same
//! upstream session.

use keyhole_e2e::demo::{SignedIn, answer_consent, wait_tools_listed};
use keyhole_shared::messages;
use serde_json::json;

/// Expires every token of the demo, refresh tokens included: only a new sign-in helps.
async fn expire_every_token(demo: &SignedIn) {
    demo.control
        .post("/tokens/expire", json!({ "includeRefreshTokens": true }))
        .await;
}

/// Approves the demo's consent page and waits until Keyhole's page is connected again (and, back
/// on the Tools tab, its tools listed).
async fn consent_and_come_back(demo: &SignedIn) {
    answer_consent(&demo.browser, &[], true).await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let on_tools = demo
        .browser
        .script("return document.querySelector('[data-testid=tab-tools]')?.getAttribute('aria-selected')")
        .await;
    if on_tools == "true" {
        wait_tools_listed(&demo.browser).await;
    }
}

#[tokio::test]
async fn a_401_without_a_usable_refresh_token_redirects_after_a_notice_and_comes_back() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;
    expire_every_token(&demo).await;

    demo.run_tool("echo", &[("message", "signed in again")])
        .await;
    demo.browser
        .wait_toast("info", |t| {
            t == messages::session_expired_reauthenticating()
        })
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"step-up-modal\"]").await,
        0
    );
    consent_and_come_back(&demo).await;
    assert_eq!(
        demo.browser.value("tool-arg-message").await,
        "signed in again"
    );
    demo.browser.click("tool-run").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("signed in again"))
        .await;
    let (same, _) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    demo.close().await;
}

#[tokio::test]
async fn a_prompt_get_signs_in_again_and_comes_back_to_the_prompts_tab_and_its_arguments() {
    let demo = SignedIn::start().await;
    demo.browser.click("tab-prompts").await;
    demo.browser.click("prompt-item-greeting").await;
    demo.browser.fill("prompt-arg-name", "Grace").await;
    demo.browser.fill("prompt-arg-style", "formal").await;
    expire_every_token(&demo).await;

    demo.browser.click("prompt-get").await;
    answer_consent(&demo.browser, &[], true).await;

    demo.browser
        .wait_attr("tab-prompts", "aria-selected", &["true"])
        .await;
    demo.browser.wait_testid("prompt-arg-name").await;
    assert_eq!(demo.browser.value("prompt-arg-name").await, "Grace");
    assert_eq!(demo.browser.value("prompt-arg-style").await, "formal");
    demo.browser.click("prompt-get").await;
    demo.browser
        .wait_text("prompt-result", |t| t.contains("Grace"))
        .await;
    demo.close().await;
}

/// A server that refuses every new token would send the page round the sign-in forever (an
/// authorization server that signs in without asking makes that a reload loop): after three
/// automatic sign-ins within two minutes the page stops and says why. The banner's button is the
/// user asking, so it signs in once more.
#[tokio::test]
async fn after_three_automatic_sign_ins_in_a_row_the_page_stops_and_says_why() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;
    let refuse_everything = || async {
        expire_every_token(&demo).await;
        demo.control.ambient_challenge("demo", 401, None).await;
    };
    for _ in 0..3 {
        refuse_everything().await;
        consent_and_come_back(&demo).await;
        assert_eq!(demo.browser.path().await, "/");
    }

    refuse_everything().await;
    demo.browser
        .wait_text("reauth-reason", |t| {
            t.contains("3 times") && t.contains("stopped signing in by itself")
        })
        .await;
    assert_eq!(demo.browser.path().await, "/", "the page did not leave");
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;

    demo.browser.click("reauth-button").await;
    consent_and_come_back(&demo).await;
    assert_eq!(
        demo.browser.count("[data-testid=\"reauth-banner\"]").await,
        0
    );
    let (same, _) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    demo.close().await;
}

/// Two requests refused together (opening Resources lists resources and templates at once) make
/// one sign-in, counted once.
#[tokio::test]
async fn two_requests_refused_together_make_one_sign_in() {
    let demo = SignedIn::start().await;
    expire_every_token(&demo).await;
    demo.browser.click("tab-resources").await;
    consent_and_come_back(&demo).await;
    demo.browser.wait_testid("resource-item-readme").await;
    let history = demo
        .browser
        .script("return sessionStorage.getItem('keyhole.sign-ins');")
        .await;
    let history = history.as_str().unwrap_or_default();
    assert_eq!(history.lines().count(), 1, "{history:?}");
    demo.close().await;
}
