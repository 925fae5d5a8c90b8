//! The web app follows the system's light or dark preference (`prefers-color-scheme`), with no
//! setting of its own: backgrounds, panels, list items and text all change with it.

use keyhole_e2e::emulation::Theme;
use keyhole_e2e::open_server::OpenServer;
use serde_json::Value;

/// Relative luminance (0 black … 1 white) of the computed `property` of the first `selector`.
const LUMINANCE: &str = "
    const [selector, property] = arguments;
    const color = getComputedStyle(document.querySelector(selector))[property];
    const [r, g, b] = color.match(/[\\d.]+/g).map(Number).map(c => c / 255)
        .map(c => c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;";

async fn luminance(open: &OpenServer, selector: &str, property: &str) -> f64 {
    let value: Value = open
        .browser
        .client
        .execute(LUMINANCE, vec![selector.into(), property.into()])
        .await
        .unwrap();
    value.as_f64().expect("a number")
}

#[tokio::test]
async fn light_and_dark_follow_the_system_preference() {
    let open = OpenServer::start().await;
    open.browser.click("tool-item-echo").await;
    let parts = [
        ("body", "backgroundColor"),
        (".panel", "backgroundColor"),
        ("button.item", "backgroundColor"),
        ("[data-testid=\"tool-arg-message\"]", "backgroundColor"),
    ];

    open.browser.set_theme(Theme::Light).await;
    for (selector, property) in parts {
        let light = luminance(&open, selector, property).await;
        assert!(light > 0.8, "{selector} {property} in light: {light}");
    }
    assert!(luminance(&open, "body", "color").await < 0.1);

    open.browser.set_theme(Theme::Dark).await;
    for (selector, property) in parts {
        let dark = luminance(&open, selector, property).await;
        assert!(dark < 0.05, "{selector} {property} in dark: {dark}");
    }
    assert!(luminance(&open, "body", "color").await > 0.6);
    assert!(
        luminance(&open, ".item-name", "color").await > 0.6,
        "list text is readable in dark"
    );
    open.close().await;
}
