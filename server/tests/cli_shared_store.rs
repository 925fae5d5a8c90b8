//! Credentials are shared with the web app through the same store: a token already stored for the
//! server is used as is, with no authorization flow.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};

#[tokio::test]
async fn a_token_in_the_shared_store_is_used_without_signing_in() {
    let bed = Bed::start().await;
    let token = bed.seed_token("main", &["mcp"]);
    let url = bed.mcp_url("main");
    let mut t = FakeTerminal::new(); // no browser: any sign-in would fail
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--callback-port",
                "9",
                "tools",
                "call",
                "echo",
                "--arg",
                "message=stored",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("stored"));
    assert!(t.opened.lock().unwrap().is_empty(), "no browser was needed");
    assert_eq!(
        bed.testbed.sessions_used_by(&token).len(),
        1,
        "the stored token was presented"
    );
}
