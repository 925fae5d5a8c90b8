//! The engine's rules (ARCHITECTURE.md, “One recovery”), once for every surface: a fake
//! transport that answers as scripted, a fake surface that records what it was asked to do, and
//! the recovery fakes as the authority.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::executor::block_on;
use futures::future::join;

use super::fakes::*;
use crate::challenge::{AuthChallenge, ChallengeContext};
use crate::messages::SilentRecovery;
use crate::recovery::*;
use crate::resume::Trigger;
use crate::secret::Secret;
use crate::tokens::Tokens;

const URL: &str = "https://mcp.example/mcp";

type Bearer = Rc<RefCell<Option<Secret>>>;

/// The upstream server: one scripted answer per send; records the token each send carried.
struct Wire {
    bearer: Bearer,
    answers: RefCell<VecDeque<Result<&'static str, Refused<String>>>>,
    sent_with: RefCell<Vec<Option<String>>>,
}

impl Wire {
    fn new(bearer: &Bearer) -> Self {
        Self {
            bearer: bearer.clone(),
            answers: RefCell::default(),
            sent_with: RefCell::default(),
        }
    }

    fn answers(
        self,
        answers: impl IntoIterator<Item = Result<&'static str, Refused<String>>>,
    ) -> Self {
        self.answers.borrow_mut().extend(answers);
        self
    }

    async fn send(&self) -> Result<&'static str, Refused<String>> {
        let carried = self.bearer.borrow().as_ref().map(|s| s.expose().to_owned());
        self.sent_with.borrow_mut().push(carried);
        yield_now().await;
        let next = self.answers.borrow_mut().pop_front();
        next.unwrap_or(Ok("ok"))
    }

    fn sends(&self) -> Vec<Option<String>> {
        self.sent_with.borrow().clone()
    }
}

/// Records every request the engine makes of the surface.
struct FakeSurface {
    bearer: Bearer,
    /// The answer to every question.
    consents: bool,
    /// What a sign-in installs; `None`: the sign-in fails.
    sign_in_gives: Option<Tokens>,
    postpones: bool,
    guard: Rc<RefCell<StepUpGuard>>,
    log: Vec<String>,
}

impl FakeSurface {
    fn new(bearer: Option<&str>) -> Self {
        Self {
            bearer: Rc::new(RefCell::new(bearer.map(Secret::new))),
            consents: true,
            sign_in_gives: Some(tokens("signed-in", "read write", None)),
            postpones: false,
            guard: Rc::default(),
            log: Vec::new(),
        }
    }

    fn wire(&self) -> Wire {
        Wire::new(&self.bearer)
    }

    fn attempts(&self, context: &ChallengeContext) -> u32 {
        self.guard.borrow().attempts(URL, context)
    }
}

impl Surface for FakeSurface {
    type Error = String;

    fn bearer(&self) -> Option<Secret> {
        self.bearer.borrow().clone()
    }

    async fn install(&mut self, tokens: Option<&Tokens>) -> Result<(), String> {
        let token = tokens.map(|t| t.access_token.clone());
        let shown = token.as_ref().map_or("none", Secret::expose).to_owned();
        self.log.push(format!("install {shown}"));
        *self.bearer.borrow_mut() = token;
        Ok(())
    }

    fn notify(&mut self, notice: Notice<'_>) {
        self.log.push(match notice {
            Notice::Recovered { via, storage_error } => {
                format!("recovered {via:?} saved={}", storage_error.is_none())
            }
            Notice::StoredTokenDropped { status } => format!("dropped after {status}"),
        });
    }

    async fn confirm(&mut self, question: Question<'_, String>) -> Result<(), String> {
        self.log.push(match question {
            Question::StepUp(plan) => format!("ask step-up {}", plan.requested),
            Question::Reauthorize { status, .. } => format!("ask reauthorize {status}"),
        });
        if self.consents {
            Ok(())
        } else {
            Err("declined".into())
        }
    }

    async fn sign_in(&mut self, request: SignIn<'_>) -> Result<(), String> {
        self.log.push(format!(
            "sign-in {:?} reason={:?} automatic={}",
            request.kind, request.reason, request.automatic
        ));
        match self.sign_in_gives.clone() {
            Some(tokens) => self.install(Some(&tokens)).await,
            None => Err("sign-in failed".into()),
        }
    }

    fn stop(&mut self, stop: Stop<'_>) -> String {
        let text = match stop {
            Stop::Failed { error, .. } => error.to_string(),
            Stop::ChallengedAfterRetry => RecoveryError::ChallengedAfterRetry.to_string(),
        };
        self.log.push(format!("stop: {text}"));
        text
    }

