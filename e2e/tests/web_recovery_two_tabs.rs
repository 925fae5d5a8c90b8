//! Two tabs on the same server share the OAuth store: after the tokens expire, a recovery in one
//! tab refreshes once, and the other tab picks the fresh token up from the store instead of
//! refreshing (or redirecting) again. Recoveries are serialised across tabs with a Web Lock.

use keyhole_e2e::demo::SignedIn;

const SUCCESS_TOAST: &str = "[data-testid=\"toast\"][data-kind=\"success\"]";

/// Waits for this tab's echo of `text`; returns the tab's recovery toast.
async fn result_and_toast(demo: &SignedIn, text: &str) -> String {
    demo.browser
        .wait_text("tool-result", |t| t.contains(text))
        .await;
    demo.browser
        .wait_selector_text(SUCCESS_TOAST, |t| t.contains("retried"))
        .await
}

#[tokio::test]
async fn the_second_tab_uses_the_token_the_first_tab_refreshed() {
    let demo = SignedIn::start().await;
    let first = demo.browser.client.window().await.unwrap();
    let opened = demo.browser.client.new_window(true).await.unwrap();
    let second = opened.handle;
    demo.browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    demo.open_keyhole().await;
    // The stored token connects the second tab without a sign-in.
    demo.browser
        .fill("server-url-input", &demo.server_url)
        .await;
    demo.browser.click("connect-button").await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    demo.browser.click("tool-item-echo").await;
    demo.browser.fill("tool-arg-message", "second tab").await;

    demo.control.expire_access_tokens().await;
    let issued = demo.control.token_count().await;

    // Run in both tabs, as close together as WebDriver allows.
    demo.browser
        .client
        .switch_to_window(first.clone())
        .await
        .unwrap();
    demo.run_tool("echo", &[("message", "first tab")]).await;
    demo.browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    demo.browser.click("tool-run").await;

    let second_toast = result_and_toast(&demo, "second tab").await;
    demo.browser.client.switch_to_window(first).await.unwrap();
    let first_toast = result_and_toast(&demo, "first tab").await;

    let mut toasts = [first_toast, second_toast];
    toasts.sort();
    assert!(
        toasts[0].contains("Picked up a newer sign-in")
            && toasts[1].contains("Renewed the access token"),
        "one tab refreshed, the other used its token: {toasts:?}"
    );
    // One refresh grant: a new access token and the rotated refresh token.
    assert_eq!(demo.control.token_count().await, issued + 2);
    demo.close().await;
}
