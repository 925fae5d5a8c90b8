//! The session's event stream (`GET /api/mcp/events`): server messages, HTTP exchanges, ambient
//! auth challenges and notices, fed into the [`Session`] and the toasts.

use keyhole_shared::api::mcp::{Failure, SessionEvent};
use leptos::prelude::Update;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use crate::flows::recovery;
use crate::flows::session::{Session, encode};
use crate::views::toast::ToastKind;

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

/// One event, read through the shared contract (`keyhole_shared::api::mcp::SessionEvent`).
fn handle(session: Session, event: SessionEvent) {
    let toasts = session.recovery.toasts();
    match event {
        SessionEvent::Message(message) => session.server_message(message),
        SessionEvent::Http(exchange) => session.exchange(*exchange),
        SessionEvent::AuthChallenge(Failure::AuthChallenge { auth_challenge, .. }) => {
            recovery::ambient(session, *auth_challenge);
        }
        SessionEvent::AuthChallenge(other) => {
            toasts.show(ToastKind::Warning, other.message().to_owned());
        }
        SessionEvent::Dropped(dropped) => {
            if dropped.messages > 0 {
                session.dropped_messages.update(|n| *n += dropped.messages);
            }
            if dropped.events > dropped.messages {
                // Network log entries were among them: the backend's log still has them.
                leptos::task::spawn_local(async move { session.load_network_log().await });
            }
        }
        SessionEvent::Notice(notice) => toasts.show(ToastKind::Info, notice.message),
        SessionEvent::Console(console) => session.console_line(console.line),
    }
}

/// Opens the stream for `session`. The API token travels as the cookie the backend set when the
/// page was opened (`EventSource` cannot send headers).
pub fn open(session: Session) -> Option<EventStream> {
    let url = format!("/api/mcp/events?sessionId={}", encode(&session.id()));
    let source = EventSource::new(&url).ok()?;
    let mut listeners = Vec::new();
    for name in SessionEvent::NAMES {
        let handler = move |event: MessageEvent| {
            let data = event.data().as_string().unwrap_or_default();
            match SessionEvent::parse(name, &data) {
                Ok(event) => handle(session, event),
                Err(error) => leptos::logging::warn!("{error}"),
            }
        };
        let closure = Closure::wrap(Box::new(handler) as Box<dyn FnMut(MessageEvent)>);
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        listeners.push(closure);
    }
    Some(EventStream {
        source,
        _listeners: listeners,
    })
}
