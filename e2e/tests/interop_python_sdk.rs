//! Interop with an OAuth-protected server built on the Python MCP SDK (`mcp` from PyPI: its
//! authorization-server routes with an in-memory provider and a login form, and its MCP server;
//! `e2e/fixtures/python_oauth_server.py`), once per token-endpoint authentication method the
//! authorization server assigns: `client_secret_post`, `client_secret_basic` and `none`.
//!
//! Each: sign in, list and call a tool; restart the authorization server (clients and tokens
//! gone) → Keyhole signs in again with a new registration, on the same connection, tab and form;
//! restart the MCP server → the next call works. In the browser and through the CLI; and once
//! more with the server on the HTTP+SSE transport of 2024-11-05 (the SDK's `sse_app`), which
//! Keyhole finds by itself: there the restart of the MCP server ends the stream, and Keyhole opens
//! a new one.

use crate::common;

use common::{Web, python_login};
use keyhole_e2e::cli::Cli;
use keyhole_e2e::interop::{Peers, PythonSdkServer, free_port};

fn method_name(client_auth: &str) -> &'static str {
    match client_auth {
        "post" => "client_secret_post",
        "basic" => "client_secret_basic",
        _ => "none",
    }
}

async fn in_the_browser(client_auth: &str) {
    in_the_browser_over(client_auth, "streamable-http").await;
}

async fn in_the_browser_over(client_auth: &str, transport: &str) {
    let Some(peers) = Peers::find() else { return };
    let mut server = PythonSdkServer::start(&peers, client_auth, transport);
    let web = Web::start().await;

    web.connect(&server.mcp_url).await;
    python_login(&web.browser).await;
    web.wait_connected().await;
    let shown = if transport == "sse" {
        "HTTP+SSE"
    } else {
        "Streamable HTTP"
    };
    web.browser.wait_text("transport", |t| t == shown).await;
    web.run_tool("echo", &[("message", "before restart")]).await;
    web.wait_result("echo: before restart").await;
    let (first_client, method) = web.only_client().await;
    assert_eq!(
        method,
        method_name(client_auth),
        "the method it was assigned"
    );

    // The authorization server restarts: the refresh token and the client are unknown to it.
    server.authorization_server.restart();
    web.browser.fill("tool-arg-message", "after restart").await;
    web.browser.click("tool-run").await;
    python_login(&web.browser).await;
    web.wait_connected().await;
    web.browser
        .wait_attr("tab-tools", "aria-selected", &["true"])
        .await;
    assert_eq!(web.browser.value("tool-arg-message").await, "after restart");
    web.browser
        .wait_text("tool-rerun-notice", |t| t.contains("not sent again"))
        .await;
    web.browser.click("tool-run-again").await;
    web.wait_result("echo: after restart").await;
    let (second_client, method) = web.only_client().await;
    assert_ne!(second_client, first_client, "registered again");
    assert_eq!(method, method_name(client_auth));
    assert!(
        web.network_log_text().await.contains("before restart"),
        "the same connection (its network log goes back before the restart)"
    );

    // The MCP server restarts: its sessions are gone, the tokens still good.
    server.mcp_server.restart();
    web.browser
        .fill("tool-arg-message", "after MCP restart")
        .await;
    web.browser.click("tool-run").await;
    web.wait_result("echo: after MCP restart").await;
    web.close().await;
}

#[tokio::test]
async fn browser_with_client_secret_post() {
    in_the_browser("post").await;
}

#[tokio::test]
async fn browser_with_client_secret_basic() {
    in_the_browser("basic").await;
}

#[tokio::test]
async fn browser_with_a_public_client() {
    in_the_browser("none").await;
}

async fn through_the_cli(client_auth: &str) {
    through_the_cli_over(client_auth, "streamable-http").await;
}

async fn through_the_cli_over(client_auth: &str, transport: &str) {
    let Some(peers) = Peers::find() else { return };
    let mut server = PythonSdkServer::start(&peers, client_auth, transport);
    let cli = Cli::new();
    let port = free_port().to_string();
    let url = server.mcp_url.clone();
    let call = |message: &'static str| {
        let arg = format!("message={message}");
        let (url, port) = (url.clone(), port.clone());
        [
            "--url".to_owned(),
            url,
            "--callback-port".to_owned(),
            port,
            "tools".to_owned(),
            "call".to_owned(),
            "echo".to_owned(),
            "--arg".to_owned(),
            arg,
        ]
    };
    let browser = |authorization_url: String| async move {
        Some(keyhole_e2e::interop::python_login(&authorization_url).await)
    };
    let args = call("first");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = cli.run_with_browser(&args, browser).await;
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("echo: first"), "{first:?}");
    assert!(
        first
            .stderr
            .contains("This server needs authorization: signing in."),
        "first sign-in wording: {first:?}"
    );
    assert!(!first.stderr.contains("expired"), "{first:?}");
    let status = cli
        .run(&["--url", &url, "--json", "auth", "status"])
        .await
        .json();
    let first_client = status["servers"][0]["client"]["clientId"].clone();
    assert_eq!(
        status["servers"][0]["client"]["authMethod"],
        method_name(client_auth)
    );
    assert_eq!(status["servers"][0]["tokens"]["refreshToken"], true);

    server.authorization_server.restart();
    let args = call("second");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = cli.run_with_browser(&args, browser).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.stdout.contains("echo: second"), "{second:?}");
    assert!(second.stderr.contains("expired"), "{second:?}");
    let status = cli.run(&["--url", &url, "--json", "auth", "status"]).await;
    assert!(!status.stdout.contains("py-at-") && !status.stdout.contains("py-rt-"));
    assert_ne!(
        status.json()["servers"][0]["client"]["clientId"],
        first_client
    );

    server.mcp_server.restart();
    let args = call("third");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let third = cli.run(&args).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert!(third.stdout.contains("echo: third"), "{third:?}");

    // A way out, and a sign-in page is named as such in non-interactive mode.
    let forget = cli.run(&["--url", &url, "auth", "forget", "--all"]).await;
    assert_eq!(forget.code, 0, "{forget:?}");
    assert!(
        forget
            .stdout
            .contains("Forgot 1 set of tokens and 1 client registration"),
        "{forget:?}"
    );
    let status = cli
        .run(&["--url", &url, "--json", "auth", "status"])
        .await
        .json();
    assert!(status["servers"][0]["tokens"].is_null(), "{status}");
    assert!(status["servers"][0]["client"].is_null(), "{status}");
    let unattended = cli
        .run(&["--url", &url, "--non-interactive", "tools", "list"])
        .await;
    assert_eq!(unattended.code, 3, "{unattended:?}");
    assert!(
        unattended.stderr.contains("sign-in page")
            && unattended.stderr.contains("--non-interactive"),
        "{unattended:?}"
    );
    assert!(!unattended.stderr.contains("neither a code nor an error"));
}

#[tokio::test]
async fn cli_with_client_secret_post() {
    through_the_cli("post").await;
}

#[tokio::test]
async fn cli_with_client_secret_basic() {
    through_the_cli("basic").await;
}

#[tokio::test]
async fn cli_with_a_public_client() {
    through_the_cli("none").await;
}

#[tokio::test]
async fn browser_over_http_sse() {
    in_the_browser_over("none", "sse").await;
}

#[tokio::test]
async fn cli_over_http_sse() {
    through_the_cli_over("none", "sse").await;
}
