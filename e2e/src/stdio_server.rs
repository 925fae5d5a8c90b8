//! The small stdio MCP server the server crate's tests use (`server/tests/cli_fixture/
//! stdio_server.py`, run with `python3`), and the checks that what it started is gone.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The script's path.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/cli_fixture/stdio_server.py")
}

/// The server's and its helper's process ids, as it wrote them to its `PID_FILE`.
pub fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .expect("the server wrote its process ids")
        .split_whitespace()
        .map(|pid| pid.parse().expect("a process id"))
        .collect()
}

/// Whether `pid` still runs (a zombie waiting for its parent does not).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit(')').next().map(|rest| rest.trim().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// Waits up to 5 s for every process of `pids` to end; fails naming those left, and `after`.
pub async fn until_gone(pids: &[u32], after: &str) {
    for _ in 0..50 {
        if !pids.iter().any(|pid| running(*pid)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<u32> = pids.iter().copied().filter(|pid| running(*pid)).collect();
    panic!("left running {after}: {left:?}");
}
