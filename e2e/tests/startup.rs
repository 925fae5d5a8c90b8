//! How the real binary starts and refuses to start.

use std::net::TcpListener;
use std::process::Command;

use keyhole_e2e::{KeyholeProcess, TEST_API_TOKEN};

fn keyhole() -> Command {
    Command::new(keyhole_e2e::keyhole_binary())
}

#[test]
fn prints_the_url_with_the_token() {
    let keyhole = KeyholeProcess::web(&[]);
    assert_eq!(
        keyhole.open_url,
        format!("{}/?token={TEST_API_TOKEN}", keyhole.base_url)
    );
    assert!(keyhole.base_url.starts_with("http://127.0.0.1:"));
}

#[test]
fn a_taken_port_is_a_clear_error_not_a_panic() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = keyhole().args(["web", "--port", &port]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already in use") && stderr.contains("--port"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn binding_beyond_loopback_needs_the_loud_flag() {
    let output = keyhole()
        .args(["--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--dangerously-allow-remote"), "{stderr}");
}

#[test]
fn an_empty_pinned_token_is_refused() {
    let output = keyhole()
        .args(["--port", "0"])
        .env("KEYHOLE_API_TOKEN", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("KEYHOLE_API_TOKEN"));
}

#[test]
fn help_explains_the_commands() {
    let output = keyhole().arg("--help").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("web") && stdout.contains("--port"),
        "{stdout}"
    );
}
