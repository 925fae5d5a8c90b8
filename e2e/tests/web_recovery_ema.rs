//! Enterprise-managed authorization in the browser (SEP-990) against the demo's `enterprise`
//! server: the IdP sign-in at connect time; later, an expired token is re-minted silently, and a
//! step-up asks first, then re-mints silently and retries — never an ordinary redirect.

use keyhole_e2e::demo::{
    TestbedControl, demo_server_url, echo_re_mints_after_expiry, sign_in_at_the_idp,
};
use keyhole_e2e::{Browser, KeyholeProcess};

#[tokio::test]
async fn an_ema_step_up_asks_then_re_mints_silently_and_the_call_succeeds() {
    let keyhole = KeyholeProcess::web(&[]);
    let url = demo_server_url(&keyhole, "enterprise").await;
    let control = TestbedControl::for_server(&url);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &url).await;
    browser.click("connect-button").await;

    // Leg 1: the enterprise IdP's sign-in page.
    let upstream = sign_in_at_the_idp(&browser, &control, "enterprise").await;

    // A 401 is answered by re-minting with the cached ID token.
    echo_re_mints_after_expiry(&browser, &control).await;

    // A step-up asks first, then re-mints without leaving the page.
    browser.click("tool-item-get-weather").await;
    browser.fill("tool-arg-city", "Porto").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("step-up-scope-weather:read", "data-new", &["true"])
        .await;
    browser
        .wait_text("step-up-modal", |t| t.contains("identity provider"))
        .await;
    browser.click("step-up-authorize").await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    browser
        .wait_text("tool-result", |t| t.contains("Porto"))
        .await;
    let path = browser.path().await;
    assert_eq!(path, "/", "no redirect for an enterprise-managed server");

    let after = control.sessions("enterprise").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["sessionId"], upstream["sessionId"]);
    assert_eq!(
        after[0]["tokens"].as_array().unwrap().len(),
        3,
        "the connect token, the re-minted one and the stepped-up one: {after:?}"
    );
    browser.close().await;
}
