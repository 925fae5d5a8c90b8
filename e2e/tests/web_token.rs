//! The API token in a real browser: it arrives only in the address the user opens, the page keeps
//! it in the tab's `sessionStorage` and drops it from the address bar; a second tab on the same
//! origin works through the `SameSite=Strict` cookie; a full-page OAuth redirect back to
//! `/oauth/callback` works even when the cookie did not come along; without either, the browser
//! gets the page that says how to open Keyhole.

use keyhole_e2e::demo::demo_server_urls;
use keyhole_e2e::hostile::{Attack, HostileServer};
use keyhole_e2e::{Browser, KeyholeProcess, TEST_API_TOKEN};
use serde_json::Value;

async fn stored_token(browser: &Browser) -> Value {
    browser
        .script("return sessionStorage.getItem('keyhole.apiToken');")
        .await
}

#[tokio::test]
async fn the_tab_keeps_the_token_and_a_second_tab_works_through_the_cookie() {
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let server = HostileServer::start(Attack::None).await;
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.connect_to(&server.url).await;
    let address = browser.client.current_url().await.unwrap();
    assert!(
        address.query().is_none_or(|q| !q.contains("token")),
        "{address}"
    );
    assert_eq!(stored_token(&browser).await, TEST_API_TOKEN);
    let page = browser
        .script("return document.documentElement.outerHTML;")
        .await;
    assert!(!page.as_str().unwrap().contains(TEST_API_TOKEN));

    // A second tab opened by hand on the bare origin: nothing in its sessionStorage, the cookie
    // authenticates it (the API calls and the event stream alike).
    let first = browser.client.window().await.unwrap();
    let second = browser.client.new_window(true).await.unwrap().handle;
    browser.client.switch_to_window(second).await.unwrap();
    browser
        .client
        .goto(&format!("{}/", keyhole.base_url))
        .await
        .unwrap();
    assert_eq!(stored_token(&browser).await, Value::Null);
    browser.connect_to(&server.url).await;
    browser.click("tab-protocol").await;
    browser
        .wait_count("[data-testid=\"protocol-entry\"]", 1)
        .await;

    // Reloading the first tab keeps it working.
    browser.client.switch_to_window(first).await.unwrap();
    browser.client.refresh().await.unwrap();
    browser.wait_testid("server-url-input").await;
    assert_eq!(stored_token(&browser).await, TEST_API_TOKEN);
    browser.close().await;
}

#[tokio::test]
async fn without_the_address_or_the_cookie_the_browser_is_told_how_to_open_keyhole() {
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", keyhole.base_url))
        .await
        .unwrap();
    let help = browser
        .wait_text("how-to-open", |t| t.contains("?token="))
        .await;
    assert!(!help.contains(TEST_API_TOKEN), "{help}");
    browser.close().await;
}

#[tokio::test]
async fn the_oauth_callback_works_when_the_redirect_brings_no_cookie() {
    let keyhole = KeyholeProcess::web(&[]);
    let demo = demo_server_urls(&keyhole).await.remove(0);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &demo).await;
    browser.click("connect-button").await;
    browser.fill("login-username", "demo").await;
    // An authorization server on another site redirects back without our SameSite=Strict cookie;
    // here both are on 127.0.0.1, so take the cookie away to make the callback cookieless.
    browser.client.delete_all_cookies().await.unwrap();
    browser.fill("login-password", "demo").await;
    browser.click("login-submit").await;
    browser.click("consent-approve").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    // The page's first API call (with the token from sessionStorage) brought the cookie back, so
    // the event stream works: the exchange of a tool call made now arrives on it.
    let entries = "[data-testid=\"network-entry\"]";
    browser.click("tab-network").await;
    let before = browser.wait_count(entries, 1).await;
    browser.click("tab-tools").await;
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "no cookie").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("no cookie"))
        .await;
    browser.click("tab-network").await;
    browser.wait_count(entries, before + 1).await;
    browser.close().await;
}
