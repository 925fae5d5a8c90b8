//! The web app in a real headless Chromium against the real binary.

use keyhole_e2e::{Browser, KeyholeProcess};

#[tokio::test]
async fn the_app_renders_the_servers_view_with_the_version() {
    let keyhole = KeyholeProcess::web(&[]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    let version = browser
        .wait_text("keyhole-version", |t| t.starts_with('v'))
        .await;
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    browser.wait_testid("server-url-input").await;
    browser.wait_testid("connect-button").await;
    let status = browser.wait_testid("connection-status").await;
    assert_eq!(
        status.attr("data-status").await.unwrap().as_deref(),
        Some("disconnected")
    );

    // The token is dropped from the address bar once the page has it.
    let url = browser.client.current_url().await.unwrap();
    assert!(url.query().is_none_or(|q| !q.contains("token")), "{url}");

    // A client route loads the same app (SPA fallback).
    browser
        .client
        .goto(&format!("{}/oauth/callback", keyhole.base_url))
        .await
        .unwrap();
    browser.wait_testid("connection-status").await;
    browser.close().await;
}
