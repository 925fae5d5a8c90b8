//! Signing in with the browser: the loopback callback on 127.0.0.1, the time limit, and the
//! tokens landing in the shared store for the next command.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal, free_port};

#[tokio::test]
async fn the_browser_comes_back_to_the_loopback_callback() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let port = free_port().to_string();
    let mut t = FakeTerminal::with_browser();
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--callback-port",
                &port,
                "--auth-timeout",
                "20",
                "tools",
                "call",
                "echo",
                "--arg",
                "message=signed in",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("signed in"));
    let opened = t.opened.lock().unwrap().clone();
    assert_eq!(opened.len(), 1);
    assert!(
        opened[0].contains(&format!(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback"
        )),
        "{}",
        opened[0]
    );
    assert!(t.stderr().contains(&opened[0]), "the URL is printed too");
    let stored = bed.stored_token("main").expect("tokens stored");

    // The next command uses the stored token: no browser.
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", &url, "--callback-port", &port, "tools", "list"],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.opened.lock().unwrap().is_empty());
    assert_eq!(
        bed.testbed
            .sessions_used_by(stored.access_token.expose())
            .len(),
        2
    );
}

#[tokio::test]
async fn no_answer_within_the_time_limit_exits_with_3() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let port = free_port().to_string();
    let mut t = FakeTerminal::new(); // a browser that never comes back
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
    assert!(t.stderr().contains("--auth-timeout"), "{}", t.stderr());
    assert!(bed.stored_token("main").is_none());
}
