//! The tool panel: the JSON editor shows only when its toggle is on; annotation hints are shown
//! on tools; a tool the server marks destructive runs only after a confirmation; a structured
//! result is checked against the tool's output schema, and a mismatch is shown as a server bug
//! with the paths that failed.

use keyhole_e2e::demo::run_tool;
use keyhole_e2e::open_server::OpenServer;

#[tokio::test]
async fn the_json_editor_shows_only_while_its_toggle_is_on() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    browser.click("tool-item-echo").await;
    assert!(browser.is_shown("tool-arg-message").await);
    assert!(
        !browser.is_shown("tool-args-json").await,
        "the JSON editor is hidden while the toggle is off"
    );
    browser.fill("tool-arg-message", "from the form").await;
    browser.click("tool-args-json-toggle").await;
    assert!(browser.is_shown("tool-args-json").await);
    assert!(
        !browser.is_shown("tool-arg-message").await,
        "the form is hidden"
    );
    assert!(
        browser
            .value("tool-args-json")
            .await
            .contains("from the form")
    );
    browser.click("tool-args-json-toggle").await;
    assert!(!browser.is_shown("tool-args-json").await);
    assert!(browser.is_shown("tool-arg-message").await);
    open.close().await;
}

#[tokio::test]
async fn a_destructive_tool_asks_first_and_cancel_runs_nothing() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    // Hints on the list: the presets say read-only, delete-note says destructive.
    browser
        .wait_selector_text(
            "[data-testid=\"tool-item-delete-note\"] [data-testid=\"tool-hint\"][data-hint=\"destructive\"]",
            |t| t == "destructive",
        )
        .await;
    browser
        .wait_count(
            "[data-testid=\"tool-item-echo\"] [data-testid=\"tool-hint\"][data-hint=\"read-only\"]",
            1,
        )
        .await;
    assert_eq!(
        browser
            .count("[data-testid=\"tool-item-echo\"] [data-hint=\"destructive\"]")
            .await,
        0
    );

    // An ordinary tool runs at once.
    run_tool(browser, "echo", &[("message", "no questions")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    assert_eq!(browser.count("[data-testid=\"tool-confirm\"]").await, 0);

    run_tool(browser, "delete-note", &[("id", "n-1")]).await;
    browser.wait_testid("tool-confirm").await;
    browser.click("tool-confirm-cancel").await;
    assert_eq!(browser.count("[data-testid=\"tool-confirm\"]").await, 0);
    assert_eq!(
        browser.count("[data-testid=\"tool-result\"]").await,
        0,
        "nothing ran"
    );

    browser.click("tool-run").await;
    browser.click("tool-confirm-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("Deleted note n-1"))
        .await;
    // Two calls went out: echo, and delete-note once (after the yes, none after the cancel).
    browser.click("tab-protocol").await;
    let sent =
        "[data-testid=\"protocol-entry\"][data-method=\"tools/call\"][data-direction=\"sent\"]";
    browser.wait_count(sent, 2).await;
    assert_eq!(browser.count(sent).await, 2);
    open.close().await;
}

#[tokio::test]
async fn structured_results_are_checked_against_the_output_schema() {
    let open = OpenServer::start().await;
    let browser = &open.browser;

    run_tool(browser, "get-forecast", &[("city", "Oslo")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    browser.wait_testid("tool-output-valid").await;
    assert_eq!(
        browser.count("[data-testid=\"tool-output-invalid\"]").await,
        0
    );

    run_tool(browser, "broken-forecast", &[("city", "Oslo")]).await;
    let report = browser
        .wait_text("tool-output-invalid", |t| t.contains("Server bug"))
        .await;
    assert!(report.contains("structuredContent/windKph"), "{report}");
    assert!(report.contains("required, but missing"), "{report}");
    assert!(
        report.contains("structuredContent/humidityPercent: expected string, found integer"),
        "{report}"
    );
    let paths = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=\"tool-output-violation\"]')]
                .map(v => v.dataset.path).sort();",
        )
        .await;
    assert_eq!(paths, serde_json::json!(["/humidityPercent", "/windKph"]));
    assert_eq!(
        browser.count("[data-testid=\"tool-output-valid\"]").await,
        0
    );
    open.close().await;
}
