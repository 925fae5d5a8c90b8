//! Running the real `keyhole` binary on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The API token the tests pin with `KEYHOLE_API_TOKEN`.
pub const TEST_API_TOKEN: &str = "e2e-test-token";

/// A `keyhole` process; killed on drop.
pub struct KeyholeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    /// The URL the binary printed for the user to open (it carries the token).
    pub open_url: String,
    printed: Arc<Mutex<Vec<String>>>,
    _store_dir: tempfile::TempDir,
}

/// The binary under test: `$KEYHOLE_BIN`, else the `keyhole` next to this test executable's directory
/// (`target/<profile>/keyhole`, which `cargo test` builds because the server package has tests).
pub fn keyhole_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KEYHOLE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile_dir.join("keyhole")
}

impl KeyholeProcess {
    /// Starts the web inspector (`keyhole <args…>`) on free ports, demo included unless
    /// `--no-demo` is among `args`.
    pub fn web(args: &[&str]) -> Self {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--port", "0", "--demo-port", "0"]);
        Self::spawn(&all)
    }

    /// Starts `keyhole <args…>` and waits for the first URL it prints: the address to open for the
    /// web inspector, the base URL for the testbed.
    pub fn spawn(args: &[&str]) -> Self {
        let binary = keyhole_binary();
        assert!(
            binary.exists(),
            "{} does not exist: build it with `cargo build --bin keyhole` (or set KEYHOLE_BIN)",
            binary.display()
        );
        // Each process gets its own OAuth store: tests never touch the user's.
        let store_dir = tempfile::tempdir().expect("a temporary store directory");
        let mut child = Command::new(&binary)
            .args(args)
            .env("KEYHOLE_STORE", store_dir.path().join("oauth-store.json"))
            .env("KEYHOLE_API_TOKEN", TEST_API_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let printed = Arc::new(Mutex::new(Vec::new()));
        let collected = printed.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://") {
                    let _ = tx.send(line[at..].trim().to_owned());
                }
                collected
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(line);
            }
        });
        let open_url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("keyhole {args:?} did not print a URL within 30 s");
            }
        };
        let base_url = open_url
            .split("/?")
            .next()
            .unwrap_or(&open_url)
            .trim_end_matches('/')
            .to_owned();
        Self {
            child,
            base_url,
            open_url,
            printed,
            _store_dir: store_dir,
        }
    }

    /// What the process has printed on stdout so far, waiting up to 5 s for a line containing `needle`.
    pub fn stdout_containing(&self, needle: &str) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self
                .printed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if lines.iter().any(|l| l.contains(needle)) || std::time::Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id (for reading its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.base_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in base URL")
    }
}

impl Drop for KeyholeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
