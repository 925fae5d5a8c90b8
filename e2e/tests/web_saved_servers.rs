//! Saved servers in Chromium against the real binary: add (a URL with a header, and a stdio
//! command), edit, clone, reorder, remove; export the list as `mcp.json` and import one; restart
//! Keyhole and find them still there; connect from a saved entry.

use keyhole_e2e::demo::api_get_text;
use keyhole_e2e::testbed::TestbedProcess;
use keyhole_e2e::{Browser, KeyholeProcess};

const TESTBED: &str = r#"{ "servers": [
  { "name": "open", "auth": { "mode": "none" }, "tools": [{ "preset": "echo" }] }
] }"#;

/// The saved servers' names, in the order shown.
async fn names(browser: &Browser) -> Vec<String> {
    let listed = browser
        .script(
            "return [...document.querySelectorAll('[data-testid^=\"saved-item-\"]')]\
             .map(e => e.dataset.testid.slice('saved-item-'.length))",
        )
        .await;
    listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

async fn add_http(browser: &Browser, name: &str, url: &str, headers: &str) {
    browser.click("saved-add").await;
    browser.fill("saved-name-input", name).await;
    browser.fill("saved-url-input", url).await;
    browser.fill("saved-headers-input", headers).await;
    browser.click("saved-save").await;
    browser.wait_testid(&format!("saved-item-{name}")).await;
}

#[tokio::test]
async fn servers_are_saved_edited_reordered_exported_imported_and_kept_across_a_restart() {
    let testbed = TestbedProcess::start(TESTBED);
    let url = testbed.mcp_url("open");
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.wait_testid("saved-empty").await;

    // Add: a URL with a header, then a stdio command.
    add_http(&browser, "open", &url, "X-Team: blue").await;
    browser.click("saved-add").await;
    browser.fill("saved-name-input", "local").await;
    browser.choose("saved-transport-select", "stdio").await;
    browser
        .fill("saved-command-input", "npx -y '@scope/some server'")
        .await;
    browser.click("saved-save").await;
    browser
        .wait_text("saved-item-local", |t| {
            t.contains("npx -y '@scope/some server'")
        })
        .await;
    browser
        .wait_text("saved-transport-local", |t| t == "stdio")
        .await;
    browser
        .wait_text("saved-transport-open", |t| t == "Streamable HTTP")
        .await;

    // A name taken twice is refused, and said why.
    add_http(&browser, "spare", "http://127.0.0.1:9/mcp", "").await;
    browser.click("saved-edit-spare").await;
    browser.fill("saved-name-input", "open").await;
    browser.click("saved-save").await;
    browser
        .wait_text("saved-problem", |t| t.contains("unique"))
        .await;
    browser.click("saved-cancel").await;

    // Edit, clone, reorder, remove.
    browser.click("saved-edit-spare").await;
    browser.fill("saved-name-input", "renamed").await;
    browser.click("saved-save").await;
    browser.wait_testid("saved-item-renamed").await;
    browser.click("saved-clone-open").await;
    browser.wait_testid("saved-item-open (2)").await;
    assert_eq!(
        names(&browser).await,
        ["open", "open (2)", "local", "renamed"]
    );
    browser.click("saved-up-renamed").await;
    browser.wait_text("saved-item-renamed", |_| true).await;
    for _ in 0..50 {
        if names(&browser).await == ["open", "open (2)", "renamed", "local"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        names(&browser).await,
        ["open", "open (2)", "renamed", "local"]
    );
    browser.click("saved-remove-open (2)").await;
    browser
        .wait_absent("[data-testid=\"saved-item-open (2)\"]")
        .await;

    // Export: the file is an mcp.json catalog in the list's order, header included.
    let exported = api_get_text(&keyhole, "/api/config/saved/export").await;
    let (open_at, renamed_at, local_at) = (
        exported.find("\"open\"").unwrap(),
        exported.find("\"renamed\"").unwrap(),
        exported.find("\"local\"").unwrap(),
    );
    assert!(open_at < renamed_at && renamed_at < local_at, "{exported}");
    assert!(exported.contains("\"X-Team\": \"blue\""), "{exported}");

    // Import: a file's servers are added (one of the same name replaced).
    let imported = std::env::temp_dir().join(format!("keyhole-import-{}.json", std::process::id()));
    std::fs::write(
        &imported,
        r#"{"mcpServers": {"team": {"url": "http://127.0.0.1:7/mcp"},
                           "renamed": {"url": "http://127.0.0.1:8/mcp"}}}"#,
    )
    .unwrap();
    browser
        .wait_testid("saved-import")
        .await
        .send_keys(imported.to_str().unwrap())
        .await
        .unwrap();
    browser.wait_testid("saved-item-team").await;
    browser
        .wait_text("saved-item-renamed", |t| t.contains("127.0.0.1:8"))
        .await;
    let _ = std::fs::remove_file(imported);

    // Restart: the list is still there, in order; a saved entry connects.
    let keyhole = keyhole.restart();
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.wait_testid("saved-item-team").await;
    assert_eq!(names(&browser).await, ["open", "renamed", "local", "team"]);
    browser.click("saved-connect-open").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.close().await;
}

