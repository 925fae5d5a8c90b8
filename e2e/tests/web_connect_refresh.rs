//! Connecting with a stored token that can no longer be used renews it first, as a call
//! mid-session and the CLI do (refresh token, through the shared OAuth client): no trip to the
//! authorization server. "Can no longer be used" is the one expiry rule of
//! `keyhole_shared::tokens::Tokens::is_expired`, leeway included.

use std::time::{SystemTime, UNIX_EPOCH};

use keyhole_e2e::demo::{SignedIn, oauth_store, replace_oauth_store};
use keyhole_shared::tokens::EXPIRY_LEEWAY_SECS;
use serde_json::json;

/// Opens Keyhole's page again and connects to the demo server; it must get connected without
/// leaving the page (a sign-in would stop at the demo's login page). The new upstream session
/// uses only tokens no earlier session used.
async fn reconnect(demo: &SignedIn) {
    let earlier = demo.control.sessions("demo").await;
    let ids = |sessions: &[serde_json::Value]| -> Vec<serde_json::Value> {
        sessions.iter().map(|s| s["sessionId"].clone()).collect()
    };
    let earlier_tokens: Vec<_> = earlier
        .iter()
        .flat_map(|s| s["tokens"].as_array().cloned().unwrap_or_default())
        .collect();
    demo.open_keyhole().await;
    demo.browser.connect_to(&demo.server_url).await;
    assert_eq!(demo.browser.path().await, "/", "no redirect happened");
    let sessions = demo.control.sessions("demo").await;
    let new = sessions
        .iter()
        .find(|s| !ids(&earlier).contains(&s["sessionId"]))
        .unwrap_or_else(|| panic!("a new upstream session: {sessions:?}"));
    let used = new["tokens"].as_array().cloned().unwrap_or_default();
    assert!(
        !used.is_empty() && used.iter().all(|t| !earlier_tokens.contains(t)),
        "the new session uses a new token only: {used:?}, earlier {earlier_tokens:?}"
    );
}

/// The server refuses the stored token (it expired there): connecting refreshes it and connects
/// with the new one.
#[tokio::test]
async fn an_expired_stored_token_is_refreshed_at_connect_without_a_sign_in() {
    let demo = SignedIn::start().await;
    let before =
        oauth_store(&demo.keyhole).await["credentials"][0]["tokens"]["access_token"].clone();
    demo.control.expire_access_tokens().await;

    reconnect(&demo).await;

    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "one refresh grant, no second sign-in"
    );
    let after =
        oauth_store(&demo.keyhole).await["credentials"][0]["tokens"]["access_token"].clone();
    assert_ne!(before, after, "the refreshed token is stored");
    demo.close().await;
}

/// The stored token is still accepted by the server but is within the leeway of its expiry: the
/// web app treats it as expired (as the CLI does), so it is renewed before it is sent.
#[tokio::test]
async fn a_stored_token_within_the_expiry_leeway_is_renewed_before_it_is_sent() {
    let demo = SignedIn::start().await;
    let mut store = oauth_store(&demo.keyhole).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Inside the shared leeway, but well clear of a shorter one.
    store["credentials"][0]["tokens"]["expires_at"] = json!(now + EXPIRY_LEEWAY_SECS - 10);
    replace_oauth_store(&demo.keyhole, &store).await;

    reconnect(&demo).await;

    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "the token about to expire was renewed"
    );
    demo.close().await;
}
