//! Lists the server pages (`nextCursor`) in a real Chromium against the testbed: a short list
//! spread over several pages is loaded in full; a long one loads its first items and offers
//! "Load more" for the rest.

use keyhole_e2e::testbed::{TestbedProcess, connect};
use keyhole_e2e::{Browser, KeyholeProcess};
use serde_json::json;

/// Items the page loads before it offers "Load more" (`frontend/src/flows/listing.rs`).
const ITEMS_PER_LOAD: usize = 500;

fn testbed() -> TestbedProcess {
    let resources: Vec<_> = (0..ITEMS_PER_LOAD + 120)
        .map(|i| json!({ "uri": format!("keyhole://long/r{i}"), "name": format!("r{i}"), "text": "x" }))
        .collect();
    let config = json!({
        "servers": [
            { "name": "paged", "auth": { "mode": "none" }, "pageSize": 2,
              "tools": [{ "preset": "echo" }, { "preset": "add" }, { "preset": "weather" },
                        { "preset": "structured" }, { "preset": "longRunning" }] },
            { "name": "long", "auth": { "mode": "none" }, "pageSize": 100,
              "tools": [{ "preset": "echo" }], "resources": resources }
        ]
    });
    TestbedProcess::start(&config.to_string())
}

#[tokio::test]
async fn a_paged_list_is_loaded_in_full_and_a_long_one_offers_load_more() {
    let testbed = testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;

    // Five tools in three pages of two: all listed, nothing more to load.
    connect(&browser, &keyhole, &testbed.mcp_url("paged")).await;
    browser.click("tab-tools").await;
    browser.wait_testid("tool-item-long-running").await;
    assert_eq!(browser.count("[data-testid^=\"tool-item-\"]").await, 5);
    browser
        .assert_absent_for(
            "[data-testid=\"tool-list-more\"]",
            std::time::Duration::from_millis(300),
            "the whole list is loaded",
        )
        .await;

    // 620 resources in pages of 100: the first 500, then the rest on request.
    connect(&browser, &keyhole, &testbed.mcp_url("long")).await;
    browser.click("tab-resources").await;
    browser.wait_testid("resource-list-more").await;
    assert_eq!(
        browser.count("[data-testid^=\"resource-item-\"]").await,
        ITEMS_PER_LOAD
    );
    browser.click("resource-list-more").await;
    browser.wait_testid("resource-item-r619").await;
    assert_eq!(
        browser.count("[data-testid^=\"resource-item-\"]").await,
        ITEMS_PER_LOAD + 120
    );
    browser
        .wait_absent("[data-testid=\"resource-list-more\"]")
        .await;
    browser.close().await;
}
