//! Interop with the TypeScript SDK's example server as shipped (`@modelcontextprotocol/sdk` from
//! npm, `simpleStreamableHttp.js --oauth`, and with `--oauth-strict`): its authorization server
//! approves at once, issues no refresh token, keeps everything in memory, and — its MCP server
//! sharing the process — answers an unknown token with HTTP 500 after a restart.
//!
//! Each: sign in, list and call a tool; restart the process (clients, tokens and MCP sessions
//! gone) → Keyhole says the server may not recognise the token, marks the connection, offers to
//! authorize again; the authorization server then turns down the forgotten client, and Keyhole
//! registers again by itself and lands on the same connection, tab and form, where the next
//! call works. In the browser and through the CLI.

use crate::common;

use common::Web;
use keyhole_e2e::cli::Cli;
use keyhole_e2e::interop::{Peers, TypeScriptExample};

async fn in_the_browser(strict: bool) {
    let Some(peers) = Peers::find() else { return };
    let mut server = TypeScriptExample::start(&peers, strict);
    let web = Web::start().await;

    web.connect(&server.mcp_url).await;
    web.wait_connected().await;
    web.run_tool("greet", &[("name", "before restart")]).await;
    web.wait_result("Hello, before restart!").await;
    let (first_client, _) = web.only_client().await;

    server.process.restart();
    web.browser.fill("tool-arg-name", "after restart").await;
    web.browser.click("tool-run").await;
    web.browser
        .wait_attr("tool-result", "data-state", &["error"])
        .await;
    web.browser
        .wait_text("tool-result", |t| t.contains("may no longer recognise"))
        .await;
    web.browser
        .wait_attr("connection-status", "data-trouble", &["true"])
        .await;
    web.browser
        .wait_text("reauth-reason", |t| t.contains("HTTP 500"))
        .await;

    // Authorizing again goes to the authorization server with the client it forgot: its raw
    // error page. Going back, Keyhole checks, registers again and signs in by itself.
    web.browser.click("reauth-button").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while web.browser.path().await != "/authorize" {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never reached /authorize"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(web.page_text().await.contains("invalid_client"));
    web.browser.client.back().await.unwrap();
    web.wait_connected().await;
    web.browser
        .wait_text("tool-rerun-notice", |t| t.contains("not sent again"))
        .await;
    assert_eq!(web.browser.value("tool-arg-name").await, "after restart");
    web.browser.click("tool-run-again").await;
    web.wait_result("Hello, after restart!").await;
    assert_eq!(
        web.browser
            .count("[data-testid=\"connection-status\"][data-trouble]")
            .await,
        0,
        "no longer in trouble"
    );
    let (second_client, _) = web.only_client().await;
    assert_ne!(second_client, first_client, "registered again");
    assert!(
        web.network_log_text().await.contains("before restart"),
        "the same connection"
    );
    web.close().await;
}

#[tokio::test]
async fn browser_with_oauth() {
    in_the_browser(false).await;
}

#[tokio::test]
async fn browser_with_oauth_strict() {
    in_the_browser(true).await;
}

async fn through_the_cli(strict: bool) {
    let Some(peers) = Peers::find() else { return };
    let mut server = TypeScriptExample::start(&peers, strict);
    let cli = Cli::new();
    let url = server.mcp_url.clone();
    // One callback port for every run: registrations are kept per redirect URI.
    let port = keyhole_e2e::interop::free_port().to_string();
    let greet = |name: &str| {
        vec![
            "--url".to_owned(),
            url.clone(),
            "--callback-port".to_owned(),
            port.clone(),
            "--non-interactive".to_owned(),
            "tools".to_owned(),
            "call".to_owned(),
            "greet".to_owned(),
            "--arg".to_owned(),
            format!("name={name}"),
        ]
    };
    let run = |args: Vec<String>| {
        let cli = &cli;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.run(&args).await
        }
    };
    let first = run(greet("first")).await;
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("Hello, first!"), "{first:?}");
    let list = run(vec![
        "--url".into(),
        url.clone(),
        "--non-interactive".into(),
        "tools".into(),
        "list".into(),
    ])
    .await;
    assert!(list.stdout.contains("greet"), "{list:?}");

    // Restarted: the stored token meets a 500, the stored client an unknown-client answer.
    server.process.restart();
    let second = run(greet("second")).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.stdout.contains("Hello, second!"), "{second:?}");
    assert!(
        second.stderr.contains("may no longer recognise"),
        "{second:?}"
    );
    assert!(
        second
            .stderr
            .contains("no longer knows Keyhole's client registration"),
        "{second:?}"
    );

    // Once more, signing in through the browser: the forgotten client is noticed before the
    // browser is sent to the authorization server's error page.
    server.process.restart();
    let args = [
        "--url",
        url.as_str(),
        "tools",
        "call",
        "greet",
        "--arg",
        "name=third",
    ];
    let mut with_port = args.to_vec();
    with_port.extend(["--callback-port", port.as_str()]);
    let third = cli
        .run_with_browser(&with_port, |authorization_url| async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let answer = http.get(&authorization_url).send().await.unwrap();
            assert_eq!(
                answer.status(),
                302,
                "the registration was made again first"
            );
            answer
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .await;
    assert_eq!(third.code, 0, "{third:?}");
    assert!(third.stdout.contains("Hello, third!"), "{third:?}");
    assert!(
        third
            .stderr
            .contains("no longer knows Keyhole's client registration"),
        "{third:?}"
    );

    let status = run(vec![
        "--url".into(),
        url.clone(),
        "--json".into(),
        "auth".into(),
        "status".into(),
    ])
    .await;
    assert_eq!(status.code, 0, "{status:?}");
    let status = status.json();
    assert_eq!(status["servers"][0]["client"]["source"], "dynamic");
    assert_eq!(status["servers"][0]["tokens"]["refreshToken"], false);
}

#[tokio::test]
async fn cli_with_oauth() {
    through_the_cli(false).await;
}

#[tokio::test]
async fn cli_with_oauth_strict() {
    through_the_cli(true).await;
}
