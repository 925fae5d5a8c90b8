//! The workspace fits common desktop widths: no horizontal scrolling, the list and the detail side
//! by side, and the step-up modal entirely on screen.

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
