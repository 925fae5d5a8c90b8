//! The stdio transport (MCP basic/transports › stdio): Keyhole starts the server as a child process,
//! writes each JSON-RPC message as one line to its stdin, and reads one message per line from its
//! stdout; what the server writes to stderr is its log, handed on line by line
//! ([`ClientEvents::console`]). The child leads a process group of its own, so closing the
//! connection ends it and whatever it started (the node process behind an `npx` wrapper, say), the
//! way the specification's shutdown asks: stdin closed, then `SIGTERM`, then `SIGKILL`. A server
//! that exits by itself fails the requests waiting for it and is reported with its exit status.
//!
//! When Keyhole itself is killed outright, the [`stdio_guard`] it starts the server through
//! ends the group.
//!
//! Written here rather than taken from an SDK for the reason the whole client is (see the parent
//! module): the inspector has to show every message and own the process's life.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{oneshot, watch};

use super::responses::Responses;
use super::stdio_guard;
use super::{ClientEvents, SendError};

/// A line from the server longer than this is not read as a message (the limit of an HTTP body).
const MAX_LINE: u64 = 16 * 1024 * 1024;
/// How long a server gets to exit after its stdin closes, and again after `SIGTERM`.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How much of an unreadable stdout line a notice quotes.
const QUOTED: usize = 200;

/// The server to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioCommand {
    pub command: String,
    pub args: Vec<String>,
    /// Set on top of Keyhole's own environment. Values are never logged or shown.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

impl StdioCommand {
    /// The command line as a shell would take it (arguments quoted where needed).
    pub fn command_line(&self) -> String {
        let mut words = vec![quote(&self.command)];
        words.extend(self.args.iter().map(|arg| quote(arg)));
        words.join(" ")
    }

    /// A URL that names this server where one is expected (`stdio:` and the command line): the
    /// key of the server in the CLI's and the hub's bookkeeping. Never fetched.
    pub fn pseudo_url(&self) -> url::Url {
        let line: String =
            url::form_urlencoded::byte_serialize(self.command_line().as_bytes()).collect();
        url::Url::parse(&format!("stdio:{line}")).expect("a stdio: URL of encoded text parses")
    }

