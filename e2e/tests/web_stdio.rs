//! A catalog's stdio server in Chromium: the servers view shows the command line it starts, Start
//! connects (the backend runs it), a tool runs, what the server writes to stderr shows in the
//! Console section of the Protocol tab, and disconnecting ends the server and what it started.

use keyhole_e2e::demo::run_tool;
use keyhole_e2e::stdio_server::{pids, running, script, until_gone};
use keyhole_e2e::{Browser, KeyholeProcess};

#[tokio::test]
async fn a_catalog_stdio_server_is_started_used_logged_and_ended_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let script = script();
    let pid_file = dir.path().join("pids");
    let catalog = dir.path().join("mcp.json");
    let document = serde_json::json!({"mcpServers": {"local": {
        "command": "python3", "args": [script.display().to_string()],
        "env": {"PID_FILE": pid_file.display().to_string()}}}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let keyhole = KeyholeProcess::web(&["--no-demo", "--config", catalog.to_str().unwrap()]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    let shown = browser
        .wait_text("server-command-local", |t| t.starts_with("python3 "))
        .await;
    assert!(shown.ends_with("(with PID_FILE set)"), "{shown}");
    assert!(
        !shown.contains(&pid_file.display().to_string()),
        "environment values are not shown: {shown}"
    );
    browser.click("server-connect-local").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.wait_text("transport", |t| t == "stdio").await;
    browser
        .wait_text("server-target", |t| {
            t.starts_with("python3 ") && t.ends_with("stdio_server.py")
        })
        .await;
    run_tool(&browser, "echo", &[("message", "from the page")]).await;
    browser
        .wait_text("tool-result", |t| t.contains("from the page"))
        .await;

    browser.click("tab-protocol").await;
    browser
        .wait_selector_text("[data-testid=\"console-line\"]:last-child", |t| {
            t.contains("echo called with 13 characters")
        })
        .await;

    let pids = pids(&pid_file);
    assert!(pids.iter().all(|pid| running(*pid)), "{pids:?}");
    browser.click("disconnect-button").await;
    until_gone(&pids, "after the page disconnected").await;
    browser.close().await;
}

#[tokio::test]
async fn a_command_typed_in_the_page_shows_what_will_run_then_starts() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    browser.click("command-form-open").await; // its form is fetched on first opening
    browser
        .fill("command-line-input", "python3 'unclosed")
        .await;
    browser
        .wait_text("command-problem", |t| t.contains("quote"))
        .await;
    let line = format!("python3 '{}'", script().display());
    browser.fill("command-line-input", &line).await;
    browser
        .fill(
            "command-env-input",
            &format!("PID_FILE={}", pid_file.display()),
        )
        .await;
    let preview = browser
        .wait_text("command-preview", |t| t.ends_with("(with PID_FILE set)"))
        .await;
    assert!(preview.starts_with("python3 "), "{preview}");
    assert!(
        !preview.contains(&pid_file.display().to_string()),
        "environment values are not shown: {preview}"
    );
    browser.click("command-start").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.wait_text("transport", |t| t == "stdio").await;
    run_tool(&browser, "echo", &[("message", "typed")]).await;
    browser
        .wait_text("tool-result", |t| t.contains("typed"))
        .await;
    let pids = pids(&pid_file);
    browser.click("disconnect-button").await;
    until_gone(&pids, "after the page disconnected").await;
    browser.close().await;
}
