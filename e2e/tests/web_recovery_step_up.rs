//! Step-up in the browser: the modal says which scopes are new, Authorize goes through the demo's
//! consent page and comes back to the same tab, tool and argument values on the same upstream
//! session; Cancel, partial consent, a denied consent, an abandoned consent (its banner recovers or
//! is dismissed), a tampered callback and one from another issuer each end in a clear state, still
//! connected. The auth timeline follows the redirect: the incident that left ends after the
//! return.

use keyhole_e2e::demo::{SignedIn, answer_consent};
use keyhole_shared::messages;
use keyhole_shared::resume::SnapshotProblem;

/// Runs the scope-gated `get-weather` and waits for the step-up modal.
async fn ask_for_weather(demo: &SignedIn) {
    demo.run_tool("get-weather", &[("city", "Lisbon")]).await;
    demo.browser.wait_testid("step-up-modal").await;
}

/// Authorizes the weather step-up and waits on the demo authorization server's page.
async fn leave_for_consent(demo: &SignedIn) {
    ask_for_weather(demo).await;
    demo.browser.click("step-up-authorize").await;
    demo.browser
        .first_of(&["login-username", "consent-approve"])
        .await;
}

async fn still_connected(demo: &SignedIn) {
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    demo.browser.wait_testid("disconnect-button").await;
}

#[tokio::test]
async fn authorize_comes_back_to_the_same_tool_and_arguments_on_the_same_session() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;
    // The Network tab, once opened, keeps listing exchanges while another tab is shown.
    demo.browser.click("tab-network").await;
    ask_for_weather(&demo).await;
    demo.browser
        .wait_attr("step-up-scope-weather:read", "data-new", &["true"])
        .await;
    demo.browser
        .wait_attr("step-up-scope-mcp", "data-new", &["false"])
        .await;

    // The Network log before leaving: the session's requests, the refused call last.
    demo.browser
        .wait_count("[data-testid=\"network-entry\"][data-status=\"403\"]", 1)
        .await;
    let before = posts(demo.network_entries().await);
    assert_eq!(
        before.last().map(|(_, _, status)| status.as_str()),
        Some("403"),
        "{before:?}"
    );

    demo.browser.click("step-up-authorize").await;
    answer_consent(&demo.browser, &[], true).await;

    still_connected(&demo).await;
    assert_eq!(
        demo.browser.path().await,
        "/",
        "the callback URL was cleaned"
    );
    demo.browser
        .wait_attr("tab-tools", "aria-selected", &["true"])
        .await;
    demo.browser
        .wait_attr("tool-item-get-weather", "class", &["item selected"])
        .await;
    assert_eq!(demo.browser.value("tool-arg-city").await, "Lisbon");
    // The interrupted call was not sent again by itself: the toast and the panel say so.
    let back = messages::not_sent_again("get-weather");
    demo.browser.wait_toast("success", |t| t == back).await;
    demo.browser
        .wait_text("tool-rerun-notice", |t| t.contains(&back))
        .await;

    demo.browser.click("tool-run-again").await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("Lisbon"))
        .await;
    let (same, tokens) = demo.only_demo_session().await;
    assert_eq!(same, upstream, "the same Mcp-Session-Id after the redirect");
    assert_eq!(
        tokens.len(),
        2,
        "the first token, then the stepped-up one, on that session: {tokens:?}"
    );

    // The Network log from before the redirect is still there, entry for entry and in order,
    // followed by the call that now succeeded.
    demo.browser.click("tab-network").await;
    demo.browser
        .wait_count(
            "[data-testid=\"network-entry\"][data-status=\"200\"]",
            before.len(),
        )
        .await;
    let after = posts(demo.network_entries().await);
    assert!(
        after.len() > before.len() && after[..before.len()] == before[..],
        "before the redirect: {before:?}\nafter: {after:?}"
    );
    assert_eq!(after.last().unwrap().2, "200", "{after:?}");

    // The Auth tab's timeline came along: the 403 is one incident, from the step-up through the
    // redirect to its outcome after the return, with the new token's fingerprint.
    demo.browser.click("tab-auth").await;
    let incident = demo
        .browser
        .wait_selector_text(
            "[data-testid=auth-incident][data-outcome=recovered][data-status=\"403\"]",
            |t| t.contains("Came back from the authorization server"),
        )
        .await;
    assert!(incident.contains("tools/call get-weather"), "{incident}");
    assert!(
        incident.contains("Left for the sign-in at the authorization server"),
        "{incident}"
    );
    assert!(incident.contains("weather:read"), "{incident}");
    demo.browser
        .wait_selector("[data-testid=auth-incident][data-outcome=recovered] [data-testid=auth-incident-fingerprint]")
        .await;
    demo.close().await;
}

