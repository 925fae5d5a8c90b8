//! The workspace fits common desktop widths and a 390 px phone: no horizontal scrolling, the
//! list and the detail side by side on a desktop and stacked on a phone, the header's status
//! badge on screen, and the step-up modal entirely on screen.

use keyhole_e2e::demo::SignedIn;
use serde_json::Value;

const FITS: &str = "
    const doc = document.documentElement;
    const list = document.querySelector('.list-pane').getBoundingClientRect();
    const detail = document.querySelector('.detail-pane').getBoundingClientRect();
    const modal = document.querySelector('[data-testid=\"step-up-modal\"]').getBoundingClientRect();
    return {
        overflow: doc.scrollWidth - window.innerWidth,
        sideBySide: list.right <= detail.left + 1,
        modalOnScreen: modal.left >= 0 && modal.top >= 0
            && modal.right <= window.innerWidth && modal.bottom <= window.innerHeight,
    };";

#[tokio::test]
async fn the_workspace_and_the_step_up_modal_fit_desktop_widths() {
    let demo = SignedIn::start().await;
    demo.run_tool(
        "get-weather",
        &[("city", "a city with a rather long name, to see wrapping")],
    )
    .await;
    demo.browser.wait_testid("step-up-modal").await;
    for (width, height) in [(1024, 700), (1280, 800), (1440, 900), (1920, 1080)] {
        demo.browser
            .client
            .set_window_size(width, height)
            .await
            .unwrap();
        let fits: Value = demo.browser.client.execute(FITS, vec![]).await.unwrap();
        assert!(
            fits["overflow"].as_f64().unwrap_or(1.0) <= 0.0,
            "horizontal scrolling at {width}px: {fits}"
        );
        assert_eq!(fits["sideBySide"], true, "at {width}px: {fits}");
        assert_eq!(fits["modalOnScreen"], true, "at {width}px: {fits}");
    }
    demo.close().await;
}

#[tokio::test]
async fn the_workspace_and_the_step_up_modal_fit_a_390_px_phone() {
    let demo = SignedIn::start().await;
    demo.browser.set_viewport(390, 844).await;
    demo.run_tool(
        "get-weather",
        &[("city", "a city with a rather long name, to see wrapping")],
    )
    .await;
    demo.browser.wait_testid("step-up-modal").await;
    let fits: Value = demo.browser.client.execute(FITS, vec![]).await.unwrap();
    assert!(
        fits["overflow"].as_f64().unwrap_or(1.0) <= 0.0,
        "horizontal scrolling at 390px: {fits}"
    );
    assert_eq!(fits["sideBySide"], false, "stacked at 390px: {fits}");
    assert_eq!(fits["modalOnScreen"], true, "at 390px: {fits}");
    let badge_right = demo
        .browser
        .script(
            "return document.querySelector('[data-testid=\"connection-status\"]')
                .getBoundingClientRect().right <= window.innerWidth;",
        )
        .await;
    assert_eq!(badge_right, true, "the status badge is on screen");
    demo.browser.click("step-up-cancel").await;
    for tab in ["protocol", "network", "auth"] {
        demo.browser.click(&format!("tab-{tab}")).await;
        let overflow = demo.browser.horizontal_overflow().await;
        assert!(overflow <= 0.0, "the {tab} tab overflows by {overflow}px");
    }
    demo.close().await;
}
