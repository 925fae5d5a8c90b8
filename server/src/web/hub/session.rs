//! One backend session: the upstream MCP client for one browser connection, the events it emits
//! (server messages, HTTP exchanges, ambient challenges), and the network log a page reads back after
//! an OAuth redirect. What the upstream server controls is bounded in bytes: the event queue (see
//! [`EventQueue`]), each forwarded message ([`SessionLimits::max_message_bytes`]) and the network log
//! ([`SessionLimits::log_bytes`]; headers are cut and marked before they get there).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyhole_shared::api::HttpExchange;
use keyhole_shared::api::mcp::{ConsoleLine, Dropped, Notice, SessionEvent};
use serde_json::Value;

use super::envelope::ambient_failure;
use super::event_queue::{EventQueue, Frame, Subscription};
use crate::native::mcp_client::{ClientEvents, McpClient, UpstreamChallenge};
use crate::native::upstream_http::size;

/// The byte limits of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Events kept for a page that reads slowly (or not at all).
    pub event_queue_bytes: usize,
    /// A server message larger than this is not forwarded to the page (it is counted as dropped).
    pub max_message_bytes: usize,
    /// Exchanges kept for pages that reconnect, at most this many…
    pub log_entries: usize,
    /// …and at most this many bytes.
    pub log_bytes: usize,
}

impl Default for SessionLimits {
    /// With these, one session holds at most about 7 MiB however its server behaves (plus, while
    /// one is being read, one body or event of at most 16 MiB).
    fn default() -> Self {
        Self {
            event_queue_bytes: 4 * 1024 * 1024,
            max_message_bytes: 1024 * 1024,
            log_entries: 500,
            log_bytes: 2 * 1024 * 1024,
        }
    }
}

impl From<&SessionEvent> for Frame {
    /// The SSE event: its name is the kind, its data JSON (`keyhole_shared::api::mcp`).
    fn from(event: &SessionEvent) -> Self {
        Frame {
            name: event.name(),
            data: event.data(),
        }
    }
}

/// The event that stands for events dropped on the way to the page.
pub fn dropped_frame(events: u64, messages: u64, reason: &str) -> Frame {
    Frame::from(&SessionEvent::Dropped(Dropped {
        events,
        messages,
        reason: reason.to_owned(),
    }))
}

/// The network log: exchanges, newest last, and their total size.
///
/// Entries are kept as their JSON text: the log is read back only when a page reconnects, and an
/// exchange's dozens of header strings cost several times their text as separate allocations.
#[derive(Default)]
struct NetworkLog {
    entries: VecDeque<JsonText>,
    bytes: usize,
}

/// What an entry costs to keep: its text plus bookkeeping.
fn entry_cost(entry: &JsonText) -> usize {
    entry.len() + 32
}

/// A JSON value kept as its text, for what a session holds for its whole life and reads rarely
/// (the `initialize` result, the network log): as a `serde_json::Value` a few hundred bytes of
/// text take kilobytes of map nodes, and a thousand sessions hold a thousand of them.
#[derive(Debug, Clone)]
struct JsonText(Box<str>);

impl JsonText {
    fn new(value: &impl serde::Serialize) -> Self {
        // Serialising a `Value` or a plain data type into a string cannot fail.
        Self(serde_json::to_string(value).unwrap_or_default().into())
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn value(&self) -> Value {
        self.parse().unwrap_or(Value::Null)
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        match serde_json::from_str(&self.0) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                // It was written by `new` from the same type: this is a bug, said aloud.
                tracing::error!(%error, "a session's stored JSON does not read back");
                None
            }
        }
    }
}

/// The event side of a session, handed to its MCP client.
pub struct SessionEvents {
    queue: Arc<EventQueue>,
    limits: SessionLimits,
    log: Mutex<NetworkLog>,
    next_seq: AtomicU64,
    commands_in_flight: AtomicUsize,
    last_command_challenge: Mutex<Option<(Instant, UpstreamChallenge)>>,
    /// An ambient challenge seen while commands ran, decided when they finish.
    held_ambient: Mutex<Option<UpstreamChallenge>>,
    suppression_window: Duration,
}

