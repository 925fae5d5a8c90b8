//! Recoveries for one server never overlap. Two tabs on the same server share the OAuth store:
//! after the tokens expire, both tabs' calls are refused while the first tab's refresh is still in
//! flight (the testbed holds token requests for a while), and the second tab waits for the first
//! (a Web Lock), then picks the fresh token up from the store instead of refreshing again. In a
//! browser without Web Locks, recoveries within one tab are still serialised, and the page says
//! that other tabs are not coordinated.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};
use serde_json::Value;

/// How long the testbed holds each token request.
const HELD_MS: u64 = 3000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Waits for this tab's echo of `text`; returns the tab's recovery toast.
async fn result_and_toast(demo: &SignedIn, text: &str) -> String {
    demo.browser
        .wait_text("tool-result", |t| t.contains(text))
        .await;
    demo.browser
        .wait_toast("success", |t| t.contains("retried"))
        .await
}

/// The refresh grants so far.
async fn refreshes(demo: &SignedIn) -> Vec<Value> {
    demo.control
        .token_requests()
        .await
        .into_iter()
        .filter(|r| r["grantType"] == "refresh_token")
        .collect()
}

/// Waits until a refresh grant has reached the testbed and is being held there.
async fn refresh_in_flight(demo: &SignedIn) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !refreshes(demo).await.iter().any(|r| r["status"].is_null()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh reached the testbed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_second_tab_waits_for_the_first_tabs_refresh_and_uses_its_token() {
    let demo = SignedIn::start().await;
    let first = demo.browser.client.window().await.unwrap();
    demo.browser.click("tool-item-echo").await;
    demo.browser.fill("tool-arg-message", "first tab").await;
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
    demo.control.delay_token_requests(HELD_MS).await;
    let issued = demo.control.token_count().await;

    // The first tab's call is refused and its refresh is held at the token endpoint…
    demo.browser
        .client
        .switch_to_window(first.clone())
        .await
        .unwrap();
    demo.browser.click("tool-run").await;
    refresh_in_flight(&demo).await;
    // …while the second tab's call is refused too, and its recovery starts.
    demo.browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    demo.browser.click("tool-run").await;
    let second_started = now_ms();

    let second_toast = result_and_toast(&demo, "second tab").await;
    demo.browser.client.switch_to_window(first).await.unwrap();
    let first_toast = result_and_toast(&demo, "first tab").await;

    assert_eq!(
        first_toast,
        messages::recovered_silently(SilentRecovery::Refresh)
    );
    assert_eq!(
        second_toast,
        messages::recovered_silently(SilentRecovery::Storage)
    );
    let refreshes = refreshes(&demo).await;
    assert_eq!(refreshes.len(), 1, "one refresh grant: {refreshes:?}");
    let finished = refreshes[0]["finishedAtMs"].as_u64().unwrap();
    assert!(
        finished > second_started + 1000,
        "the second tab's call went out while the refresh was still held \
         (refresh finished at {finished}, second call at {second_started})"
    );
    // The new access token and the rotated refresh token.
    assert_eq!(demo.control.token_count().await, issued + 2);
    demo.close().await;
}

#[tokio::test]
async fn without_web_locks_recoveries_in_one_tab_still_take_turns() {
    let demo = SignedIn::start().await;
    demo.browser.wait_testid("tool-item-echo").await;
    demo.browser
        .script(
            "Object.defineProperty(Navigator.prototype, 'locks', \
               { configurable: true, get: () => undefined });",
        )
        .await;
    demo.control.expire_access_tokens().await;
    demo.control.delay_token_requests(1500).await;

    // Opening Resources lists resources and templates at once: both are refused together.
    demo.browser.click("tab-resources").await;
    demo.browser
        .wait_toast("warning", |t| t == messages::web_locks_unavailable())
        .await;
    demo.browser.wait_testid("resource-item-readme").await;
    demo.browser
        .wait_toast("success", |t| {
            t == messages::recovered_silently(SilentRecovery::Storage)
        })
        .await;
    assert_eq!(refreshes(&demo).await.len(), 1, "one refresh for both");
    assert_eq!(demo.browser.path().await, "/", "no sign-in redirect");
    demo.close().await;
}
