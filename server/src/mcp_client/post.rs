//! Sending a JSON-RPC message with POST and reading the answer, whether it comes as one JSON body or
//! as a server-sent event stream that may carry the server's own notifications and requests before
//! the response. A stream that breaks before the response is resumed with GET and `Last-Event-ID`.

use std::time::Duration;

use futures_util::StreamExt;
use keyhole_shared::api::ExchangeKind;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sse_stream::SseByteStream;

use super::exchange::ExchangeRecorder;
use super::{McpClient, SendError, UpstreamChallenge};

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// How often a broken POST stream is resumed before giving up.
const MAX_RESUMPTIONS: usize = 3;

/// What a POST produced.
pub enum PostOutcome {
    /// The JSON-RPC response to the request.
    Response(Value),
    /// 202: the notification or answer was accepted; no response is due.
    Accepted,
    /// 404 for the session we named: the server forgot it.
    SessionGone,
}

/// Where a stream left off, for resuming it.
#[derive(Default)]
pub struct StreamPosition {
    pub last_event_id: Option<String>,
    pub retry: Option<Duration>,
}

impl McpClient {
    /// A request with the headers every MCP request carries: session, version, bearer, custom.
    pub(super) fn request(&self, method: Method) -> reqwest::RequestBuilder {
        let state = self.state();
        let mut builder = self
            .inner
            .http
            .request(method, self.inner.config.endpoint.clone());
        for (name, value) in &self.inner.config.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(session_id) = &state.session_id {
            builder = builder.header(SESSION_HEADER, session_id);
        }
        if let Some(version) = &state.protocol_version {
            builder = builder.header(VERSION_HEADER, version);
        }
        if let Some(bearer) = self.inner.credentials.bearer() {
            builder = builder.bearer_auth(bearer.expose());
        }
        builder
    }

    /// POSTs one message, within the configured timeout.
    pub(super) async fn post(&self, message: &Value) -> Result<PostOutcome, SendError> {
        let timeout = self.inner.config.timeout;
        match tokio::time::timeout(timeout, self.post_unbounded(message)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SendError::Transport(format!(
                "the MCP server did not answer within {} s; Keyhole gave up on the request",
                timeout.as_secs_f64()
            ))),
        }
    }

    async fn post_unbounded(&self, message: &Value) -> Result<PostOutcome, SendError> {
        let body = serde_json::to_vec(message).map_err(|e| SendError::Transport(e.to_string()))?;
        let request = self
            .request(Method::POST)
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .build()
            .map_err(|e| SendError::Transport(format!("cannot build the request: {e}")))?;
        let had_session = self.session_id().is_some();
        let mut recorder = ExchangeRecorder::start(
            self.inner.events.clone(),
            &request,
            Some(&body),
            ExchangeKind::Mcp,
        );
        let response = match self.inner.http.execute(request).await {
            Ok(response) => response,
            Err(error) => {
                let message = describe_request_error(&self.inner.config.endpoint, &error);
                recorder.fail(message.clone());
                return Err(SendError::Transport(message));
            }
        };
        let status = response.status();
        recorder.response(status.as_u16(), response.headers());
        if message["method"] == "initialize"
            && status.is_success()
            && let Some(session_id) = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
        {
            let mut state = self.state();
            state.session_id = Some(session_id.to_owned());
            self.set_state(state);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let challenge = challenge_of(status, response.headers());
            read_rest(recorder, response).await;
            return Err(SendError::Challenge(challenge));
        }
        if status == StatusCode::NOT_FOUND && had_session {
            read_rest(recorder, response).await;
            return Ok(PostOutcome::SessionGone);
        }
        if status == StatusCode::ACCEPTED {
            read_rest(recorder, response).await;
            return Ok(PostOutcome::Accepted);
        }
        if !status.is_success() {
            let text = read_rest(recorder, response).await;
            return Err(SendError::Status {
                status: status.as_u16(),
                message: format!(
                    "the MCP server answered HTTP {status}{}",
                    if text.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {}", crate::redact::truncate(text.trim(), 300))
                    }
                ),
            });
        }
        let request_id = message
            .get("id")
            .filter(|_| message.get("method").is_some())
            .cloned();
        if is_event_stream(response.headers()) {
            let mut position = StreamPosition::default();
            let found = self
                .read_stream(response, &mut recorder, request_id.as_ref(), &mut position)
                .await;
            recorder.finish();
            if let Some(response) = found {
                return Ok(PostOutcome::Response(response));
            }
            return match request_id {
                Some(id) => self.resume(&id, position).await,
                None => Ok(PostOutcome::Accepted),
            };
        }
        let text = read_rest(recorder, response).await;
        if request_id.is_none() {
            return Ok(PostOutcome::Accepted);
        }
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            SendError::Transport(format!("the MCP server sent a body that is not JSON ({e})"))
        })?;
        let messages = match body {
            Value::Array(items) => items,
            single => vec![single],
        };
        let mut answer = None;
        for message in messages {
            if answer.is_none() && is_response_to(&message, request_id.as_ref()) {
                answer = Some(message);
            } else {
                self.inner.events.server_message(message);
            }
        }
        answer.map(PostOutcome::Response).ok_or_else(|| {
            SendError::Transport("the MCP server's answer did not contain the response".into())
        })
    }

    /// Reads SSE events: the response to `request_id` is returned; everything else is forwarded.
    pub(super) async fn read_stream(
        &self,
        response: reqwest::Response,
        recorder: &mut ExchangeRecorder,
        request_id: Option<&Value>,
        position: &mut StreamPosition,
    ) -> Option<Value> {
        let mut events = SseByteStream::new(bounded_stream(response));
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    recorder.fail(format!("the event stream broke: {error}"));
                    return None;
                }
            };
            recorder.sse_event();
            if let Some(id) = event.id {
                position.last_event_id = Some(id);
            }
            if let Some(retry) = event.retry {
                position.retry = Some(Duration::from_millis(retry));
            }
            let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
                continue;
            };
            recorder.body_chunk(data.as_bytes());
            recorder.body_chunk(b"\n");
            match serde_json::from_str::<Value>(&data) {
                Ok(message) if request_id.is_some() && is_response_to(&message, request_id) => {
                    return Some(message);
                }
                Ok(message) => self.inner.events.server_message(message),
                Err(_) => self
                    .inner
                    .events
                    .notice("The MCP server sent an event that is not JSON.".into()),
            }
        }
        None
    }

    /// The POST stream ended before the response: reconnect with GET and `Last-Event-ID`, after
    /// the server's `retry`, as the transport specification allows.
    async fn resume(
        &self,
        request_id: &Value,
        mut position: StreamPosition,
    ) -> Result<PostOutcome, SendError> {
        for _ in 0..MAX_RESUMPTIONS {
            let Some(last_event_id) = position.last_event_id.clone() else {
                break;
            };
            tokio::time::sleep(position.retry.unwrap_or(Duration::from_millis(500))).await;
            let request = self
                .request(Method::GET)
                .header(header::ACCEPT, "text/event-stream")
                .header("last-event-id", last_event_id)
                .build()
                .map_err(|e| SendError::Transport(e.to_string()))?;
            let mut recorder = ExchangeRecorder::start(
                self.inner.events.clone(),
                &request,
                None,
                ExchangeKind::Mcp,
            );
            let response = match self.inner.http.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    recorder.fail(error.to_string());
                    continue;
                }
            };
            recorder.response(response.status().as_u16(), response.headers());
            if response.status() == StatusCode::UNAUTHORIZED
                || response.status() == StatusCode::FORBIDDEN
            {
                let challenge = challenge_of(response.status(), response.headers());
                read_rest(recorder, response).await;
                return Err(SendError::Challenge(challenge));
            }
            if !response.status().is_success() || !is_event_stream(response.headers()) {
                read_rest(recorder, response).await;
                break;
            }
            let found = self
                .read_stream(response, &mut recorder, Some(request_id), &mut position)
                .await;
            recorder.finish();
            if let Some(response) = found {
                return Ok(PostOutcome::Response(response));
            }
        }
        Err(SendError::Transport(
            "the MCP server's event stream ended before the response arrived".into(),
        ))
    }

    /// DELETE: ends the upstream session.
    pub(super) async fn delete(&self) -> Result<(), SendError> {
        let request = self
            .request(Method::DELETE)
            .build()
            .map_err(|e| SendError::Transport(e.to_string()))?;
        let mut recorder =
            ExchangeRecorder::start(self.inner.events.clone(), &request, None, ExchangeKind::Mcp);
        match tokio::time::timeout(Duration::from_secs(5), self.inner.http.execute(request)).await {
            Ok(Ok(response)) => recorder.response(response.status().as_u16(), response.headers()),
            Ok(Err(error)) => recorder.fail(error.to_string()),
            Err(_) => recorder.fail("no answer to DELETE within 5 s"),
        }
        recorder.finish();
        Ok(())
    }
}

