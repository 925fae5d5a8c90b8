//! MCP sessions (`Mcp-Session-Id`) and their server-to-client event log.
//!
//! Every message the server sends on an SSE stream is first appended to the session's log with a
//! session-wide sequence number and the id of the stream it belongs to (0 = the standalone GET
//! stream, 1.. = one per POST answered with SSE). SSE event ids are `<stream>-<seq>`, so a client
//! reconnecting with `Last-Event-ID` gets exactly the rest of that stream, replayed from the log.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::response::sse::Event;
use futures_util::Stream;
use serde_json::Value;
use tokio::sync::watch;

use crate::support::{now_secs, random_string};

/// The standalone GET stream of a session.
pub const GET_STREAM: u64 = 0;
/// Events kept per session for resumption.
const LOG_CAPACITY: usize = 1000;

#[derive(Debug, Clone)]
struct LoggedEvent {
    seq: u64,
    stream: u64,
    message: Value,
    /// The response that ends a POST stream.
    is_final: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Signal {
    last_seq: u64,
    get_generation: u64,
    closed: bool,
}

#[derive(Default)]
struct EventLog {
    events: VecDeque<LoggedEvent>,
    next_seq: u64,
    next_stream: u64,
    /// Up to which sequence number the GET stream has delivered.
    get_delivered: u64,
}

/// One MCP session.
pub struct Session {
    pub id: String,
    pub server: String,
    pub protocol_version: String,
    pub client_info: Value,
    /// The `X-…` headers of the `initialize` request, as sent.
    pub custom_headers: Vec<(String, String)>,
    pub created_at: u64,
    log_level: Mutex<String>,
    /// The resources the client subscribed to (`resources/subscribe`).
    subscriptions: Mutex<std::collections::BTreeSet<String>>,
    /// A stateless `subscriptions/listen` stream: what it listens for.
    listen: std::sync::OnceLock<Listen>,
    log: Mutex<EventLog>,
    signal: watch::Sender<Signal>,
    /// Requests sent to the client (`askClient`), waiting for its answer, by id.
    asked: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Value>>>,
    asked_so_far: std::sync::atomic::AtomicU64,
    /// The client's requests being answered, which it may cancel.
    pub in_flight: super::cancellation::InFlight,
    /// The tasks the client created (2025-11-25).
    pub tasks: super::tasks::TaskTable,
}

/// A `subscriptions/listen` stream (stateless): the notifications it agreed to carry.
#[derive(Debug, Clone)]
pub struct Listen {
    /// The listen request's id, tagged on every notification of the stream.
    pub subscription_id: Value,
    /// The POST stream that carries them.
    pub stream: u64,
    pub tools: bool,
    pub prompts: bool,
    pub resources: bool,
}

impl Listen {
    /// `message` as this stream carries it (tagged with the subscription), or `None` when it
    /// did not ask for it.
    pub fn carry(&self, message: &Value) -> Option<Value> {
        let wanted = match message["method"].as_str()? {
            "notifications/tools/list_changed" => self.tools,
            "notifications/prompts/list_changed" => self.prompts,
            "notifications/resources/list_changed" => self.resources,
            _ => false,
        };
        if !wanted {
            return None;
        }
        let mut message = message.clone();
        let params = message
            .as_object_mut()?
            .entry("params")
            .or_insert_with(|| Value::Object(Default::default()));
        let meta = params
            .as_object_mut()?
            .entry("_meta")
            .or_insert_with(|| Value::Object(Default::default()));
        meta.as_object_mut()?.insert(
            super::stateless::META_SUBSCRIPTION.into(),
            self.subscription_id.clone(),
        );
        Some(message)
    }
}

/// Where an SSE event resumes: the stream and the last sequence number the client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPosition {
    pub stream: u64,
    pub seq: u64,
}

