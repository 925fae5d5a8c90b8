//! Recoveries for one server never overlap. Two tabs on the same server share the OAuth store:
//! after the tokens expire, both tabs' calls are refused while the first tab's refresh is still in
//! flight (the testbed holds token requests for a while), and the second tab waits for the first
//! (a Web Lock), then picks the fresh token up from the store instead of refreshing again. In a
//! browser without Web Locks, recoveries within one tab are still serialised, and the page says
//! that other tabs are not coordinated. A recovery reads the store once (its later reads are
//! answered from that document), and a write someone else made to the store meanwhile (another
//! tab, the CLI) is kept: the page's own write, refused for it, is applied again on top.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyhole_e2e::demo::{SignedIn, oauth_store, replace_oauth_store};
use keyhole_shared::messages::{self, SilentRecovery};
use serde_json::{Value, json};

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

/// The page's requests to the OAuth store since `performance.clearResourceTimings()`.
async fn store_round_trips(demo: &SignedIn) -> u64 {
    demo.browser
        .script(
            "return performance.getEntriesByType('resource')\
             .filter(e => new URL(e.name).pathname === '/api/store/oauth').length;",
        )
        .await
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_recovery_reads_the_store_once_and_keeps_what_others_wrote_meanwhile() {
    let demo = SignedIn::start().await;
    demo.browser.wait_testid("tool-item-echo").await;

    // Undisturbed: one read (the stored tokens, then the client, from the same document) and
    // one write (the new tokens).
    demo.browser
        .script("performance.clearResourceTimings(); return null;")
        .await;
    demo.control.expire_access_tokens().await;
    demo.run_tool("echo", &[("message", "read once")]).await;
    result_and_toast(&demo, "read once").await;
    assert_eq!(store_round_trips(&demo).await, 2, "one read and one write");

    // While the refresh is held at the token endpoint, someone else writes the store (a record
    // for another server): the page's write is refused for it, applied again to what they wrote,
    // and nothing is lost.
    demo.browser
        .script("performance.clearResourceTimings(); return null;")
        .await;
    let before = oauth_store(&demo.keyhole).await;
    let old_token = before["credentials"][0]["tokens"]["access_token"].clone();
    demo.control.expire_access_tokens().await;
    demo.control.delay_token_requests(1500).await;
    demo.run_tool("echo", &[("message", "written meanwhile")])
        .await;
    refresh_in_flight(&demo).await;
    let mut elsewhere = oauth_store(&demo.keyhole).await;
    let mut record = elsewhere["credentials"][0].clone();
    record["serverUrl"] = json!("https://elsewhere.example/mcp");
    elsewhere["credentials"]
        .as_array_mut()
        .expect("credentials")
        .push(record);
    replace_oauth_store(&demo.keyhole, &elsewhere).await;

    result_and_toast(&demo, "written meanwhile").await;
    demo.control.delay_token_requests(0).await;
    assert_eq!(
        store_round_trips(&demo).await,
        3,
        "one read, the refused write, the write on top of the other one"
    );
    let after = oauth_store(&demo.keyhole).await;
    let servers: Vec<&str> = after["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .filter_map(|r| r["serverUrl"].as_str())
        .collect();
    assert!(
        servers.contains(&"https://elsewhere.example/mcp")
            && servers.contains(&demo.server_url.as_str()),
        "both writes are in the store: {servers:?}"
    );
    let demo_record = after["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["serverUrl"] == demo.server_url.as_str())
        .unwrap();
    assert_ne!(
        demo_record["tokens"]["access_token"], old_token,
        "the renewed token was saved"
    );
    assert_eq!(
        demo.browser
            .count("[data-testid=\"toast\"][data-kind=\"warning\"]")
            .await,
        0,
        "no 'token not saved' warning"
    );
    demo.close().await;
}