pub(super) fn challenge_of(status: StatusCode, headers: &HeaderMap) -> UpstreamChallenge {
    UpstreamChallenge {
        status: status.as_u16(),
        www_authenticate: headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .map(|value| value.as_bytes().to_vec())
            .collect(),
    }
}

pub(super) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
}

fn is_response_to(message: &Value, request_id: Option<&Value>) -> bool {
    message.get("method").is_none()
        && (message.get("result").is_some() || message.get("error").is_some())
        && request_id.is_some_and(|id| message.get("id") == Some(id))
}

/// Reads the rest of a (non-stream) body into the recorder, up to [`MAX_BODY_BYTES`], finishes
/// the exchange, and returns the body as text (empty, with the exchange marked failed, if it was
/// unreadable or too large).
async fn read_rest(mut recorder: ExchangeRecorder, response: reqwest::Response) -> String {
    let text = match read_capped(response, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            recorder.body_chunk(&bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Err(error) => {
            recorder.fail(error);
            String::new()
        }
    };
    recorder.finish();
    text
}

/// The largest non-stream body accepted from a server, and the longest line of an event stream:
/// a server under inspection may be buggy or hostile, and must not exhaust Keyhole's memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Reads a whole body, refusing one larger than `limit`.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the answer failed: {e}"))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!(
                "the answer is larger than {} KiB; Keyhole refuses it",
                limit / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The response body as a byte stream whose lines may not grow past [`MAX_BODY_BYTES`] (the SSE
/// parser buffers a line until its end).
pub(super) fn bounded_stream(
    response: reqwest::Response,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let mut since_newline = 0usize;
    response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        since_newline = match chunk.iter().rposition(|b| *b == b'\n') {
            Some(at) => chunk.len() - at - 1,
            None => since_newline + chunk.len(),
        };
        if since_newline > MAX_BODY_BYTES {
            return Err(std::io::Error::other(
                "an event stream line is longer than 16 MiB",
            ));
        }
        Ok(chunk)
    })
}

pub(crate) fn describe_request_error(endpoint: &url::Url, error: &reqwest::Error) -> String {
    // reqwest's own message embeds the URL unredacted: describe the failure without it.
    let shown = keyhole_shared::http::redact_url(endpoint.as_str());
    if error.is_connect() {
        format!("cannot connect to {shown}: is the MCP server running?")
    } else if error.is_timeout() {
        format!("{shown} did not answer in time")
    } else {
        let cause = std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_else(|| "no detail".into());
        format!("the request to {shown} failed: {cause}")
    }
}