    /// The command line for the UI and for messages: the environment's names are listed, its
    /// values left out.
    pub fn display(&self) -> String {
        let line = self.command_line();
        if self.env.is_empty() {
            line
        } else {
            let names: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
            format!("{line} (with {} set)", names.join(", "))
        }
    }
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A running stdio server.
pub struct StdioChannel {
    display: String,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    responses: Responses,
    /// Asks the process's keeper to end it.
    stop: Mutex<Option<oneshot::Sender<()>>>,
    /// How the process ended, once it has.
    exited: watch::Receiver<Option<String>>,
    pid: Option<u32>,
}

impl StdioChannel {
    /// Starts `command`; its messages and log lines go to `events`.
    pub fn spawn(
        command: &StdioCommand,
        events: Arc<dyn ClientEvents>,
    ) -> Result<Arc<Self>, SendError> {
        let display = command.display();
        let cannot_start = |error: std::io::Error| {
            SendError::Transport(format!(
                "could not start the MCP server `{display}`: {error}"
            ))
        };
        let path = command
            .env
            .iter()
            .find(|(name, _)| name == "PATH")
            .map(|(_, value)| value.into());
        let (program, args) = stdio_guard::wrap(
            &command.command,
            &command.args,
            path.as_ref(),
            command.cwd.as_deref(),
        )
        .map_err(cannot_start)?;
        let mut process = Command::new(program);
        process
            .args(args)
            .envs(command.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(cwd) = &command.cwd {
            process.current_dir(cwd);
        }
        #[cfg(unix)]
        process.process_group(0);
        #[cfg(target_os = "linux")]
        if stdio_guard::enabled() {
            // SAFETY: `die_with_parent` only calls `prctl`, which is async-signal-safe.
            unsafe {
                process.pre_exec(stdio_guard::die_with_parent);
            }
        }
        let mut child = process.spawn().map_err(cannot_start)?;
        let pid = child.id();
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let responses = Responses::default();
        if let Some(stdout) = stdout {
            let reader = read_messages(BufReader::new(stdout), responses.clone(), events.clone());
            tokio::spawn(reader);
        }
        if let Some(stderr) = stderr {
            tokio::spawn(read_log(BufReader::new(stderr), events.clone()));
        }
        let (stop, stopped) = oneshot::channel();
        let (exit_tx, exited) = watch::channel(None);
        let keeper = keep(
            child,
            pid,
            stopped,
            exit_tx,
            responses.clone(),
            events,
            display.clone(),
        );
        tokio::spawn(keeper);
        Ok(Arc::new(Self {
            display,
            stdin: tokio::sync::Mutex::new(stdin),
            responses,
            stop: Mutex::new(Some(stop)),
            exited,
            pid,
        }))
    }

    /// The process id of the server (the leader of its process group).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How the server process ended, if it has.
    pub fn exit(&self) -> Option<String> {
        self.exited.borrow().clone()
    }

    /// Writes `message`; for a request, waits up to `timeout` for its response.
    pub async fn send(
        &self,
        message: &Value,
        timeout: Duration,
    ) -> Result<Option<Value>, SendError> {
        if let Some(exit) = self.exit() {
            return Err(self.gone(&exit));
        }
        let mut awaited = self.responses.expect(message);
        let mut line =
            serde_json::to_vec(message).map_err(|e| SendError::Transport(e.to_string()))?;
        line.push(b'\n');
        let written = {
            let mut stdin = self.stdin.lock().await;
            match stdin.as_mut() {
                Some(stdin) => match stdin.write_all(&line).await {
                    Ok(()) => stdin.flush().await,
                    Err(error) => Err(error),
                },
                None => Err(std::io::ErrorKind::BrokenPipe.into()),
            }
        };
        if let Err(error) = written {
            return Err(match self.exit() {
                Some(exit) => self.gone(&exit),
                None => SendError::Transport(format!(
                    "could not write to the MCP server `{}`: {error}",
                    self.display
                )),
            });
        }
        let Some(awaited) = awaited.as_mut() else {
            return Ok(None);
        };
        match tokio::time::timeout(timeout, &mut awaited.answer).await {
            Ok(Ok(response)) => Ok(Some(response)),
            Ok(Err(_closed)) => Err(self.gone(&self.exit().unwrap_or_default())),
            Err(_elapsed) => Err(SendError::Transport(format!(
                "the MCP server did not answer within {} s; Keyhole gave up on the request",
                timeout.as_secs_f64()
            ))),
        }
    }

    fn gone(&self, exit: &str) -> SendError {
        SendError::Transport(format!(
            "the MCP server process `{}` has ended ({exit})",
            self.display
        ))
    }

    /// Ends the server: stdin closed, then `SIGTERM`, then `SIGKILL` to its whole process group;
    /// returns once it has exited.
    pub async fn close(&self) {
        drop(self.stdin.lock().await.take());
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
        let mut exited = self.exited.clone();
        let _ = exited.wait_for(Option::is_some).await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Watches the process: reports its exit, or ends it (and its group) when asked.
async fn keep(
    mut child: Child,
    pid: Option<u32>,
    stop: oneshot::Receiver<()>,
    exited: watch::Sender<Option<String>>,
    responses: Responses,
    events: Arc<dyn ClientEvents>,
    display: String,
) {
    // Asked to stop, or the channel was dropped: either way the server is ended.
    tokio::select! {
        status = child.wait() => {
            let described = describe(status);
            events.notice(format!("The MCP server process `{display}` ended ({described})."));
            signal_group(pid, Signal::Kill); // what it started, if anything is left
            finish(&exited, &responses, described);
            return;
        }
        _ = stop => {}
    }
    // Its stdin is closed: a well-behaved server exits by itself.
    let status = match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            signal_group(pid, Signal::Terminate);
            match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    signal_group(pid, Signal::Kill);
                    let _ = child.start_kill();
                    child.wait().await
                }
            }
        }
    };
    signal_group(pid, Signal::Kill);
    finish(&exited, &responses, describe(status));
}

fn finish(exited: &watch::Sender<Option<String>>, responses: &Responses, described: String) {
    let _ = exited.send(Some(described));
    responses.fail_all();
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => match (status.code(), signal_of(&status)) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "ended".to_owned(),
        },
        Err(error) => format!("its status is unknown: {error}"),
    }
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