    fn postpone(&mut self, _: &AuthChallenge, _: &Origin) -> Option<String> {
        self.postpones.then(|| {
            self.log.push("postponed".into());
            "later".to_owned()
        })
    }

    fn step_ups(&self) -> StepUpGuard {
        self.guard.borrow().clone()
    }

    fn keep_step_ups(&self, guard: &StepUpGuard) {
        *self.guard.borrow_mut() = guard.clone();
    }
}

fn call_context() -> ChallengeContext {
    expired_challenge().context
}

/// Runs one message through the engine.
fn run(
    world: &World,
    surface: &mut FakeSurface,
    wire: &Wire,
    origin: &Origin,
) -> Result<&'static str, String> {
    let engine = Engine::new();
    block_on(engine.run(world, surface, URL, &call_context(), origin, || wire.send()))
}

/// A world holding `old` (its refresh gives `fresh`), and a surface sending `old`.
fn refreshable() -> (World, FakeSurface) {
    let world = World::new(false);
    world.hold(tokens("old", "read", Some("rt")));
    world.script_refresh(Ok(response("fresh", None)));
    (world, FakeSurface::new(Some("old")))
}

/// A world holding `t` with the scope `read`, and a surface sending `t`.
fn holding_read() -> (World, FakeSurface) {
    let world = World::new(false);
    world.hold(tokens("t", "read", Some("rt")));
    (world, FakeSurface::new(Some("t")))
}

fn command() -> Origin {
    Origin::command("tools/call", Some("t".into()))
}

fn refused(challenge: AuthChallenge) -> Result<&'static str, Refused<String>> {
    Err(Refused::Challenge(Box::new(challenge)))
}

fn not_recognised() -> Result<&'static str, Refused<String>> {
    Err(Refused::NotRecognised {
        status: 401,
        error: "HTTP 401".into(),
    })
}

fn carried(tokens: &[&str]) -> Vec<Option<String>> {
    tokens.iter().map(|t| Some((*t).to_owned())).collect()
}

#[test]
fn a_silent_refresh_installs_the_token_and_sends_the_same_message_once_more() {
    let (world, mut surface) = refreshable();
    let wire = surface.wire().answers([refused(expired_challenge())]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(wire.sends(), carried(&["old", "fresh"]));
    assert_eq!(
        surface.log,
        ["install fresh", "recovered Refresh saved=true"]
    );
}

#[test]
fn tokens_that_could_not_be_saved_still_work_and_the_surface_says_so() {
    let world = World::new(false);
    world.hold(tokens("old", "read", Some("rt")));
    world.store.fail_saves.set(true);
    world.script_refresh(Ok(response("fresh", None)));
    let mut surface = FakeSurface::new(Some("old"));
    let wire = surface.wire().answers([refused(expired_challenge())]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log,
        ["install fresh", "recovered Refresh saved=false"]
    );
}

#[test]
fn a_401_refused_again_after_the_recovery_is_final() {
    let (world, mut surface) = refreshable();
    let wire = surface
        .wire()
        .answers([refused(expired_challenge()), refused(expired_challenge())]);
    let error = run(&world, &mut surface, &wire, &command()).unwrap_err();
    assert_eq!(error, RecoveryError::ChallengedAfterRetry.to_string());
    assert_eq!(
        wire.sends().len(),
        2,
        "sent once, then once more: never a third time"
    );
}

#[test]
fn a_401_without_a_token_signs_in_for_the_first_time() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(None);
    let wire = surface
        .wire()
        .answers([refused(challenge(401, "Bearer", None))]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log,
        [
            "sign-in Relogin reason=Some(First) automatic=true",
            "install signed-in"
        ]
    );
    assert_eq!(wire.sends(), [None, Some("signed-in".into())]);
}

