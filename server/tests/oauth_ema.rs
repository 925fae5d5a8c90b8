//! Enterprise-managed authorization: IdP sign-in (leg 1), token exchange for an ID-JAG (leg 2),
//! JWT-bearer grant (leg 3); silent re-mint on 401, step-up by re-mint after confirmation, and
//! back to leg 1 (never an ordinary redirect) once the ID token is unusable.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::messages::SilentRecovery;
use keyhole_shared::oauth_client::{
    EnterpriseConfig, Issuer, OAuthClientError, PreRegisteredClient, ServerConfig,
    TokenEndpointAuthMethod,
};
use keyhole_shared::recovery::{
    Authority as _, InteractiveFlow, RecoveryOutcome, StepUpGuard, StepUpMethod,
};
use oauth_fixture::{Bed, config, query_param};
use serde_json::json;

fn enterprise(bed: &Bed) -> ServerConfig {
    let mut idp_client = PreRegisteredClient::confidential("idp-client", "idp-secret");
    idp_client.auth_method = Some(TokenEndpointAuthMethod::ClientSecretPost);
    ServerConfig {
        enterprise: Some(EnterpriseConfig {
            idp_issuer: Issuer::new(bed.testbed.idp_url().unwrap()),
            idp_client,
            idp_scope: ScopeSet::parse("openid email"),
            resource_client: PreRegisteredClient::confidential("ema-client", "ema-secret"),
        }),
        ..ServerConfig::new(bed.mcp_url("ema"))
    }
}

#[tokio::test]
async fn three_legs_then_silent_remint_and_step_up() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("ema");
    bed.add_server(enterprise(&bed));
    let mut mcp = bed.mcp("ema");
    let challenge = mcp.initialize(None).await.challenge(None);

    // Leg 1: the sign-in goes to the IdP, with a nonce, never to the authorization server.
    let start = bed
        .client
        .connect_authorization(&server, Some(&challenge))
        .await
        .unwrap();
    let url = &start.authorization_url;
    assert!(
        url.starts_with(&format!("{}/authorize", bed.testbed.idp_url().unwrap())),
        "{url}"
    );
    assert_eq!(query_param(url, "scope").as_deref(), Some("openid email"));
    assert!(query_param(url, "nonce").is_some());
    let callback = bed.idp_sign_in(url).await;
    // Legs 2 and 3 run as part of completing the sign-in.
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert_eq!(grant.tokens.scopes, ScopeSet::parse("mcp"));
    assert_eq!(grant.issuer.as_str(), bed.testbed.issuer_url());
    assert_eq!(bed.count_step("token exchange (ID token → ID-JAG)"), 1);
    assert_eq!(bed.count_step("token (JWT bearer)"), 1);
    assert_eq!(bed.stored().idp_sessions.len(), 1);
    let token = grant.tokens.access_token.clone();
    assert_eq!(mcp.initialize(Some(token.expose())).await.status, 200);
    assert_eq!(mcp.call(token.expose(), "echo").await.status, 200);

    // A 401 re-mints silently with the cached ID token.
    assert_eq!(bed.control("tokens/expire", json!({})).await, 200);
    let refused = mcp.call(token.expose(), "echo").await;
    assert_eq!(refused.status, 401);
    let guard = StepUpGuard::new();
    let outcome = bed
        .client
        .handle_challenge(&server, &refused.challenge(None), Some(&token), &guard)
        .await;
    let RecoveryOutcome::Satisfied { tokens, via, .. } = outcome else {
        panic!("expected a silent re-mint, got {outcome:?}");
    };
    assert_eq!(via, SilentRecovery::EmaRemint);
    assert_eq!(bed.count_step("token exchange (ID token → ID-JAG)"), 2);
    assert_eq!(
        mcp.call(tokens.access_token.expose(), "echo").await.status,
        200
    );

    // A step-up asks first, then re-mints the union silently.
    let refused = mcp.call(tokens.access_token.expose(), "get-weather").await;
    assert_eq!(refused.status, 403);
    let outcome = bed
        .client
        .handle_challenge(
            &server,
            &refused.challenge(Some("get-weather")),
            Some(&tokens.access_token),
            &guard,
        )
        .await;
    let RecoveryOutcome::StepUpConfirm(plan) = outcome else {
        panic!("expected a step-up prompt, got {outcome:?}");
    };
    assert_eq!(plan.method, StepUpMethod::EmaRemint);
    assert_eq!(plan.requested, ScopeSet::parse("mcp weather:read"));
    let RecoveryOutcome::Satisfied { tokens, .. } =
        bed.client.confirm_step_up(&server, &plan).await
    else {
        panic!("expected the re-mint to succeed");
    };
    assert_eq!(tokens.scopes, ScopeSet::parse("mcp weather:read"));
    assert_eq!(
        mcp.call(tokens.access_token.expose(), "get-weather")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_unusable_id_token_leads_back_to_the_idp_never_to_a_redirect() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("ema");
    bed.add_server(enterprise(&bed));
    let mut mcp = bed.mcp("ema");
    let challenge = mcp.initialize(None).await.challenge(None);

    // Nothing cached yet: recovery asks for the IdP sign-in.
    let outcome = bed
        .client
        .handle_challenge(&server, &challenge, None, &StepUpGuard::new())
        .await;
    let RecoveryOutcome::Interactive(plan) = outcome else {
        panic!("expected an interactive sign-in, got {outcome:?}");
    };
    assert_eq!(plan.flow, InteractiveFlow::EnterpriseSignIn);
    assert_eq!(plan.requested, ScopeSet::parse("mcp"));
    assert_eq!(
        bed.count_step("authorization-server metadata"),
        2,
        "the AS and the IdP"
    );

    // An ordinary authorization-code request is refused for this server.
    let error = bed
        .client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap_err();
    assert_eq!(error, OAuthClientError::EnterpriseManaged, "{error}");

    // The ID token the IdP no longer accepts is dropped, and leg 1 is asked for again.
    let start = bed
        .client
        .begin_enterprise_sign_in(&server, &plan.requested)
        .await
        .unwrap();
    let callback = bed.idp_sign_in(&start.authorization_url).await;
    bed.client.complete_authorization(&callback).await.unwrap();
    bed.client
        .store()
        .update(|d| {
            for session in &mut d.idp_sessions {
                session.id_token = "not.a-valid.token".into();
            }
            Ok(())
        })
        .unwrap();
    let outcome = bed
        .client
        .handle_challenge(&server, &challenge, None, &StepUpGuard::new())
        .await;
    assert!(
        matches!(&outcome, RecoveryOutcome::Interactive(p) if p.flow == InteractiveFlow::EnterpriseSignIn),
        "{outcome:?}"
    );
    assert!(bed.stored().idp_sessions.is_empty());
}
