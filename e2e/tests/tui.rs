//! The real `keyhole tui` in a pseudo-terminal against a real testbed: sign-in through the
//! browser (played by the test), a tool call, an expired token renewed silently, a step-up
//! confirmed in the Auth tab that signs in and sends the same tool with the same arguments, a
//! step-up cancelled that leaves the connection as it was; the server's requests answered from
//! the keyboard, a call cancelled, resources, templates and prompts; a small terminal, resizes,
//! and the terminal put back on exit.

use keyhole_e2e::demo::TestbedControl;
use keyhole_e2e::interop::free_port;
use keyhole_e2e::testbed::TestbedProcess;
use keyhole_e2e::tui::Tui;
use keyhole_shared::messages::{self, SilentRecovery};
use serde_json::json;

/// The escape sequence that leaves the alternate screen: the terminal is back as it was.
const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";

/// An OAuth-protected server whose authorization server approves at once (the test plays the
/// browser), with a tool for each scope, and a server without authorization for client features.
fn testbed() -> TestbedProcess {
    let config = json!({
        "servers": [
            {"name": "main", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
             "tools": [
                {"preset": "echo"},
                {"preset": "weather", "requiredScopes": ["weather:read"]},
                {"preset": "add", "name": "secret-add", "requiredScopes": ["notes:read"]}
             ]},
            {"name": "open", "auth": {"mode": "none"},
             "tools": [{"preset": "askClient"}, {"preset": "longRunning"}],
             "resources": [{"uri": "keyhole://readme", "name": "readme", "text": "Read me first"}],
             "resourceTemplates": [{"uriTemplate": "keyhole://notes/{id}", "name": "note",
                                    "text": "Note {id}"}],
             "prompts": [{"name": "greeting", "template": "Greet {name}",
                          "arguments": [{"name": "name", "required": true}]}]}
        ],
        "oauth": {
            "scopesSupported": ["mcp", "weather:read", "notes:read"],
            "defaultScopes": ["mcp"],
            "accessTokenLifetimeSecs": 300,
            "refreshTokens": {"enabled": true, "rotate": true},
            "dynamicRegistration": true,
            "consent": "auto"
        }
    });
    TestbedProcess::start(&config.to_string())
}

/// The TUI left the alternate screen on its way out (`when` names the way).
fn assert_put_back(tui: &Tui, when: &str) {
    assert!(
        tui.raw_output()
            .windows(LEAVE_ALTERNATE_SCREEN.len())
            .any(|w| w == LEAVE_ALTERNATE_SCREEN),
        "the terminal was not put back {when}"
    );
}

fn occurrences(screen: &str, text: &str) -> usize {
    screen.matches(text).count()
}

