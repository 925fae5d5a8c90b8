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
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    bed.sign_in("main").await;
    // The call and its one retry are refused; the refresh between them works.
    bed.control(
        "servers/main/fail-next",
        serde_json::json!({"status": 401, "count": 2, "method": "tools/call"}),
    )
    .await;

    let mut t = FakeTerminal::new();
    let code = echo_again(&bed, &url, &mut t).await;
    assert_eq!(code, 3, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains(&messages::recovered_silently(SilentRecovery::Refresh)),
        "{}",
        t.stderr()
    );
    assert!(
        t.stderr()
            .ends_with(&format!("error: {}", messages::challenged_after_retry())),
        "{}",
        t.stderr()
    );
    assert!(t.opened.lock().unwrap().is_empty(), "no sign-in was tried");
    assert_eq!(
        bed.token_grant_types().await,
        ["authorization_code", "refresh_token"]
    );
    assert!(t.stdout().is_empty(), "{}", t.stdout());
}
