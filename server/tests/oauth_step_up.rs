//! Step-up after `insufficient_scope`: the union of held and needed scopes, asked for after the
//! user's confirmation, with the refresh grant skipped when it could not widen the token; and a
//! silent refresh when the union stays within the grant.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::messages::SilentRecovery;
use keyhole_shared::recovery::{
    Authority as _, InteractiveFlow, RecoveryOutcome, StepUpGuard, StepUpMethod,
};
use keyhole_shared::tokens::Tokens;
use oauth_fixture::{Bed, config, query_param};
use serde_json::json;

async fn signed_in(bed: &Bed, scopes: &str) -> Tokens {
    let start = bed
        .client
        .begin_authorization(&bed.mcp_url("main"), &ScopeSet::parse(scopes))
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
async fn step_up_asks_for_the_union_and_skips_the_refresh() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let tokens = signed_in(&bed, "mcp").await;
    assert!(tokens.refresh_token.is_some());
    let mut mcp = bed.mcp("main");
    let token = tokens.access_token.expose();
    mcp.initialize(Some(token)).await;
    let refused = mcp.call(token, "get-weather").await;
    assert_eq!(refused.status, 403);
    let challenge = refused.challenge(Some("get-weather"));

    let guard = StepUpGuard::new();
    let outcome = bed
        .client
        .handle_challenge(&server, &challenge, Some(&tokens.access_token), &guard)
        .await;
    let RecoveryOutcome::StepUpConfirm(plan) = outcome else {
        panic!("expected a step-up prompt, got {outcome:?}");
    };
    assert_eq!(plan.requested, ScopeSet::parse("mcp weather:read"));
    assert_eq!(plan.new_scopes, ScopeSet::parse("weather:read"));
    assert_eq!(plan.already_granted, ScopeSet::parse("mcp"));
    assert_eq!(plan.method, StepUpMethod::Redirect);
    assert_eq!(
        bed.count_step("token (refresh)"),
        0,
        "a refresh cannot widen the grant"
    );
    // Nothing is persisted before the grant succeeds.
    let record = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(record.requested, ScopeSet::parse("mcp"));

    let RecoveryOutcome::Interactive(interactive) =
        bed.client.confirm_step_up(&server, &plan).await
    else {
        panic!("expected a redirect");
    };
    let InteractiveFlow::AuthorizationCode { authorization_url } = &interactive.flow else {
        panic!("expected an authorization-code redirect");
    };
    assert_eq!(
        query_param(authorization_url, "scope").as_deref(),
        Some("mcp weather:read")
    );
    let callback = bed.approve_all(authorization_url).await;
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert_eq!(grant.tokens.scopes, ScopeSet::parse("mcp weather:read"));
    let record = bed.stored().credential(&server, None).cloned().unwrap();
    assert_eq!(record.requested, ScopeSet::parse("mcp weather:read"));
    // The same MCP session goes on with the new token.
    let stepped_up = grant.tokens.access_token.expose();
    assert_eq!(mcp.call(stepped_up, "get-weather").await.status, 200);
}

#[tokio::test]
async fn a_union_within_the_grant_is_refreshed_silently() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let tokens = signed_in(&bed, "mcp weather:read").await;
    let token = tokens.access_token.expose();
    let mut mcp = bed.mcp("main");
    mcp.initialize(Some(token)).await;
    let forced = json!({"status": 403, "scopes": ["mcp", "weather:read"]});
    assert_eq!(bed.control("servers/main/fail-next", forced).await, 200);
    let refused = mcp.call(token, "get-weather").await;
    assert_eq!(refused.status, 403);
    let outcome = bed
        .client
        .handle_challenge(
            &server,
            &refused.challenge(Some("get-weather")),
            Some(&tokens.access_token),
            &StepUpGuard::new(),
        )
        .await;
    let RecoveryOutcome::Satisfied {
        tokens: fresh,
        via,
        storage_error,
    } = outcome
    else {
        panic!("expected a silent recovery, got {outcome:?}");
    };
    assert_eq!((via, storage_error), (SilentRecovery::Refresh, None));
    assert_eq!(bed.count_step("token (refresh)"), 1);
    assert_ne!(fresh.access_token, tokens.access_token);
    assert_eq!(
        mcp.call(fresh.access_token.expose(), "get-weather")
            .await
            .status,
        200
    );
}