/// The query parameter `name` of `url`.
fn query(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn signs_in_recovers_silently_and_steps_up_to_the_same_call() {
    let bed = testbed();
    let url = bed.mcp_url("main");
    let control = TestbedControl::for_server(&url);
    let port = free_port().to_string();
    let mut tui = Tui::start(&["--no-demo", "--callback-port", &port, &url]);

    // Connecting needs a sign-in: the browser is opened, and its answer connects.
    tui.wait_for("Signing in").await;
    let first = tui.play_browser().await;
    assert_eq!(query(&first, "scope"), "mcp");
    tui.wait_for("● Connected to main").await;
    let screen = tui.wait_for("get-weather").await;
    assert!(screen.contains("> echo"), "{screen}");

    // A tool call with typed arguments.
    tui.press("Enter");
    tui.type_text("hello");
    tui.press("Enter");
    tui.wait_for("echo: result").await;

    // The token expires: renewed with the refresh token, the call sent again, nobody asked.
    control.expire_access_tokens().await;
    tui.press("Enter");
    tui.type_text(" again");
    tui.press("Enter");
    tui.wait_until(
        "the second echo's result",
        std::time::Duration::from_secs(20),
        |s| occurrences(s, "hello again") == 2,
    )
    .await;
    tui.wait_for(&messages::recovered_silently(SilentRecovery::Refresh))
        .await;
    assert_eq!(tui.opened_urls().len(), 1, "no browser for a refresh");
    assert!(
        control
            .token_grant_types()
            .await
            .contains(&"refresh_token".to_owned())
    );

    // A step-up: the Auth tab shows the new scope apart from the one held; confirming signs in
    // for both, and the same tool is called with the same arguments.
    tui.press("Down");
    tui.press("Enter");
    tui.type_text("Lisbon");
    tui.press("Enter");
    let asked = tui.wait_for("[y] Authorize").await;
    assert!(asked.contains("New scopes:      weather:read"), "{asked}");
    assert!(asked.contains("Already granted: mcp"), "{asked}");
    tui.press("y");
    let second = tui.play_browser().await;
    assert_eq!(query(&second, "scope"), "mcp weather:read");
    let back = tui.wait_for("Weather in Lisbon").await;
    assert!(back.contains("> get-weather"), "the same tool: {back}");
    assert!(
        back.contains("city* (string): Lisbon"),
        "the same arguments: {back}"
    );
    assert!(back.contains("● Connected to main"), "{back}");

    // A step-up cancelled: nothing is authorized and the connection goes on.
    tui.press("Down");
    tui.press("Enter");
    tui.type_text("1");
    tui.press("Tab");
    tui.type_text("2");
    tui.press("Enter");
    let asked = tui.wait_for("[y] Authorize").await;
    assert!(asked.contains("New scopes:      notes:read"), "{asked}");
    assert!(
        asked.contains("Already granted: mcp weather:read"),
        "{asked}"
    );
    tui.press("n");
    tui.wait_for("Step-up declined").await;
    assert_eq!(tui.opened_urls().len(), 2, "no browser after a cancel");
    tui.press("Up");
    tui.press("Up");
    tui.press("r");
    tui.wait_until(
        "echo after the cancel",
        std::time::Duration::from_secs(20),
        |s| s.contains("echo: result") && s.contains("● Connected to main"),
    )
    .await;

    // The Auth tab: what is held and each step; the Protocol tab: every message both ways.
    tui.press("6");
    let auth = tui.wait_for("Authorization steps").await;
    assert!(auth.contains("Scopes granted: mcp weather:read"), "{auth}");
    assert!(auth.contains("token (refresh)"), "{auth}");
    assert!(auth.contains("refresh token held"), "{auth}");
    tui.press("5");
    tui.wait_for("Protocol (").await;
    tui.press("/");
    tui.type_text("initialize");
    tui.press("Enter");
    let protocol = tui.wait_for("Protocol /initialize").await;
    assert!(protocol.contains("initialize"), "{protocol}");
    tui.press("/");
    for _ in 0.."initialize".len() {
        tui.press("Backspace");
    }
    tui.type_text("tools/call");
    tui.press("Enter");
    let calls = tui.wait_for("Protocol /tools/call").await;
    // The refreshed call and the stepped-up call each went out twice with the same id.
    let sent: Vec<&str> = calls
        .lines()
        .filter_map(|line| line.split("→ ").nth(1))
        .filter(|sent| sent.contains("tools/call"))
        .collect();
    let again = sent
        .iter()
        .filter(|call| sent.iter().filter(|other| other == call).count() == 2)
        .count();
    assert_eq!(again, 4, "{calls}");

    // No token in the store file is shown on screen.
    let store = std::fs::read_to_string(tui.store_path()).unwrap();
    let document: serde_json::Value = serde_json::from_str(&store).unwrap();
    let token = document["credentials"][0]["tokens"]["access_token"]
        .as_str()
        .or(document["credentials"][0]["tokens"]["accessToken"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(token.len() > 8, "a token was stored: {store}");
    assert!(!tui.screen().contains(&token[..8]));

    // Forgetting from the Auth tab: the tokens, then the client too.
    tui.press("6");
    let auth = tui.wait_for("Client: ").await;
    let client_id = auth
        .lines()
        .find_map(|line| line.split("Client: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    tui.press("t");
    tui.wait_for("Forgot 1 set(s) of tokens").await;
    let store = std::fs::read_to_string(tui.store_path()).unwrap();
    assert!(!store.contains(&token), "the token left the store");
    assert!(store.contains(&client_id), "the client stays");
    tui.press("c");
    tui.wait_for("client registration(s)").await;
    let store = std::fs::read_to_string(tui.store_path()).unwrap();
    assert!(
        !store.contains(&client_id),
        "the client left the store: {store}"
    );

    tui.press("q");
    assert_eq!(tui.exit_code().await, 0);
    assert_put_back(&tui, "after q");
}

#[tokio::test]
async fn answers_the_servers_requests_and_cancels_a_call() {
    let bed = testbed();
    let url = bed.mcp_url("open");
    let mut tui = Tui::start(&["--no-demo", &url]);
    tui.wait_for("● Connected to open").await;
    tui.wait_for("long-running").await;

    // The server asks for a form: answered from the keyboard, and its answer is the result.
    tui.press("Enter");
    tui.press("Right");
    tui.press("Enter");
    let form = tui.wait_for("The server asks for input").await;
    assert!(form.contains("would like to know your name"), "{form}");
    tui.type_text("Ada");
    tui.press("Enter");
    tui.wait_for("Ada").await;
    let result = tui.wait_for("ask-client: result").await;
    assert!(result.contains("accept"), "{result}");

    // A long call is cancelled with Esc: the server is told and stops.
    // Fifty steps of 200 ms: ten seconds, unless cancelled.
    tui.press("Down");
    tui.press("Enter");
    tui.press("Down");
    tui.press("Backspace");
    tui.type_text("50");
    tui.press("Enter");
    tui.wait_for("Calling long-running").await;
    tui.press("Esc");
    tui.wait_for("The request was cancelled").await;
    tui.press("5");
    tui.wait_for("notifications/cancelled").await;
    tui.press("/");
    tui.type_text("cancel");
    tui.press("Enter");
    let filtered = tui.wait_for("Protocol /cancel").await;
    assert!(!filtered.contains("tools/list"), "{filtered}");

    // A resource, a template with its variable typed in, a prompt with its argument.
    tui.press("3");
    tui.wait_for("note (template)").await;
    tui.press("Enter");
    tui.wait_for("Read me first").await;
    tui.press("Down");
    tui.press("Enter");
    tui.type_text("42");
    tui.press("Enter");
    tui.wait_for("Note 42").await;
    tui.press("4");
    tui.wait_for("greeting").await;
    tui.press("Enter");
    tui.type_text("Ada");
    tui.press("Enter");
    tui.wait_for("Greet Ada").await;
    tui.press("q");
    assert_eq!(tui.exit_code().await, 0);
}

#[tokio::test]
async fn a_small_terminal_resizes_and_the_terminal_is_put_back_on_sigterm() {
    let mut tui = Tui::start_sized(&["--no-demo"], 30, 8);
    tui.wait_for("Terminal too small").await;
    tui.resize(80, 24);
    tui.wait_for("1 Servers").await;
    tui.press("?");
    let help = tui.wait_for("Keys (any key closes)").await;
    assert!(help.contains("q, Ctrl-C"), "{help}");
    tui.press("x");
    tui.wait_until("the help closed", std::time::Duration::from_secs(5), |s| {
        !s.contains("Keys (any key closes)")
    })
    .await;
    tui.signal(15);
    let _ = tui.exit_code().await;
    assert_put_back(&tui, "after SIGTERM");
}

#[tokio::test]
async fn sighup_ends_it_and_puts_the_terminal_back() {
    let mut tui = Tui::start(&["--no-demo"]);
    tui.wait_for("1 Servers").await;
    tui.signal(1);
    let _ = tui.exit_code().await;
    assert_put_back(&tui, "after SIGHUP");
}

/// Enterprise-managed authorization (a catalog entry's `enterprise` settings and an ID token from
/// the IdP): connected without a browser, an expired token re-minted silently, and a step-up
/// confirmed on the Auth tab that re-mints with the new scope — no browser either.
#[tokio::test]
async fn an_enterprise_managed_server_re_mints_and_steps_up_after_a_confirmation() {
    let bed = keyhole_testbed::Testbed::start(
        keyhole_testbed::TestbedConfig::demo(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let url = bed
        .servers()
        .into_iter()
        .find(|(name, _)| name == "enterprise")
        .map(|(_, url)| url)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("mcp.json");
    let document = json!({"mcpServers": {"corp": {
        "url": url,
        "enterprise": {
            "idpIssuer": bed.idp_url().unwrap(),
            "idpClientId": "keyhole",
            "idpClientSecret": "keyhole-idp-secret",
            "idpClientAuthMethod": "client_secret_post",
            "clientId": "keyhole-ema",
            "clientSecret": "keyhole-ema-secret"
        }
    }}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let id_token = bed.mint_id_token("alice", "keyhole").unwrap();
    let catalog = catalog.to_str().unwrap();
    let mut tui = Tui::start(&[
        "--no-demo",
        "--config",
        catalog,
        "--server",
        "corp",
        "--idp-id-token",
        &id_token,
    ]);
    tui.wait_for("● Connected to").await;
    tui.wait_for("get-weather").await;

    let control = TestbedControl::for_server(&url);
    control.expire_access_tokens().await;
    tui.press("Enter");
    tui.type_text("hello");
    tui.press("Enter");
    tui.wait_for(&messages::recovered_silently(SilentRecovery::EmaRemint))
        .await;
    tui.wait_for("echo: result").await;

    tui.press("Down");
    tui.press("Enter");
    tui.type_text("Oslo");
    tui.press("Enter");
    let asked = tui.wait_for("[y] Authorize").await;
    assert!(asked.contains("New scopes:      weather:read"), "{asked}");
    tui.press("y");
    let back = tui.wait_for("Weather in Oslo").await;
    assert!(back.contains("> get-weather"), "{back}");
    assert!(
        tui.opened_urls().is_empty(),
        "no browser for enterprise-managed sign-ins"
    );
    tui.press("q");
    assert_eq!(tui.exit_code().await, 0);
}
