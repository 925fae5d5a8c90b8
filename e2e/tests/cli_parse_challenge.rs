//! `keyhole cli auth parse-challenge`, run as the real binary.

use std::process::{Command, Output};

use serde_json::{Value, json};

fn parse_challenge(args: &[&str]) -> Output {
    Command::new(keyhole_e2e::keyhole_binary())
        .args(["cli", "auth", "parse-challenge"])
        .args(args)
        .output()
        .unwrap()
}

fn report(args: &[&str]) -> Value {
    let output = parse_challenge(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn insufficient_scope_yields_challenge_and_required_scopes() {
    let report = report(&[
        "--status",
        "403",
        r#"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp""#,
    ]);
    assert_eq!(report["challenges"][0]["scheme"], "Bearer");
    assert_eq!(report["challenges"][0]["token68"], Value::Null);
    assert_eq!(
        report["challenges"][0]["params"][1],
        json!(["scope", "files:read files:write"])
    );
    assert_eq!(report["diagnostics"], json!([]));
    let challenge = &report["authChallenge"];
    assert_eq!(challenge["reason"], "insufficient_scope");
    assert_eq!(
        challenge["requiredScopes"],
        json!(["files:read", "files:write"])
    );
    assert_eq!(
        challenge["resourceMetadata"],
        "https://mcp.example/.well-known/oauth-protected-resource/mcp"
    );
}

#[test]
fn several_lines_and_diagnostics_still_exit_zero() {
    let report = report(&[
        "--status",
        "401",
        r#"Basic realm="x", Bearer error="invalid_token", error="invalid_token""#,
        "Bearer realm=\"unterminated",
    ]);
    let schemes: Vec<&str> = report["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["scheme"].as_str().unwrap())
        .collect();
    assert_eq!(schemes, ["Basic", "Bearer", "Bearer"]);
    let kinds: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"duplicate_parameter"), "{kinds:?}");
    assert!(kinds.contains(&"unterminated_string"), "{kinds:?}");
    assert_eq!(report["authChallenge"]["reason"], "invalid_token");
}

#[test]
fn without_status_there_is_no_auth_challenge() {
    let report = report(&[r#"Bearer scope="a""#]);
    assert_eq!(report["authChallenge"], Value::Null);
    assert_eq!(report["challenges"][0]["params"], json!([["scope", "a"]]));
}

#[cfg(unix)]
#[test]
fn bytes_that_are_not_utf8_are_a_diagnostic_not_a_crash() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let output = Command::new(keyhole_e2e::keyhole_binary())
        .args(["cli", "auth", "parse-challenge", "--status", "401"])
        .arg(OsStr::from_bytes(b"Bearer realm=\"caf\xe9\""))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["kind"], "invalid_utf8");
}

#[test]
fn bad_usage_exits_two() {
    assert_eq!(parse_challenge(&[]).status.code(), Some(2));
    assert_eq!(
        parse_challenge(&["--status", "abc", "Bearer"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        parse_challenge(&["--status", "42", "Bearer"]).status.code(),
        Some(2)
    );
}
