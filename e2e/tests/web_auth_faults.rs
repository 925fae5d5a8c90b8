//! Fault injection from the Auth tab, against the demo, each followed by a tool call that must
//! recover on the same upstream session: a corrupted token is answered from the store (no
//! refresh), no token at all and a token revoked at the authorization server by a refresh,
//! "refresh now" renews at once, and the store faults show in the credentials held. Each
//! incident is an entry of the Auth tab's timeline.

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};

/// Injects `fault` from the Auth tab (the `nth` fault of the tab) and waits for its outcome; the
/// text shown.
async fn inject(demo: &SignedIn, fault: &str, nth: u32) -> String {
    demo.browser.click("tab-auth").await;
    demo.browser.choose("auth-fault-select", fault).await;
    demo.browser.click("auth-fault-inject").await;
    demo.browser
        .wait_attr("auth-fault-result", "data-seq", &[&nth.to_string()])
        .await;
    let text = demo.browser.wait_text("auth-fault-result", |_| true).await;
    let state = demo
        .browser
        .wait_attr("auth-fault-result", "data-state", &["ok", "error"])
        .await;
    assert_eq!(state, "ok", "{fault}: {text}");
    text
}

/// Runs `echo` and waits for its result.
async fn echo(demo: &SignedIn, message: &str) {
    demo.run_tool("echo", &[("message", message)]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains(message))
        .await;
}

#[tokio::test]
async fn each_fault_is_followed_by_a_recovery_on_the_same_session() {
    let demo = SignedIn::start().await;
    let (upstream, _) = demo.only_demo_session().await;

    let said = inject(&demo, "corrupt-token", 1).await;
    assert!(said.contains("corrupted token"), "{said}");
    echo(&demo, "after a corrupted token").await;
    demo.browser
        .wait_toast("success", |t| {
            t == messages::recovered_silently(SilentRecovery::Storage)
        })
        .await;

    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code"],
        "the store's token answered the corrupted one: no refresh"
    );

    // Without a token, the refused one is unknown: the recovery refreshes.
    let said = inject(&demo, "forget-access-token", 2).await;
    assert!(said.contains("no access token"), "{said}");
    echo(&demo, "after no token").await;
    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"]
    );

    let said = inject(&demo, "revoke-token", 3).await;
    assert!(said.contains("Revoked the access token"), "{said}");
    echo(&demo, "after a revocation").await;
    assert_eq!(
        demo.control.token_grant_types().await.len(),
        3,
        "the revoked token was refreshed"
    );

    inject(&demo, "refresh-now", 4).await;
    assert_eq!(demo.control.token_grant_types().await.len(), 4);
    echo(&demo, "after refresh now").await;

    inject(&demo, "drop-refresh-token", 5).await;
    demo.browser
        .wait_text("auth-refresh-token", |t| t == "none")
        .await;
    let said = inject(&demo, "expire-locally", 6).await;
    assert!(said.contains("next connection renews it"), "{said}");
    demo.browser
        .wait_text("auth-token-expiry", |t| t.starts_with("expired"))
        .await;

    let (same, _) = demo.only_demo_session().await;
    assert_eq!(same, upstream, "one upstream session throughout");
    // The revocation is among the OAuth exchanges of the session.
    demo.browser
        .wait_selector_text("[data-testid=auth-steps]", |t| t.contains("revoke"))
        .await;

    // The timeline: one entry per incident, newest first, each recovered with its steps; the
    // refresh after the revocation lists its token request and the new token's fingerprint.
    demo.browser
        .wait_count(
            "[data-testid=auth-incident][data-outcome=recovered][data-status=\"401\"]",
            3,
        )
        .await;
    let timeline = demo.browser.texts("[data-testid=auth-incident]").await;
    let refreshed = timeline
        .iter()
        .find(|t| t.contains(&messages::recovered_silently(SilentRecovery::Refresh)))
        .unwrap_or_else(|| panic!("a refreshed incident: {timeline:#?}"));
    assert!(refreshed.contains("/oauth/token"), "{refreshed}");
    assert!(refreshed.contains("Token fingerprint"), "{refreshed}");
    assert!(
        refreshed.contains("the request was sent again"),
        "{refreshed}"
    );
    let stored = timeline
        .iter()
        .find(|t| t.contains(&messages::recovered_silently(SilentRecovery::Storage)))
        .unwrap_or_else(|| panic!("an incident answered from the store: {timeline:#?}"));
    assert!(
        stored.contains("invalid token · tools/call echo"),
        "{stored}"
    );
    assert!(
        !stored.contains("/oauth/token"),
        "no token request: {stored}"
    );
    demo.browser.close().await;
}