#[test]
fn a_401_without_a_bearer_challenge_refreshes_before_signing_in() {
    let (world, mut surface) = refreshable();
    let status_only = AuthChallenge::from_refusal(401, &[], call_context()).unwrap();
    let wire = surface.wire().answers([refused(status_only)]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(surface.log[1], "recovered Refresh saved=true");
}

#[test]
fn an_expired_token_that_cannot_be_refreshed_signs_in_again() {
    let world = World::new(false);
    world.hold(tokens("old", "read", Some("rt")));
    let mut surface = FakeSurface::new(Some("old"));
    let wire = surface.wire().answers([refused(expired_challenge())]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log[0],
        "sign-in Relogin reason=Some(Expired) automatic=true"
    );
}

#[test]
fn a_step_up_asks_then_signs_in_with_the_union_and_resends() {
    let (world, mut surface) = holding_read();
    let wire = surface
        .wire()
        .answers([refused(step_up_challenge("write", "t"))]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log,
        [
            "ask step-up read write",
            "sign-in StepUp reason=None automatic=false",
            "install signed-in"
        ]
    );
    assert_eq!(wire.sends(), carried(&["t", "signed-in"]));
}

#[test]
fn a_declined_step_up_sends_nothing_more() {
    let (world, mut surface) = holding_read();
    surface.consents = false;
    let wire = surface
        .wire()
        .answers([refused(step_up_challenge("write", "t"))]);
    assert_eq!(
        run(&world, &mut surface, &wire, &command()),
        Err("declined".into())
    );
    assert_eq!(wire.sends().len(), 1);
    assert_eq!(world.authorizer.calls.get(), 0, "nothing prepared");
}

#[test]
fn asking_from_the_banner_is_the_confirmation() {
    let (world, mut surface) = holding_read();
    let origin = Origin {
        trigger: Trigger::Banner,
        asked: true,
        connecting: false,
    };
    let challenge = step_up_challenge("write", "t");
    block_on(Engine::new().recover(&world, &mut surface, URL, &challenge, &origin)).unwrap();
    assert_eq!(
        surface.log,
        [
            "sign-in StepUp reason=None automatic=false",
            "install signed-in"
        ]
    );
}

#[test]
fn an_ema_step_up_is_reminted_after_the_user_agrees() {
    let world = World::new(true);
    world.hold(tokens("t", "read", None));
    world.script_ema(Ok(response("reminted", Some("read write"))));
    let mut surface = FakeSurface::new(Some("t"));
    let wire = surface
        .wire()
        .answers([refused(step_up_challenge("write", "t"))]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log,
        [
            "ask step-up read write",
            "install reminted",
            "recovered EmaRemint saved=true"
        ]
    );
}

#[test]
fn a_server_that_keeps_asking_for_scope_gets_three_step_ups_then_the_limit() {
    let (world, mut surface) = holding_read();
    let wire = surface
        .wire()
        .answers((0..10).map(|_| refused(step_up_challenge("write", "t"))));
    let error = run(&world, &mut surface, &wire, &command()).unwrap_err();
    assert_eq!(
        error,
        RecoveryError::StepUpLimit {
            attempts: MAX_STEP_UP_ATTEMPTS
        }
        .to_string()
    );
    assert_eq!(
        wire.sends().len(),
        4,
        "once, then after each of three step-ups"
    );
    assert_eq!(
        surface.attempts(&step_up_challenge("write", "t").context),
        3
    );
}

#[test]
fn success_resets_the_step_up_count_and_a_failure_keeps_it() {
    let (world, mut surface) = holding_read();
    surface.consents = false;
    let context = step_up_challenge("write", "t").context;
    let declined = surface
        .wire()
        .answers([refused(step_up_challenge("write", "t"))]);
    run(&world, &mut surface, &declined, &command()).unwrap_err();
    assert_eq!(surface.attempts(&context), 1, "a failure keeps the count");
    let fine = surface.wire();
    run(&world, &mut surface, &fine, &command()).unwrap();
    assert_eq!(surface.attempts(&context), 0, "the operation went through");
}

#[test]
fn connecting_with_a_refused_stored_token_drops_it_and_connects_without() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(Some("stale"));
    let wire = surface
        .wire()
        .answers([not_recognised(), refused(challenge(401, "Bearer", None))]);
    assert_eq!(
        run(&world, &mut surface, &wire, &Origin::connect()),
        Ok("ok")
    );
    assert_eq!(
        surface.log,
        [
            "dropped after 401",
            "install none",
            "sign-in Relogin reason=Some(NotRecognised) automatic=true",
            "install signed-in"
        ]
    );
    assert_eq!(
        wire.sends(),
        [Some("stale".into()), None, Some("signed-in".into())]
    );
}

#[test]
fn mid_session_a_token_not_recognised_asks_before_signing_in_again() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(Some("t"));
    let wire = surface.wire().answers([not_recognised()]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(surface.log[0], "ask reauthorize 401");
    assert_eq!(
        surface.log[1],
        "sign-in Relogin reason=Some(NotRecognised) automatic=true"
    );

    let mut declining = FakeSurface::new(Some("t"));
    declining.consents = false;
    let wire = declining.wire().answers([not_recognised()]);
    assert_eq!(
        run(&world, &mut declining, &wire, &command()),
        Err("declined".into())
    );
    assert_eq!(wire.sends().len(), 1, "not sent again");
}

