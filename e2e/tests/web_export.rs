//! Copy and export: an HTTP exchange as JSON and as a `curl` command (secrets as shell variables:
//! no access token, refresh token, authorization code or API token in what is copied), a JSON-RPC
//! message, a result (copied and downloaded); and Network durations below a millisecond.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use keyhole_e2e::demo::SignedIn;
use keyhole_e2e::{Browser, TEST_API_TOKEN};

/// What must never be copied: the testbed's token values and Keyhole's API token.
fn assert_no_secret(text: &str) {
    for secret in ["kh_at_", "kh_rt_", TEST_API_TOKEN, "Bearer "] {
        assert!(!text.contains(secret), "{secret:?} was copied:\n{text}");
    }
}

/// Expands the first element matching `entry` (unless it is open) and clicks its `button`;
/// returns what reached the clipboard.
async fn copy_from(browser: &Browser, entry: &str, button: &str) -> String {
    browser.wait_count(entry, 1).await;
    let row = browser.client.find(Locator::Css(entry)).await.unwrap();
    let details = row.find(Locator::Css("details")).await.unwrap();
    if details.attr("open").await.unwrap().is_none() {
        row.find(Locator::Css("summary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    browser
        .script("navigator.clipboard.writeText(''); return null;")
        .await;
    // An opened row prints its contents on the next turn: wait for the button.
    browser
        .wait_selector(&format!("{entry} [data-testid=\"{button}\"]"))
        .await
        .click()
        .await
        .unwrap();
    wait_for_clipboard(browser).await
}

async fn wait_for_clipboard(browser: &Browser) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = browser.clipboard_text().await;
        if !text.is_empty() {
            return text;
        }
        assert!(Instant::now() < deadline, "nothing reached the clipboard");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn exchanges_and_messages_are_copied_without_secrets() {
    let demo = SignedIn::start().await;
    let browser = &demo.browser;
    browser.allow_clipboard().await;
    demo.run_tool("echo", &[("message", "copy me")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;

    browser.click("tab-network").await;
    let mcp_call = "[data-testid=\"network-log\"] [data-testid=\"network-entry\"][data-kind=\"mcp\"][data-status=\"200\"]";
    let curl = copy_from(browser, mcp_call, "network-copy-curl").await;
    assert!(
        curl.starts_with("# Secrets are left out: set $AUTHORIZATION"),
        "{curl}"
    );
    assert!(
        curl.contains("\ncurl -X 'POST' 'http://127.0.0.1:"),
        "{curl}"
    );
    assert!(
        curl.contains("-H 'authorization: '\"$AUTHORIZATION\""),
        "{curl}"
    );
    assert!(curl.contains("--data-raw '{"), "{curl}");
    assert_no_secret(&curl);
    let json = copy_from(browser, mcp_call, "network-copy-json").await;
    let exchange: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(exchange["kind"], "mcp");
    assert_no_secret(&json);

    // The sign-in's token request: the code and the PKCE verifier are variables.
    let token_request = "[data-testid=\"network-signin-steps\"] [data-testid=\"network-entry\"][data-step=\"token (authorization code)\"]";
    if browser.count(token_request).await == 0 {
        let steps = browser
            .script("return [...document.querySelectorAll('[data-testid=\"network-signin-steps\"] [data-step]')].map(e => e.dataset.step);")
            .await;
        panic!("no token request among the sign-in steps: {steps}");
    }
    let curl = copy_from(browser, token_request, "network-copy-curl").await;
    for variable in ["\"$CODE\"", "\"$CODE_VERIFIER\""] {
        assert!(curl.contains(variable), "{variable} in {curl}");
    }
    assert_no_secret(&curl);

    browser.click("tab-protocol").await;
    let message = copy_from(
        browser,
        "[data-testid=\"protocol-entry\"][data-method=\"tools/call\"][data-direction=\"sent\"]",
        "protocol-copy",
    )
    .await;
    let message: serde_json::Value = serde_json::from_str(&message).expect("JSON");
    assert_eq!(message["params"]["arguments"]["message"], "copy me");
    demo.close().await;
}

#[tokio::test]
async fn a_result_is_copied_and_downloaded_and_durations_show_below_a_millisecond() {
    let demo = SignedIn::start().await;
    let browser = &demo.browser;
    browser.allow_clipboard().await;
    let downloads = tempfile::tempdir().unwrap();
    browser.allow_downloads(downloads.path()).await;
    demo.run_tool("echo", &[("message", "keep me")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;

    browser.click("result-copy").await;
    let copied = wait_for_clipboard(browser).await;
    let result: serde_json::Value = serde_json::from_str(&copied).expect("JSON");
    assert_eq!(result["content"][0]["text"], "keep me");

    browser.click("result-download").await;
    let file = downloads.path().join("echo-result.json");
    let (_, saved) = browser.downloaded_json(&file).await;
    assert_eq!(saved, result);

    // Loopback exchanges take well under a millisecond at times: never "0 ms".
    browser.click("tab-network").await;
    browser
        .wait_count(
            "[data-testid=\"network-log\"] [data-testid=\"network-entry\"]",
            3,
        )
        .await;
    let durations = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=\"network-log\"] .elapsed')]
                .map(e => e.textContent);",
        )
        .await;
    let durations: Vec<String> = serde_json::from_value(durations).unwrap();
    assert!(!durations.is_empty());
    for duration in &durations {
        assert_ne!(duration, "0 ms", "{durations:?}");
        let number = duration.trim_end_matches(" ms").trim_end_matches(" s");
        assert!(
            number == "< 0.01" || number.parse::<f64>().is_ok(),
            "{duration:?} in {durations:?}"
        );
    }
    assert!(
        durations.iter().any(|d| d.contains('.')),
        "some duration has decimals: {durations:?}"
    );
    demo.close().await;
}
