//! Running the real `keyhole tui` in a pseudo-terminal, as a person's terminal would: keys are
//! written to it, and what it draws is read back through a terminal emulator (`vt100`), so tests
//! assert on the screen a person sees. The browser is played by the test: `xdg-open` on the
//! process's `PATH` is a script that records the URL it is given, and [`Tui::play_browser`]
//! follows it (an authorization server that approves at once redirects to the TUI's loopback
//! callback).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::keyhole_binary;

/// Columns and rows of the pseudo-terminal (the TUI's smallest comfortable size is 80×24).
pub const COLUMNS: u16 = 100;
pub const ROWS: u16 = 30;

/// `keyhole tui` in a pseudo-terminal, with its own OAuth store; killed on drop.
pub struct Tui {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Kept open while the TUI runs; resizes go through it.
    master: Box<dyn portable_pty::MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Everything the TUI wrote, raw (to check the terminal was put back on exit).
    raw: Arc<Mutex<Vec<u8>>>,
    /// Set when the TUI's output has been read to its end (the process closed the terminal).
    ended: Arc<std::sync::atomic::AtomicBool>,
    dir: tempfile::TempDir,
    /// Authorization URLs already played.
    played: usize,
}

impl Tui {
    /// Starts `keyhole tui ARGS…` at [`COLUMNS`]×[`ROWS`].
    pub fn start(args: &[&str]) -> Self {
        Self::start_sized(args, COLUMNS, ROWS)
    }

    pub fn start_sized(args: &[&str], columns: u16, rows: u16) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let opener = dir.path().join("xdg-open");
        let record = dir.path().join("opened");
        std::fs::write(
            &opener,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                record.display()
            ),
        )
        .expect("write the fake xdg-open");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755))
                .expect("make xdg-open executable");
        }
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols: columns,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(keyhole_binary());
        command.arg("tui");
        command.args(args);
        command.env("KEYHOLE_STORE", dir.path().join("oauth-store.json"));
        command.env("KEYHOLE_SECRETS", "file");
        command.env("PATH", dir.path());
        command.env("TERM", "xterm-256color");
        command.cwd(dir.path());
        let child = pty.slave.spawn_command(command).expect("start keyhole tui");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("the pty's output");
        let writer = pty.master.take_writer().expect("the pty's input");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, columns, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (screen, all, end) = (Arc::clone(&parser), Arc::clone(&raw), Arc::clone(&ended));
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().process(&buffer[..n]);
                all.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
            end.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Self {
            child,
            master: pty.master,
            writer,
            parser,
            raw,
            ended,
            dir,
            played: 0,
        }
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits (at most `limit`) until `test` accepts the screen, and returns it.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        test: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for {what}; the screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits (at most 20 s) until the screen shows `text`.
    pub async fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), Duration::from_secs(20), |s| {
            s.contains(text)
        })
        .await
    }

    /// Types `text` (characters as keys).
    pub fn type_text(&mut self, text: &str) {
        self.writer
            .write_all(text.as_bytes())
            .expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Presses one key: "Enter", "Esc", "Tab", "Up", "Down", "Left", "Right", "Backspace",
    /// "Ctrl-C", or a character.
    pub fn press(&mut self, key: &str) {
        let bytes: &[u8] = match key {
            "Enter" => b"\r",
            "Esc" => b"\x1b",
            "Tab" => b"\t",
            "Up" => b"\x1b[A",
            "Down" => b"\x1b[B",
            "Right" => b"\x1b[C",
            "Left" => b"\x1b[D",
            "Backspace" => b"\x7f",
            "Ctrl-C" => b"\x03",
            other => other.as_bytes(),
        };
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
        // A lone Esc is told apart from an escape sequence by a pause.
        std::thread::sleep(Duration::from_millis(60));
    }

    /// The URLs the TUI asked the browser to open, in order.
    pub fn opened_urls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("opened"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Plays the browser for the next authorization URL the TUI opened (waiting for it): follows
    /// it and its redirects, the last of which is the TUI's loopback callback.
    pub async fn play_browser(&mut self) -> String {
        let start = Instant::now();
        let url = loop {
            if let Some(url) = self.opened_urls().get(self.played) {
                break url.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the TUI opened no browser; the screen:\n{}",
                self.screen()
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
        };
        self.played += 1;
        let page = reqwest::get(&url)
            .await
            .expect("the authorization request and its redirects")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            page.contains("Authorization received"),
            "the browser did not come back to the TUI: {page}"
        );
        url
    }

    /// The OAuth store's file.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("oauth-store.json")
    }

    /// Waits (at most 10 s) for the process to end, and for what it wrote last to be read, and
    /// returns its exit code.
    pub async fn exit_code(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            let ended = self.ended.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(Some(status)) = self.child.try_wait()
                && ended
            {
                return status.exit_code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "keyhole tui did not exit; the screen:\n{}",
                self.screen()
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Everything the TUI wrote to the terminal.
    pub fn raw_output(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Resizes the terminal (the TUI redraws for the new size).
    pub fn resize(&mut self, columns: u16, rows: u16) {
        self.parser.lock().unwrap().set_size(rows, columns);
        self.master
            .resize(PtySize {
                rows,
                cols: columns,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
    }

    /// Signals the process (`SIGTERM`…).
    #[cfg(unix)]
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.child.process_id() {
            let _ = std::process::Command::new("kill")
                .args([format!("-{signal}"), pid.to_string()])
                .status();
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
