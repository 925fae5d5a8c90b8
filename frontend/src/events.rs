//! The session's event stream (`GET /api/mcp/events`): server messages, HTTP exchanges, ambient
//! auth challenges and notices, fed into the [`Session`] and the toasts.

use keyhole_shared::api::HttpExchange;
use keyhole_shared::challenge::AuthChallenge;
use leptos::prelude::Update;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use crate::recovery;
use crate::session::{Session, encode};
use crate::toast::ToastKind;

/// An open event stream; closed on drop.
pub struct EventStream {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.close();
    }
}

fn data_of(event: &MessageEvent) -> Option<Value> {
    event
        .data()
        .as_string()
        .and_then(|text| serde_json::from_str(&text).ok())
}

/// Opens the stream for `session`. The API token travels as the cookie the backend set when the
/// page was opened (`EventSource` cannot send headers).
pub fn open(session: Session) -> Option<EventStream> {
    let toasts = session.recovery.toasts();
    let url = format!("/api/mcp/events?sessionId={}", encode(&session.id()));
    let source = EventSource::new(&url).ok()?;
    let mut listeners = Vec::new();
    let mut listen = |name: &str, handler: Box<dyn FnMut(MessageEvent)>| {
        let closure = Closure::wrap(handler);
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        listeners.push(closure);
    };
    listen(
        "message",
        Box::new(move |event| {
            if let Some(message) = data_of(&event) {
                session.server_message(message);
            }
        }),
    );
    listen(
        "http",
        Box::new(move |event| {
            if let Some(exchange) =
                data_of(&event).and_then(|v| serde_json::from_value::<HttpExchange>(v).ok())
            {
                session.exchange(exchange);
            }
        }),
    );
    listen(
        "auth_challenge",
        Box::new(move |event| {
            let data = data_of(&event).unwrap_or_default();
            match serde_json::from_value::<AuthChallenge>(data["authChallenge"].clone()) {
                Ok(challenge) => recovery::ambient(session, challenge),
                Err(_) => toasts.show(
                    ToastKind::Warning,
                    data["message"]
                        .as_str()
                        .unwrap_or("The server asked for authorization again.")
                        .to_owned(),
                ),
            }
        }),
    );
    listen(
        "dropped",
        Box::new(move |event| {
            let data = data_of(&event).unwrap_or_default();
            let messages = data["messages"].as_u64().unwrap_or(0);
            if messages > 0 {
                session.dropped_messages.update(|n| *n += messages);
            }
            if data["events"].as_u64().unwrap_or(0) > messages {
                // Network log entries were among them: the backend's log still has them.
                leptos::task::spawn_local(async move { session.load_network_log().await });
            }
        }),
    );
    listen(
        "notice",
        Box::new(move |event| {
            if let Some(text) =
                data_of(&event).and_then(|v| v["message"].as_str().map(str::to_owned))
            {
                toasts.show(ToastKind::Info, text);
            }
        }),
    );
    Some(EventStream {
        source,
        _listeners: listeners,
    })
}
