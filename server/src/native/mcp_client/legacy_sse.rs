//! The HTTP+SSE transport of MCP 2024-11-05, which many deployed servers and the SDKs' `sse` modes
//! still serve. The client opens an event stream with GET; the server's first event, `endpoint`,
//! names the URL to POST messages to; each POST is answered with a bare 202, and the responses
//! come back as `message` events on the stream, among the server's notifications and requests.
//!
//! The server's session lives as long as its stream. When the stream ends (the server restarted,
//! or it ends streams whose token is no longer valid), the next message meets
//! [`PostOutcome::SessionGone`], and the client opens a new stream with the credentials it holds
//! now and initializes again; a 404 on a POST means the same. A 401/403 on the GET or on a POST is
//! returned as a challenge, as on Streamable HTTP, so the same recovery applies.
//!
//! The endpoint must be on the stream's origin: a server could otherwise direct Keyhole's requests,
//! bearer token included, to another host.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sse_stream::SseByteStream;

use super::exchange::ExchangeRecorder;
use super::post::{
    PostOutcome, is_event_stream, parse_json, read_rest, refuse_on_challenge, status_error,
    stream_cut,
};
use super::responses::Responses;
use super::sse_limits::{LimitedBody, MAX_EVENT_BYTES};
use super::{ClientEvents, McpClient, SendError};

/// How long the stream may stay silent. A 2024-11-05 server sends nothing between messages (no
/// keep-alive comments), and the stream is the session: only a stream dead for a day is let go.
const QUIET_STREAM_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// One open HTTP+SSE connection: the stream, and where its messages are POSTed.
pub struct LegacyChannel {
    endpoint: url::Url,
    /// The `sessionId` of the endpoint's query, when it has one (for display only).
    pub session_id: Option<String>,
    responses: Responses,
    open: Arc<AtomicBool>,
    reader: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

type EventStream = SseByteStream<LimitedBody>;

impl LegacyChannel {
    /// Opens the stream at the configured URL with the current credentials, and waits for its
    /// `endpoint` event.
    pub async fn open(client: &McpClient) -> Result<Arc<Self>, SendError> {
        let events = Arc::clone(&client.inner.events);
        let stream_url = client.inner.config.endpoint.clone();
        let request = client
            .authorized(Method::GET, stream_url.clone())
            .header(header::ACCEPT, "text/event-stream")
            .build()
            .map_err(|e| SendError::Transport(format!("cannot build the request: {e}")))?;
        let (response, recorder) = client.execute_recorded(request, None).await?;
        let (response, mut recorder) = refuse_on_challenge(response, recorder).await?;
        let status = response.status();
        if !status.is_success() || !is_event_stream(response.headers()) {
            let what = if status.is_success() {
                "a body that is not an event stream".to_owned()
            } else {
                format!("HTTP {status}")
            };
            let _ = read_rest(recorder, response).await;
            return Err(SendError::Status {
                status: status.as_u16(),
                message: format!(
                    "the MCP server answered the GET that opens an HTTP+SSE stream with {what}"
                ),
            });
        }
        let body = LimitedBody::new(response, MAX_EVENT_BYTES, QUIET_STREAM_LIMIT);
        let mut stream = SseByteStream::new(body);
        let endpoint = match first_endpoint(&mut stream, &mut recorder, &stream_url).await {
            Ok(endpoint) => endpoint,
            Err(message) => {
                recorder.fail(message.clone());
                return Err(SendError::Transport(message));
            }
        };
        let session_id = endpoint
            .query_pairs()
            .find(|(name, _)| name == "sessionId" || name == "session_id")
            .map(|(_, value)| value.into_owned());
        let channel = Arc::new(Self {
            endpoint,
            session_id,
            responses: Responses::default(),
            open: Arc::new(AtomicBool::new(true)),
            reader: std::sync::Mutex::new(None),
        });
        let reader = read_messages(
            stream,
            recorder,
            channel.responses.clone(),
            Arc::clone(&channel.open),
            events,
        );
        *channel.reader.lock().unwrap_or_else(|p| p.into_inner()) = Some(tokio::spawn(reader));
        Ok(channel)
    }