impl SessionEvents {
    pub fn new(limits: SessionLimits, suppression_window: Duration) -> Self {
        Self {
            queue: Arc::new(EventQueue::new(limits.event_queue_bytes)),
            limits,
            log: Mutex::new(NetworkLog::default()),
            next_seq: AtomicU64::new(1),
            commands_in_flight: AtomicUsize::new(0),
            last_command_challenge: Mutex::new(None),
            held_ambient: Mutex::new(None),
            suppression_window,
        }
    }

    /// A reader of the events: the session's first reader gets everything since the connection
    /// began (a server may speak before the page has opened its event stream), later ones (a page
    /// that reconnects) the events published from now on.
    pub fn subscribe(&self) -> Subscription {
        self.queue.join()
    }

    /// The bytes the event queue holds now.
    pub fn queued_bytes(&self) -> usize {
        self.queue.retained_bytes()
    }

    /// The exchanges recorded so far (bounded; the oldest are dropped first).
    pub fn network_log(&self) -> Vec<HttpExchange> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .iter()
            .filter_map(JsonText::parse)
            .collect()
    }

    /// The bytes the network log holds now.
    pub fn network_log_bytes(&self) -> usize {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    /// Marks a command (a `send`) as running until the guard is dropped.
    pub fn begin_command(self: &Arc<Self>) -> CommandGuard {
        self.commands_in_flight.fetch_add(1, Ordering::SeqCst);
        CommandGuard(self.clone())
    }

    /// A command got `challenge`: the same one on the GET stream shortly after is not repeated.
    pub fn command_challenged(&self, challenge: &UpstreamChallenge) {
        *self
            .last_command_challenge
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), challenge.clone()));
    }

    fn publish(&self, event: SessionEvent) {
        let frame = Frame::from(&event);
        self.publish_frame(&event, frame);
    }

    /// Queues `frame`, the page's form of `event`, unless it is larger than a message may be.
    fn publish_frame(&self, event: &SessionEvent, frame: Frame) {
        let is_message = matches!(event, SessionEvent::Message(_));
        if frame.data.len() > self.limits.max_message_bytes {
            let reason = format!(
                "the MCP server sent a {} of {}; Keyhole forwards at most {} per message",
                event_kind(event),
                size(frame.data.len() as u64),
                size(self.limits.max_message_bytes as u64)
            );
            tracing::debug!(%reason, "event not forwarded");
            self.queue
                .push(dropped_frame(1, u64::from(is_message), &reason), false);
            return;
        }
        self.queue.push(frame, is_message);
    }

    /// A command got the same challenge a moment ago: the page is already answering it.
    fn command_has(&self, challenge: &UpstreamChallenge) -> bool {
        let last = self
            .last_command_challenge
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        matches!(&*last, Some((at, seen))
            if at.elapsed() < self.suppression_window && challenge_key(seen) == challenge_key(challenge))
    }

    /// Announces an ambient challenge unless a command has (or just had) the same one. While
    /// commands run it is held back and decided when the last one finishes: the command may well
    /// bring the same challenge to the page itself.
    fn announce_ambient(&self, challenge: UpstreamChallenge) {
        if self.command_has(&challenge) {
            tracing::debug!(
                status = challenge.status,
                "ambient challenge suppressed: a command has it"
            );
            return;
        }
        if self.commands_in_flight.load(Ordering::SeqCst) > 0 {
            *self.held_ambient.lock().unwrap_or_else(|p| p.into_inner()) = Some(challenge);
            return;
        }
        self.publish(SessionEvent::AuthChallenge(ambient_failure(&challenge)));
    }

    fn command_finished(&self) {
        if self.commands_in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            let held = self
                .held_ambient
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(challenge) = held {
                self.announce_ambient(challenge);
            }
        }
    }
}

impl ClientEvents for SessionEvents {
    fn server_message(&self, message: Value) {
        self.publish(SessionEvent::Message(message));
    }

