//! stdio servers through the backend: `/api/mcp/connect` with `{type: "stdio", command, args,
//! env}` starts the server, messages go over its stdin and stdout, its stderr reaches the page as
//! `console` events, and disconnecting (or a failed connection, or the page going away) ends it
//! and everything it started. What the page may ask for is checked first.

use crate::{cli_fixture, common};

use cli_fixture::{stdio_server_pids, stdio_server_script, until_gone};
use std::time::Duration;

use common::hub::{HubFixture, quick_options};
use keyhole_server::web::hub::HubOptions;
use keyhole_shared::api::mcp::SessionEvent;
use keyhole_testbed::TestbedConfig;
use serde_json::{Value, json};

async fn connect_stdio(fixture: &HubFixture, config: Value) -> (u16, Value) {
    fixture
        .api("/api/mcp/connect", json!({ "config": config }))
        .await
}

#[tokio::test]
async fn a_stdio_server_is_started_spoken_to_and_ended_with_what_it_started() {
    let fixture = HubFixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let (status, reply) = connect_stdio(
        &fixture,
        json!({"type": "stdio", "command": "python3", "args": [stdio_server_script().display().to_string()],
               "env": {"PID_FILE": pid_file.display().to_string()}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(
        reply["initializeResult"]["serverInfo"]["name"],
        "stdio-test"
    );
    assert!(
        reply["serverUrl"]
            .as_str()
            .unwrap()
            .starts_with("stdio:python3"),
        "{reply}"
    );
    let session = reply["sessionId"].as_str().unwrap().to_owned();
    let mut events = fixture.events(&session).await;
    let called = fixture
        .call_tool(&session, 2, "echo", json!({"message": "through the hub"}))
        .await;
    assert_eq!(
        called["response"]["result"]["content"][0]["text"],
        "through the hub"
    );
    // What the server writes to stderr reaches the page as `console` events, in order.
    let mut lines = Vec::new();
    while let Some(data) = events.next_named("console", Duration::from_secs(5)).await {
        let Ok(SessionEvent::Console(console)) = SessionEvent::parse("console", &data.to_string())
        else {
            panic!("unreadable console event: {data}");
        };
        lines.push(console.line);
        if lines.last().is_some_and(|l| l.starts_with("echo called")) {
            break;
        }
    }
    assert_eq!(
        lines.last().map(String::as_str),
        Some("echo called with 15 characters"),
        "{lines:?}"
    );

    let pids = stdio_server_pids(&pid_file);
    let (status, _) = fixture
        .api("/api/mcp/disconnect", json!({"sessionId": session}))
        .await;
    assert_eq!(status, 200);
    until_gone(&pids).await;
}

#[tokio::test]
async fn the_server_of_a_page_that_went_away_is_ended_when_its_session_is_reaped() {
    let options = HubOptions {
        idle_grace: Duration::from_millis(300),
        ..quick_options()
    };
    let fixture = HubFixture::with(TestbedConfig::demo(), options).await;
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let (_, reply) = connect_stdio(
        &fixture,
        json!({"type": "stdio", "command": "python3", "args": [stdio_server_script().display().to_string()],
               "env": {"PID_FILE": pid_file.display().to_string()}}),
    )
    .await;
    assert_eq!(reply["ok"], true, "{reply}");
    let pids = stdio_server_pids(&pid_file);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fixture.hub.reap_abandoned().await, 1);
    until_gone(&pids).await;
}

#[tokio::test]
async fn a_command_that_cannot_start_is_a_transport_error_and_bad_configs_are_refused() {
    let fixture = HubFixture::start().await;
    let (status, reply) = connect_stdio(
        &fixture,
        json!({"type": "stdio", "command": "/nonexistent/server"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reply["kind"], "transport_error", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("could not start the MCP server `/nonexistent/server`"),
        "{reply}"
    );

    for (config, says) in [
        (json!({"type": "stdio"}), "needs `command`"),
        (
            json!({"type": "stdio", "command": "x", "url": "http://127.0.0.1:1/mcp"}),
            "no `url`",
        ),
        (
            json!({"type": "stdio", "command": "x", "cwd": "/nonexistent/dir"}),
            "not a directory",
        ),
        (
            json!({"type": "streamable-http", "url": "http://127.0.0.1:1/mcp", "command": "x"}),
            "for \"stdio\" servers",
        ),
        (
            json!({"type": "websocket", "url": "ws://127.0.0.1:1/"}),
            "not supported",
        ),
    ] {
        let (status, reply) = connect_stdio(&fixture, config.clone()).await;
        assert_eq!(status, 400, "{config}");
        assert!(
            reply["message"].as_str().unwrap().contains(says),
            "{config}: {reply}"
        );
    }
}