    /// Whether the stream (and so the server's session) is still there.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// POSTs `message` to the endpoint; a request's response is the one that comes on the stream.
    pub async fn send(
        &self,
        client: &McpClient,
        message: &Value,
    ) -> Result<PostOutcome, SendError> {
        if !self.is_open() {
            return Ok(PostOutcome::SessionGone);
        }
        let mut awaited = self.responses.expect(message);
        let body = serde_json::to_vec(message).map_err(|e| SendError::Transport(e.to_string()))?;
        let request = client
            .authorized(Method::POST, self.endpoint.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .build()
            .map_err(|e| SendError::Transport(format!("cannot build the request: {e}")))?;
        let (response, recorder) = client.execute_recorded(request, Some(&body)).await?;
        let (response, recorder) = refuse_on_challenge(response, recorder).await?;
        let status = response.status();
        let text = read_rest(recorder, response).await.unwrap_or_default();
        if status == StatusCode::NOT_FOUND {
            self.close();
            return Ok(PostOutcome::SessionGone);
        }
        if !status.is_success() {
            return Err(status_error(status, &text));
        }
        let Some(awaited) = awaited.as_mut() else {
            return Ok(PostOutcome::Accepted);
        };
        match (&mut awaited.answer).await {
            Ok(response) => Ok(PostOutcome::Response(response)),
            // Not `SessionGone`: the server took the request, and sending it again could run it
            // twice.
            Err(_) => Err(SendError::Transport(
                "the MCP server's event stream (HTTP+SSE) ended before the response arrived".into(),
            )),
        }
    }

    /// Stops reading the stream, which ends the server's session; requests still waiting fail.
    pub fn close(&self) {
        self.open.store(false, Ordering::Release);
        if let Some(reader) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            reader.abort();
        }
        self.responses.fail_all();
    }
}

impl Drop for LegacyChannel {
    fn drop(&mut self) {
        self.close();
    }
}

/// Reads up to the `endpoint` event and returns the URL it names, resolved against the stream's.
async fn first_endpoint(
    stream: &mut EventStream,
    recorder: &mut ExchangeRecorder,
    stream_url: &url::Url,
) -> Result<url::Url, String> {
    while let Some(event) = stream.next().await {
        let event = event.map_err(|e| stream_cut(e).to_string())?;
        recorder.sse_event();
        if event.event.as_deref() != Some("endpoint") {
            continue;
        }
        let named = event.data.unwrap_or_default();
        recorder.body_chunk(named.as_bytes());
        recorder.body_chunk(b"\n");
        return endpoint_of(stream_url, named.trim());
    }
    Err("the MCP server's event stream ended before its `endpoint` event".into())
}

/// The message endpoint `named` by the server, which must share the stream's origin.
pub fn endpoint_of(stream_url: &url::Url, named: &str) -> Result<url::Url, String> {
    let endpoint = stream_url
        .join(named)
        .map_err(|e| format!("the MCP server's `endpoint` event is not a URL ({e})"))?;
    if endpoint.origin() != stream_url.origin() {
        return Err(format!(
            "the MCP server named {} as the endpoint for its messages, on another origin than its \
             event stream; Keyhole does not send requests (or a token) there",
            keyhole_shared::http::redact_url(endpoint.as_str())
        ));
    }
    Ok(endpoint)
}

/// Reads the stream for as long as it lasts: responses go to their requests, everything else
/// to `events`. When the stream ends, the channel is closed and the user told why.
async fn read_messages(
    mut stream: EventStream,
    mut recorder: ExchangeRecorder,
    responses: Responses,
    open: Arc<AtomicBool>,
    events: Arc<dyn ClientEvents>,
) {
    let ended = loop {
        let event = match stream.next().await {
            None => break "the server ended it".to_owned(),
            Some(Err(error)) => break stream_cut(error).to_string(),
            Some(Ok(event)) => event,
        };
        recorder.sse_event();
        if !matches!(event.event.as_deref(), None | Some("message")) {
            continue;
        }
        let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
            continue;
        };
        recorder.body_chunk(data.as_bytes());
        recorder.body_chunk(b"\n");
        match parse_json(data.into_bytes()).await {
            Ok(message) => {
                if let Some(message) = responses.route(message) {
                    events.server_message(message);
                }
            }
            Err(_) => events.notice("The MCP server sent an event that is not JSON.".into()),
        }
    };
    open.store(false, Ordering::Release);
    responses.fail_all();
    recorder.fail(ended.clone());
    recorder.finish();
    events.notice(format!(
        "The MCP server's event stream (HTTP+SSE) ended ({ended}), and with it the server's \
         session; Keyhole opens a new one with the next request."
    ));
}

impl McpClient {
    /// One message over HTTP+SSE. `initialize` opens the stream when none is open; any other
    /// message finds the session gone then, and the caller initializes again.
    pub(super) async fn over_legacy_sse(&self, message: &Value) -> Result<PostOutcome, SendError> {
        let channel = {
            let mut held = self.inner.legacy.lock().await;
            match held.as_ref().filter(|channel| channel.is_open()) {
                Some(channel) => Arc::clone(channel),
                None if message["method"] == "initialize" => {
                    let channel = LegacyChannel::open(self).await?;
                    let mut state = self.state();
                    state.session_id = channel.session_id.clone();
                    self.set_state(state);
                    *held = Some(Arc::clone(&channel));
                    channel
                }
                None => {
                    *held = None;
                    return Ok(PostOutcome::SessionGone);
                }
            }
        };
        channel.send(self, message).await
    }

    /// Ends the HTTP+SSE connection, if one is open.
    pub(super) async fn close_legacy_sse(&self) {
        if let Some(channel) = self.inner.legacy.lock().await.take() {
            channel.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_resolves_against_the_stream_and_stays_on_its_origin() {
        let stream = url::Url::parse("http://127.0.0.1:9/servers/a/sse").unwrap();
        let endpoint = endpoint_of(&stream, "/message?sessionId=abc").unwrap();
        assert_eq!(
            endpoint.as_str(),
            "http://127.0.0.1:9/message?sessionId=abc"
        );
        let relative = endpoint_of(&stream, "messages?x=1").unwrap();
        assert_eq!(
            relative.as_str(),
            "http://127.0.0.1:9/servers/a/messages?x=1"
        );
        let error =
            endpoint_of(&stream, "https://elsewhere.example/collect?token=t0k3n").unwrap_err();
        assert!(error.contains("another origin"), "{error}");
        assert!(!error.contains("t0k3n"), "{error}");
        assert!(endpoint_of(&stream, "http://127.0.0.1:10/message").is_err());
    }
}