impl EventPosition {
    pub fn parse(last_event_id: &str) -> Option<Self> {
        let (stream, seq) = last_event_id.trim().split_once('-')?;
        Some(EventPosition {
            stream: stream.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    fn event_id(self) -> String {
        format!("{}-{}", self.stream, self.seq)
    }
}

const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

fn level_rank(level: &str) -> Option<usize> {
    LOG_LEVELS.iter().position(|l| *l == level)
}

impl Session {
    pub fn new(
        server: &str,
        protocol_version: &str,
        client_info: Value,
        custom_headers: Vec<(String, String)>,
    ) -> Arc<Self> {
        Arc::new(Session {
            id: random_string(16),
            server: server.to_string(),
            protocol_version: protocol_version.to_string(),
            client_info,
            custom_headers,
            created_at: now_secs(),
            log_level: Mutex::new("debug".into()),
            subscriptions: Mutex::default(),
            listen: std::sync::OnceLock::new(),
            log: Mutex::new(EventLog {
                next_seq: 1,
                next_stream: 1,
                ..EventLog::default()
            }),
            signal: watch::Sender::new(Signal::default()),
            asked: Mutex::default(),
            asked_so_far: std::sync::atomic::AtomicU64::new(0),
            in_flight: Default::default(),
            tasks: Default::default(),
        })
    }

    /// Sends the client the request `method` on `stream`; its answer (the whole JSON-RPC
    /// response) arrives on the returned receiver.
    pub fn ask_client(
        &self,
        stream: u64,
        method: &str,
        params: Value,
    ) -> tokio::sync::oneshot::Receiver<Value> {
        let n = self
            .asked_so_far
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let id = format!("testbed-ask-{n}");
        let (sender, answer) = tokio::sync::oneshot::channel();
        self.asked
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id.clone(), sender);
        let request =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.publish(stream, request, false);
        answer
    }

    /// Takes a message from the client that needs no answer: a response to one of the server's
    /// requests, or a notification (`notifications/cancelled` stops the request it names).
    pub fn receive(&self, message: &Value) {
        match message.get("method").and_then(Value::as_str) {
            None => {
                self.answer_from_client(message);
            }
            Some("notifications/cancelled") => {
                if let Some(id) = message.pointer("/params/requestId") {
                    self.in_flight.cancel(id);
                }
            }
            Some(_) => {}
        }
    }

    /// Hands the client's response to the request that waits for it; false when none does.
    pub fn answer_from_client(&self, response: &Value) -> bool {
        let Some(id) = response.get("id").and_then(Value::as_str) else {
            return false;
        };
        let waiting = self
            .asked
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(id);
        waiting.is_some_and(|sender| sender.send(response.clone()).is_ok())
    }

    fn log(&self) -> MutexGuard<'_, EventLog> {
        self.log.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Sets the minimum level of `notifications/message`; false for an unknown level.
    pub fn set_log_level(&self, level: &str) -> bool {
        if level_rank(level).is_none() {
            return false;
        }
        *self
            .log_level
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = level.to_string();
        true
    }

    /// No `notifications/message` at all (a stateless request that did not ask for them).
    pub fn silence_logs(&self) {
        *self
            .log_level
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = "off".into();
    }

    pub fn wants_log_level(&self, level: &str) -> bool {
        let minimum = self
            .log_level
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone();
        level_rank(&minimum).is_some_and(|minimum| level_rank(level).unwrap_or(0) >= minimum)
    }

    /// Subscribes to (or, `on` false, unsubscribes from) updates of `uri`.
    pub fn subscribe_to(&self, uri: &str, on: bool) {
        let mut subscriptions = self
            .subscriptions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if on {
            subscriptions.insert(uri.to_owned());
        } else {
            subscriptions.remove(uri);
        }
    }

    /// Whether the client subscribed to updates of `uri`.
    pub fn is_subscribed_to(&self, uri: &str) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .contains(uri)
    }

    /// Makes this the session of a `subscriptions/listen` stream.
    pub fn start_listening(&self, listen: Listen) {
        let _ = self.listen.set(listen);
    }

    /// What this session's listen stream listens for, if it is one.
    pub fn listening(&self) -> Option<&Listen> {
        self.listen.get()
    }

    /// Allocates the id of a new POST stream.
    pub fn open_post_stream(&self) -> u64 {
        let mut log = self.log();
        let id = log.next_stream;
        log.next_stream += 1;
        id
    }

    /// Appends a message to a stream and wakes its readers.
    pub fn publish(&self, stream: u64, message: Value, is_final: bool) {
        let seq = {
            let mut log = self.log();
            let seq = log.next_seq;
            log.next_seq += 1;
            log.events.push_back(LoggedEvent {
                seq,
                stream,
                message,
                is_final,
            });
            if log.events.len() > LOG_CAPACITY {
                log.events.pop_front();
            }
            seq
        };
        self.signal.send_modify(|signal| signal.last_seq = seq);
    }

    /// Ends a POST stream without a response (its request was cancelled).
    pub fn end_stream(&self, stream: u64) {
        self.publish(stream, Value::Null, true);
    }

    /// Ends the session: every open stream finishes.
    pub fn close(&self) {
        self.signal.send_modify(|signal| signal.closed = true);
    }

    /// Ends the open GET streams (the client is expected to reconnect).
    pub fn end_get_streams(&self) {
        self.signal.send_modify(|signal| signal.get_generation += 1);
    }

    /// The last sequence number allocated so far.
    pub fn current_seq(&self) -> u64 {
        self.log().next_seq - 1
    }

    /// The events of `stream` after `after_seq`, and whether the stream's final event is among them.
    fn events_after(&self, stream: u64, after_seq: u64) -> (Vec<LoggedEvent>, bool) {
        let mut log = self.log();
        let events: Vec<LoggedEvent> = log
            .events
            .iter()
            .filter(|e| e.stream == stream && e.seq > after_seq)
            .cloned()
            .collect();
        if stream == GET_STREAM
            && let Some(last) = events.last()
        {
            log.get_delivered = log.get_delivered.max(last.seq);
        }
        let finished = events.iter().any(|e| e.is_final);
        (events, finished)
    }

    /// Where a fresh GET stream (no `Last-Event-ID`) starts: after what was already delivered.
    pub fn get_stream_start(&self) -> u64 {
        self.log().get_delivered
    }

    /// An SSE stream of `stream`'s events after `after_seq`. A POST stream ends after its final
    /// event; a GET stream ends when the session closes or another GET stream replaces it.
    /// `prime` sends an empty event carrying an id first (2025-11-25 resumability).
    pub fn subscribe(
        self: &Arc<Self>,
        stream: u64,
        after_seq: u64,
        prime: bool,
    ) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
        let mut receiver = self.signal.subscribe();
        if stream == GET_STREAM {
            self.end_get_streams();
        }
        let generation = receiver.borrow_and_update().get_generation;
        let state = StreamState {
            session: Arc::clone(self),
            receiver,
            stream,
            cursor: after_seq,
            generation,
            pending: VecDeque::new(),
            prime,
            done: false,
        };
        futures_util::stream::unfold(state, |mut state| async move {
            let event = state.next_event().await?;
            Some((Ok(event), state))
        })
    }
}

