//! A stdio server must not outlive Keyhole, even when Keyhole is killed with `SIGKILL` and can
//! clean nothing up. The kernel's parent-death signal (`PR_SET_PDEATHSIG`, Linux) reaches only
//! the direct child, while a server is often a wrapper (`npx`, `uv run`) whose real process is a
//! grandchild. So, when enabled (by the `keyhole` binary, [`enable`]), the child Keyhole starts is
//! a small guard — `keyhole stdio-guard --parent PID -- COMMAND ARGS…`, leading the server's
//! process group — which starts the server with the same stdin, stdout and stderr and waits:
//!
//! * the server exits: the guard exits the same way (the same code, or the same signal);
//! * the guard gets `SIGTERM` — Keyhole died (the parent-death signal) or is ending the group —:
//!   the whole group gets `SIGTERM`, then `SIGKILL` after a grace period.
//!
//! The parent-death signal fires when the *thread* that started the guard ends; Keyhole starts
//! servers from its async runtime's worker threads (or the CLI's main thread), which live as
//! long as the process. Without the guard (tests that run the client in their own process, other
//! systems) the server is started directly, as before.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

/// The `keyhole` executable that runs guards, once enabled.
static GUARD: OnceLock<PathBuf> = OnceLock::new();

/// How long the group gets between `SIGTERM` and `SIGKILL`.
const GRACE: Duration = Duration::from_secs(2);

/// The subcommand that runs a guard (hidden from `--help`).
pub const SUBCOMMAND: &str = "stdio-guard";

/// Starts stdio servers through a guard run by `keyhole` (the running executable).
pub fn enable() {
    if cfg!(target_os = "linux")
        && let Ok(exe) = std::env::current_exe()
    {
        let _ = GUARD.set(exe);
    }
}

/// The program and arguments that start `command` with `args`: through the guard when enabled
/// (the command resolved on `path`, so a missing one fails here with the usual error), else
/// directly.
pub fn wrap(
    command: &str,
    args: &[String],
    path: Option<&OsString>,
    cwd: Option<&Path>,
) -> std::io::Result<(PathBuf, Vec<OsString>)> {
    let Some(guard) = GUARD.get() else {
        return Ok((
            PathBuf::from(command),
            args.iter().map(OsString::from).collect(),
        ));
    };
    let program = resolve(command, path, cwd)?;
    let mut words: Vec<OsString> = vec![
        SUBCOMMAND.into(),
        "--parent".into(),
        std::process::id().to_string().into(),
        "--".into(),
        program.into_os_string(),
    ];
    words.extend(args.iter().map(OsString::from));
    Ok((guard.clone(), words))
}

/// Where `command` is, as `execvp` would find it: a name with a slash is a path (from `cwd`);
/// a bare name is looked up in `path`.
fn resolve(command: &str, path: Option<&OsString>, cwd: Option<&Path>) -> std::io::Result<PathBuf> {
    if command.contains('/') {
        let named = Path::new(command);
        return Ok(match cwd {
            Some(cwd) if named.is_relative() => cwd.join(named),
            _ => named.to_owned(),
        });
    }
    let search = path
        .cloned()
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    std::env::split_paths(&search)
        .map(|dir| dir.join(command))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Asks the kernel to send the guard `SIGTERM` when the thread that started it ends. Called in
/// the forked child before `exec`.
#[cfg(target_os = "linux")]
pub fn die_with_parent() -> std::io::Result<()> {
    // SAFETY: `prctl(PR_SET_PDEATHSIG)` only sets a flag of the calling process.
    let set = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
    if set == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether servers are started through the guard.
pub fn enabled() -> bool {
    GUARD.get().is_some()
}

/// The guard itself: starts `command` and stays with it (see the module doc).
#[cfg(unix)]
pub fn run(parent: u32, command: Vec<OsString>) -> ExitCode {
    let Some((program, args)) = command.split_first() else {
        eprintln!("keyhole stdio-guard: no command");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("keyhole stdio-guard: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return ExitCode::FAILURE;
        };
        // Keyhole may have died before the parent-death signal was set up.
        if std::os::unix::process::parent_id() != parent {
            return ExitCode::FAILURE;
        }
        let mut child = match tokio::process::Command::new(program).args(args).spawn() {
            Ok(child) => child,
            Err(error) => {
                eprintln!("could not start {}: {error}", program.to_string_lossy());
                return ExitCode::from(127);
            }
        };
        tokio::select! {
            status = child.wait() => exit_like(status),
            _ = terminate.recv() => {
                signal_own_group(libc::SIGTERM);
                let status = match tokio::time::timeout(GRACE, child.wait()).await {
                    Ok(status) => status,
                    Err(_) => {
                        signal_own_group(libc::SIGKILL); // the guard too
                        child.wait().await
                    }
                };
                signal_own_group(libc::SIGKILL); // what the server left behind, and the guard
                exit_like(status)
            }
        }
    })
}

#[cfg(not(unix))]
pub fn run(_parent: u32, _command: Vec<OsString>) -> ExitCode {
    eprintln!("keyhole stdio-guard: not supported on this system");
    ExitCode::FAILURE
}

#[cfg(unix)]
fn signal_own_group(signal: i32) {
    // SAFETY: `kill(0, …)` signals the caller's own process group; no memory is touched.
    unsafe {
        libc::kill(0, signal);
    }
}

/// Ends the guard as the server ended: its exit code, or its signal raised again.
#[cfg(unix)]
fn exit_like(status: std::io::Result<std::process::ExitStatus>) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let Ok(status) = status else {
        return ExitCode::FAILURE;
    };
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(signal) = status.signal() {
        // SAFETY: restoring the default action and raising the signal on ourselves.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_found_as_exec_would() {
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        let sh = resolve("sh", Some(&path), None).unwrap();
        assert!(sh.ends_with("sh") && sh.is_absolute(), "{sh:?}");
        assert!(resolve("no-such-command-here", Some(&path), None).is_err());
        assert_eq!(
            resolve("./run.sh", None, Some(Path::new("/srv"))).unwrap(),
            Path::new("/srv/./run.sh")
        );
        assert_eq!(
            resolve("/opt/x", None, Some(Path::new("/srv"))).unwrap(),
            Path::new("/opt/x")
        );
    }
}
