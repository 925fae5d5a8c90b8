//! When to reopen an event stream. The server's `retry` field is honoured, but within bounds: a
//! `retry: 0` from a server that closes every stream at once made Keyhole reconnect 528 times a
//! second, and a huge one would stall the stream for good. Streams that end without delivering a
//! message (or fail to open) back off exponentially, so a broken server costs a request every few
//! seconds at most.

use std::time::Duration;

/// The wait when the server named none.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(1);
/// The shortest wait, whatever the server says.
pub const MIN_RETRY: Duration = Duration::from_millis(500);
/// The longest wait a server's `retry` can ask for.
pub const MAX_RETRY: Duration = Duration::from_secs(60);
/// The longest wait after repeated useless streams or failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The server's `retry`, within [`MIN_RETRY`]..=[`MAX_RETRY`].
pub fn server_delay(retry: Option<Duration>) -> Duration {
    retry.unwrap_or(DEFAULT_RETRY).clamp(MIN_RETRY, MAX_RETRY)
}

/// Counts consecutive streams that brought nothing.
#[derive(Debug, Default)]
pub struct Backoff {
    fruitless: u32,
}

impl Backoff {
    /// A stream delivered messages: wait what the server asked for.
    pub fn after_useful(&mut self, retry: Option<Duration>) -> Duration {
        self.fruitless = 0;
        server_delay(retry)
    }

    /// The stream failed or ended without a message: wait longer each time.
    pub fn after_fruitless(&mut self, retry: Option<Duration>) -> Duration {
        let base = server_delay(retry);
        let factor = 1u32 << self.fruitless.min(16);
        self.fruitless = self.fruitless.saturating_add(1);
        base.saturating_mul(factor).min(MAX_BACKOFF.max(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_zero_is_raised_to_the_minimum() {
        assert_eq!(server_delay(Some(Duration::ZERO)), MIN_RETRY);
        assert_eq!(server_delay(Some(Duration::from_secs(3600))), MAX_RETRY);
        assert_eq!(server_delay(None), DEFAULT_RETRY);
        assert_eq!(
            server_delay(Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn fruitless_streams_back_off_to_a_ceiling_and_a_useful_one_resets() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..10)
            .map(|_| backoff.after_fruitless(Some(Duration::ZERO)))
            .collect();
        assert_eq!(waits[0], Duration::from_millis(500));
        assert_eq!(waits[1], Duration::from_secs(1));
        assert_eq!(waits[2], Duration::from_secs(2));
        assert_eq!(waits[9], MAX_BACKOFF);
        // With `retry: 0` and streams that close at once: 10 reconnects take over two minutes.
        assert!(waits.iter().sum::<Duration>() > Duration::from_secs(120));
        assert_eq!(backoff.after_useful(None), DEFAULT_RETRY);
        assert_eq!(
            backoff.after_fruitless(None),
            DEFAULT_RETRY,
            "the count starts again"
        );
    }
}
