//! The real `keyhole cli` binary: documented exit codes in `--help`, exit 2 on bad usage.

use std::process::Command;

#[test]
fn help_documents_the_exit_codes_and_usage_errors_exit_with_2() {
    let bin = keyhole_e2e::keyhole_binary();
    let help = Command::new(&bin).args(["cli", "--help"]).output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Exit codes: 0 success, 1 error, 2 bad usage, 3 authorization required, 4 the tool reported an error"),
        "{text}"
    );
    assert!(
        text.contains("--non-interactive") && text.contains("--callback-port"),
        "{text}"
    );

    let store = tempfile_path();
    let no_server = Command::new(&bin)
        .args(["cli", "tools", "list"])
        .env("KEYHOLE_STORE", &store)
        .output()
        .unwrap();
    assert_eq!(no_server.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_server.stderr).contains("--url"));

    let unreachable = Command::new(&bin)
        .args(["cli", "--url", "http://127.0.0.1:9/mcp", "tools", "list"])
        .env("KEYHOLE_STORE", &store)
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
}

fn tempfile_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("keyhole-e2e-cli-{}.json", std::process::id()))
}