    fn exchange(&self, mut exchange: HttpExchange) {
        exchange.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let entry = JsonText::new(&exchange);
        // The page's event carries the text the log keeps: the exchange is serialised once.
        let data = entry.0.to_string();
        {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.bytes += entry_cost(&entry);
            log.entries.push_back(entry);
            while log.entries.len() > 1
                && (log.entries.len() > self.limits.log_entries
                    || log.bytes > self.limits.log_bytes)
            {
                if let Some(oldest) = log.entries.pop_front() {
                    log.bytes -= entry_cost(&oldest);
                }
            }
        }
        let event = SessionEvent::Http(Box::new(exchange));
        let frame = Frame {
            name: event.name(),
            data,
        };
        self.publish_frame(&event, frame);
    }

    fn ambient_challenge(&self, challenge: UpstreamChallenge) {
        self.announce_ambient(challenge);
    }

    fn notice(&self, message: String) {
        self.publish(SessionEvent::Notice(Notice { message }));
    }

    fn console(&self, line: String) {
        self.publish(SessionEvent::Console(ConsoleLine { line }));
    }
}

/// Words for the kind of an event, for messages.
fn event_kind(event: &SessionEvent) -> String {
    match event {
        SessionEvent::Message(message) => match message["method"].as_str() {
            Some(method) => format!("`{}` message", crate::native::redact::truncate(method, 64)),
            None => "message".into(),
        },
        SessionEvent::Http(_) => "network log entry".into(),
        SessionEvent::AuthChallenge(_) => "challenge".into(),
        SessionEvent::Notice(_) => "notice".into(),
        SessionEvent::Dropped(_) => "notice of dropped events".into(),
        SessionEvent::Console(_) => "server log line".into(),
    }
}

/// What makes two challenges "the same" for suppression: the status and the Bearer `error` and
/// `scope` (descriptions and `resource_metadata` may differ between the POST and GET answers).
fn challenge_key(challenge: &UpstreamChallenge) -> (u16, Option<String>, Option<String>) {
    let lines: Vec<&[u8]> = challenge
        .www_authenticate
        .iter()
        .map(Vec::as_slice)
        .collect();
    let parsed = keyhole_shared::www_authenticate::parse(&lines);
    let bearer = parsed.bearer();
    let param = |name: &str| bearer.and_then(|b| b.param(name)).map(str::to_owned);
    (challenge.status, param("error"), param("scope"))
}

/// Counts a running command; see [`SessionEvents::begin_command`].
pub struct CommandGuard(Arc<SessionEvents>);

impl Drop for CommandGuard {
    fn drop(&mut self) {
        self.0.command_finished();
    }
}

/// A live backend session.
pub struct Session {
    pub id: String,
    pub client: McpClient,
    pub events: Arc<SessionEvents>,
    initialize_result: JsonText,
    last_seen: Mutex<Instant>,
    subscribers: AtomicUsize,
}

impl Session {
    pub fn new(
        id: String,
        client: McpClient,
        events: Arc<SessionEvents>,
        initialize_result: Value,
    ) -> Self {
        Self {
            id,
            client,
            events,
            initialize_result: JsonText::new(&initialize_result),
            last_seen: Mutex::new(Instant::now()),
            subscribers: AtomicUsize::new(0),
        }
    }

    /// The server's `initialize` result, for a page that (re)describes the session.
    pub fn initialize_result(&self) -> Value {
        self.initialize_result.value()
    }

    /// The page used this session just now.
    pub fn touch(&self) {
        *self.last_seen.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// No page has used or listened to this session for `grace`.
    pub fn abandoned(&self, grace: Duration) -> bool {
        self.subscribers.load(Ordering::SeqCst) == 0
            && self
                .last_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed()
                >= grace
    }

    /// Counts an open event stream until the guard is dropped.
    pub fn subscribe(self: &Arc<Self>) -> SubscriberGuard {
        self.subscribers.fetch_add(1, Ordering::SeqCst);
        SubscriberGuard(self.clone())
    }
}

/// An open `/api/mcp/events` stream; see [`Session::subscribe`].
pub struct SubscriberGuard(Arc<Session>);

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
        // The stream's buffers are freed (and the session with it, if it had ended).
        crate::native::memory::trim_soon();
    }
}

#[cfg(test)]
mod tests {
    use keyhole_shared::api::ExchangeKind;
    use serde_json::json;

    use super::super::event_queue::Delivery;

