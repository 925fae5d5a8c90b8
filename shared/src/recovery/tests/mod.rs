//! One test per recovery rule (ARCHITECTURE.md, “The decision”), over the fakes in `fakes`.

mod engine;
mod fakes;

use futures::executor::block_on;

use self::fakes::*;
use super::*;
use crate::challenge::ChallengeContext;
use crate::scopes::ScopeSet;
use crate::store::StoreError;

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s)
}

fn url_of(outcome: &RecoveryOutcome) -> &str {
    match outcome {
        RecoveryOutcome::Interactive(InteractivePlan {
            flow: InteractiveFlow::AuthorizationCode { authorization_url },
            ..
        }) => authorization_url,
        other => panic!("expected an authorization redirect, got {other:?}"),
    }
}

fn plan_of(outcome: RecoveryOutcome) -> StepUpPlan {
    match outcome {
        RecoveryOutcome::StepUpConfirm(plan) => plan,
        other => panic!("expected a step-up prompt, got {other:?}"),
    }
}

fn via_of(outcome: &RecoveryOutcome) -> SilentRecovery {
    match outcome {
        RecoveryOutcome::Satisfied { via, .. } => *via,
        other => panic!("expected a silent success, got {other:?}"),
    }
}

// --- check storage first ------------------------------------------------------------------------