#[test]
fn a_refusal_without_a_challenge_after_the_retry_is_reported_as_is() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(Some("t"));
    let wire = surface.wire().answers([not_recognised(), not_recognised()]);
    assert_eq!(
        run(&world, &mut surface, &wire, &command()),
        Err("HTTP 401".into())
    );
    assert_eq!(wire.sends().len(), 2);
}

#[test]
fn a_forbidden_refusal_stops_with_the_reason() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(Some("t"));
    let forbidden = challenge(403, r#"Bearer error="access_denied""#, Some("t"));
    let wire = surface.wire().answers([refused(forbidden)]);
    let error = run(&world, &mut surface, &wire, &command()).unwrap_err();
    assert!(surface.log[0].starts_with("stop: "), "{:?}", surface.log);
    assert_eq!(surface.log[0], format!("stop: {error}"));
}

#[test]
fn a_postponed_recovery_asks_nothing_and_sends_nothing_more() {
    let (world, mut surface) = holding_read();
    surface.postpones = true;
    let wire = surface
        .wire()
        .answers([refused(step_up_challenge("write", "t"))]);
    assert_eq!(
        run(&world, &mut surface, &wire, &command()),
        Err("later".into())
    );
    assert_eq!(surface.log, ["postponed"]);
    assert_eq!(wire.sends().len(), 1);
}

#[test]
fn a_silent_answer_is_not_postponed() {
    let (world, mut surface) = refreshable();
    surface.postpones = true;
    let wire = surface.wire().answers([refused(expired_challenge())]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
}

#[test]
fn a_failed_sign_in_is_the_error_and_nothing_is_resent() {
    let world = World::new(false);
    let mut surface = FakeSurface::new(None);
    surface.sign_in_gives = None;
    let wire = surface
        .wire()
        .answers([refused(challenge(401, "Bearer", None))]);
    assert_eq!(
        run(&world, &mut surface, &wire, &command()),
        Err("sign-in failed".into())
    );
    assert_eq!(wire.sends().len(), 1);
}

/// Two surfaces whose tokens are refused at once, for `first_url` and `second_url`, through one
/// engine; returns the world, both surfaces and both results.
fn refused_at_once(
    first_url: &str,
    second_url: &str,
) -> (World, [FakeSurface; 2], [Result<&'static str, String>; 2]) {
    let world = World::new(false);
    world.hold(tokens("old", "read", Some("rt")));
    world.script_refresh(Ok(response("fresh", None)));
    world.script_refresh(Ok(response("fresher", None)));
    let engine = Engine::new();
    let (mut a, mut b) = (FakeSurface::new(Some("old")), FakeSurface::new(Some("old")));
    let (wire_a, wire_b) = (
        a.wire().answers([refused(expired_challenge())]),
        b.wire().answers([refused(expired_challenge())]),
    );
    let (context, origin) = (call_context(), command());
    let (first, second) = block_on(join(
        engine.run(&world, &mut a, first_url, &context, &origin, || {
            wire_a.send()
        }),
        engine.run(&world, &mut b, second_url, &context, &origin, || {
            wire_b.send()
        }),
    ));
    (world, [a, b], [first, second])
}

#[test]
fn concurrent_refusals_for_one_server_refresh_once() {
    let (world, [_, second], results) = refused_at_once(URL, URL);
    assert_eq!(results, [Ok("ok"), Ok("ok")]);
    assert_eq!(
        world.refresher.calls.borrow().len(),
        1,
        "the second found the stored token"
    );
    assert_eq!(
        second.log[1],
        format!("recovered {:?} saved=true", SilentRecovery::Storage)
    );
}

#[test]
fn recoveries_for_different_servers_do_not_wait_for_each_other() {
    let (world, _, results) = refused_at_once(URL, "https://other/mcp");
    assert_eq!(results, [Ok("ok"), Ok("ok")]);
    assert_eq!(
        world.refresher.calls.borrow().len(),
        2,
        "both refreshed at once: the turns are per server"
    );
}

#[test]
fn a_stored_token_within_30_s_of_expiry_is_refreshed_not_offered_again() {
    let world = World::new(false);
    let mut almost = tokens("almost", "read", Some("rt"));
    almost.expires_at = Some(NOW + crate::tokens::EXPIRY_LEEWAY_SECS - 1);
    world.hold(almost);
    world.script_refresh(Ok(response("fresh", None)));
    let mut surface = FakeSurface::new(Some("old"));
    let wire = surface.wire().answers([refused(expired_challenge())]);
    assert_eq!(run(&world, &mut surface, &wire, &command()), Ok("ok"));
    assert_eq!(
        surface.log[1], "recovered Refresh saved=true",
        "one expiry rule: a token about to expire counts as expired"
    );
    assert_eq!(wire.sends(), carried(&["old", "fresh"]));
}