    use super::*;

    fn exchange(url: &str, body_bytes: usize) -> HttpExchange {
        HttpExchange {
            seq: 0,
            kind: ExchangeKind::Mcp,
            started_at_ms: 1_764_000_000_000,
            duration_ms: 12.345,
            method: "POST".into(),
            url: url.into(),
            status: Some(200),
            request_headers: vec![("content-type".into(), "application/json".into())],
            response_headers: vec![("mcp-session-id".into(), "s-1".into())],
            request_body: Some("x".repeat(body_bytes)),
            response_body: Some("{\"ok\":true}".into()),
            sse_events: 2,
            error: Some("stream cut".into()),
        }
    }

    fn session_events(limits: SessionLimits) -> SessionEvents {
        SessionEvents::new(limits, Duration::from_secs(1))
    }

    fn number_in(url: &str) -> usize {
        url.rsplit('/').next().unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn the_page_is_sent_each_exchange_as_the_log_keeps_it() {
        let events = session_events(SessionLimits::default());
        let mut page = events.subscribe();
        events.exchange(exchange("http://server.test/1", 10));
        let Delivery::Frame(frame) = page.next().await else {
            panic!("the exchange was not sent to the page");
        };
        let SessionEvent::Http(sent) = SessionEvent::parse(frame.name, &frame.data).unwrap() else {
            panic!("not a network log event: {}", frame.name);
        };
        assert_eq!(vec![*sent], events.network_log());
    }

    #[test]
    fn the_network_log_gives_back_each_exchange_as_recorded_in_order() {
        let events = session_events(SessionLimits::default());
        let recorded = [
            exchange("http://server.test/1", 10),
            exchange("http://server.test/2", 20),
        ];
        for sent in recorded.clone() {
            events.exchange(sent);
        }
        let log = events.network_log();
        assert_eq!(log.len(), 2);
        for (n, (kept, sent)) in log.iter().zip(&recorded).enumerate() {
            assert_eq!(kept.seq, n as u64 + 1);
            assert_eq!(
                &HttpExchange {
                    seq: 0,
                    ..kept.clone()
                },
                sent
            );
        }
    }

    #[test]
    fn the_network_log_keeps_to_its_bytes_dropping_the_oldest() {
        let limits = SessionLimits {
            log_bytes: 10_000,
            ..SessionLimits::default()
        };
        let events = session_events(limits);
        for n in 0..20 {
            events.exchange(exchange(&format!("http://server.test/{n}"), 1_000));
        }
        assert!(events.network_log_bytes() <= 10_000);
        let log = events.network_log();
        assert!((5..20).contains(&log.len()), "{} entries kept", log.len());
        // The newest, contiguous up to the last one.
        assert_eq!(number_in(&log[0].url) + log.len(), 20);
        assert_eq!(number_in(&log[log.len() - 1].url), 19);
    }

    #[test]
    fn the_network_log_keeps_to_its_count_and_always_keeps_the_newest() {
        let events = session_events(SessionLimits {
            log_entries: 3,
            ..SessionLimits::default()
        });
        for n in 0..10 {
            events.exchange(exchange(&format!("http://server.test/{n}"), 10));
        }
        let urls: Vec<usize> = events
            .network_log()
            .iter()
            .map(|e| number_in(&e.url))
            .collect();
        assert_eq!(urls, [7, 8, 9]);

        // One exchange larger than the whole budget is still shown (alone).
        let events = session_events(SessionLimits {
            log_bytes: 100,
            ..SessionLimits::default()
        });
        events.exchange(exchange("http://server.test/1", 10));
        events.exchange(exchange("http://server.test/2", 5_000));
        let log = events.network_log();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].request_body.as_deref().map(str::len), Some(5_000));
    }

    #[test]
    fn json_kept_as_text_reads_back_the_same() {
        let value = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": { "tools": { "listChanged": true }, "logging": {} },
            "serverInfo": { "name": "s", "version": "1.0" },
            "instructions": "use \"echo\" ✓",
        });
        let kept = JsonText::new(&value);
        assert_eq!(kept.value(), value);
        assert_eq!(kept.len(), value.to_string().len());
    }
}
