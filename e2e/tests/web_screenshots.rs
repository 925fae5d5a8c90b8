//! Screenshots of the main views — Tools, Resources, Prompts, Protocol, Network and Auth on the
//! signed-in demo, then the servers view after Disconnect — at 1280 and 390 px wide in the light and the dark theme, written
//! to `target/screenshots/<view>-<width>-<theme>.png` for people to look at. Every one of them
//! also must not scroll sideways.

use std::time::Duration;

use keyhole_e2e::Browser;
use keyhole_e2e::demo::{SignedIn, run_tool};
use keyhole_e2e::emulation::{Theme, screenshot_dir};

const SIZES: [(u32, u32); 2] = [(1280, 900), (390, 844)];
const THEMES: [Theme; 2] = [Theme::Light, Theme::Dark];

/// Photographs the current view at every size and theme.
async fn photograph(browser: &Browser, view: &str) {
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        for theme in THEMES {
            browser.set_theme(theme).await;
            browser.script("window.scrollTo(0, 0); return null;").await;
            tokio::time::sleep(Duration::from_millis(150)).await;
            let overflow = browser.horizontal_overflow().await;
            assert!(
                overflow <= 0.0,
                "{view} at {width}px ({}) is {overflow}px wider than the screen",
                theme.name()
            );
            browser
                .save_screenshot(&format!("{view}-{width}-{}", theme.name()))
                .await;
        }
    }
}

#[tokio::test]
async fn the_main_views_are_photographed_at_two_widths_in_both_themes() {
    let demo = SignedIn::start().await;
    let browser = &demo.browser;

    run_tool(browser, "echo", &[("message", "Hello from Keyhole")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    photograph(browser, "tools").await;

    browser.click("tab-resources").await;
    browser.click("resource-item-readme").await;
    browser
        .wait_attr("resource-result", "data-state", &["ok"])
        .await;
    photograph(browser, "resources").await;

    browser.click("tab-prompts").await;
    browser.click("prompt-item-greeting").await;
    browser.fill("prompt-arg-name", "Ada").await;
    browser.click("prompt-get").await;
    browser
        .wait_attr("prompt-result", "data-state", &["ok"])
        .await;
    photograph(browser, "prompts").await;

    for tab in ["protocol", "network", "auth"] {
        browser.click(&format!("tab-{tab}")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        photograph(browser, tab).await;
    }

    browser.click("disconnect-button").await;
    browser.wait_testid("server-connect-demo").await;
    photograph(browser, "servers").await;

    let files = std::fs::read_dir(screenshot_dir()).unwrap().count();
    assert!(files >= 28, "7 views × 2 widths × 2 themes: {files} files");
    println!("screenshots in {}", screenshot_dir().display());
    demo.close().await;
}
