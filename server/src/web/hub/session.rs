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
#[derive(Default)]
struct NetworkLog {
    entries: VecDeque<(HttpExchange, usize)>,
    bytes: usize,
}

/// Roughly what an exchange costs to keep: its text plus bookkeeping.
fn exchange_cost(exchange: &HttpExchange) -> usize {
    let headers = |pairs: &[(String, String)]| -> usize {
        pairs.iter().map(|(n, v)| n.len() + v.len() + 48).sum()
    };
    256 + exchange.url.len()
        + exchange.method.len()
        + headers(&exchange.request_headers)
        + headers(&exchange.response_headers)
        + exchange.request_body.as_ref().map_or(0, String::len)
        + exchange.response_body.as_ref().map_or(0, String::len)
        + exchange.error.as_ref().map_or(0, String::len)
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
            .map(|(exchange, _)| exchange.clone())
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
        let is_message = matches!(event, SessionEvent::Message(_));
        let frame = Frame::from(&event);
        if frame.data.len() > self.limits.max_message_bytes {
            let reason = format!(
                "the MCP server sent a {} of {}; Keyhole forwards at most {} per message",
                event_kind(&event),
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
        {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            let cost = exchange_cost(&exchange);
            log.bytes += cost;
            log.entries.push_back((exchange.clone(), cost));
            while log.entries.len() > 1
                && (log.entries.len() > self.limits.log_entries
                    || log.bytes > self.limits.log_bytes)
            {
                if let Some((_, cost)) = log.entries.pop_front() {
                    log.bytes -= cost;
                }
            }
        }
        self.publish(SessionEvent::Http(Box::new(exchange)));
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
    pub initialize_result: Value,
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
            initialize_result,
            last_seen: Mutex::new(Instant::now()),
            subscribers: AtomicUsize::new(0),
        }
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