enum Signal {
    Terminate,
    Kill,
}

/// Sends a signal to the process group led by `pid` (the child was started as its leader).
#[cfg(unix)]
fn signal_group(pid: Option<u32>, signal: Signal) {
    let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) else {
        return;
    };
    let signal = match signal {
        Signal::Terminate => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    // SAFETY: `kill` has no memory effects; a negative pid names the group, which is ours (the
    // child was spawned as its leader) or gone (ESRCH, ignored).
    unsafe {
        libc::kill(-pid, signal);
    }
}

#[cfg(not(unix))]
fn signal_group(_: Option<u32>, _: Signal) {}

/// Reads the server's stdout: each line one JSON-RPC message; responses go to the request
/// waiting for them, everything else to `events`.
async fn read_messages<R: AsyncBufRead + Unpin>(
    mut reader: R,
    responses: Responses,
    events: Arc<dyn ClientEvents>,
) {
    loop {
        let line = match read_line(&mut reader).await {
            Line::End => return,
            Line::TooLong => {
                events.notice(format!(
                    "The MCP server wrote a line over {} MiB to stdout; Keyhole skipped it.",
                    MAX_LINE / (1024 * 1024)
                ));
                continue;
            }
            Line::Text(line) => line,
        };
        if line.trim().is_empty() {
            continue;
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            let quoted: String = line.chars().take(QUOTED).collect();
            events.notice(format!(
                "The MCP server wrote a line to stdout that is not JSON-RPC (stdout is for protocol \
                 messages only; logs belong on stderr): {quoted}"
            ));
            continue;
        };
        if let Some(message) = responses.route(message) {
            events.server_message(message);
        }
    }
}

/// Reads the server's stderr, one log line at a time.
async fn read_log<R: AsyncBufRead + Unpin>(mut reader: R, events: Arc<dyn ClientEvents>) {
    loop {
        match read_line(&mut reader).await {
            Line::End => return,
            Line::TooLong => events.console("(a log line over 16 MiB was skipped)".into()),
            Line::Text(line) => events.console(line.trim_end().to_owned()),
        }
    }
}

enum Line {
    Text(String),
    TooLong,
    End,
}

/// One line (without its end), at most [`MAX_LINE`] bytes; the rest of a longer one is skipped.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> Line {
    let mut buffer = Vec::new();
    match (&mut *reader)
        .take(MAX_LINE)
        .read_until(b'\n', &mut buffer)
        .await
    {
        Ok(0) => return Line::End,
        Ok(_) => {}
        Err(_) => return Line::End,
    }
    if buffer.last() != Some(&b'\n') && buffer.len() as u64 == MAX_LINE {
        // Skip to the end of the line.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            match (&mut *reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut rest)
                .await
            {
                Ok(0) | Err(_) => return Line::End,
                Ok(_) if rest.last() == Some(&b'\n') => return Line::TooLong,
                Ok(_) => {}
            }
        }
    }
    while matches!(buffer.last(), Some(b'\n' | b'\r')) {
        buffer.pop();
    }
    Line::Text(String::from_utf8_lossy(&buffer).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_quoted_and_env_values_are_left_out() {
        let command = StdioCommand {
            command: "npx".into(),
            args: vec!["-y".into(), "my server".into(), "it's".into()],
            env: vec![("API_KEY".into(), "s3cret".into())],
            cwd: None,
        };
        let shown = command.display();
        assert_eq!(shown, "npx -y 'my server' 'it'\\''s' (with API_KEY set)");
        assert!(!shown.contains("s3cret"));
    }

    #[tokio::test]
    async fn lines_are_read_whole_and_an_endless_one_is_skipped() {
        let mut input: &[u8] = b"{\"a\":1}\r\nsecond\nlast";
        let mut reader = BufReader::new(&mut input);
        let mut seen = Vec::new();
        loop {
            match read_line(&mut reader).await {
                Line::Text(text) => seen.push(text),
                Line::TooLong => seen.push("(too long)".into()),
                Line::End => break,
            }
        }
        assert_eq!(seen, ["{\"a\":1}", "second", "last"]);
    }
}
