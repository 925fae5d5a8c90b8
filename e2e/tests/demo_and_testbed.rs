//! The built-in demo started by plain `keyhole`, and `keyhole testbed` on its own.

use std::process::Command;

use keyhole_e2e::{KeyholeProcess, TEST_API_TOKEN};
use serde_json::Value;

async fn api_config(keyhole: &KeyholeProcess) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/config", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn plain_keyhole_runs_the_demo_and_lists_its_servers() {
    let keyhole = KeyholeProcess::web(&[]);
    let config = api_config(&keyhole).await;
    let servers = config["demoServers"]
        .as_array()
        .expect("demo servers listed");
    let names: Vec<&str> = servers
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo", "modern", "dpop", "enterprise"]);
    let demo_url = servers[0]["url"].as_str().unwrap();
    assert!(demo_url.starts_with("http://127.0.0.1:"), "{demo_url}");

    // The demo really serves MCP and protects it with OAuth.
    let response = reqwest::Client::new()
        .post(demo_url)
        .header("Accept", "application/json, text/event-stream")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    let printed = keyhole.stdout_containing("Demo control page").join("\n");
    assert!(
        printed.contains(demo_url),
        "the demo URL is printed at start: {printed}"
    );
    let control = config["demoControlUrl"].as_str().unwrap();
    assert!(printed.contains(control), "{printed}");
    // Where secrets are kept is said at start (the harness asks for the file).
    let printed = keyhole.stdout_containing("Secrets are kept").join("\n");
    assert!(
        printed.contains("Secrets are kept in the store file (mode 0600), as asked."),
        "{printed}"
    );
    let page = reqwest::get(control).await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn no_demo_means_no_demo_servers() {
    let keyhole = KeyholeProcess::web(&["--no-demo", "--secrets", "memory"]);
    let printed = keyhole.stdout_containing("Secrets are kept").join("\n");
    assert!(
        printed.contains("Secrets are kept in this process's memory only"),
        "the option wins over $KEYHOLE_SECRETS: {printed}"
    );
    let config = api_config(&keyhole).await;
    assert_eq!(config["demoServers"], serde_json::json!([]));
    assert!(config.get("demoControlUrl").is_none());
}

#[tokio::test]
async fn testbed_command_serves_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("testbed.json");
    std::fs::write(&path, keyhole_testbed_demo_json()).unwrap();
    let testbed =
        KeyholeProcess::spawn(&["testbed", "--config", path.to_str().unwrap(), "--port", "0"]);
    let metadata: Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server/oauth",
        testbed.base_url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(metadata["issuer"], format!("{}/oauth", testbed.base_url));
}

#[test]
fn an_invalid_testbed_config_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"servers":[{"name":"x","tools":[{"preset":"nope"}]}]}"#,
    )
    .unwrap();
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .args(["testbed", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("servers[0].tools[0].preset"), "{stderr}");
}

#[test]
fn testbed_help_explains_the_config() {
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .args(["testbed", "--help"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("requiredScopes") && stdout.contains("scopesSupported"),
        "{stdout}"
    );
}

/// The demo config as shipped, read from the repository (the binary embeds the same file).
fn keyhole_testbed_demo_json() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../testbed/demo.json")).unwrap()
}

/// The `Catalog:` line Keyhole printed (waited for: it comes after the address), if any.
fn catalog_line(keyhole: &KeyholeProcess) -> Option<String> {
    keyhole
        .stdout_containing("Catalog:")
        .into_iter()
        .find(|line| line.contains("Catalog:"))
}

#[tokio::test]
async fn without_config_the_working_directory_s_mcp_json_is_listed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mcp.json"),
        r#"{"mcpServers": {"nearby": {"url": "http://127.0.0.1:9/mcp"}}}"#,
    )
    .unwrap();
    let args = ["web", "--no-demo", "--port", "0"];
    let keyhole = KeyholeProcess::spawn_in(Some(dir.path()), &args);
    let line = catalog_line(&keyhole).expect("Keyhole says which catalog it read");
    assert!(
        line.contains("1 server(s) from") && line.contains("mcp.json"),
        "{line}"
    );
    let config = api_config(&keyhole).await;
    assert_eq!(config["catalog"][0]["name"], "nearby", "{config}");

    // A file Keyhole cannot use (it may be another tool's) is skipped, not fatal.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("mcp.json"), "not JSON").unwrap();
    let keyhole = KeyholeProcess::spawn_in(Some(other.path()), &args);
    assert_eq!(catalog_line(&keyhole), None);
    assert!(
        api_config(&keyhole).await["catalog"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
}
