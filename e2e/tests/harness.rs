//! The harness itself: a WebDriver failure fails the test; it never reads as "no such element".

use keyhole_e2e::Browser;

#[tokio::test]
#[should_panic(expected = "WebDriver failed")]
async fn a_webdriver_error_is_not_zero_elements() {
    let browser = Browser::start().await;
    browser.client.goto("about:blank").await.unwrap();
    // An invalid selector is an error of the driver, not an empty page.
    browser.count("[[not a selector").await;
}
