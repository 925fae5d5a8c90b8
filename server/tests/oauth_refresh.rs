//! The refresh grant: a 401 after expiry is answered silently, the refresh token is kept when
//! the server does not rotate it and replaced when it does, and whoever refreshes authenticates as
//! the client the tokens were issued to.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::messages::SilentRecovery;
use keyhole_shared::oauth_client::ClientConfig;
use keyhole_shared::recovery::{
    Authority as _, CredentialKey, GrantError, RecoveryOutcome, StepUpGuard, TokenRefresher,
};
use keyhole_shared::tokens::Tokens;
use oauth_fixture::{Bed, config, new_client};
use serde_json::json;

async fn signed_in(bed: &Bed) -> Tokens {
    let start = bed
        .client
        .begin_authorization(&bed.mcp_url("main"), &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    let callback = bed.approve_all(&start.authorization_url).await;
    bed.client
        .complete_authorization(&callback)
        .await
        .unwrap()
        .tokens
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_refresh_token_kept() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let tokens = signed_in(&bed).await;
    let token = tokens.access_token.expose();
    let mut mcp = bed.mcp("main");
    mcp.initialize(Some(token)).await;
    assert_eq!(bed.control("tokens/expire", json!({})).await, 200);
    let refused = mcp.call(token, "echo").await;
    assert_eq!(refused.status, 401);

    let outcome = bed
        .client
        .handle_challenge(
            &server,
            &refused.challenge(None),
            Some(&tokens.access_token),
            &StepUpGuard::new(),
        )
        .await;
    let RecoveryOutcome::Satisfied {
        tokens: fresh, via, ..
    } = outcome
    else {
        panic!("expected a silent refresh, got {outcome:?}");
    };
    assert_eq!(via, SilentRecovery::Refresh);
    assert_eq!(
        fresh.refresh_token, tokens.refresh_token,
        "not rotated: kept"
    );
    assert_eq!(fresh.scopes, ScopeSet::parse("mcp"));
    let stored = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(stored.tokens.as_ref(), Some(&fresh));
    assert_eq!(
        mcp.call(fresh.access_token.expose(), "echo").await.status,
        200
    );
    // Another refresh with the same refresh token still works.
    bed.client.refresh(&server).await.unwrap();
}

#[tokio::test]
async fn a_rotated_refresh_token_replaces_the_old_one() {
    let bed = Bed::start(config(true)).await;
    let server = bed.mcp_url("main");
    let tokens = signed_in(&bed).await;
    let old = tokens.refresh_token.clone().unwrap();
    let fresh = bed.client.refresh(&server).await.unwrap();
    let new = fresh.refresh_token.clone().unwrap();
    assert_ne!(new, old);
    let stored = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(stored.tokens.unwrap().refresh_token, Some(new));
    // The old one is dead; the stored one keeps working.
    let key = CredentialKey {
        server_url: server.clone(),
        issuer: None,
    };
    let error = TokenRefresher::refresh(&bed.client, &key, &old, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, GrantError::OAuth(e) if e.error == "invalid_grant"),
        "{error:?}"
    );
    bed.client.refresh(&server).await.unwrap();
}

#[tokio::test]
async fn no_refresh_token_means_a_new_sign_in() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let tokens = signed_in(&bed).await;
    // Revoke the refresh token: the refresh fails, so recovery prepares a redirect.
    let refresh = tokens.refresh_token.clone().unwrap();
    let status = bed
        .control("tokens/revoke", json!({"token": refresh.expose()}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(bed.control("tokens/expire", json!({})).await, 200);
    let mut mcp = bed.mcp("main");
    let refused = mcp.initialize(Some(tokens.access_token.expose())).await;
    assert_eq!(refused.status, 401);
    let outcome = bed
        .client
        .handle_challenge(
            &server,
            &refused.challenge(None),
            Some(&tokens.access_token),
            &StepUpGuard::new(),
        )
        .await;
    assert!(
        matches!(outcome, RecoveryOutcome::Interactive(_)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn tokens_signed_in_with_another_redirect_uri_refresh_with_their_own_client() {
    let bed = Bed::start(config(true)).await;
    let server = bed.mcp_url("main");
    // Signed in by one client (the web app's redirect URI)…
    let tokens = signed_in(&bed).await;
    let registered = bed.stored().clients.len();
    // …refreshed by another sharing the store (the CLI's loopback redirect URI).
    let cli = new_client(
        &bed.dir,
        ClientConfig::new("http://127.0.0.1:6276/callback"),
    );
    let fresh = cli
        .refresh(&server)
        .await
        .expect("refreshed as the client that obtained the tokens");
    assert_ne!(fresh.access_token, tokens.access_token);
    assert_eq!(
        bed.stored().clients.len(),
        registered,
        "no registration for the second redirect URI was needed"
    );
    assert_eq!(
        bed.stored()
            .credential(&server, None)
            .and_then(|c| c.client_id.clone()),
        bed.stored()
            .clients
            .first()
            .map(|c| c.registration.client_id.clone())
    );
}

/// A DPoP-bound refresh token is refreshed with a proof by its key (RFC 9449 §5) by any client
/// sharing the store — one that has not seen the server's DPoP challenge, for a resource whose
/// metadata does not require DPoP, included (the stored token type says so).
#[tokio::test]
async fn a_bound_refresh_token_is_refreshed_with_a_proof_by_a_client_that_saw_no_challenge() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    // The first client saw a `DPoP` challenge, so it binds the tokens it gets.
    let mut mcp = bed.mcp("main");
    let mut challenge = mcp.initialize(None).await.challenge(None);
    challenge.dpop = true;
    bed.client
        .server_auth(&server, Some(&challenge))
        .await
        .unwrap();
    let tokens = signed_in(&bed).await;
    assert_eq!(tokens.token_type, "DPoP");

    // Another client over the same store (and the same key file) refreshes as recovery does.
    let other = new_client(&bed.dir, ClientConfig::new(oauth_fixture::REDIRECT_URI));
    let key = CredentialKey {
        server_url: server.clone(),
        issuer: None,
    };
    let refreshed =
        TokenRefresher::refresh(&other, &key, tokens.refresh_token.as_ref().unwrap(), None)
            .await
            .expect("refreshed with a proof by the same key");
    assert_eq!(refreshed.token_type, "DPoP");
}
