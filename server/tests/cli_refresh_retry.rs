//! A 401 mid-session: silent refresh with the stored refresh token, then the same request once more.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_shared::messages::{self, SilentRecovery};

/// `tools call echo` with neither a browser nor `--non-interactive`: only a refresh can help.
async fn echo_again(bed: &Bed, url: &str, t: &mut FakeTerminal) -> u8 {
    let argv = [
        "--url",
        url,
        "--auth-timeout",
        "2",
        "tools",
        "call",
        "echo",
        "--arg",
        "message=again",
    ];
    bed.run(&argv, t).await
}

/// A bed signed in to `main` whose next `tools/call` requests are refused as `refusal` says
/// (a `fail-next` body without `method`); returns the bed and `main`'s URL.
async fn signed_in_refusing_calls(refusal: serde_json::Value) -> (Bed, String) {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    bed.sign_in("main").await;
    let mut body = refusal;
    body["method"] = "tools/call".into();
    bed.control("servers/main/fail-next", body).await;
    (bed, url)
}

/// The refresh toast went to stderr, nobody was sent to sign in, and the token endpoint saw the
/// sign-in and one refresh.
async fn renewed_by_one_refresh(bed: &Bed, t: &FakeTerminal) {
    assert!(
        t.stderr()
            .contains(&messages::recovered_silently(SilentRecovery::Refresh)),
        "{}",
        t.stderr()
    );
    assert!(t.opened.lock().unwrap().is_empty(), "no sign-in was tried");
    assert_eq!(
        bed.token_grant_types().await,
        ["authorization_code", "refresh_token"]
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_call_retried() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    bed.sign_in("main").await;
    let before = bed.stored_token("main").unwrap();

    bed.control("tokens/expire", serde_json::json!({})).await;

    // Neither a browser nor --non-interactive: only a refresh can help. (The same redirect URI,
    // i.e. callback port, as the sign-in: the refresh token belongs to that registered client.)
    let mut t = FakeTerminal::new();
    let code = echo_again(&bed, &url, &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("again"));
    assert!(
        t.stderr()
            .contains(&messages::recovered_silently(SilentRecovery::Refresh)),
        "{}",
        t.stderr()
    );
    assert!(t.opened.lock().unwrap().is_empty());
    let after = bed.stored_token("main").unwrap();
    assert_ne!(
        before.access_token.expose(),
        after.access_token.expose(),
        "the refreshed token is stored"
    );
}

#[tokio::test]
async fn a_refused_refresh_needs_authorization_and_exits_with_3() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--url", &url, "--non-interactive", "tools", "list"],
            &mut t
        )
        .await,
        0
    );
    bed.control(
        "tokens/expire",
        serde_json::json!({"includeRefreshTokens": true}),
    )
    .await;

    let mut t = FakeTerminal::new();
    let port = cli_fixture::free_port().to_string();
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--callback-port",
                &port,
                "--auth-timeout",
                "1",
                "tools",
                "list",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 3, "{}", t.stderr());
    assert_eq!(t.opened.lock().unwrap().len(), 1, "a sign-in was attempted");
}

#[tokio::test]
async fn a_call_refused_again_after_the_refresh_is_not_retried_twice() {
    // The call and its one retry are refused; the refresh between them works.
    let (bed, url) = signed_in_refusing_calls(serde_json::json!({"status": 401, "count": 2})).await;

    let mut t = FakeTerminal::new();
    let code = echo_again(&bed, &url, &mut t).await;
    assert_eq!(code, 3, "{}", t.stderr());
    renewed_by_one_refresh(&bed, &t).await;
    assert!(
        t.stderr()
            .ends_with(&format!("error: {}", messages::challenged_after_retry())),
        "{}",
        t.stderr()
    );
    assert!(t.stdout().is_empty(), "{}", t.stdout());
}

/// A 401 with no `WWW-Authenticate` at all is read as the hub reads it
/// (`AuthChallenge::from_refusal`): the token expired, so the stored refresh token renews it and
/// the call goes through, without a sign-in.
#[tokio::test]
async fn a_401_without_a_bearer_challenge_refreshes_before_signing_in() {
    let refusal = serde_json::json!({"status": 401, "withoutHeader": true});
    let (bed, url) = signed_in_refusing_calls(refusal).await;

    let mut t = FakeTerminal::new();
    let code = echo_again(&bed, &url, &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("again"), "{}", t.stdout());
    renewed_by_one_refresh(&bed, &t).await;
}

/// The store cannot be written (its lock file is a directory): the renewed token still answers
/// the call, and the CLI says so in the web app's words.
#[tokio::test]
async fn a_refresh_that_cannot_be_saved_still_works_and_says_so() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    bed.sign_in("main").await;
    let lock = bed.dir.path().join("oauth-store.json.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).expect("a directory where the store's lock file goes");
    bed.control("tokens/expire", serde_json::json!({})).await;

    let mut t = FakeTerminal::new();
    let code = echo_again(&bed, &url, &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("again"), "{}", t.stdout());
    let warning = t
        .stderr()
        .lines()
        .find(|l| l.starts_with(&messages::token_not_saved("")))
        .map(str::to_owned);
    let warning = warning.unwrap_or_else(|| panic!("no storage warning: {}", t.stderr()));
    assert!(
        warning.len() > messages::token_not_saved("").len(),
        "says why: {warning}"
    );
}
