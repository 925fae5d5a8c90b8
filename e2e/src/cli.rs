//! Running the real `keyhole cli` against a store of its own, as a user's terminal would: the exit
//! code and both output streams, and — for sign-ins through the browser — the authorization URL
//! it prints, so a test can play the browser and answer the loopback callback.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::keyhole_binary;

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// `keyhole cli` with its own OAuth store (`KEYHOLE_STORE`) in a temporary directory.
pub struct Cli {
    dir: tempfile::TempDir,
    /// `KEYHOLE_SECRETS` for its runs: `file` unless a test chooses (never the user's keychain).
    secrets: &'static str,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            secrets: "file",
        }
    }

    /// The same CLI with its secrets kept where `mode` says (`memory`, `file`…).
    pub fn with_secrets(mut self, mode: &'static str) -> Self {
        self.secrets = mode;
        self
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("oauth-store.json")
    }

    /// The store as JSON (tests look for secrets that must not be there, and for records).
    pub fn store_text(&self) -> String {
        std::fs::read_to_string(self.store_path()).unwrap_or_default()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(keyhole_binary());
        command
            .arg("cli")
            .args(args)
            .env("KEYHOLE_STORE", self.store_path())
            .env("KEYHOLE_SECRETS", self.secrets)
            .env("RUST_LOG", "warn")
            // No desktop browser may open (`xdg-open` is not found): the tests play it.
            .env("PATH", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `keyhole cli ARGS…` to the end (at most two minutes).
    pub async fn run(&self, args: &[&str]) -> CliOutput {
        self.run_with_browser(args, |_| async { None }).await
    }

    /// Same; each authorization URL the CLI prints is handed to `browser`, whose answer (the
    /// callback URL, if it got one) is visited as the browser would.
    pub async fn run_with_browser<F, Fut>(&self, args: &[&str], browser: F) -> CliOutput
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Option<String>>,
    {
        self.run_inner(args, None, browser).await
    }

    /// Runs `keyhole cli ARGS…` with `input` on its stdin (what a person would type).
    pub async fn run_with_stdin(&self, args: &[&str], input: &str) -> CliOutput {
        self.run_inner(args, Some(input), |_| async { None }).await
    }

    async fn run_inner<F, Fut>(
        &self,
        args: &[&str],
        input: Option<&str>,
        mut browser: F,
    ) -> CliOutput
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Option<String>>,
    {
        let mut command = self.command(args);
        if input.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start keyhole cli: {e}"));
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            use std::io::Write;
            stdin
                .write_all(input.as_bytes())
                .expect("the CLI reads its stdin");
        }
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let (urls, asked) = mpsc::channel();
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let mut next_is_url = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if next_is_url {
                    let _ = urls.send(line.trim().to_owned());
                }
                next_is_url = line.starts_with("Authorize Keyhole in your browser");
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let code = loop {
            if let Ok(url) = asked.try_recv()
                && let Some(callback) = browser(url).await
            {
                let answer = reqwest::get(&callback)
                    .await
                    .expect("the CLI's callback answers");
                assert_eq!(answer.status(), 200, "the CLI's loopback callback");
            }
            if let Some(status) = child.try_wait().expect("the CLI process") {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("keyhole cli {args:?} did not finish within 2 minutes");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        CliOutput {
            code,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        }
    }
}
