//! Challenges that arrive on the event stream with no command waiting: recovered silently while
//! idle; with the tab hidden, the interactive part waits until the tab is visible again.
//!
//! A headless browser has no window to hide, so the test overrides `document.visibilityState`
//! and fires `visibilitychange`, which is exactly what the app listens to.

use std::time::Duration;

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};

#[tokio::test]
async fn an_ambient_401_while_idle_is_recovered_silently() {
    let demo = SignedIn::start().await;
    let (upstream, before) = demo.only_demo_session().await;
    demo.control.expire_access_tokens().await;
    demo.control.ambient_challenge("demo", 401, None).await;

    demo.browser
        .wait_toast("success", |t| {
            t == messages::recovered_silently(SilentRecovery::Refresh)
        })
        .await;
    assert_eq!(demo.browser.path().await, "/");
    // The event stream reconnects with the new token, on the same upstream session.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (same, after) = demo.only_demo_session().await;
        assert_eq!(same, upstream);
        if after.len() > before.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new token was never used"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    demo.close().await;
}

#[tokio::test]
async fn with_the_tab_hidden_a_step_up_waits_until_the_tab_is_visible() {
    let demo = SignedIn::start().await;
    demo.browser
        .script(
            "Object.defineProperty(document, 'visibilityState', \
               { configurable: true, get: () => 'hidden' }); \
             document.dispatchEvent(new Event('visibilitychange'));",
        )
        .await;
    demo.control
        .ambient_challenge("demo", 403, Some(&["notes:read"]))
        .await;
    demo.browser
        .wait_toast("info", |t| t.contains("come back to this tab"))
        .await;
    // Watched all along, not looked at once after a pause.
    demo.browser
        .assert_absent_for(
            "[data-testid=\"step-up-modal\"]",
            Duration::from_secs(2),
            "nothing interactive while hidden",
        )
        .await;

    demo.browser
        .script(
            "Object.defineProperty(document, 'visibilityState', \
               { configurable: true, get: () => 'visible' }); \
             document.dispatchEvent(new Event('visibilitychange'));",
        )
        .await;
    demo.browser.wait_testid("step-up-modal").await;
    demo.browser
        .wait_attr("step-up-scope-notes:read", "data-new", &["true"])
        .await;
    demo.browser.click("step-up-cancel").await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    demo.close().await;
}
