//! The connect form and what the servers view is given: custom headers reach the MCP server, a
//! malformed header line is refused before anything is sent, a `--config` catalog's entries are
//! listed (stdio ones with their command line) and "Use" brings their headers along, a bad catalog stops
//! Keyhole with the field named, and a page whose backend does not answer says so instead of
//! showing an empty app.

use keyhole_e2e::demo::TestbedControl;
use keyhole_e2e::testbed::TestbedProcess;
use keyhole_e2e::{Browser, KeyholeProcess};
use serde_json::{Value, json};

const TESTBED: &str = r#"{
  "servers": [{ "name": "open", "auth": { "mode": "none" }, "tools": [{ "preset": "echo" }] }]
}"#;

/// A testbed with one open server, and its MCP URL.
fn open_testbed() -> (TestbedProcess, String) {
    let testbed = TestbedProcess::start(TESTBED);
    let url = testbed.mcp_url("open");
    (testbed, url)
}

/// The `X-…` headers the testbed saw on the one session's `initialize`.
async fn headers_seen(url: &str) -> Value {
    let sessions = TestbedControl::for_server(url).sessions("open").await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    sessions[0]["customHeaders"].clone()
}

#[tokio::test]
async fn custom_headers_reach_the_server_and_bad_lines_are_refused() {
    let (_testbed, url) = open_testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &url).await;
    // The form's optional parts are folded away: unfold them as a user would.
    browser
        .script("document.querySelectorAll('.connect-form details').forEach(d => d.open = true);")
        .await;

    browser
        .fill("server-headers-input", "X-Team: blue\nnot a header line")
        .await;
    browser.click("connect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["error"])
        .await;
    browser
        .wait_text("connection-status", |t| {
            t == "The header line \"not a header line\" needs the form Name: value."
        })
        .await;
    let sessions = TestbedControl::for_server(&url).sessions("open").await;
    assert!(sessions.is_empty(), "nothing was sent: {sessions:?}");

    browser
        .fill(
            "server-headers-input",
            "X-Team: blue\nX-Request-Source:  the form ",
        )
        .await;
    browser.click("connect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    assert_eq!(
        headers_seen(&url).await,
        json!({"x-team": "blue", "x-request-source": "the form"})
    );
    browser.close().await;
}

#[tokio::test]
async fn a_catalog_lists_its_servers_and_connect_brings_the_headers() {
    let (_testbed, url) = open_testbed();
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("mcp.json");
    let document = json!({"mcpServers": {
        "open": {"url": url, "headers": {"X-Team": "green"}},
        "local": {"command": "npx", "args": ["some-server"]}
    }});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let keyhole = KeyholeProcess::web(&["--no-demo", "--config", catalog.to_str().unwrap()]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    // A stdio entry shows the command line it would start.
    browser
        .wait_text("server-command-local", |t| t == "npx some-server")
        .await;
    browser.click("server-connect-open").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    assert_eq!(headers_seen(&url).await, json!({"x-team": "green"}));
    browser.close().await;
}

/// The page loads, but Keyhole's API does not answer it (as when Keyhole has stopped): instead
/// of an empty app, the page says what is wrong.
#[tokio::test]
async fn a_page_whose_backend_does_not_answer_says_so() {
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser
        .devtools("Network.enable", serde_json::json!({}))
        .await;
    browser
        .devtools(
            "Network.setBlockedURLs",
            serde_json::json!({ "urls": ["*/api/config"] }),
        )
        .await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser
        .wait_text("config-error", |t| {
            t.starts_with("Keyhole's backend is unreachable: ")
        })
        .await;
    assert_eq!(browser.count("[data-testid=\"server-url-input\"]").await, 0);
    browser.close().await;
}

#[test]
fn a_bad_catalog_stops_keyhole_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.json");
    std::fs::write(
        &path,
        r#"{"mcpServers": {"corp": {"url": "https://mcp.example/mcp",
            "enterprise": {"idpIssuer": "https://idp.example", "clientId": "c"}}}}"#,
    )
    .unwrap();
    let output = std::process::Command::new(keyhole_e2e::keyhole_binary())
        .args(["web", "--no-demo", "--port", "0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: mcpServers.corp.enterprise.idpClientId: required",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
