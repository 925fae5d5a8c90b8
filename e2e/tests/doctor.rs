//! `keyhole doctor`, the real binary: its exit codes and report against a testbed process that
//! breaks rules, and what it finds in real third-party servers — the TypeScript SDK's OAuth
//! example and the Python SDK's authorization and MCP servers.

use std::process::Command;

use keyhole_e2e::interop::{Peers, PythonSdkServer, TypeScriptExample};
use keyhole_e2e::testbed::TestbedProcess;
use serde_json::Value;

/// `keyhole doctor ARGS…`: exit code, stdout, stderr.
fn doctor(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .arg("doctor")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("keyhole doctor runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `keyhole doctor URL --json`: exit code and report.
fn doctor_json(url: &str) -> (i32, Value) {
    let (code, stdout, stderr) = doctor(&[url, "--json"]);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, report)
}

/// The verdicts of `rule` in a JSON report.
fn verdicts(report: &Value, rule: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["verdict"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn observed(report: &Value, rule: &str) -> String {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["observed"].as_str().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The testbed configuration the README walks through: one server per flaw.
const TESTBED: &str = include_str!("../../testbed/doctor-flaws.json");

#[test]
fn exit_codes_and_the_report_name_rule_source_and_fix() {
    let testbed = TestbedProcess::start(TESTBED);
    let url = |name: &str| format!("{}/servers/{name}/mcp", testbed.base_url());

    let (code, _, _) = doctor(&[&url("open")]);
    assert_eq!(
        code, 0,
        "nothing wrong with a server that needs no authorization"
    );

    let (code, text, stderr) = doctor(&[&url("slash")]);
    assert_eq!(code, 1, "warnings only: {text}");
    assert!(stderr.contains("auditing"), "progress on stderr: {stderr}");
    assert!(
        text.contains("WARN  prm-resource (MUST · RFC 9728 §3.3"),
        "{text}"
    );
    assert!(text.contains("differ by a trailing slash"), "{text}");
    assert!(
        text.contains("fix:  Set `resource` to the exact URL"),
        "{text}"
    );

    let (code, text, _) = doctor(&[&url("broken")]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("FAIL  invalid-token-401"), "{text}");
    assert!(text.contains("failures"), "a summary line: {text}");

    let (code, report) = doctor_json(&url("clean"));
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["failures"], 0, "{report}");

    let help = Command::new(keyhole_e2e::keyhole_binary())
        .args(["doctor", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Exit codes: 0 nothing wrong, 1 warnings only, 2"),
        "{help}"
    );
}

/// Each rule of `expected` was judged once, with that verdict.
fn assert_verdicts(report: &Value, expected: &[(&str, &str)]) {
    for (rule, verdict) in expected {
        assert_eq!(verdicts(report, rule), [*verdict], "{rule}: {report:#}");
    }
}

/// The TypeScript SDK's example: what the doctor finds there, checked by hand against the SDK.
#[test]
fn the_typescript_sdk_example_answers_500_to_a_token_it_does_not_know() {
    let Some(peers) = Peers::find() else { return };
    let server = TypeScriptExample::start(&peers, false);
    let (code, report) = doctor_json(&server.mcp_url);
    assert_eq!(code, 2, "{report:#}");
    assert_verdicts(
        &report,
        &[
            ("challenge-401", "pass"),
            ("prm-published", "pass"),
            ("as-published", "pass"),
            ("as-pkce-s256", "pass"),
            ("challenge-scope", "warning"),
            ("as-iss-parameter", "warning"),
            // `error="invalid_token"` although no token was sent.
            ("challenge-no-error-without-token", "warning"),
            ("invalid-token-401", "failure"),
            ("audience-401", "failure"),
        ],
    );
    assert!(
        observed(&report, "invalid-token-401").contains("HTTP 500"),
        "{report:#}"
    );
}

#[test]
fn the_python_sdk_servers_are_audited_without_a_failure_in_discovery() {
    let Some(peers) = Peers::find() else { return };
    let server = PythonSdkServer::start(&peers, "none", "streamable-http");
    let (code, report) = doctor_json(&server.mcp_url);
    assert_eq!(code, 1, "warnings only: {report:#}");
    assert_eq!(report["summary"]["failures"], 0, "{report:#}");
    assert_verdicts(
        &report,
        &[
            ("challenge-401", "pass"),
            ("prm-published", "pass"),
            ("prm-resource", "pass"),
            ("as-published", "pass"),
            ("as-issuer", "pass"),
            ("as-pkce-s256", "pass"),
            ("invalid-token-401", "pass"),
            // The SDK answers the CORS preflight with 401: browser clients cannot call it.
            ("cors-preflight", "warning"),
            ("challenge-no-error-without-token", "warning"),
        ],
    );
}

/// `--refresh` reads the store `keyhole cli` and the web app share (`KEYHOLE_STORE`): with
/// nothing held it says so and changes nothing else; a store it cannot read is a failure that
/// says why. (The refresh itself is checked against the testbed in the server's `guided_sign_in`.)
#[test]
fn refresh_reads_the_shared_store_and_says_when_there_is_nothing_to_refresh() {
    let testbed = TestbedProcess::start(TESTBED);
    let url = format!("{}/servers/clean/mcp", testbed.base_url());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("oauth-store.json");
    let run = |store: &std::path::Path| {
        let output = Command::new(keyhole_e2e::keyhole_binary())
            .args(["doctor", &url, "--json", "--refresh", "--secrets", "file"])
            .env("KEYHOLE_STORE", store)
            .env("RUST_LOG", "warn")
            .output()
            .expect("keyhole doctor runs");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap_or(-1), report)
    };

    let (code, report) = run(&store);
    assert_eq!(code, 1, "warnings only, as without --refresh: {report:#}");
    assert_verdicts(&report, &[("refresh-grant", "info")]);
    assert!(
        observed(&report, "refresh-grant").contains("no refresh token"),
        "{report:#}"
    );

    // A store written by a newer Keyhole is left alone, and said.
    std::fs::write(&store, r#"{"version": 999}"#).unwrap();
    let (code, report) = run(&store);
    assert_eq!(code, 2, "{report:#}");
    assert_verdicts(&report, &[("refresh-grant", "failure")]);
    assert!(
        observed(&report, "refresh-grant").contains("cannot be read"),
        "{report:#}"
    );
}

/// An authorization server that approves at once, refresh tokens rotated.
const SIGN_IN_TESTBED: &str = r#"{
  "servers": [{ "name": "main", "auth": { "mode": "oauth", "baseScopes": ["mcp"] },
                "tools": [{ "preset": "echo" }] }],
  "oauth": { "scopesSupported": ["mcp"], "defaultScopes": ["mcp"], "consent": "auto",
             "refreshTokens": { "enabled": true, "rotate": true } }
}"#;

/// `--sign-in`: the guided sign-in in the terminal (here `--non-interactive`), every step judged
/// in the same report, then the refresh; the tokens land in the shared store and never in the
/// report or on the terminal.
#[test]
fn sign_in_walks_the_guided_steps_then_checks_a_refresh() {
    let testbed = TestbedProcess::start(SIGN_IN_TESTBED);
    let url = format!("{}/servers/main/mcp", testbed.base_url());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("oauth-store.json");
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .args(["doctor", &url, "--json", "--sign-in", "--non-interactive"])
        .args(["--secrets", "file"])
        .env("KEYHOLE_STORE", &store)
        .env("RUST_LOG", "warn")
        .output()
        .expect("keyhole doctor runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    assert_ne!(output.status.code(), Some(2), "{report:#}\n{stderr}");
    assert_verdicts(
        &report,
        &[
            ("client-identity", "pass"),
            ("authorization-request", "pass"),
            ("callback-state", "pass"),
            ("callback-iss", "pass"),
            ("token-response", "pass"),
            ("token-refresh-issued", "pass"),
            ("token-accepted", "pass"),
            ("refresh-grant", "pass"),
            ("refresh-rotation", "pass"),
        ],
    );
    // Each rule once: the challenge and metadata the sign-in met again are not repeated.
    assert_verdicts(
        &report,
        &[("challenge-401", "pass"), ("prm-resource", "pass")],
    );
    assert!(stderr.contains("sign-in step"), "progress: {stderr}");

    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&store).unwrap()).unwrap();
    let tokens = &kept["credentials"][0]["tokens"];
    for field in ["access_token", "refresh_token"] {
        let secret = tokens[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {kept}"));
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{field} printed"
        );
    }
}

/// `--sign-in` against a third-party server: the TypeScript SDK's OAuth example (its
/// authorization server approves at once) — every sign-in step passes, the token it issued is
/// accepted, and the absence of refresh tokens is said, not failed.
#[test]
fn sign_in_against_the_typescript_sdk_example() {
    let Some(peers) = Peers::find() else { return };
    let server = TypeScriptExample::start(&peers, false);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .args([
            "doctor",
            &server.mcp_url,
            "--json",
            "--sign-in",
            "--non-interactive",
        ])
        .args(["--secrets", "file"])
        .env("KEYHOLE_STORE", dir.path().join("oauth-store.json"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("keyhole doctor runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_verdicts(
        &report,
        &[
            ("client-identity", "pass"),
            ("authorization-request", "pass"),
            ("callback-state", "pass"),
            ("callback-code", "pass"),
            ("token-response", "pass"),
            ("token-accepted", "pass"),
            ("token-refresh-issued", "info"),
            ("refresh-grant", "info"),
            // What the audit found before signing in stays (the SDK's 500 to a made-up token).
            ("invalid-token-401", "failure"),
        ],
    );
}
