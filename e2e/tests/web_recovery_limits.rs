//! Where recovery stops in the browser: a request refused again right after a successful renewal
//! is not retried a second time, and a server that keeps asking for more scope gets at most three
//! step-ups for one operation — across the redirects, which reload the page each time.

use keyhole_e2e::demo::{SignedIn, answer_consent};
use keyhole_shared::messages;
use keyhole_shared::recovery::MAX_STEP_UP_ATTEMPTS;

#[tokio::test]
async fn a_request_refused_again_after_the_renewal_is_not_retried_twice() {
    let demo = SignedIn::start().await;
    let (upstream, before) = demo.only_demo_session().await;
    // The call and its one retry are both refused; the refresh between them works.
    demo.control.fail_next_calls("demo", 401, 2, None).await;

    demo.run_tool("echo", &[("message", "refused twice")]).await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["error"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t == messages::challenged_after_retry())
        .await;

    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "one renewal, no second one"
    );
    assert_eq!(demo.browser.path().await, "/", "no sign-in redirect");
    let state = demo.control.get("/state").await;
    assert!(
        state["servers"][0]["pendingPostChallenge"].is_null(),
        "both forced refusals were used: the call was sent exactly twice: {state}"
    );

    // The session is fine otherwise: the next call goes through, with the renewed token, on the
    // same upstream session.
    demo.browser.click("tool-run").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("refused twice"))
        .await;
    let (same, after) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    assert_eq!(after.len(), before.len() + 1, "{before:?} → {after:?}");
    demo.close().await;
}

/// Each round: Run, the step-up modal, Authorize, and the consent page where the user unticks
/// `weather:read` again — so the server keeps asking.
#[tokio::test]
async fn a_server_that_keeps_asking_gets_three_step_ups_per_operation() {
    let demo = SignedIn::start().await;
    demo.run_tool("get-weather", &[("city", "Bergen")]).await;
    for round in 1..=MAX_STEP_UP_ATTEMPTS {
        demo.browser
            .wait_attr("step-up-scope-weather:read", "data-new", &["true"])
            .await;
        demo.browser.click("step-up-authorize").await;
        answer_consent(&demo.browser, &["weather:read"], true).await;
        demo.browser
            .wait_attr("connection-status", "data-status", &["connected"])
            .await;
        demo.browser
            .wait_toast("warning", |t| {
                t.contains("Only part of the requested access")
            })
            .await;
        assert_eq!(
            demo.browser.value("tool-arg-city").await,
            "Bergen",
            "round {round}"
        );
        demo.browser.click("tool-run").await;
    }

    // The fourth refusal of the same call: no modal, the limit, said on the panel and the banner.
    let limit = messages::step_up_limit_reached(MAX_STEP_UP_ATTEMPTS);
    demo.browser
        .wait_attr("tool-result", "data-state", &["error"])
        .await;
    demo.browser.wait_text("tool-result", |t| t == limit).await;
    demo.browser
        .wait_text("reauth-reason", |t| t == limit)
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"step-up-modal\"]").await,
        0
    );
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;

    // Another operation is not affected by that count.
    demo.run_tool("echo", &[("message", "still fine")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("still fine"))
        .await;
    demo.close().await;
}
