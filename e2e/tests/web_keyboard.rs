//! The keyboard: `/` focuses the open tab's search box, Ctrl+Enter runs the form (also from the
//! multi-line JSON editor), Escape closes the confirmation dialog without running anything, and
//! every control reached with Tab shows a visible focus outline.

use std::time::{Duration, Instant};

use fantoccini::key::Key;
use keyhole_e2e::demo::run_tool;
use keyhole_e2e::open_server::OpenServer;

#[tokio::test]
async fn slash_focuses_search_and_ctrl_enter_runs_the_form() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    browser.wait_testid("tool-item-echo").await;
    browser
        .script("document.activeElement.blur(); return null;")
        .await;
    browser.press(None, '/').await;
    assert_eq!(browser.focused().await, ("tool-search".to_owned(), true));
    assert_eq!(
        browser.value("tool-search").await,
        "",
        "the slash is not typed"
    );

    // In the Protocol tab, `/` finds that tab's filter.
    browser.click("tab-protocol").await;
    // The shortcut looks in the visible tab panel; wait until the switch has rendered.
    browser
        .wait_selector("[role=tabpanel]:not([hidden]) [data-testid=protocol-filter]")
        .await;
    browser
        .script("document.activeElement.blur(); return null;")
        .await;
    browser.press(None, '/').await;
    assert_eq!(browser.focused().await.0, "protocol-filter");

    // Ctrl+Enter from the JSON editor (where Enter is a new line) runs the tool.
    browser.click("tab-tools").await;
    browser.click("tool-item-echo").await;
    browser.click("tool-args-json-toggle").await;
    browser
        .fill("tool-args-json", r#"{"message": "sent with the keyboard"}"#)
        .await;
    browser.press(Some(Key::Control), Key::Enter.into()).await;
    browser
        .wait_text("tool-result", |t| t.contains("sent with the keyboard"))
        .await;

    // And from a prompt's field.
    browser.click("tab-prompts").await;
    browser.click("prompt-item-greeting").await;
    browser.fill("prompt-arg-name", "Grace").await;
    browser.press(Some(Key::Control), Key::Enter.into()).await;
    browser
        .wait_text("prompt-result", |t| t.contains("Grace"))
        .await;
    open.close().await;
}

#[tokio::test]
async fn escape_closes_the_confirmation_and_focus_is_always_visible() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    run_tool(browser, "delete-note", &[("id", "n-2")]).await;
    browser.wait_testid("tool-confirm").await;
    assert_eq!(
        browser.focused().await.0,
        "tool-confirm-cancel",
        "the safe answer has the focus"
    );
    browser.press(None, Key::Escape.into()).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while browser.count("[data-testid=\"tool-confirm\"]").await > 0 {
        assert!(Instant::now() < deadline, "Escape left the dialog open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.count("[data-testid=\"tool-result\"]").await, 0);

    // Walk the page with Tab until the focus leaves it: whatever gets the focus shows it.
    browser
        .script(
            "document.querySelector('[data-testid=\"disconnect-button\"]').focus(); return null;",
        )
        .await;
    let mut seen = Vec::new();
    for _ in 0..60 {
        browser.press(None, Key::Tab.into()).await;
        let (element, outlined) = browser.focused().await;
        if element == "BODY" {
            break;
        }
        assert!(outlined, "{element} has the focus but no visible outline");
        seen.push(element);
    }
    for expected in ["tab-tools", "tool-search", "tool-item-echo", "tool-run"] {
        assert!(
            seen.iter().any(|e| e == expected),
            "{expected} not reached: {seen:?}"
        );
    }
    open.close().await;
}
