//! Callback validation: `iss` (RFC 9207) must match and must be present when announced; `state`
//! must be known and is single-use.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::{CallbackError, OAuthClientError};
use oauth_fixture::{Bed, config, with_param};

async fn callback(bed: &Bed) -> String {
    let start = bed
        .client
        .begin_authorization(&bed.mcp_url("main"), &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    bed.approve_all(&start.authorization_url).await
}

fn callback_error(result: Result<impl std::fmt::Debug, OAuthClientError>) -> CallbackError {
    match result {
        Err(OAuthClientError::Callback(error)) => error,
        other => panic!("expected a callback error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_response_from_another_issuer_is_rejected() {
    let bed = Bed::start(config(false)).await;
    let genuine = callback(&bed).await;
    let forged = with_param(&genuine, "iss", Some("https://attacker.example"));
    let error = callback_error(bed.client.complete_authorization(&forged).await);
    assert!(
        matches!(&error, CallbackError::IssuerMismatch { received: Some(r), .. } if r == "https://attacker.example"),
        "{error:?}"
    );
    assert_eq!(
        bed.count_step("token (authorization code)"),
        0,
        "the code was not redeemed"
    );
    // The request is spent: replaying the genuine response now fails too.
    let error = callback_error(bed.client.complete_authorization(&genuine).await);
    assert_eq!(error, CallbackError::UnknownState);
}

#[tokio::test]
async fn a_missing_iss_is_rejected_when_the_server_announces_it() {
    let bed = Bed::start(config(false)).await;
    let stripped = with_param(&callback(&bed).await, "iss", None);
    let error = callback_error(bed.client.complete_authorization(&stripped).await);
    assert!(
        matches!(error, CallbackError::IssuerMismatch { received: None, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn unknown_and_reused_state_are_rejected() {
    let bed = Bed::start(config(false)).await;
    let genuine = callback(&bed).await;
    let unknown = with_param(&genuine, "state", Some("never-issued"));
    assert_eq!(
        callback_error(bed.client.complete_authorization(&unknown).await),
        CallbackError::UnknownState
    );
    let no_state = with_param(&genuine, "state", None);
    assert_eq!(
        callback_error(bed.client.complete_authorization(&no_state).await),
        CallbackError::MissingState
    );
    bed.client.complete_authorization(&genuine).await.unwrap();
    assert_eq!(
        callback_error(bed.client.complete_authorization(&genuine).await),
        CallbackError::UnknownState
    );
}