/// The POST exchanges of a Network list as `(method, url, status)`. (The GET stream's entry is
/// left out: it is reopened, and its status changes, as the session goes on.)
fn posts(entries: Vec<(String, String, String, String)>) -> Vec<(String, String, String)> {
    entries
        .into_iter()
        .filter(|(kind, method, _, _)| kind == "mcp" && method == "POST")
        .map(|(_, method, url, status)| (method, url, status))
        .collect()
}

#[tokio::test]
async fn cancel_marks_only_that_panel_and_keeps_the_session() {
    let demo = SignedIn::start().await;
    ask_for_weather(&demo).await;

    // Only one step-up prompt at a time: a second challenge gets a notice.
    demo.control
        .ambient_challenge("demo", 403, Some(&["notes:read"]))
        .await;
    demo.browser
        .wait_toast("info", |t| t.contains("already waiting for your answer"))
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"step-up-modal\"]").await,
        1
    );

    demo.browser.click("step-up-cancel").await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["error"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("cancelled"))
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"step-up-modal\"]").await,
        0
    );
    still_connected(&demo).await;
    assert_eq!(
        demo.browser.count("[data-testid=\"reauth-banner\"]").await,
        0
    );

    // The session still works for what the token allows.
    demo.run_tool("echo", &[("message", "still here")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("still here"))
        .await;

    // The Auth tab's timeline: the cancelled step-up is one failed incident with the scopes
    // asked for.
    demo.browser.click("tab-auth").await;
    let cancelled = demo
        .browser
        .wait_selector_text(
            "[data-testid=auth-incident][data-outcome=failed][data-status=\"403\"]",
            |t| t.contains("tools/call get-weather"),
        )
        .await;
    assert!(cancelled.contains("insufficient scope"), "{cancelled}");
    assert!(
        cancelled.contains("Asked to authorize more scopes: weather:read"),
        "{cancelled}"
    );
    assert!(cancelled.contains("cancelled"), "{cancelled}");
    demo.close().await;
}

#[tokio::test]
async fn partial_consent_is_a_warning_not_a_success() {
    let demo = SignedIn::start().await;
    ask_for_weather(&demo).await;
    demo.browser.click("step-up-authorize").await;
    answer_consent(&demo.browser, &["weather:read"], true).await;

    still_connected(&demo).await;
    demo.browser
        .wait_toast("warning", |t| {
            t.contains("Only part of the requested access") && t.contains("weather:read")
        })
        .await;
    assert_eq!(
        demo.browser
            .count("[data-testid=\"toast\"][data-kind=\"success\"]")
            .await,
        0
    );
    demo.close().await;
}

#[tokio::test]
async fn a_denied_consent_shows_the_banner_with_the_reason() {
    let demo = SignedIn::start().await;
    ask_for_weather(&demo).await;
    demo.browser.click("step-up-authorize").await;
    answer_consent(&demo.browser, &[], false).await;

    // The authorization server's refusal, explained (RFC 6749 §4.1.2.1), on the banner and in
    // the toast; the session stays as it was.
    let explained = "The authorization did not complete: Access was denied (access_denied).";
    demo.browser
        .wait_text("reauth-reason", |t| t.starts_with(explained))
        .await;
    demo.browser
        .wait_toast("error", |t| t.starts_with(explained))
        .await;
    still_connected(&demo).await;
    let (_, tokens) = demo.only_demo_session().await;
    assert_eq!(tokens.len(), 1, "no new token: {tokens:?}");
    // The timeline's incident came along and ended with that reason.
    demo.browser.click("tab-auth").await;
    demo.browser
        .wait_selector_text(
            "[data-testid=auth-incident][data-outcome=failed][data-status=\"403\"]",
            |t| t.contains("Access was denied") && t.contains("Left for the sign-in"),
        )
        .await;
    demo.close().await;
}

#[tokio::test]
async fn an_abandoned_consent_shows_the_banner_whose_button_recovers_without_a_disconnect() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;
    leave_for_consent(&demo).await;

    // The user leaves the consent page and goes back to Keyhole.
    demo.open_keyhole().await;
    demo.browser
        .wait_text("reauth-reason", |t| t.contains("never finished"))
        .await;
    still_connected(&demo).await;
    assert_eq!(demo.browser.value("tool-arg-city").await, "Lisbon");

    demo.browser.click("reauth-button").await;
    answer_consent(&demo.browser, &[], true).await;
    still_connected(&demo).await;
    demo.browser.click("tool-run").await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    let (same, _) = demo.only_demo_session().await;
    assert_eq!(same, upstream);
    assert_eq!(
        demo.browser.count("[data-testid=\"reauth-banner\"]").await,
        0
    );
    demo.close().await;
}

