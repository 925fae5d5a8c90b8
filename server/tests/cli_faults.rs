//! `keyhole cli --fault`: each fault is applied once connected, said on stderr, and the command
//! still succeeds through the usual recovery — a corrupted token from the store, a missing or
//! revoked one by a refresh; the store faults change what the store holds.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};

async fn echo_with_faults(bed: &Bed, faults: &[&str]) -> (u8, FakeTerminal) {
    let url = bed.mcp_url("main");
    let mut argv = vec!["--url", url.as_str(), "--non-interactive", "--json"];
    for fault in faults {
        argv.extend(["--fault", fault]);
    }
    argv.extend(["tools", "call", "echo", "--arg", "message=after the fault"]);
    let mut t = FakeTerminal::new();
    let code = bed.run(&argv, &mut t).await;
    (code, t)
}

/// A corrupted token is answered from the store; a request without a token by a refresh (the
/// recovery rules take a stored token for a 401 only when they know which token was refused).
#[tokio::test]
async fn a_corrupted_token_is_answered_from_the_store_and_a_missing_one_by_a_refresh() {
    let bed = Bed::start().await;
    bed.sign_in("main").await;
    let expected = [
        ("corrupt-token", vec!["authorization_code"]),
        (
            "forget-access-token",
            vec!["authorization_code", "refresh_token"],
        ),
    ];
    for (fault, grants) in expected {
        let (code, t) = echo_with_faults(&bed, &[fault]).await;
        assert_eq!(code, 0, "{fault}: {}", t.stderr());
        assert!(
            t.stderr().contains(&format!("fault {fault}:")),
            "{}",
            t.stderr()
        );
        assert!(t.stdout().contains("after the fault"), "{}", t.stdout());
        assert_eq!(
            bed.token_grant_types().await,
            grants,
            "{fault}: {}",
            t.stderr()
        );
    }
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_and_refresh_now_renews_at_once() {
    let bed = Bed::start().await;
    bed.sign_in("main").await;
    let (code, t) = echo_with_faults(&bed, &["revoke-token"]).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stderr().contains("Revoked the access token"),
        "{}",
        t.stderr()
    );
    assert_eq!(
        bed.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "the refusal of the revoked token was answered by a refresh"
    );
    let before = bed.stored_token("main").unwrap().access_token;
    let (code, t) = echo_with_faults(&bed, &["refresh-now"]).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert_eq!(bed.token_grant_types().await.len(), 3);
    assert_ne!(bed.stored_token("main").unwrap().access_token, before);
}

#[tokio::test]
async fn store_faults_change_the_store_and_a_bad_name_is_a_usage_error() {
    let bed = Bed::start().await;
    bed.sign_in("main").await;
    let (code, t) = echo_with_faults(&bed, &["drop-refresh-token", "expire-locally"]).await;
    assert_eq!(code, 0, "{}", t.stderr());
    let stored = bed.stored_token("main").unwrap();
    assert!(stored.refresh_token.is_none());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        stored.expires_at.is_some_and(|at| at <= now),
        "marked expired"
    );

    let args = keyhole_server::cli::parse_args(["--fault", "break-everything", "tools", "list"]);
    let message = args.expect_err("an unknown fault").to_string();
    assert!(message.contains("corrupt-token"), "{message}");
}
