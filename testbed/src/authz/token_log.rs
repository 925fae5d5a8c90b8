//! Every request that reached the token endpoint, whatever its outcome, and an optional delay
//! before each is answered. Counting issued tokens cannot tell "the client never asked" from "the
//! client asked and was refused"; this log can. The delay holds refreshes in flight so tests can
//! start a second recovery while the first one is still running.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One request to the token endpoint.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequestRecord {
    /// The form's `grant_type`, when it had one.
    pub grant_type: Option<String>,
    /// The HTTP status of the answer; `None` while the request is still being answered.
    pub status: Option<u16>,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    pub finished_at_ms: Option<u64>,
}

/// The log and the delay.
#[derive(Debug, Default)]
pub struct TokenRequestLog {
    records: Mutex<Vec<TokenRequestRecord>>,
    delay_ms: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl TokenRequestLog {
    /// Records the start of a request; returns its index for [`TokenRequestLog::finish`].
    pub fn start(&self, grant_type: Option<String>) -> usize {
        let mut records = self.records();
        records.push(TokenRequestRecord {
            grant_type,
            status: None,
            started_at_ms: now_ms(),
            finished_at_ms: None,
        });
        records.len() - 1
    }

    pub fn finish(&self, index: usize, status: u16) {
        if let Some(record) = self.records().get_mut(index) {
            record.status = Some(status);
            record.finished_at_ms = Some(now_ms());
        }
    }

    pub fn all(&self) -> Vec<TokenRequestRecord> {
        self.records().clone()
    }

    /// How long each request is held before it is answered.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    fn records(&self) -> std::sync::MutexGuard<'_, Vec<TokenRequestRecord>> {
        self.records
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}
