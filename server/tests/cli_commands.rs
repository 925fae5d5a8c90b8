//! `keyhole cli` tools / resources / prompts against the testbed: human-readable and `--json`
//! output, exit codes (0, 2 usage, 4 tool error), headers and the `mcp.json` catalog.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};

#[tokio::test]
async fn tools_list_and_call_print_text_and_json() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(&["--url", &url, "tools", "list"], &mut t).await,
        0,
        "{}",
        t.stderr()
    );
    assert!(t.stdout().contains("echo"), "{}", t.stdout());
    assert!(
        t.stdout().contains("--arg message=<string, required>"),
        "{}",
        t.stdout()
    );

    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "tools",
                "call",
                "echo",
                "--arg",
                "message=hi there",
                "--url",
                &url,
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("hi there"), "{}", t.stdout());

    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--json",
                "tools",
                "call",
                "add",
                "--args-json",
                r#"{"a": 2, "b": 3}"#,
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    let result = t.json();
    assert!(!result["isError"].as_bool().unwrap_or(false));
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains('5'),
        "{result}"
    );

    let mut t = FakeTerminal::new();
    let code = bed
        .run(&["--url", &url, "--json", "tools", "list"], &mut t)
        .await;
    assert_eq!(code, 0);
    assert_eq!(t.json()["tools"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_tool_reporting_an_error_exits_with_4() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    // `echo` without its required argument answers with isError: true.
    let code = bed
        .run(&["--url", &url, "tools", "call", "echo"], &mut t)
        .await;
    assert_eq!(code, 4, "{}", t.stderr());
    assert!(t.stdout().contains("message"), "{}", t.stdout());
}

#[tokio::test]
async fn resources_and_prompts() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(&["--url", &url, "resources", "list"], &mut t).await,
        0,
        "{}",
        t.stderr()
    );
    assert!(
        t.stdout().contains("keyhole://open/readme"),
        "{}",
        t.stdout()
    );
    assert!(
        t.stdout().contains("keyhole://open/notes/{id}"),
        "{}",
        t.stdout()
    );

    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", &url, "resources", "read", "keyhole://open/readme"],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert_eq!(t.stdout(), "Hello from open.");

    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "--url",
                &url,
                "--json",
                "resources",
                "read",
                "keyhole://open/notes/7",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert_eq!(t.json()["contents"][0]["text"], "Note 7");

    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(&["--url", &url, "prompts", "list"], &mut t).await,
        0
    );
    assert!(
        t.stdout().contains("greeting — Writes a greeting."),
        "{}",
        t.stdout()
    );

    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "--url", &url, "prompts", "get", "greeting", "--arg", "name=Ada",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(
        t.stdout().contains("Write a greeting for Ada."),
        "{}",
        t.stdout()
    );
}

#[tokio::test]
async fn usage_errors_exit_with_2() {
    let bed = Bed::start().await;
    let mut t = FakeTerminal::new();
    assert_eq!(bed.run(&["tools", "list"], &mut t).await, 2);
    assert!(t.stderr().contains("--url"), "{}", t.stderr());

    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--url", &url, "tools", "call", "echo", "--arg", "novalue"],
            &mut t
        )
        .await,
        2
    );
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--url", &url, "--header", "broken", "tools", "list"],
            &mut t
        )
        .await,
        2
    );
    assert!(keyhole_server::cli::parse_args(["tools", "frobnicate"]).is_err());
}

#[tokio::test]
async fn a_server_error_exits_with_1() {
    let bed = Bed::start().await;
    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", &url, "resources", "read", "keyhole://nope"],
            &mut t,
        )
        .await;
    assert_eq!(code, 1, "{}", t.stderr());
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", "http://127.0.0.1:9/mcp", "tools", "list"],
            &mut t,
        )
        .await;
    assert_eq!(code, 1, "{}", t.stderr());
}

#[tokio::test]
async fn servers_by_name_from_an_mcp_json_catalog_with_headers() {
    let bed = Bed::start().await;
    let token = bed
        .testbed
        .mint_access_token("main", &["mcp"], 300)
        .unwrap();
    let catalog = bed.dir.path().join("mcp.json");
    let document = serde_json::json!({"mcpServers": {
        "open": {"type": "streamable-http", "url": bed.mcp_url("open")},
        "main": {"url": bed.mcp_url("main"), "headers": {"Authorization": format!("Bearer {token}")}},
        "old": {"type": "websocket", "url": "ws://127.0.0.1:1/"}
    }});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let path = catalog.to_str().unwrap();

    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--config", path, "--server", "open", "tools", "list"],
            &mut t
        )
        .await,
        0,
        "{}",
        t.stderr()
    );

    // The catalog's header carries a bearer the server accepts: no authorization flow.
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &[
                "--config",
                path,
                "--server",
                "main",
                "tools",
                "call",
                "echo",
                "--arg",
                "message=x",
            ],
            &mut t,
        )
        .await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.opened.lock().unwrap().is_empty());

    // Same with --header on the command line.
    let mut t = FakeTerminal::new();
    let header = format!("Authorization: Bearer {token}");
    let url = bed.mcp_url("main");
    let code = bed
        .run(&["--url", &url, "-H", &header, "tools", "list"], &mut t)
        .await;
    assert_eq!(code, 0, "{}", t.stderr());

    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--config", path, "--server", "old", "tools", "list"],
            &mut t
        )
        .await,
        2
    );
    assert!(
        t.stderr().contains("the transport \"websocket\""),
        "{}",
        t.stderr()
    );
    let mut t = FakeTerminal::new();
    assert_eq!(
        bed.run(
            &["--config", path, "--server", "missing", "tools", "list"],
            &mut t
        )
        .await,
        2
    );
    assert!(t.stderr().contains("known: "), "{}", t.stderr());
}
