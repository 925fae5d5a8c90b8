//! Workload identity federation with the CLI (`--workload-token-file`, `KEYHOLE_WORKLOAD_TOKEN`,
//! an `mcp.json` entry's `oauth.workloadTokenFile`): every challenge is answered with one
//! JWT-bearer grant carrying the workload's token for the configured client; a refusal is final —
//! no retry, no other grant — and said without the token. (A grant that succeeds is the
//! conformance suite's `auth/wif-jwt-bearer`, run by `scripts/conformance.sh`.)

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use serde_json::json;

const WORKLOAD_TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.workload-signature";

fn token_file(bed: &Bed) -> String {
    let path = bed.dir.path().join("workload-token");
    std::fs::write(&path, format!("{WORKLOAD_TOKEN}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_refused_workload_token_is_one_jwt_bearer_request_and_no_fallback() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let file = token_file(&bed);
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "--client-id",
        "workload-client",
        "--workload-token-file",
        &file,
        "tools",
        "list",
    ];
    let code = bed.run(&argv, &mut t).await;
    assert_eq!(code, 3, "authorization failed: {}", t.stderr());
    assert_eq!(
        bed.token_grant_types().await,
        ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "exactly one JWT-bearer request: no retry, no authorization-code fallback"
    );
    assert!(!t.stderr().contains(WORKLOAD_TOKEN), "{}", t.stderr());
    assert!(!t.stdout().contains(WORKLOAD_TOKEN));
    assert!(bed.stored_token("main").is_none());
}

#[tokio::test]
async fn an_entrys_workload_token_file_is_used_and_needs_a_client_id() {
    let bed = Bed::start().await;
    let file = token_file(&bed);
    let catalog = bed.dir.path().join("mcp.json");
    let entry = |oauth: serde_json::Value| {
        json!({"mcpServers": {"main": {"url": bed.mcp_url("main"), "oauth": oauth}}}).to_string()
    };
    std::fs::write(
        &catalog,
        entry(json!({"clientId": "workload-client", "workloadTokenFile": file})),
    )
    .unwrap();
    let catalog = catalog.to_str().unwrap().to_owned();
    let mut t = FakeTerminal::new();
    let argv = ["--config", &catalog, "--server", "main", "tools", "list"];
    assert_eq!(bed.run(&argv, &mut t).await, 3, "{}", t.stderr());
    assert_eq!(
        bed.token_grant_types().await,
        ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    );

    std::fs::write(&catalog, entry(json!({"workloadTokenFile": "/tmp/token"}))).unwrap();
    let mut t = FakeTerminal::new();
    assert_eq!(bed.run(&argv, &mut t).await, 2, "{}", t.stderr());
    assert!(
        t.stderr().contains("workloadTokenFile: needs the clientId"),
        "{}",
        t.stderr()
    );
}

#[tokio::test]
async fn a_missing_client_id_or_token_file_is_said_clearly() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("main");
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "--workload-token-file",
        "/nonexistent/token",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 2, "{}", t.stderr());
    assert!(t.stderr().contains("needs --client-id"), "{}", t.stderr());

    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "--client-id",
        "c",
        "--workload-token-file",
        "/nonexistent/token",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 3, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains("cannot read --workload-token-file /nonexistent/token"),
        "{}",
        t.stderr()
    );
    assert!(bed.token_grant_types().await.is_empty(), "nothing was sent");
}
