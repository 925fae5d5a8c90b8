//! Running the real `keyhole` binary on a free loopback port.
//!
//! **Which binary.** The tests run `target/<profile>/keyhole`, the binary next to the test
//! executable's profile directory (or `$KEYHOLE_BIN`, taken as given). `cargo test -p keyhole-e2e`
//! does not build that binary (it belongs to another package, and an artifact dependency on a
//! binary is not available on stable), so a stale one could run and pass. Before the first process
//! starts, [`keyhole_binary`] therefore compares the binary's modification time with the newest
//! file of the sources it is built from (the `server`, `shared`, `frontend` and `testbed` crates
//! without their `tests/` and `benches/`, and the workspace's `Cargo.toml` and `Cargo.lock`). If
//! the binary is missing or any of those is newer, it runs `cargo build -p keyhole-server --bin
//! keyhole` once for the whole test executable, with the same profile and target directory, and
//! lets cargo decide what to rebuild (afterwards the binary counts as checked). The check stats a few hundred files (milliseconds); a fresh
//! binary costs no cargo run at all, and test executables running at once are serialised by
//! cargo's own build lock.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, SystemTime};

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
    store_dir: tempfile::TempDir,
    /// How it was started, for [`KeyholeProcess::restart`].
    started_with: (Option<PathBuf>, Vec<String>),
}

/// The workspace's crates the `keyhole` binary is built from.
const BINARY_CRATES: [&str; 4] = ["server", "shared", "frontend", "testbed"];
/// Directories inside those crates that do not go into the binary.
const NOT_IN_BINARY: [&str; 4] = ["tests", "benches", "target", "node_modules"];

/// The binary under test, built or verified to be newer than its sources (see the module doc).
/// `$KEYHOLE_BIN` is used as given.
pub fn keyhole_binary() -> PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("KEYHOLE_BIN") {
                return PathBuf::from(path);
            }
            let target = TargetLayout::of_this_test();
            let binary = target.profile_dir.join("keyhole");
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("e2e/ lives in the workspace");
            if let Some(why) = stale_because(&binary, workspace) {
                eprintln!(
                    "e2e: {why}; running `cargo build -p keyhole-server --bin keyhole` first"
                );
                target.build_keyhole(workspace);
                // Cargo has just brought the binary up to date; when the newer files did not
                // concern it (a lock-file entry of another package, say), mark it as checked so
                // the next test executable does not ask cargo again.
                if stale_because(&binary, workspace).is_some()
                    && let Ok(file) = std::fs::File::options().write(true).open(&binary)
                {
                    let _ = file.set_modified(SystemTime::now());
                }
            }
            binary
        })
        .clone()
}

/// Why `binary` cannot be trusted to match the sources in `workspace`, if it cannot.
fn stale_because(binary: &Path, workspace: &Path) -> Option<String> {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return Some(format!("{} does not exist", binary.display()));
    };
    let mut sources: Vec<PathBuf> =
        vec![workspace.join("Cargo.toml"), workspace.join("Cargo.lock")];
    for krate in BINARY_CRATES {
        collect_files(&workspace.join(krate), &mut sources);
    }
    let newer = sources
        .into_iter()
        .filter_map(|path| Some((modified(&path)?, path)))
        .filter(|(at, _)| *at > built)
        .max_by_key(|(at, _)| *at)?;
    Some(format!(
        "{} is newer than {}",
        newer.1.display(),
        binary.display()
    ))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn collect_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || NOT_IN_BINARY.contains(&name.as_ref()) {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_files(&path, into),
            Ok(_) => into.push(path),
            Err(_) => {}
        }
    }
}

/// Where cargo put this test executable: `<target dir>[/<triple>]/<profile>/deps/<test>`.
struct TargetLayout {
    target_dir: PathBuf,
    triple: Option<String>,
    profile_dir: PathBuf,
}

impl TargetLayout {
    fn of_this_test() -> Self {
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps")
            .to_path_buf();
        let above = profile_dir.parent().expect("a target directory");
        // The target directory is the one cargo marks with CACHEDIR.TAG (when it created it) and
        // keeps `.rustc_info.json` in; a level in between is a `--target` triple.
        let is_target_dir =
            |dir: &Path| dir.join("CACHEDIR.TAG").exists() || dir.join(".rustc_info.json").exists();
        let (target_dir, triple) = if is_target_dir(above) {
            (above.to_path_buf(), None)
        } else {
            let triple = above.file_name().map(|n| n.to_string_lossy().into_owned());
            (above.parent().unwrap_or(above).to_path_buf(), triple)
        };
        Self {
            target_dir,
            triple,
            profile_dir,
        }
    }

    /// `cargo build -p keyhole-server --bin keyhole` into this layout; panics if it fails.
    fn build_keyhole(&self, workspace: &Path) {
        let cargo = std::env::var_os("CARGO")
            .or_else(|| option_env!("CARGO").map(Into::into))
            .unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace)
            .args(["build", "-p", "keyhole-server", "--bin", "keyhole"])
            .arg("--target-dir")
            .arg(&self.target_dir);
        match self.profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                command.arg("--release");
            }
            Some(profile) => {
                command.args(["--profile", profile]);
            }
        }
        if let Some(triple) = &self.triple {
            command.args(["--target", triple]);
        }
        let status = command
            .status()
            .unwrap_or_else(|e| panic!("could not run cargo to build keyhole: {e}"));
        assert!(
            status.success(),
            "`cargo build --bin keyhole` failed ({status}); the e2e tests need the current binary"
        );
    }
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
        Self::spawn_in(None, args)
    }

    /// [`KeyholeProcess::spawn`] in the working directory `cwd` (the tests' own by default).
    pub fn spawn_in(cwd: Option<&Path>, args: &[&str]) -> Self {
        // Each process gets its own OAuth store: tests never touch the user's.
        let store_dir = tempfile::tempdir().expect("a temporary store directory");
        Self::launch(cwd, args, store_dir)
    }

    /// Stops this process and starts it again with the same arguments, store and configuration
    /// folder (on new ports).
    pub fn restart(mut self) -> Self {
        let placeholder = tempfile::tempdir().expect("a temporary directory");
        let store_dir = std::mem::replace(&mut self.store_dir, placeholder);
        let (cwd, args) = std::mem::take(&mut self.started_with);
        drop(self);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::launch(cwd.as_deref(), &args, store_dir)
    }

    fn launch(cwd: Option<&Path>, args: &[&str], store_dir: tempfile::TempDir) -> Self {
        let binary = keyhole_binary();
        assert!(
            binary.exists(),
            "{} does not exist (KEYHOLE_BIN points elsewhere?)",
            binary.display()
        );
        let mut command = Command::new(&binary);
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        // The configuration folder is the temporary one too: no user's `mcp.json` is read.
        let mut child = command
            .args(args)
            .env("XDG_CONFIG_HOME", store_dir.path())
            .env("KEYHOLE_STORE", store_dir.path().join("oauth-store.json"))
            .env("KEYHOLE_API_TOKEN", TEST_API_TOKEN)
            // Never the user's keychain (an argument `--secrets` still wins).
            .env("KEYHOLE_SECRETS", "file")
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
            store_dir,
            started_with: (
                cwd.map(Path::to_owned),
                args.iter().map(|a| (*a).to_owned()).collect(),
            ),
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

    /// Waits up to `within` for the process to exit by itself; its status, or `None` if it still
    /// runs.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The OAuth store file this process uses (`KEYHOLE_STORE`, in a temporary directory).
    pub fn store_path(&self) -> PathBuf {
        self.store_dir.path().join("oauth-store.json")
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
