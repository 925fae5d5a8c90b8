//! The limit on step-up attempts per server and operation, which stops a server that keeps asking
//! for scopes from looping the user through sign-ins. (Retry-once is structural in
//! [`Engine::run`](super::engine::Engine::run).)
//!
//! The counts sit behind a `std::sync::Mutex` held only for a map update (never across an
//! `.await`), which works on every target, including single-threaded wasm.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::RecoveryError;
use crate::challenge::ChallengeContext;

/// At most this many step-up attempts per server and operation.
pub const MAX_STEP_UP_ATTEMPTS: u32 = 3;

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `(server URL, method, tool name)`: what "the same operation" means for the loop guard.
type OperationKey = (String, Option<String>, Option<String>);

fn operation(server: &str, context: &ChallengeContext) -> OperationKey {
    (
        server.to_owned(),
        context.method.clone(),
        context.tool_name.clone(),
    )
}

/// Counts step-up attempts per server and operation.
#[derive(Debug, Default)]
pub struct StepUpGuard {
    attempts: Mutex<HashMap<OperationKey, u32>>,
}

impl Clone for StepUpGuard {
    fn clone(&self) -> Self {
        Self {
            attempts: Mutex::new(locked(&self.attempts).clone()),
        }
    }
}

impl StepUpGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one more step-up attempt; fails once [`MAX_STEP_UP_ATTEMPTS`] have been made.
    pub fn begin(&self, server: &str, context: &ChallengeContext) -> Result<u32, RecoveryError> {
        let mut attempts = locked(&self.attempts);
        let count = attempts.entry(operation(server, context)).or_insert(0);
        if *count >= MAX_STEP_UP_ATTEMPTS {
            return Err(RecoveryError::StepUpLimit { attempts: *count });
        }
        *count += 1;
        Ok(*count)
    }

    pub fn attempts(&self, server: &str, context: &ChallengeContext) -> u32 {
        let attempts = locked(&self.attempts);
        attempts
            .get(&operation(server, context))
            .copied()
            .unwrap_or(0)
    }

    /// The operation went through: its next step-up starts from zero again.
    pub fn reset(&self, server: &str, context: &ChallengeContext) {
        locked(&self.attempts).remove(&operation(server, context));
    }

    /// The counts as text, one `<count> TAB <server> TAB <method> TAB <tool>` line each (an
    /// absent method or tool is empty), for a web page that reloads between step-ups: each
    /// step-up's redirect is a new page, so the counts live in the tab's `sessionStorage`
    /// (plainer than JSON, and no serde code in the wasm for it). Tabs and line breaks inside a
    /// name become spaces.
    pub fn to_text(&self) -> String {
        let field = |text: &str| text.replace(['\t', '\n', '\r'], " ");
        let mut lines: Vec<String> = locked(&self.attempts)
            .iter()
            .map(|((server, method, tool), count)| {
                format!(
                    "{count}\t{}\t{}\t{}\n",
                    field(server),
                    field(method.as_deref().unwrap_or_default()),
                    field(tool.as_deref().unwrap_or_default()),
                )
            })
            .collect();
        lines.sort();
        lines.concat()
    }

    /// Counts saved by [`StepUpGuard::to_text`]; unreadable lines count as none.
    pub fn from_text(text: &str) -> Self {
        let present = |field: &str| (!field.is_empty()).then(|| field.to_owned());
        let attempts = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let count = fields.next()?.parse().ok()?;
                let server = fields.next()?.to_owned();
                let method = present(fields.next()?);
                let tool = present(fields.next()?);
                Some(((server, method, tool), count))
            })
            .collect();
        Self {
            attempts: Mutex::new(attempts),
        }
    }
}
