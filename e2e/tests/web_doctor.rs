//! The Doctor view in Chromium: the URL typed in the connect form is audited through the backend
//! (the same audit as `keyhole doctor`); a server that answers 500 to a bad token shows that
//! failure with its rule, source and fix, and a clean one shows no failure.

use keyhole_e2e::testbed::TestbedProcess;
use keyhole_e2e::{Browser, KeyholeProcess};

const TESTBED: &str = include_str!("../../testbed/doctor-flaws.json");

/// The `data-verdict` of the finding for `rule` (the first, when a rule is judged twice).
async fn verdict(browser: &Browser, rule: &str) -> String {
    let selector = format!("[data-testid=doctor-finding][data-rule=\"{rule}\"]");
    browser.wait_selector(&selector).await;
    browser
        .script(&format!(
            "return document.querySelector('{selector}').dataset.verdict;"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_url_in_the_form_is_audited_and_each_finding_names_its_rule_and_fix() {
    let testbed = TestbedProcess::start(TESTBED);
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    browser
        .fill(
            "server-url-input",
            &format!("{}/servers/broken/mcp", testbed.base_url()),
        )
        .await;
    browser.click("doctor-open").await;
    browser.click("doctor-run").await;
    browser
        .wait_attr("doctor-summary", "data-exit", &["2"])
        .await;
    assert_eq!(verdict(&browser, "challenge-401").await, "pass");
    assert_eq!(verdict(&browser, "invalid-token-401").await, "failure");
    let failure = browser
        .wait_selector_text(
            "[data-testid=doctor-finding][data-rule=\"invalid-token-401\"]",
            |t| t.contains("HTTP 500"),
        )
        .await;
    assert!(failure.contains("MUST"), "{failure}");
    assert!(failure.contains("RFC 6750 §3.1"), "{failure}");
    assert!(
        failure.contains("Fix: Treat a token that fails validation"),
        "{failure}"
    );
    // Long URLs and rule sources wrap on a phone.
    browser.set_viewport(390, 844).await;
    let overflow = browser.horizontal_overflow().await;
    assert!(
        overflow <= 0.0,
        "the report overflows by {overflow}px at 390px"
    );
    browser.set_viewport(1280, 900).await;

    // The same panel audits another URL; a clean server has warnings at most.
    browser
        .fill(
            "server-url-input",
            &format!("{}/servers/clean/mcp", testbed.base_url()),
        )
        .await;
    browser.click("doctor-run").await;
    browser
        .wait_attr("doctor-summary", "data-exit", &["0", "1"])
        .await;
    assert_eq!(
        browser
            .count("[data-testid=doctor-finding][data-verdict=failure]")
            .await,
        0
    );
    assert_eq!(verdict(&browser, "invalid-token-401").await, "pass");

    // No URL: said in the panel, nothing sent.
    browser.fill("server-url-input", "").await;
    browser.click("doctor-run").await;
    browser
        .wait_text("doctor-status", |t| t.contains("Type the server's URL"))
        .await;
    browser.close().await;
}
