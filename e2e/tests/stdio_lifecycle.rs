//! A stdio server started through the real binary does not outlive Keyhole: on `SIGTERM` (as a
//! service manager or `kill` sends it), with a page's event stream still open, the server and the
//! process it started are ended before Keyhole exits; and when Keyhole is killed with `SIGKILL`,
//! the guard it started the server through ends them.

use std::path::Path;
use std::time::Duration;

use keyhole_e2e::stdio_server::{pids, running, script, until_gone};
use keyhole_e2e::{KeyholeProcess, TEST_API_TOKEN};
use serde_json::{Value, json};

/// Connects the Python stdio server through Keyhole's API; returns its process ids (the server's
/// and its helper's) and the open event stream.
async fn start_server(keyhole: &KeyholeProcess, pid_file: &Path) -> (Vec<u32>, reqwest::Response) {
    let script = script();
    let http = reqwest::Client::new();
    let reply: Value = http
        .post(format!("{}/api/mcp/connect", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .json(&json!({"config": {"type": "stdio", "command": "python3",
            "args": [script.display().to_string()],
            "env": {"PID_FILE": pid_file.display().to_string()}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
    let events = http
        .get(format!(
            "{}/api/mcp/events?sessionId={}",
            keyhole.base_url,
            reply["sessionId"].as_str().unwrap()
        ))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let pids = pids(pid_file);
    assert!(pids.iter().all(|pid| running(*pid)), "{pids:?}");
    (pids, events)
}

#[tokio::test]
async fn stopping_keyhole_ends_its_stdio_servers_and_what_they_started() {
    let mut keyhole = KeyholeProcess::web(&["--no-demo"]);
    let dir = tempfile::tempdir().unwrap();
    let (pids, events) = start_server(&keyhole, &dir.path().join("pids")).await;

    let sent = std::process::Command::new("kill")
        .args(["-TERM", &keyhole.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = keyhole.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "Keyhole did not stop within 10 s of SIGTERM"
    );
    let left: Vec<&u32> = pids.iter().filter(|pid| running(**pid)).collect();
    assert!(
        left.is_empty(),
        "left running after Keyhole stopped: {left:?}"
    );
    drop(events);
}

#[tokio::test]
async fn killing_keyhole_outright_still_ends_its_stdio_servers() {
    let mut keyhole = KeyholeProcess::web(&["--no-demo"]);
    let dir = tempfile::tempdir().unwrap();
    let (pids, _events) = start_server(&keyhole, &dir.path().join("pids")).await;
    let sent = std::process::Command::new("kill")
        .args(["-KILL", &keyhole.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(keyhole.wait_exit(Duration::from_secs(10)).is_some());
    until_gone(&pids, "after Keyhole was killed with SIGKILL").await;
}
