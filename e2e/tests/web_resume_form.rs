//! What the resume snapshot brings back across a real step-up redirect (demo consent page and
//! all): the Tools tab's search filter, and arguments being edited as JSON, exactly as typed.

use keyhole_e2e::demo::SignedIn;

/// Runs the selected tool, authorizes the step-up it needs, consents, and waits until Keyhole's
/// page is connected again.
async fn step_up_and_come_back(demo: &SignedIn) {
    demo.browser.click("tool-run").await;
    demo.authorize_step_up().await;
    assert_eq!(demo.browser.path().await, "/");
}

#[tokio::test]
async fn the_tool_search_filter_comes_back_after_a_step_up() {
    let demo = SignedIn::start().await;
    demo.browser.click("tab-tools").await;
    demo.browser.fill("tool-search", "weath").await;
    demo.browser
        .wait_absent("[data-testid=\"tool-item-echo\"]")
        .await;
    demo.browser.click("tool-item-get-weather").await;
    demo.browser.fill("tool-arg-city", "Oslo").await;

    step_up_and_come_back(&demo).await;

    demo.browser.wait_testid("tool-item-get-weather").await;
    assert_eq!(demo.browser.value("tool-search").await, "weath");
    assert_eq!(
        demo.browser.count("[data-testid=\"tool-item-echo\"]").await,
        0,
        "the list is filtered again, not just the box filled"
    );
    assert_eq!(demo.browser.value("tool-arg-city").await, "Oslo");
    demo.close().await;
}

#[tokio::test]
async fn arguments_edited_as_json_come_back_as_typed_after_a_step_up() {
    let demo = SignedIn::start().await;
    demo.browser.click("tab-tools").await;
    demo.browser.click("tool-item-get-weather").await;
    demo.browser.click("tool-args-json-toggle").await;
    // Typed as JSON, with spacing and a key order no form would produce.
    let typed = "{ \"city\":   \"Reykjavík\" }";
    demo.browser.fill("tool-args-json", typed).await;

    step_up_and_come_back(&demo).await;

    demo.browser.wait_testid("tool-args-json").await;
    assert_eq!(
        demo.browser
            .wait_testid("tool-args-json-toggle")
            .await
            .prop("checked")
            .await
            .unwrap()
            .as_deref(),
        Some("true"),
        "still editing as JSON"
    );
    assert_eq!(demo.browser.value("tool-args-json").await, typed);

    // What is sent is that JSON.
    demo.browser.click("tool-run").await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("Reykjavík"))
        .await;
    demo.close().await;
}
