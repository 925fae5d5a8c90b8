//! Each tool, prompt and resource keeps the calls made on this connection (newest first, with
//! arguments, outcome and time); one click runs a call again, another puts its arguments back
//! into the form.

use keyhole_e2e::Browser;
use keyhole_e2e::demo::run_tool;
use keyhole_e2e::open_server::OpenServer;

/// The `nth` (0 = newest) history row's button `testid` inside `history`.
async fn click_in_row(browser: &Browser, history: &str, nth: usize, testid: &str) {
    let selector = format!(
        "[data-testid=\"{history}\"] [data-testid=\"history-entry\"]:nth-child({}) [data-testid=\"{testid}\"]",
        nth + 1
    );
    browser
        .client
        .find(fantoccini::Locator::Css(&selector))
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"))
        .click()
        .await
        .unwrap();
}

fn rows_of(history: &str) -> String {
    format!("[data-testid=\"{history}\"] [data-testid=\"history-entry\"]")
}

/// Waits until `history` has `n` rows and no more.
async fn wait_rows(browser: &Browser, history: &str, n: usize) {
    browser.wait_count(&rows_of(history), n).await;
    assert_eq!(
        browser.count(&rows_of(history)).await,
        n,
        "rows of {history}"
    );
}

#[tokio::test]
async fn a_tool_call_is_run_again_or_loaded_back_into_the_form() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    run_tool(browser, "echo", &[("message", "first")]).await;
    browser
        .wait_text("tool-result", |t| t.contains("first"))
        .await;
    browser.fill("tool-arg-message", "second").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("second"))
        .await;
    wait_rows(browser, "tool-history", 2).await;
    let newest = browser
        .wait_selector_text(
            "[data-testid=\"tool-history\"] [data-testid=\"history-entry\"]",
            |_| true,
        )
        .await;
    assert!(newest.contains("second"), "newest first: {newest}");

    // Load the older call's arguments into the form.
    click_in_row(browser, "tool-history", 1, "history-fill").await;
    assert_eq!(browser.value("tool-arg-message").await, "first");

    // Run the newer call again, whatever the form holds now.
    browser.fill("tool-arg-message", "typed but not run").await;
    click_in_row(browser, "tool-history", 0, "history-rerun").await;
    wait_rows(browser, "tool-history", 3).await;
    let result = browser
        .wait_text("tool-result", |t| t.contains("second"))
        .await;
    assert!(!result.contains("typed but not run"), "{result}");

    // Another tool has its own history; coming back shows this one's again.
    run_tool(browser, "add", &[("a", "2"), ("b", "3")]).await;
    browser.wait_text("tool-result", |t| t.contains('5')).await;
    wait_rows(browser, "tool-history", 1).await;
    browser.click("tool-item-echo").await;
    wait_rows(browser, "tool-history", 3).await;
    open.close().await;
}

#[tokio::test]
async fn prompt_gets_and_resource_reads_have_a_history_too() {
    let open = OpenServer::start().await;
    let browser = &open.browser;

    browser.click("tab-prompts").await;
    browser.click("prompt-item-greeting").await;
    browser.fill("prompt-arg-name", "Ada").await;
    browser.fill("prompt-arg-style", "formal").await;
    browser.click("prompt-get").await;
    browser
        .wait_text("prompt-result", |t| t.contains("formal greeting for Ada"))
        .await;
    browser.fill("prompt-arg-name", "").await;
    browser.fill("prompt-arg-style", "").await;
    click_in_row(browser, "prompt-history", 0, "history-fill").await;
    assert_eq!(browser.value("prompt-arg-name").await, "Ada");
    assert_eq!(browser.value("prompt-arg-style").await, "formal");
    click_in_row(browser, "prompt-history", 0, "history-rerun").await;
    wait_rows(browser, "prompt-history", 2).await;

    browser.click("tab-resources").await;
    browser.click("resource-item-readme").await;
    browser
        .wait_text("resource-result", |t| {
            t.contains("Hello from the open server")
        })
        .await;
    click_in_row(browser, "resource-history", 0, "history-rerun").await;
    wait_rows(browser, "resource-history", 2).await;
    assert_eq!(
        browser
            .count("[data-testid=\"resource-history\"] [data-testid=\"history-fill\"]")
            .await,
        0,
        "a resource read has no arguments to load"
    );
    open.close().await;
}
