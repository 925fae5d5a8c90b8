//! The guard against sign-in loops in the web app.
//!
//! A 401 that no refresh can answer sends the page to the authorization server without asking
//! (after a short notice), and the page starts over when it comes back. If the server refuses
//! every new token too, and the authorization server signs the user in without a prompt, that is a
//! loop that reloads the page forever; the in-memory loop guard of [`crate::recovery`] cannot see
//! it because each round is a new page. So the tab remembers its recent automatic sign-ins (in
//! `sessionStorage`, one `<unix seconds> <server URL>` line each: plainer than JSON, and no serde
//! code in the wasm for it) and stops at [`MAX_AUTOMATIC_SIGN_INS`] per server within
//! [`SIGN_IN_WINDOW_SECS`]. A sign-in the user asked for (the step-up modal, the re-auth banner)
//! is not automatic and does not count; the banner's button also clears the server's history.
//!
//! A sign-in that came back with tokens is marked (` done` after the URL), so the message can
//! name the likely cause: tokens refused by the server, or sign-ins that never came back from
//! the authorization server (which may not know the client any more).

pub use crate::messages::LoopCause;

/// The `sessionStorage` key.
pub const SIGN_IN_HISTORY_KEY: &str = "keyhole.sign-ins";

/// Automatic sign-ins to one server allowed within [`SIGN_IN_WINDOW_SECS`].
pub const MAX_AUTOMATIC_SIGN_INS: usize = 3;

/// The window: long enough to catch a loop, short enough that tokens living a minute without a
/// refresh token (one sign-in a minute) never trip it.
pub const SIGN_IN_WINDOW_SECS: u64 = 120;

/// The automatic sign-ins this tab made recently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInHistory {
    recent: Vec<RecentSignIn>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct RecentSignIn {
    server: String,
    at: u64,
    /// The sign-in came back with tokens.
    done: bool,
}

const DONE_MARK: &str = " done";

impl SignInHistory {
    /// The stored history; unreadable lines count as none.
    pub fn from_text(text: &str) -> Self {
        let recent = text
            .lines()
            .filter_map(|line| {
                let (at, rest) = line.split_once(' ')?;
                let (server, done) = match rest.strip_suffix(DONE_MARK) {
                    Some(server) => (server, true),
                    None => (rest, false),
                };
                Some(RecentSignIn {
                    server: server.to_owned(),
                    at: at.parse().ok()?,
                    done,
                })
            })
            .collect();
        Self { recent }
    }

    pub fn to_text(&self) -> String {
        self.recent
            .iter()
            .map(|s| {
                let mark = if s.done { DONE_MARK } else { "" };
                format!("{} {}{mark}\n", s.at, s.server)
            })
            .collect()
    }

    /// Records an automatic sign-in to `server` at `now` (Unix seconds) and returns `true`, or
    /// returns `false` and records nothing when [`MAX_AUTOMATIC_SIGN_INS`] already happened within
    /// the window. Entries outside the window are dropped.
    pub fn try_record(&mut self, server: &str, now: u64) -> bool {
        self.recent
            .retain(|s| s.at <= now && now - s.at < SIGN_IN_WINDOW_SECS);
        let count = self.recent.iter().filter(|s| s.server == server).count();
        if count >= MAX_AUTOMATIC_SIGN_INS {
            return false;
        }
        self.recent.push(RecentSignIn {
            server: server.to_owned(),
            at: now,
            done: false,
        });
        true
    }

    /// The latest sign-in to `server` came back with tokens.
    pub fn mark_done(&mut self, server: &str) {
        if let Some(latest) = self.recent.iter_mut().rev().find(|s| s.server == server) {
            latest.done = true;
        }
    }

    /// Why the sign-ins to `server` keep coming (see [`LoopCause`]).
    pub fn likely_cause(&self, server: &str) -> LoopCause {
        let mut recent = self.recent.iter().filter(|s| s.server == server);
        if recent.any(|s| s.done) {
            LoopCause::TokensRefused
        } else {
            LoopCause::SignInsNotCompleted
        }
    }

    /// Forgets `server`'s sign-ins (the user asked to sign in again).
    pub fn forget(&mut self, server: &str) {
        self.recent.retain(|s| s.server != server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "https://a.example/mcp";
    const B: &str = "https://b.example/mcp";

    #[test]
    fn the_fourth_automatic_sign_in_within_the_window_is_refused() {
        let mut history = SignInHistory::default();
        for at in [1000, 1010, 1020] {
            assert!(history.try_record(A, at));
        }
        assert!(!history.try_record(A, 1030));
        assert!(!history.try_record(A, 1119), "still inside the window");
        assert!(
            history.try_record(B, 1030),
            "other servers are counted apart"
        );
        assert!(history.try_record(A, 1120), "the first one left the window");
    }

    #[test]
    fn one_sign_in_a_minute_never_trips_it() {
        let mut history = SignInHistory::default();
        for minute in 0..30 {
            assert!(history.try_record(A, 5000 + minute * 60), "minute {minute}");
        }
    }

    #[test]
    fn forgetting_a_server_starts_it_over_and_the_history_survives_storage() {
        let mut history = SignInHistory::default();
        for at in [1, 2, 3] {
            assert!(history.try_record(A, at));
        }
        assert!(history.try_record(B, 3));
        let mut stored = SignInHistory::from_text(&history.to_text());
        assert_eq!(stored, history);
        assert!(!stored.try_record(A, 4));
        stored.forget(A);
        assert!(stored.try_record(A, 4));
        assert!(stored.try_record(B, 4), "B kept its own count");
    }

    #[test]
    fn the_likely_cause_follows_whether_sign_ins_came_back() {
        let mut history = SignInHistory::default();
        for at in [1, 2, 3] {
            assert!(history.try_record(A, at));
        }
        assert_eq!(history.likely_cause(A), LoopCause::SignInsNotCompleted);
        history.mark_done(A);
        let stored = SignInHistory::from_text(&history.to_text());
        assert_eq!(stored, history);
        assert_eq!(stored.likely_cause(A), LoopCause::TokensRefused);
        assert_eq!(stored.likely_cause(B), LoopCause::SignInsNotCompleted);
    }

    #[test]
    fn unreadable_or_future_entries_count_as_none() {
        assert_eq!(SignInHistory::from_text(""), SignInHistory::default());
        let damaged = SignInHistory::from_text("garbage\n-5 x\n12 https://a.example/mcp\n");
        assert_eq!(damaged.to_text(), "12 https://a.example/mcp\n");
        let mut history = SignInHistory::default();
        for _ in 0..3 {
            assert!(history.try_record(A, 10_000));
        }
        // A clock that went backwards drops the entries from the "future".
        assert!(history.try_record(A, 50));
    }
}
