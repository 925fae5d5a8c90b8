//! Every authorization flow of the CLI over MCP 2026-07-28, against a testbed server that speaks
//! only the stateless revision: a first sign-in, a silent refresh after expiry, a step-up to a
//! tool's scope, and a new sign-in once the tokens are revoked. No `initialize` is ever sent.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_shared::messages::{self, SilentRecovery};
use keyhole_testbed::TestbedConfig;

async fn modern_bed() -> Bed {
    let mut config = cli_fixture::config();
    config["servers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
        "name": "modern", "era": "modern", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
        "tools": [{"preset": "echo"}, {"preset": "weather", "requiredScopes": ["weather:read"]}]}));
    Bed::with_config(TestbedConfig::from_json_str(&config.to_string()).unwrap()).await
}

async fn run(bed: &Bed, words: &[&str]) -> (u8, FakeTerminal) {
    let url = bed.mcp_url("modern");
    let mut argv = vec!["--url", url.as_str(), "--non-interactive", "--yes"];
    argv.extend_from_slice(words);
    let mut t = FakeTerminal::new();
    let code = bed.run(&argv, &mut t).await;
    (code, t)
}

#[tokio::test]
async fn sign_in_refresh_step_up_and_sign_in_again_all_over_the_stateless_revision() {
    let bed = modern_bed().await;
    let echo = ["tools", "call", "echo", "--arg", "message=stateless"];
    let (code, t) = run(&bed, &echo).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("stateless"), "{}", t.stdout());
    assert_eq!(bed.token_grant_types().await, ["authorization_code"]);

    bed.control("tokens/expire", serde_json::json!({})).await;
    let (code, t) = run(&bed, &echo).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains(&messages::recovered_silently(SilentRecovery::Refresh)),
        "{}",
        t.stderr()
    );

    let weather = ["tools", "call", "get-weather", "--arg", "city=Paris"];
    let (code, t) = run(&bed, &weather).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("Paris"), "{}", t.stdout());
    let stored = bed.stored_token("modern").unwrap();
    assert!(stored.scopes.contains_str("weather:read"), "{stored:?}");

    bed.control(
        "tokens/expire",
        serde_json::json!({"includeRefreshTokens": true}),
    )
    .await;
    let (code, t) = run(&bed, &echo).await;
    assert_eq!(code, 0, "{}", t.stderr());
    let grants = bed.token_grant_types().await;
    assert_eq!(
        grants.iter().filter(|g| *g == "authorization_code").count(),
        3,
        "the first sign-in, the step-up and the sign-in after the revocation: {grants:?}"
    );
    let sessions = bed.control_get("sessions").await;
    assert!(
        !sessions.to_string().contains("\"modern\""),
        "no session was ever opened on the stateless server: {sessions}"
    );
}
