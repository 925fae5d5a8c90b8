//! `keyhole cli --command`: a server started as a child process and spoken to over stdio — a small
//! Python server written for these tests (`cli_fixture/stdio_server.py`; third-party servers over
//! stdio are in the e2e suite, `third_party_transports`). The process, and what it started, end
//! with the command, also when the server crashes in the middle of a call.

use crate::cli_fixture;

use std::path::{Path, PathBuf};

use cli_fixture::{Bed, FakeTerminal, stdio_server_pids, stdio_server_script, until_gone};

fn python_server() -> String {
    format!("python3 '{}'", stdio_server_script().display())
}

fn pid_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    (dir, file)
}

/// Runs `keyhole cli --command <the Python server> --env PID_FILE=<pids> <words…>`.
async fn with_python_server(bed: &Bed, pids: &Path, words: &[&str]) -> (u8, FakeTerminal) {
    let env = format!("PID_FILE={}", pids.display());
    let command = python_server();
    let mut argv = vec!["--command", &command, "--env", &env];
    argv.extend_from_slice(words);
    let mut t = FakeTerminal::new();
    let code = bed.run(&argv, &mut t).await;
    (code, t)
}

#[tokio::test]
async fn a_tool_is_called_over_stdio_and_nothing_is_left_running() {
    let bed = Bed::start().await;
    let (_dir, file) = pid_file("pids");
    let call = ["tools", "call", "echo", "--arg", "message=over stdio"];
    let (code, t) = with_python_server(&bed, &file, &call).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("over stdio"), "{}", t.stdout());
    until_gone(&stdio_server_pids(&file)).await;

    let command = python_server();
    let mut t = FakeTerminal::new();
    let argv = ["--command", &command, "tools", "list"];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("crash"), "{}", t.stdout());
}

#[tokio::test]
async fn a_server_that_dies_mid_call_is_reported_with_its_exit_status_and_cleaned_up() {
    let bed = Bed::start().await;
    let (_dir, file) = pid_file("pids");
    let (code, t) = with_python_server(&bed, &file, &["tools", "call", "crash"]).await;
    assert_eq!(code, 1, "{}", t.stdout());
    assert!(t.stderr().contains("exit status 3"), "{}", t.stderr());
    until_gone(&stdio_server_pids(&file)).await;

    let mut t = FakeTerminal::new();
    let argv = [
        "--command",
        "/nonexistent/mcp-server --flag",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 1);
    assert!(
        t.stderr()
            .contains("could not start the MCP server `/nonexistent/mcp-server --flag`"),
        "{}",
        t.stderr()
    );
}

#[tokio::test]
async fn command_lines_and_their_environment_are_checked_before_anything_runs() {
    let bed = Bed::start().await;
    for (argv, says) in [
        (
            vec![
                "--command",
                "x",
                "--url",
                "http://127.0.0.1:1/mcp",
                "tools",
                "list",
            ],
            "one of --url, --command",
        ),
        (
            vec!["--command", "node 'unclosed", "tools", "list"],
            "not a command line",
        ),
        (
            vec![
                "--env",
                "A=1",
                "--url",
                "http://127.0.0.1:1/mcp",
                "tools",
                "list",
            ],
            "--env goes with --command",
        ),
        (
            vec!["--command", "x", "--env", "=1", "tools", "list"],
            "--env needs NAME=value",
        ),
        (
            vec!["--command", "x", "-H", "A: b", "tools", "list"],
            "--header is for HTTP servers",
        ),
    ] {
        let mut t = FakeTerminal::new();
        assert_eq!(bed.run(&argv, &mut t).await, 2, "{argv:?}");
        assert!(t.stderr().contains(says), "{argv:?}: {}", t.stderr());
    }
}

#[tokio::test]
async fn a_catalog_stdio_entry_is_started_by_name_with_its_environment() {
    let bed = Bed::start().await;
    let (dir, file) = pid_file("pids");
    let script = stdio_server_script();
    let catalog = dir.path().join("mcp.json");
    let document = serde_json::json!({"mcpServers": {"local": {
        "command": "python3", "args": [script.display().to_string()],
        "env": {"PID_FILE": file.display().to_string()}}}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let catalog = catalog.display().to_string();
    let mut t = FakeTerminal::new();
    let argv = [
        "--config",
        &catalog,
        "--server",
        "local",
        "tools",
        "call",
        "echo",
        "--arg",
        "message=from the catalog",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("from the catalog"), "{}", t.stdout());
    until_gone(&stdio_server_pids(&file)).await;
}
