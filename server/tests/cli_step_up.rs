//! A 403 insufficient_scope: `[y/N]` on a terminal (yes → union of scopes, one retry; no → exit 3),
//! `--yes` for scripts, exit 3 without a terminal.

mod cli_fixture;

use cli_fixture::{Bed, FakeTerminal};

async fn signed_in(bed: &Bed) {
    let mut t = FakeTerminal::new();
    let url = bed.mcp_url("main");
    assert_eq!(
        bed.run(
            &["--url", &url, "--non-interactive", "tools", "list"],
            &mut t
        )
        .await,
        0,
        "{}",
        t.stderr()
    );
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
    assert_eq!(t.prompts.len(), 1);
    assert!(
        t.prompts[0].contains("[y/N]") || t.prompts[0].contains("weather:read"),
        "{:?}",
        t.prompts
    );
    assert!(t.stderr().contains("weather:read"), "{}", t.stderr());
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