#[test]
fn check_satisfied_rules() {
    let step_up = step_up_challenge("write", "t");
    let expired = expired_challenge();
    let good = tokens("new", "read write", None);
    let old = Secret::new("old");
    let sat = |c, t: Option<&Tokens>, r: Option<&Secret>| check_satisfied(c, t, r, NOW);

    assert!(!sat(&expired, None, Some(&old)), "nothing stored");
    assert!(
        sat(&expired, Some(&good), Some(&old)),
        "a different, live token"
    );
    assert!(
        !sat(&expired, Some(&good), None),
        "401 with unknown rejected token"
    );
    assert!(
        !sat(&expired, Some(&good), Some(&Secret::new("new"))),
        "same token was refused"
    );
    let mut stale = good.clone();
    stale.expires_at = Some(NOW + 5);
    assert!(
        !sat(&expired, Some(&stale), Some(&old)),
        "expired (within leeway)"
    );

    assert!(sat(&step_up, Some(&good), None), "holds the required scope");
    assert!(
        !sat(&step_up, Some(&tokens("new", "read", None)), None),
        "lacks it"
    );
    let no_scope = challenge(403, r#"Bearer error="insufficient_scope""#, None);
    assert!(
        !sat(&no_scope, Some(&good), Some(&old)),
        "no scope named: never satisfied"
    );
    let forbidden = challenge(403, r#"Bearer error="access_denied""#, None);
    assert!(!sat(&forbidden, Some(&good), Some(&old)));
}

#[test]
fn stored_token_from_elsewhere_answers_without_any_grant() {
    let world = World::new(false);
    world.hold(tokens("from-cli", "read", Some("rt")));
    let outcome = world.handle(&expired_challenge(), Some("refused"));
    assert_eq!(via_of(&outcome), SilentRecovery::Storage);
    assert!(world.refresher.calls.borrow().is_empty());
    assert_eq!(world.authorizer.calls.get(), 0);
    assert!(outcome.replays_automatically());
}

// --- 401: refresh once, else interactive (replacing the set) ------------------------------------

#[test]
fn unauthorized_refreshes_once_and_keeps_scopes() {
    let world = World::new(false);
    world.hold(tokens("old", "read write", Some("rt")));
    world.script_refresh(Ok(response("fresh", None)));
    let outcome = world.handle(&expired_challenge(), Some("old"));
    assert_eq!(via_of(&outcome), SilentRecovery::Refresh);
    assert_eq!(*world.refresher.calls.borrow(), vec![None]);
    let held = world.held().unwrap();
    assert_eq!(held.access_token.expose(), "fresh");
    assert_eq!(held.scopes, set("read write"));
    assert_eq!(
        held.refresh_token.unwrap().expose(),
        "rt",
        "unrotated refresh token kept"
    );
}

#[test]
fn failed_refresh_leads_to_sign_in_with_the_challenge_scope() {
    let mut world = World::new(false);
    world.server.configured_scopes = Some(set("conf"));
    world.hold(tokens("old", "read write admin", Some("rt")));
    world.script_refresh(Err(flow_failure("invalid_grant")));
    let c = challenge(401, r#"Bearer error="invalid_token", scope="read""#, None);
    let outcome = world.handle(&c, Some("old"));
    assert_eq!(
        world.refresher.calls.borrow().len(),
        1,
        "refresh is tried once"
    );
    assert!(
        url_of(&outcome).ends_with("scope=read"),
        "401 replaces, no union"
    );
    assert!(!outcome.replays_automatically());
    assert_eq!(
        world.store.saves.get(),
        0,
        "nothing persisted before a grant"
    );
    assert_eq!(
        outcome.message(),
        messages::session_expired_reauthenticating()
    );
}

#[test]
fn sign_in_falls_back_to_configured_then_supported_scopes() {
    let mut world = World::new(false);
    world.server.scopes_supported = Some(set("s1 s2"));
    let c = challenge(401, "Bearer", None);
    assert!(url_of(&world.handle(&c, None)).ends_with("scope=s1+s2"));
    world.server.configured_scopes = Some(set("conf"));
    assert!(url_of(&world.handle(&c, None)).ends_with("scope=conf"));
    assert_eq!(c.reason, crate::challenge::ChallengeReason::TokenExpired);
}

#[test]
fn expired_stored_token_is_refreshed_rather_than_reused() {
    let world = World::new(false);
    let mut stale = tokens("stale", "read", Some("rt"));
    stale.expires_at = Some(NOW - 1);
    world.hold(stale);
    world.script_refresh(Ok(response("fresh", Some("read"))));
    let outcome = world.handle(&expired_challenge(), Some("other"));
    assert_eq!(via_of(&outcome), SilentRecovery::Refresh);
}

// --- 403 ----------------------------------------------------------------------------------------

#[test]
fn forbidden_fails_without_touching_anything() {
    let world = World::new(false);
    let c = challenge(
        403,
        r#"Bearer error_description="not on this project""#,
        None,
    );
    let outcome = world.handle(&c, None);
    let RecoveryOutcome::Failed { error } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        *error,
        RecoveryError::Forbidden {
            description: Some("not on this project".into())
        }
    );
    assert!(outcome.message().contains("not on this project"));
    assert_eq!(world.authorizer.calls.get(), 0);
}

#[test]
fn step_up_asks_for_the_union_and_skips_a_refresh_that_cannot_widen() {
    let world = World::new(false);
    world.hold(tokens("t", "read", Some("rt")));
    let outcome = world.handle(&step_up_challenge("write read", "write_file"), Some("t"));
    let plan = plan_of(outcome);
    assert_eq!(plan.requested, set("read write"));
    assert_eq!(plan.new_scopes, set("write"));
    assert_eq!(plan.already_granted, set("read"));
    assert_eq!(plan.method, StepUpMethod::Redirect);
    assert_eq!(plan.tool_name.as_deref(), Some("write_file"));
    assert!(plan.message.contains("write_file"));
    assert!(
        world.refresher.calls.borrow().is_empty(),
        "union exceeds the token: no refresh"
    );
    assert_eq!(
        world.authorizer.calls.get(),
        0,
        "nothing visible before the user agrees"
    );

    let confirmed = block_on(confirm_step_up(world.ports(), &world.server, &plan));
    assert!(url_of(&confirmed).ends_with("scope=read+write"));
    assert_eq!(
        world.held().unwrap().scopes,
        set("read"),
        "union not persisted yet"
    );
}

#[test]
fn step_up_within_the_grant_tries_a_refresh_first() {
    let world = World::new(false);
    world.hold(tokens("t", "read write", Some("rt")));
    world.script_refresh(Ok(response("wider", Some("read write"))));
    let outcome = world.handle(&step_up_challenge("write", "t"), Some("t"));
    assert_eq!(via_of(&outcome), SilentRecovery::Refresh);
    assert_eq!(
        *world.refresher.calls.borrow(),
        vec![Some("read write".to_owned())]
    );
}

#[test]
fn a_refresh_that_falls_short_still_keeps_the_rotated_refresh_token() {
    let world = World::new(false);
    world.hold(tokens("t", "read write", Some("rt")));
    let mut narrower = response("narrow", Some("read"));
    narrower.refresh_token = Some(Secret::new("rt-rotated"));
    world.script_refresh(Ok(narrower));
    let outcome = world.handle(&step_up_challenge("write", "t"), Some("t"));
    plan_of(outcome);
    let held = world.held().expect("tokens kept");
    assert_eq!(
        held.refresh_token.as_ref().map(Secret::expose),
        Some("rt-rotated")
    );
    assert_eq!(held.scopes, set("read"));
}

#[test]
fn insufficient_scope_without_scope_is_never_satisfied() {
    let world = World::new(false);
    world.hold(tokens("t", "read write", Some("rt")));
    let c = challenge(403, r#"Bearer error="insufficient_scope""#, None);
    let plan = plan_of(world.handle(&c, Some("other")));
    assert!(plan.new_scopes.is_empty());
    assert_eq!(plan.requested, set("read write"));
    assert!(plan.message.contains("did not say which"));
    assert!(world.refresher.calls.borrow().is_empty());
}

#[test]
fn granted_scope_in_the_response_is_what_gets_stored() {
    let world = World::new(false);
    let requested = set("read write");
    let (tokens, saved) = block_on(record_grant(
        &world.store,
        &world.server,
        &requested,
        response("code-grant", Some("read")),
        NOW,
    ));
    assert!(saved.is_ok());
    assert_eq!(tokens.scopes, set("read"));
    assert_eq!(world.held().unwrap().scopes, set("read"));
    assert_eq!(
        requested.difference(&tokens.scopes),
        set("write"),
        "partial consent"
    );
}

#[test]
fn storage_failure_does_not_void_fresh_tokens() {
    let world = World::new(false);
    world.hold(tokens("old", "read", Some("rt")));
    world.store.fail_saves.set(true);
    world.script_refresh(Ok(response("fresh", None)));
    let outcome = world.handle(&expired_challenge(), Some("old"));
    let RecoveryOutcome::Satisfied { storage_error, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let error = storage_error.expect("the save failed");
    assert_eq!(
        error,
        OAuthClientError::Store(StoreError::Io("disk full".into()))
    );
    assert!(messages::token_not_saved(&error).ends_with("could not be accessed: disk full"));
}

// --- enterprise-managed authorization -----------------------------------------------------------

#[test]
fn ema_reminted_silently_on_401() {
    let world = World::new(true);
    world.hold(tokens("old", "read", Some("rt")));
    world.script_ema(Ok(response("minted", Some("read"))));
    let c = challenge(401, r#"Bearer error="invalid_token", scope="read""#, None);
    let outcome = world.handle(&c, Some("old"));
    assert_eq!(via_of(&outcome), SilentRecovery::EmaRemint);
    assert_eq!(*world.ema.calls.borrow(), vec!["read".to_owned()]);
    assert!(world.refresher.calls.borrow().is_empty());
    assert_eq!(world.held().unwrap().access_token.expose(), "minted");
}

#[test]
fn ema_never_falls_back_to_an_ordinary_redirect() {
    let world = World::new(true);
    world.script_ema(Err(EmaError::IdTokenUnusable));
    let outcome = world.handle(&expired_challenge(), None);
    let RecoveryOutcome::Interactive(plan) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(plan.flow, InteractiveFlow::EnterpriseSignIn);

    world.script_ema(Err(EmaError::Failed(flow_failure("IdP down"))));
    let outcome = world.handle(&expired_challenge(), None);
    assert!(matches!(
        outcome,
        RecoveryOutcome::Failed {
            error: RecoveryError::Ema(_)
        }
    ));
    assert!(outcome.message().contains("IdP down"));
    assert_eq!(world.authorizer.calls.get(), 0);
}

#[test]
fn ema_step_up_asks_first_then_remints_the_union() {
    let world = World::new(true);
    world.hold(tokens("t", "read", None));
    let plan = plan_of(world.handle(&step_up_challenge("admin", "t"), Some("t")));
    assert_eq!(plan.method, StepUpMethod::EmaRemint);
    assert!(
        world.ema.calls.borrow().is_empty(),
        "no re-mint before the user agrees"
    );
    world.script_ema(Ok(response("wide", None)));
    let outcome = block_on(confirm_step_up(world.ports(), &world.server, &plan));
    assert_eq!(via_of(&outcome), SilentRecovery::EmaRemint);
    assert_eq!(*world.ema.calls.borrow(), vec!["read admin".to_owned()]);
    assert_eq!(world.held().unwrap().scopes, set("read admin"));
    assert_eq!(world.authorizer.calls.get(), 0);
}

// --- loop guard ---------------------------------------------------------------------

#[test]
fn at_most_three_step_ups_per_server_and_operation() {
    let world = World::new(false);
    let c = step_up_challenge("admin", "delete");
    for _ in 0..MAX_STEP_UP_ATTEMPTS {
        plan_of(world.handle(&c, None));
    }
    let outcome = world.handle(&c, None);
    assert_eq!(
        outcome,
        RecoveryOutcome::Failed {
            error: RecoveryError::StepUpLimit { attempts: 3 }
        }
    );
    plan_of(world.handle(&step_up_challenge("admin", "other_tool"), None));
    let context = c.context.clone();
    world.guard.reset(&world.server.key.server_url, &context);
    assert_eq!(
        world.guard.attempts(&world.server.key.server_url, &context),
        0
    );
    plan_of(world.handle(&c, None));
    let unrelated = ChallengeContext::default();
    assert_eq!(world.guard.attempts("https://elsewhere", &unrelated), 0);
}

#[test]
fn step_up_counts_survive_a_page_load_as_text() {
    let guard = StepUpGuard::new();
    let call = ChallengeContext {
        method: Some("tools/call".into()),
        tool_name: Some("get\tweather".into()),
    };
    let read = ChallengeContext {
        method: Some("resources/read".into()),
        tool_name: None,
    };
    for _ in 0..MAX_STEP_UP_ATTEMPTS {
        guard.begin("https://a/mcp", &call).unwrap();
    }
    guard.begin("https://a/mcp", &read).unwrap();
    guard
        .begin("https://b/mcp", &ChallengeContext::default())
        .unwrap();

    let text = guard.to_text();
    assert_eq!(text.lines().count(), 3, "{text:?}");
    let reloaded = StepUpGuard::from_text(&text);
    let tab_free = ChallengeContext {
        tool_name: Some("get weather".into()),
        ..call.clone()
    };
    assert_eq!(
        reloaded.begin("https://a/mcp", &tab_free),
        Err(RecoveryError::StepUpLimit { attempts: 3 })
    );
    assert_eq!(reloaded.attempts("https://a/mcp", &read), 1);
    assert_eq!(
        reloaded.attempts("https://b/mcp", &ChallengeContext::default()),
        1
    );
    assert_eq!(StepUpGuard::from_text("garbage\n3\tonly-two").to_text(), "");
}
