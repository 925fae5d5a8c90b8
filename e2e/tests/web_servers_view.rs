//! The servers view and the server's header: a catalog entry's Connect button connects (signing
//! in when the server asks), and the server's instructions are rendered from Markdown as
//! elements — code spans, emphasis, lists, safe links only — never as raw Markdown or HTML.

use keyhole_e2e::demo::answer_consent;
use keyhole_e2e::open_server::OpenServer;
use keyhole_e2e::{Browser, KeyholeProcess};

#[tokio::test]
async fn a_catalog_entry_connects_with_one_click() {
    let keyhole = KeyholeProcess::web(&[]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.click("server-connect-demo").await;
    answer_consent(&browser, &[], true).await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.wait_testid("tool-item-echo").await;

    // The demo's instructions: `echo` is code, *destructive* is emphasis, no backtick is left.
    let instructions = browser
        .wait_text("server-instructions", |t| t.contains("echo"))
        .await;
    assert!(!instructions.contains('`'), "{instructions}");
    assert!(!instructions.contains('*'), "{instructions}");
    browser
        .wait_selector_text("[data-testid=\"server-instructions\"] code", |t| {
            t == "echo"
        })
        .await;
    browser
        .wait_selector_text("[data-testid=\"server-instructions\"] em", |t| {
            t == "destructive"
        })
        .await;
    browser.close().await;
}

#[tokio::test]
async fn instructions_keep_safe_links_and_show_html_as_text() {
    let open = OpenServer::start().await;
    let browser = &open.browser;
    let text = browser
        .wait_text("server-instructions", |t| t.contains("Start with"))
        .await;
    assert!(
        text.contains("<b>bold</b>"),
        "HTML stays literal text: {text}"
    );
    assert_eq!(
        browser
            .count("[data-testid=\"server-instructions\"] b")
            .await,
        0
    );
    assert_eq!(
        browser
            .count("[data-testid=\"server-instructions\"] strong")
            .await,
        1
    );
    assert_eq!(
        browser
            .count("[data-testid=\"server-instructions\"] li")
            .await,
        2
    );
    let links = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=\"server-instructions\"] a')]
                .map(a => [a.getAttribute('href'), a.rel, a.textContent]);",
        )
        .await;
    assert_eq!(
        links,
        serde_json::json!([[
            "https://example.com/docs",
            "noopener noreferrer",
            "the docs"
        ]]),
        "only the https link is a link"
    );
    assert!(
        text.contains("not this or"),
        "the unsafe link keeps its words: {text}"
    );
    open.close().await;
}
