//! The authorization-code flow end to end at the testbed's consent page: full consent, partial
//! consent (the token's scope is authoritative), and denial.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::{CallbackError, OAuthClientError};
use oauth_fixture::{Bed, config, query_param};

#[tokio::test]
async fn consent_gives_tokens_that_work() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let mut mcp = bed.mcp("main");
    let challenge = mcp.initialize(None).await.challenge(None);
    let start = bed
        .client
        .connect_authorization(&server, Some(&challenge))
        .await
        .unwrap();
    let url = &start.authorization_url;
    // The challenge's scope, PKCE S256, state and the resource indicator.
    assert_eq!(query_param(url, "scope").as_deref(), Some("mcp"));
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(url, "resource").as_deref(),
        Some(server.as_str())
    );
    assert_eq!(
        query_param(url, "state").as_deref(),
        Some(start.state.as_str())
    );
    assert!(bed.stored().pending.iter().any(|p| p.state == start.state));

    let callback = bed.approve_all(url).await;
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert!(grant.missing.is_empty());
    assert!(
        bed.stored().pending.is_empty(),
        "the verifier is gone once used"
    );
    let record = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(record.requested, ScopeSet::parse("mcp"));
    assert_eq!(record.granted, ScopeSet::parse("mcp"));
    let token = grant.tokens.access_token.expose();
    assert_eq!(mcp.initialize(Some(token)).await.status, 200);
    assert_eq!(mcp.call(token, "echo").await.status, 200);
    // The token request carried code_verifier and resource (as seen, redacted, by the observer).
    let exchange = bed
        .exchanges()
        .into_iter()
        .find(|e| e.step.as_deref() == Some("token (authorization code)"))
        .unwrap();
    let body = exchange.request_body.unwrap();
    assert!(body.contains("code_verifier=%3Credacted%3E"), "{body}");
    assert!(body.contains("resource="), "{body}");
}

#[tokio::test]
async fn partial_consent_stores_the_granted_subset() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let requested = ScopeSet::parse("mcp weather:read");
    let start = bed
        .client
        .begin_authorization(&server, &requested)
        .await
        .unwrap();
    let callback = bed.consent(&start.authorization_url, &["mcp"], true).await;
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert_eq!(grant.tokens.scopes, ScopeSet::parse("mcp"));
    assert_eq!(grant.missing, ScopeSet::parse("weather:read"));
    assert!(grant.message.contains("weather:read"), "{}", grant.message);
    let record = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(record.granted, ScopeSet::parse("mcp"));
    assert_eq!(record.requested, requested);
    let mut mcp = bed.mcp("main");
    let token = grant.tokens.access_token.expose();
    mcp.initialize(Some(token)).await;
    assert_eq!(mcp.call(token, "get-weather").await.status, 403);
}

#[tokio::test]
async fn denial_is_reported_and_nothing_is_stored() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let start = bed
        .client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    let callback = bed.consent(&start.authorization_url, &["mcp"], false).await;
    let error = bed
        .client
        .complete_authorization(&callback)
        .await
        .unwrap_err();
    match &error {
        OAuthClientError::Callback(CallbackError::Refused(e)) => {
            assert_eq!(e.error, "access_denied")
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.to_string().contains('{'), "prose, not JSON: {error}");
    assert!(bed.stored().credential(&server, None).is_none());
    assert!(bed.stored().pending.is_empty());
}