struct StreamState {
    session: Arc<Session>,
    receiver: watch::Receiver<Signal>,
    stream: u64,
    cursor: u64,
    generation: u64,
    pending: VecDeque<LoggedEvent>,
    prime: bool,
    done: bool,
}

impl StreamState {
    async fn next_event(&mut self) -> Option<Event> {
        if self.prime {
            self.prime = false;
            let position = EventPosition {
                stream: self.stream,
                seq: self.cursor,
            };
            return Some(Event::default().id(position.event_id()).data(""));
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.cursor = event.seq;
                if event.message.is_null() {
                    continue; // the end of a stream whose request was cancelled
                }
                let position = EventPosition {
                    stream: event.stream,
                    seq: event.seq,
                };
                return Some(
                    Event::default()
                        .event("message")
                        .id(position.event_id())
                        .data(event.message.to_string()),
                );
            }
            if self.done {
                return None;
            }
            let (events, finished) = self.session.events_after(self.stream, self.cursor);
            if !events.is_empty() {
                self.pending.extend(events);
                self.done = finished;
                continue;
            }
            let signal = *self.receiver.borrow_and_update();
            let replaced = self.stream == GET_STREAM && signal.get_generation != self.generation;
            if signal.closed || replaced {
                return None;
            }
            if self.receiver.changed().await.is_err() {
                return None;
            }
        }
    }
}

/// The sessions of one MCP server.
#[derive(Default)]
pub struct SessionTable {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl SessionTable {
    fn table(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn insert(&self, session: Arc<Session>) {
        self.table().insert(session.id.clone(), session);
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.table().get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.table().remove(id);
        if let Some(session) = &session {
            session.close();
        }
        session
    }

    pub fn all(&self) -> Vec<Arc<Session>> {
        let mut sessions: Vec<Arc<Session>> = self.table().values().cloned().collect();
        sessions.sort_by_key(|s| s.created_at);
        sessions
    }
}
