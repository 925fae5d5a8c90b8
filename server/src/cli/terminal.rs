//! The user's terminal as the CLI sees it: results on stdout, messages on stderr, the `[y/N]`
//! step-up prompt, and opening the browser. A trait so tests can answer prompts and play the
//! browser; [`StdTerminal`] is the real one.

use std::io::{BufRead, IsTerminal, Write};

use keyhole_shared::recovery::StepUpPlan;

pub trait Terminal {
    /// One line of results (stdout).
    fn out(&mut self, text: &str);
    /// One line of messages (stderr).
    fn err(&mut self, text: &str);
    /// Whether a person can answer prompts (stdin and stderr are terminals).
    fn is_interactive(&self) -> bool;
    /// Asks `question` with `[y/N]`; only called when [`Terminal::is_interactive`].
    fn confirm(&mut self, question: &str) -> bool;
    /// Opens `url` in the browser; `false` when no browser could be started.
    fn open_browser(&mut self, url: &str) -> bool;
    /// Asks whether to authorize again for `plan`'s scopes; the question is `question`'s words.
    /// A terminal that can show more (the TUI: new scopes apart from those held) says so here.
    fn confirm_step_up(&mut self, plan: &StepUpPlan, question: &str) -> bool {
        let _ = plan;
        self.confirm(question)
    }
}

/// stdout, stderr, stdin and `xdg-open` (`open` on macOS).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdTerminal;

impl Terminal for StdTerminal {
    fn out(&mut self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    fn err(&mut self, text: &str) {
        eprintln!("{text}");
    }

    fn is_interactive(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn confirm(&mut self, question: &str) -> bool {
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }

    fn open_browser(&mut self, url: &str) -> bool {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        std::process::Command::new(opener)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    }
}
