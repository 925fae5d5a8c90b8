//! The real `keyhole cli auth status` and `auth forget` against a real `keyhole testbed` process:
//! what the store holds for a server (never a token value), forgetting its tokens (revoked at the
//! authorization server first), its client registration, or both — and, when the authorization
//! server restarts and forgets the client, an unattended command signs in again by itself.

use keyhole_e2e::cli::{Cli, CliOutput};
use keyhole_e2e::testbed::TestbedProcess;
use serde_json::{Value, json};

/// One OAuth-protected server; consent is automatic, so `--non-interactive` can sign in.
fn testbed_config() -> Value {
    json!({
        "servers": [
            {"name": "main", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
             "tools": [{"preset": "echo"}]}
        ],
        "oauth": {
            "scopesSupported": ["mcp"],
            "defaultScopes": ["mcp"],
            "accessTokenLifetimeSecs": 300,
            "refreshTokens": {"enabled": true, "rotate": true},
            "dynamicRegistration": true,
            "consent": "auto"
        }
    })
}

/// `keyhole testbed` on `port` (0: any free port), with the config above.
fn start_testbed(port: u16) -> TestbedProcess {
    TestbedProcess::start_on(&testbed_config().to_string(), port)
}

/// The tokens the authorization server issued (without their values).
async fn tokens(testbed: &TestbedProcess) -> Vec<Value> {
    reqwest::get(format!("{}/control/api/tokens", testbed.base_url()))
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

async fn succeeds(cli: &Cli, args: &[&str]) -> CliOutput {
    let output = cli.run(args).await;
    assert_eq!(output.code, 0, "keyhole cli {args:?}: {output:?}");
    output
}

/// `auth status --json` for `url`, checked to print no token value.
async fn status(cli: &Cli, url: &str) -> Value {
    let output = succeeds(cli, &["--url", url, "--json", "auth", "status"]).await;
    assert_no_token_value(cli, &output);
    output.json()["servers"][0].clone()
}

/// No access or refresh token the store holds appears in the output.
fn assert_no_token_value(cli: &Cli, output: &CliOutput) {
    fn collect(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value.as_str() {
                        Some(token) if key == "accessToken" || key == "refreshToken" => {
                            found.push(token.to_owned())
                        }
                        _ => collect(value, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
            _ => {}
        }
    }
    let store: Value = serde_json::from_str(&cli.store_text()).unwrap_or(Value::Null);
    let mut tokens = Vec::new();
    collect(&store, &mut tokens);
    for token in tokens {
        assert!(
            !output.stdout.contains(&token) && !output.stderr.contains(&token),
            "a token value was printed: {output:?}"
        );
    }
}

#[tokio::test]
async fn status_shows_what_is_held_and_forget_drops_tokens_the_registration_or_both() {
    let testbed = start_testbed(0);
    let url = testbed.mcp_url("main");
    let cli = Cli::new();

    let empty = succeeds(&cli, &["auth", "status"]).await;
    assert_eq!(
        empty.stdout.lines().collect::<Vec<_>>(),
        [
            "The OAuth store is empty.",
            &format!(
                "Secrets are kept in the store file {}.",
                cli.store_path().display()
            )
        ]
    );
    let unsaid = cli.run(&["--url", &url, "auth", "forget"]).await;
    assert_eq!(unsaid.code, 2, "bad usage: {unsaid:?}");
    assert!(unsaid.stderr.contains("--tokens"), "{unsaid:?}");

    let first = succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;
    assert!(
        first
            .stderr
            .contains("This server needs authorization: signing in."),
        "first sign-in wording: {first:?}"
    );
    let held = status(&cli, &url).await;
    assert_eq!(held["serverUrl"], url);
    assert_eq!(held["issuer"], format!("{}/oauth", testbed.base_url()));
    assert_eq!(held["client"]["source"], "dynamic");
    assert_eq!(held["tokens"]["refreshToken"], true);
    assert_eq!(held["tokens"]["expired"], false);
    let client_id = held["client"]["clientId"].as_str().unwrap().to_owned();
    let text = succeeds(&cli, &["--url", &url, "auth", "status"]).await;
    assert_no_token_value(&cli, &text);
    assert!(
        text.stdout.contains(&url)
            && text.stdout.contains(&client_id)
            && text.stdout.contains("refresh token held"),
        "{text:?}"
    );

    // Tokens only: revoked at the authorization server, the registration is kept.
    let forget = succeeds(&cli, &["--url", &url, "auth", "forget", "--tokens"]).await;
    assert!(
        forget
            .stdout
            .contains(&format!("Forgot 1 set of tokens for {url}.")),
        "{forget:?}"
    );
    assert!(forget.stdout.contains("Revoked"), "{forget:?}");
    let issued = tokens(&testbed).await;
    assert!(!issued.is_empty());
    assert!(
        issued.iter().all(|t| t["revoked"] == true),
        "every token revoked: {issued:?}"
    );
    let held = status(&cli, &url).await;
    assert!(held["tokens"].is_null(), "{held}");
    assert_eq!(held["client"]["clientId"], client_id.as_str(), "kept");
    succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;
    let held = status(&cli, &url).await;
    assert_eq!(held["client"]["clientId"], client_id.as_str(), "reused");

    // The registration (its tokens go with it): the next sign-in registers again.
    let forget = succeeds(&cli, &["--url", &url, "auth", "forget", "--client"]).await;
    assert!(
        forget.stdout.contains("1 client registration"),
        "{forget:?}"
    );
    let held = status(&cli, &url).await;
    assert!(
        held["client"].is_null() && held["tokens"].is_null(),
        "{held}"
    );
    succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;
    let held = status(&cli, &url).await;
    assert_ne!(
        held["client"]["clientId"],
        client_id.as_str(),
        "registered again"
    );

    // Both.
    let forget = succeeds(&cli, &["--url", &url, "auth", "forget", "--all"]).await;
    assert!(
        forget.stdout.contains(&format!(
            "Forgot 1 set of tokens and 1 client registration for {url}."
        )),
        "{forget:?}"
    );
    let text = succeeds(&cli, &["--url", &url, "auth", "status"]).await;
    assert!(
        text.stdout
            .contains("none held (the next sign-in registers one)")
            && text.stdout.contains("tokens                none held"),
        "{text:?}"
    );
}

#[tokio::test]
async fn after_the_authorization_server_restarts_an_unattended_command_signs_in_again() {
    let testbed = start_testbed(0);
    let port = testbed.port();
    let url = testbed.mcp_url("main");
    let cli = Cli::new();
    succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;
    let before = status(&cli, &url).await;

    // Same address, nothing remembered: the refresh token and the client are unknown to it.
    drop(testbed);
    let restarted = start_testbed(port);
    assert_eq!(restarted.mcp_url("main"), url);
    let again = succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;
    assert!(again.stdout.contains("echo"), "{again:?}");
    let after = status(&cli, &url).await;
    assert_ne!(
        after["client"]["clientId"], before["client"]["clientId"],
        "the forgotten registration was replaced"
    );
    assert_eq!(after["tokens"]["expired"], false, "{after}");
}

#[tokio::test]
async fn with_secrets_in_memory_the_store_file_holds_no_token_and_they_end_with_the_run() {
    let testbed = start_testbed(0);
    let url = testbed.mcp_url("main");
    let cli = Cli::new().with_secrets("memory");
    succeeds(&cli, &["--url", &url, "--non-interactive", "tools", "list"]).await;

    // The run signed in and wrote the store: its tokens are references, never values.
    let store: Value = serde_json::from_str(&cli.store_text()).unwrap();
    let tokens = &store["credentials"][0]["tokens"];
    for name in ["access_token", "refresh_token"] {
        let written = tokens[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {store}"));
        assert!(written.starts_with("keyhole-secret:"), "{name}: {written}");
    }

    // The next run has no memory of them: nothing is held, and it says where secrets are kept.
    let after = succeeds(&cli, &["--url", &url, "auth", "status"]).await;
    assert!(
        after
            .stdout
            .contains("Secrets are kept in this process's memory"),
        "{after:?}"
    );
    let held = status(&cli, &url).await;
    assert_eq!(held["tokens"], Value::Null, "{held}");
}
