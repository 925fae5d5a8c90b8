//! A 403 insufficient_scope: `[y/N]` on a terminal (yes → union of scopes, one retry; no → exit 3),
//! `--yes` for scripts, exit 3 without a terminal, and at most three step-ups for one call.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_shared::messages;
use keyhole_shared::recovery::MAX_STEP_UP_ATTEMPTS;

async fn signed_in(bed: &Bed) {
    bed.sign_in("main").await;
    assert!(
        !bed.stored_token("main")
            .unwrap()
            .scopes
            .contains_str("weather:read")
    );
}

async fn call_weather(bed: &Bed, extra: &[&str], t: &mut FakeTerminal) -> u8 {
    let url = bed.mcp_url("main");
    let mut argv = vec!["--url", url.as_str(), "--non-interactive"];
    argv.extend_from_slice(extra);
    argv.extend_from_slice(&["tools", "call", "get-weather", "--arg", "city=Paris"]);
    bed.run(&argv, t).await
}

#[tokio::test]
async fn answered_yes_reauthorizes_with_the_union_and_retries() {
    let bed = Bed::start().await;
    signed_in(&bed).await;
    let mut t = FakeTerminal {
        interactive: true,
        answer: true,
        ..FakeTerminal::new()
    };
    let code = call_weather(&bed, &[], &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("Paris"), "{}", t.stdout());
    assert_eq!(
        t.prompts,
        [format!(
            "Authorize again with {}?",
            messages::scope_list(&keyhole_shared::ScopeSet::parse("mcp weather:read"))
        )]
    );
    assert!(
        t.stderr().contains(&messages::step_up_needed(
            Some("get-weather"),
            &keyhole_shared::ScopeSet::parse("weather:read")
        )),
        "{}",
        t.stderr()
    );
    let stored = bed.stored_token("main").unwrap();
    assert!(stored.scopes.contains_str("mcp") && stored.scopes.contains_str("weather:read"));
}

#[tokio::test]
async fn answered_no_exits_with_3_and_keeps_the_token() {
    let bed = Bed::start().await;
    signed_in(&bed).await;
    let before = bed.stored_token("main").unwrap();
    let mut t = FakeTerminal {
        interactive: true,
        answer: false,
        ..FakeTerminal::new()
    };
    assert_eq!(call_weather(&bed, &[], &mut t).await, 3, "{}", t.stderr());
    assert_eq!(t.prompts.len(), 1);
    assert!(t.stderr().contains("declined"), "{}", t.stderr());
    assert_eq!(
        bed.stored_token("main").unwrap().access_token.expose(),
        before.access_token.expose()
    );
}

#[tokio::test]
async fn without_a_terminal_it_exits_with_3_unless_yes() {
    let bed = Bed::start().await;
    signed_in(&bed).await;
    let mut t = FakeTerminal::new();
    assert_eq!(call_weather(&bed, &[], &mut t).await, 3, "{}", t.stderr());
    assert!(t.prompts.is_empty());
    assert!(t.stderr().contains("--yes"), "{}", t.stderr());

    let mut t = FakeTerminal::new();
    assert_eq!(
        call_weather(&bed, &["--yes"], &mut t).await,
        0,
        "{}",
        t.stderr()
    );
    assert!(t.prompts.is_empty());
}

/// The server keeps refusing the call for want of scope, even with every scope granted: the
/// first step-up signs in, the next two refresh within the grant, and the fourth refusal stops.
#[tokio::test]
async fn a_call_gets_at_most_three_step_ups() {
    let bed = Bed::start().await;
    signed_in(&bed).await;
    bed.control(
        "servers/main/fail-next",
        serde_json::json!({"status": 403, "count": 10, "scopes": ["mcp", "weather:read"],
                           "method": "tools/call"}),
    )
    .await;
    let mut t = FakeTerminal::new();
    let code = call_weather(&bed, &["--yes"], &mut t).await;
    assert_eq!(code, 3, "{}", t.stderr());
    assert!(
        t.stderr().ends_with(&format!(
            "error: {}",
            messages::step_up_limit_reached(MAX_STEP_UP_ATTEMPTS)
        )),
        "{}",
        t.stderr()
    );
    let state = bed.control_get("state").await;
    let remaining = state["servers"][0]["pendingPostChallenge"]["remaining"]
        .as_u64()
        .unwrap();
    assert_eq!(
        remaining,
        10 - 4,
        "the call was sent four times: once, then after each of three step-ups"
    );
}