/// A server whose authorization server registers nobody: only a client registered in advance
/// signs in; its challenges name no scope, so the scopes asked for are the saved ones.
const REGISTERED_ONLY: &str = r#"{ "servers": [
  { "name": "signed", "auth": { "mode": "oauth", "baseScopes": ["mcp"], "challengeStyle": "bare" },
    "tools": [{ "preset": "echo" }] }
], "oauth": { "scopesSupported": ["mcp", "extra"], "defaultScopes": ["mcp"],
  "dynamicRegistration": false, "consent": "auto",
  "users": [{ "username": "u", "password": "p" }],
  "staticClients": [{ "clientId": "registered-in-advance", "tokenEndpointAuthMethod": "none",
                      "redirectUris": ["http://127.0.0.1:1/oauth/callback"] }] } }"#;

#[tokio::test]
async fn a_saved_servers_protocol_version_and_sign_in_settings_are_used_and_held_credentials_shown()
{
    let testbed = TestbedProcess::start(REGISTERED_ONLY);
    let url = testbed.mcp_url("signed");
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.wait_testid("saved-empty").await;

    browser.click("saved-add").await;
    browser.fill("saved-name-input", "signed").await;
    browser.fill("saved-url-input", &url).await;
    browser.click("saved-more").await;
    browser.choose("saved-protocol-select", "2025-06-18").await;
    browser
        .fill("saved-client-id-input", "registered-in-advance")
        .await;
    browser.fill("saved-scopes-input", "mcp extra").await;
    browser.click("saved-save").await;
    browser.wait_testid("saved-item-signed").await;
    let exported = api_get_text(&keyhole, "/api/config/saved/export").await;
    assert!(
        exported.contains("\"protocolVersion\": \"2025-06-18\"")
            && exported.contains("\"clientId\": \"registered-in-advance\""),
        "{exported}"
    );

    // One click: the sign-in uses the client and scopes saved, the session the version saved.
    browser.click("saved-connect-signed").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser
        .wait_text("protocol-version", |t| t.starts_with("2025-06-18"))
        .await;
    let state: serde_json::Value =
        reqwest::get(format!("{}/control/api/state", testbed.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let token = state["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["kind"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case("access"))
        })
        .unwrap_or_else(|| panic!("an access token: {state}"));
    assert_eq!(token["clientId"], "registered-in-advance", "{token}");
    assert_eq!(
        token["scopes"],
        serde_json::json!(["mcp", "extra"]),
        "{token}"
    );

    // Back on the servers view, the entry says Keyhole holds its credentials.
    browser.click("disconnect-button").await;
    browser.wait_testid("saved-held-signed").await;
    browser.close().await;
}
