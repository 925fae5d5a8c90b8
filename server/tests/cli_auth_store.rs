//! `keyhole cli auth status` and `auth forget`: what the store holds for a server (never a token
//! value), and forgetting its tokens, its client registration or both — the way out when a server
//! forgot them. Also the wording of a first sign-in against an expired one.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use serde_json::json;

async fn sign_in(bed: &Bed, url: &str) -> FakeTerminal {
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", url, "--non-interactive", "tools", "list"],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    t
}

async fn status(bed: &Bed, url: &str) -> serde_json::Value {
    let mut t = FakeTerminal::new();
    let code = bed
        .run(&["--url", url, "--json", "auth", "status"], &mut t)
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    let token = bed
        .stored_token("main")
        .map(|t| t.access_token.expose().to_owned());
    if let Some(token) = token {
        assert!(!t.stdout().contains(&token), "no token value is printed");
    }
    t.json()
}

#[tokio::test]
async fn status_shows_what_is_held_and_forget_drops_tokens_then_the_registration() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let first = sign_in(&bed, &url).await;
    assert!(
        first
            .stderr()
            .contains("This server needs authorization: signing in."),
        "{}",
        first.stderr()
    );
    assert!(!first.stderr().contains("expired"), "{}", first.stderr());

    let held = status(&bed, &url).await;
    let server = &held["servers"][0];
    assert_eq!(server["serverUrl"], url);
    assert_eq!(server["client"]["source"], "dynamic");
    assert_eq!(server["tokens"]["refreshToken"], true);
    assert_eq!(server["tokens"]["expired"], false);
    let client_id = server["client"]["clientId"].clone();

    let mut t = FakeTerminal::new();
    let code = bed
        .run(&["--url", &url, "auth", "forget", "--tokens"], &mut t)
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stdout().contains("Forgot 1 set of tokens"),
        "{}",
        t.stdout()
    );
    assert!(bed.stored_token("main").is_none());
    let held = status(&bed, &url).await;
    assert!(held["servers"][0]["tokens"].is_null(), "{held}");
    assert_eq!(held["servers"][0]["client"]["clientId"], client_id, "kept");

    let mut t = FakeTerminal::new();
    let code = bed
        .run(&["--url", &url, "auth", "forget", "--client"], &mut t)
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stdout().contains("1 client registration"),
        "{}",
        t.stdout()
    );
    let held = status(&bed, &url).await;
    assert!(held["servers"][0]["client"].is_null(), "{held}");

    sign_in(&bed, &url).await;
    let held = status(&bed, &url).await;
    assert_ne!(
        held["servers"][0]["client"]["clientId"], client_id,
        "registered again"
    );
}

#[tokio::test]
async fn forget_needs_to_be_told_what() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let mut t = FakeTerminal::new();
    let args = keyhole_server::cli::parse_args(["--url", &url, "auth", "forget"]);
    assert!(args.is_err(), "clap refuses it");
    let code = bed.run(&["auth", "status"], &mut t).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stdout()
            .starts_with("The OAuth store is empty.\nSecrets are kept in the store file "),
        "{}",
        t.stdout()
    );
}

#[tokio::test]
async fn a_sign_in_after_the_tokens_expired_says_so() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    sign_in(&bed, &url).await;
    bed.control("tokens/expire", json!({"includeRefreshTokens": true}))
        .await;
    let again = sign_in(&bed, &url).await;
    assert!(
        again
            .stderr()
            .contains("has expired and could not be renewed silently"),
        "{}",
        again.stderr()
    );
    assert!(!again.stderr().contains("form will be kept"));
}
