//! Long logs stay paged in Chromium: the Protocol, Logs and Network tabs render the last 200
//! entries and offer "Show earlier" for the rest (their speed over 10,000 entries is measured
//! by `benches/views_10k.rs`).

use keyhole_e2e::demo::SignedIn;
use serde_json::json;

/// Entries each tab renders before "Show earlier" (`frontend/src/views/protocol.rs`).
const PAGE: usize = 200;

#[tokio::test]
async fn protocol_logs_and_network_render_a_page_and_show_earlier_on_request() {
    let signed_in = SignedIn::start().await;
    let browser = &signed_in.browser;
    let http = reqwest::Client::new();
    let notify = format!(
        "{}/control/api/servers/demo/notify",
        signed_in.control.base()
    );
    for n in 0..PAGE + 30 {
        let body =
            json!({"params": {"level": "info", "logger": "e2e", "data": format!("line {n}")}});
        http.post(&notify).json(&body).send().await.expect("notify");
    }

    browser.click("tab-logs").await;
    browser
        .wait_selector_text("[data-testid=\"log-entry\"]:last-child", |t| {
            t.contains("line 229")
        })
        .await;
    assert_eq!(browser.count("[data-testid=\"log-entry\"]").await, PAGE);
    browser.click("log-more").await;
    browser
        .wait_count("[data-testid=\"log-entry\"]", PAGE + 30)
        .await;
    browser.wait_absent("[data-testid=\"log-more\"]").await;

    browser.click("tab-protocol").await;
    browser.wait_testid("protocol-more").await;
    assert_eq!(
        browser.count("[data-testid=\"protocol-entry\"]").await,
        PAGE
    );
    browser.click("protocol-more").await;
    browser
        .wait_count("[data-testid=\"protocol-entry\"]", PAGE + 30)
        .await;

    // 230 pings: an upstream exchange each.
    browser
        .script(
            "const ping = document.querySelector('[data-testid=\"ping-button\"]');
             for (let i = 0; i < 230; i++) ping.click();
             return true;",
        )
        .await;
    browser.click("tab-network").await;
    browser.wait_testid("network-more").await;
    assert_eq!(
        browser
            .count("[data-testid=\"network-log\"] [data-testid=\"network-entry\"]")
            .await,
        PAGE
    );
    browser.click("network-more").await;
    browser
        .wait_count(
            "[data-testid=\"network-log\"] [data-testid=\"network-entry\"]",
            PAGE + 30,
        )
        .await;
    signed_in.close().await;
}