#[tokio::test]
async fn dismissing_the_banner_forgets_the_abandoned_sign_in() {
    let demo = SignedIn::start().await;
    leave_for_consent(&demo).await;
    demo.open_keyhole().await;
    demo.browser
        .wait_text("reauth-reason", |t| t == messages::abandoned_sign_in())
        .await;

    demo.browser.click("reauth-dismiss").await;
    assert_eq!(
        demo.browser.count("[data-testid=\"reauth-banner\"]").await,
        0
    );
    still_connected(&demo).await;
    let snapshot = demo
        .browser
        .script("return sessionStorage.getItem('keyhole.resume');")
        .await;
    assert!(
        snapshot.is_null(),
        "the resume snapshot is gone: {snapshot}"
    );
    reloading_reports_no_abandoned_sign_in(&demo, "a dismissed sign-in is not reported again")
        .await;
    demo.close().await;
}

/// Leaves for the consent page, comes back to Keyhole's `/oauth/callback?<query>` (with
/// `{state}` replaced by the sign-in's real `state`) and checks that the banner gives the reason
/// `expected` returns for the testbed's origin, that the session is still up, and that nothing
/// reached the token endpoint.
async fn forged_callback_is_rejected(query: &str, expected: impl FnOnce(&str) -> String) {
    let demo = SignedIn::start().await;
    leave_for_consent(&demo).await;
    let requests = demo.control.token_requests().await.len();
    let consent_page = demo.browser.client.current_url().await.unwrap();
    let state = consent_page
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("the sign-in's state travels with the consent page");

    let forged = format!(
        "{}/oauth/callback?{}",
        demo.keyhole.base_url,
        query.replace("{state}", &state)
    );
    demo.browser.client.goto(&forged).await.unwrap();
    let reason = expected(demo.control.base());
    demo.browser
        .wait_text("reauth-reason", |t| t.contains(&reason))
        .await;
    still_connected(&demo).await;
    assert_eq!(
        demo.browser.path().await,
        "/",
        "the callback URL was cleaned"
    );
    assert_eq!(
        demo.control.token_requests().await.len(),
        requests,
        "no request reached the token endpoint, not even a refused one"
    );
    demo.close().await;
}

#[tokio::test]
async fn a_tampered_state_is_rejected_before_any_token_request() {
    forged_callback_is_rejected("code=forged-code&state=tampered-state", |_| {
        format!(
            "The sign-in answer was rejected and nothing was exchanged: {}.",
            SnapshotProblem::StateMismatch
        )
    })
    .await;
}

#[tokio::test]
async fn an_answer_from_another_issuer_is_rejected_before_any_token_request() {
    // The sign-in's real `state` (so the snapshot matches), with a forged `iss`.
    forged_callback_is_rejected(
        "code=forged-code&state={state}&iss=https%3A%2F%2Fevil.example",
        |testbed| {
            messages::issuer_mismatch(&format!("{testbed}/oauth"), Some("https://evil.example"))
        },
    )
    .await;
}

#[tokio::test]
async fn disconnecting_forgets_an_abandoned_sign_in() {
    let demo = SignedIn::start().await;
    leave_for_consent(&demo).await;
    demo.open_keyhole().await;
    demo.browser.wait_testid("reauth-banner").await;

    demo.browser.click("disconnect-button").await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["disconnected"])
        .await;
    assert_eq!(
        demo.browser.count("[data-testid=\"reauth-banner\"]").await,
        0
    );
    reloading_reports_no_abandoned_sign_in(
        &demo,
        "the snapshot was cleared, so nothing is reported as abandoned",
    )
    .await;
    demo.close().await;
}

/// Loads the page again and watches the moment an abandoned sign-in would be reported (just after
/// the page loads): no banner may appear.
async fn reloading_reports_no_abandoned_sign_in(demo: &SignedIn, why: &str) {
    demo.open_keyhole().await;
    demo.browser.wait_testid("server-url-input").await;
    demo.browser
        .assert_absent_for(
            "[data-testid=\"reauth-banner\"]",
            std::time::Duration::from_millis(1500),
            why,
        )
        .await;
}
