//! The server's own channel: the stream on which it sends notifications (and, before 2026-07-28,
//! requests) that are not tied to a request of the client — the GET stream of the 2025 revisions,
//! or the `subscriptions/listen` POST of the stateless one ([`Channel`]). It is reopened with `Last-Event-ID` when it ends — after the server's `retry`,
//! within bounds and with backoff when streams bring nothing (see [`reconnect`](super::reconnect)) —
//! stops for good if the server has none (405, or 404 from a stateless server), and after a 401/403
//! waits for new credentials instead of hammering the server.
//!
//! `opened` is told once the first GET has an answer (whatever it is) or failed: `initialize`
//! waits for that before announcing `notifications/initialized`, because many servers (the
//! TypeScript SDK's among them) drop a server-to-client message sent while no GET stream is open,
//! and a server may send one as soon as it hears that the client is initialized.

use serde_json::{Value, json};
use tokio::sync::oneshot;

use keyhole_shared::api::ExchangeKind;
use reqwest::header::{self};
use reqwest::{Method, StatusCode};

use super::McpClient;
use super::exchange::ExchangeRecorder;
use super::post::{
    StreamPosition, challenge_of, demanded_nonce, describe_request_error, is_event_stream,
};
use super::reconnect::Backoff;
use crate::native::upstream_http;

/// Which stream carries the server's own messages.
#[derive(Debug, Clone)]
pub enum Channel {
    /// The 2025 revisions' GET stream, resumed with `Last-Event-ID`.
    Get,
    /// 2026-07-28: a `subscriptions/listen` request whose answer is a stream of the
    /// notifications named in `notifications` (`toolsListChanged`, …). There is no resumption:
    /// each reopening is a new request.
    Listen { notifications: Value },
}

impl Channel {
    /// The request that opens the stream (its JSON-RPC id, when it is a POST).
    fn open(&self, client: &McpClient, position: &StreamPosition) -> Option<Opening> {
        match self {
            Channel::Get => {
                let mut builder = client
                    .request(Method::GET)
                    .header(header::ACCEPT, "text/event-stream");
                if let Some(id) = &position.last_event_id {
                    builder = builder.header("last-event-id", id);
                }
                Some(Opening {
                    request: builder.build().ok()?,
                    body: None,
                    id: None,
                })
            }
            Channel::Listen { notifications } => {
                let id = json!(client.next_own_id("listen"));
                let message = json!({
                    "jsonrpc": "2.0",
                    "id": id,
                    "method": "subscriptions/listen",
                    "params": { "notifications": notifications },
                });
                let (request, body) = client.post_request(&message).ok()?;
                Some(Opening {
                    request,
                    body: Some(body),
                    id: Some(id),
                })
            }
        }
    }
}

struct Opening {
    request: reqwest::Request,
    body: Option<bytes::Bytes>,
    id: Option<Value>,
}

pub async fn run(client: McpClient, channel: Channel, opened: oneshot::Sender<()>) {
    let mut opened = Some(opened);
    let mut settled = move || {
        if let Some(opened) = opened.take() {
            let _ = opened.send(());
        }
    };
    let mut position = StreamPosition::default();
    let mut credential_changes = client.inner.credentials.changes();
    let mut backoff = Backoff::default();
    let mut nonce_retried = false;
    loop {
        let Some(Opening { request, body, id }) = channel.open(&client, &position) else {
            return;
        };
        let mut recorder = ExchangeRecorder::start(
            client.inner.events.clone(),
            &request,
            body.as_deref(),
            ExchangeKind::Mcp,
        );
        credential_changes.mark_unchanged();
        let response = match client.inner.http.streams.execute(request).await {
            Ok(response) => response,
            Err(error) => {
                recorder.fail(describe_request_error(
                    &client.inner.config.endpoint,
                    &error,
                ));
                drop(recorder);
                settled();
                tokio::time::sleep(backoff.after_fruitless(position.retry)).await;
                continue;
            }
        };
        let status = response.status();
        recorder.response(status.as_u16(), response.headers());
        // The server has answered the GET: an open stream is registered by now.
        settled();
        if let Err(message) = upstream_http::check_head(&response) {
            recorder.fail(message);
            drop(recorder);
            tokio::time::sleep(backoff.after_fruitless(position.retry)).await;
            continue;
        }
        // A nonce the proof lacked (RFC 9449 §9): open again at once with it — once; a second
        // demand in a row is a challenge like any other.
        let nonce = (status == StatusCode::UNAUTHORIZED && client.inner.credentials.is_dpop())
            .then(|| demanded_nonce(&response))
            .flatten();
        if let Some(nonce) = nonce.filter(|_| !nonce_retried) {
            client.inner.credentials.set_dpop_nonce(&nonce);
            nonce_retried = true;
            recorder.finish();
            continue;
        }
        nonce_retried = status == StatusCode::UNAUTHORIZED && nonce_retried;
        match status {
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND => {
                tracing::debug!(%status, ?channel, "the MCP server offers no such stream");
                return;
            }
            StatusCode::BAD_REQUEST if id.is_some() => {
                recorder.fail("the MCP server refused `subscriptions/listen`");
                client.inner.events.notice(
                    "The MCP server refused `subscriptions/listen` (HTTP 400): Keyhole will not hear \
                     when its lists change."
                        .into(),
                );
                return;
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let challenge = challenge_of(status, response.headers());
                recorder.finish();
                client.inner.events.ambient_challenge(challenge);
                if credential_changes.changed().await.is_err() {
                    return;
                }
                nonce_retried = false;
                continue;
            }
            _ if status.is_success() && is_event_stream(response.headers()) => {
                let outcome = client
                    .read_stream(response, &mut recorder, id.as_ref(), &mut position)
                    .await;
                recorder.finish();
                if outcome.response.is_some() {
                    return; // the server ended the subscription on purpose
                }
                let wait = if outcome.messages > 0 {
                    backoff.after_useful(position.retry)
                } else {
                    backoff.after_fruitless(position.retry)
                };
                tokio::time::sleep(wait).await;
            }
            _ => {
                recorder.fail(format!(
                    "unexpected answer to the GET stream: HTTP {status}"
                ));
                drop(recorder);
                tokio::time::sleep(backoff.after_fruitless(position.retry)).await;
            }
        }
    }
}
