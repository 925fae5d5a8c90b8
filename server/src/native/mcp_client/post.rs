//! Sending a JSON-RPC message with POST and reading the answer, whether it comes as one JSON body or
//! as a server-sent event stream that may carry the server's own notifications and requests before
//! the response. A stream that breaks before the response is resumed with GET and `Last-Event-ID`.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use keyhole_shared::api::ExchangeKind;
use keyhole_shared::dpop;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sse_stream::SseByteStream;

use super::exchange::ExchangeRecorder;
use super::reconnect;
use super::sse_limits::{IDLE_LIMIT, LimitedBody, MAX_EVENT_BYTES, StreamCut};
use super::{McpClient, SendError, UpstreamChallenge, stateless, stdio};
use crate::native::upstream_http;

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

/// How reading one event stream went.
pub struct StreamOutcome {
    /// The response to the request the stream was read for, when it came.
    pub response: Option<Value>,
    /// How many messages (JSON-RPC, besides the response) it delivered.
    pub messages: usize,
    /// Why Keyhole stopped reading before the server ended the stream.
    pub cut: Option<StreamCut>,
}

impl McpClient {
    /// A request with the headers every MCP request carries: session, version, bearer, custom.
    pub(super) fn request(&self, method: Method) -> reqwest::RequestBuilder {
        let state = self.state();
        let mut builder = self.authorized(method, self.inner.config.endpoint.clone());
        if let Some(session_id) = &state.session_id {
            builder = builder.header(SESSION_HEADER, session_id);
        }
        if let Some(version) = &state.protocol_version {
            builder = builder.header(VERSION_HEADER, version);
        }
        builder
    }

    /// A request to `url` with the configured headers and the current token (with a DPoP proof
    /// for a bound one).
    pub(super) fn authorized(&self, method: Method, url: url::Url) -> reqwest::RequestBuilder {
        let authorization = self
            .inner
            .credentials
            .authorization(method.as_str(), url.as_str());
        let mut builder = self.inner.http.calls.request(method, url);
        for (name, value) in &self.inner.config.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some((value, proof)) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
            if let Some(proof) = proof {
                builder = builder.header(dpop::PROOF_HEADER, proof);
            }
        }
        builder
    }

    /// POSTs one message, within the configured timeout.
    pub(super) async fn post(&self, message: &Value) -> Result<PostOutcome, SendError> {
        let timeout = self.inner.config.timeout;
        self.inner.events.message(true, message);
        match tokio::time::timeout(timeout, self.post_unbounded(message)).await {
            Ok(outcome) => {
                if let Ok(PostOutcome::Response(response)) = &outcome {
                    self.inner.events.message(false, response);
                }
                outcome
            }
            Err(_) => Err(SendError::Transport(format!(
                "the MCP server did not answer within {} s; Keyhole gave up on the request",
                timeout.as_secs_f64()
            ))),
        }
    }

    /// The POST carrying `message`, and its body: at a stateless version with its `Mcp-*`
    /// headers and `params._meta`.
    pub(super) fn post_request(
        &self,
        message: &Value,
    ) -> Result<(reqwest::Request, Bytes), SendError> {
        let mut builder = self
            .request(Method::POST)
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json");
        if self.is_stateless() {
            for (name, value) in stateless::standard_headers(message) {
                builder = builder.header(name, value);
            }
            for (name, value) in self.param_headers_of(message) {
                builder = builder.header(name, value);
            }
        }
        // Shared, not copied, between the request and the log.
        let body = Bytes::from(
            serde_json::to_vec(&self.on_the_wire(message))
                .map_err(|e| SendError::Transport(e.to_string()))?,
        );
        let request = builder
            .body(body.clone())
            .build()
            .map_err(|e| SendError::Transport(format!("cannot build the request: {e}")))?;
        Ok((request, body))
    }

    /// `message` as it is sent: at a stateless version with `params._meta` (the version, the
    /// capabilities announced on stateless requests, the client's identity); else as it is.
    fn on_the_wire(&self, message: &Value) -> Value {
        match self
            .protocol_version()
            .filter(|v| stateless::is_stateless(v))
        {
            Some(version) => {
                let config = &self.inner.config;
                let capabilities = config
                    .stateless_capabilities
                    .as_deref()
                    .unwrap_or(&config.capabilities);
                stateless::with_request_meta(message, &version, capabilities)
            }
            None => message.clone(),
        }
    }

    async fn post_unbounded(&self, message: &Value) -> Result<PostOutcome, SendError> {
        if let Some(command) = &self.inner.config.stdio {
            return self.over_stdio(command, message).await;
        }
        if self.speaks_legacy_sse() {
            return self.over_legacy_sse(message).await;
        }
        let stateless = self.is_stateless();
        let (request, body) = self.post_request(message)?;
        let had_session = self.session_id().is_some();
        let (response, recorder) = self.execute_recorded(request, Some(&body)).await?;
        let status = response.status();
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
        let (response, mut recorder) = refuse_on_challenge(response, recorder).await?;
        if status == StatusCode::NOT_FOUND && had_session {
            let _ = read_rest(recorder, response).await;
            return Ok(PostOutcome::SessionGone);
        }
        if status == StatusCode::ACCEPTED {
            let _ = read_rest(recorder, response).await;
            return Ok(PostOutcome::Accepted);
        }
        if !status.is_success() {
            let text = read_rest(recorder, response).await.unwrap_or_default();
            // Stateless servers put a JSON-RPC error in their 400s and 404s: that is the answer.
            if stateless
                && let Ok(answer) = serde_json::from_slice::<Value>(&text)
                && answer.get("jsonrpc").is_some()
                && answer.get("error").is_some()
            {
                return Ok(PostOutcome::Response(answer));
            }
            return Err(status_error(status, &text));
        }
        let request_id = message
            .get("id")
            .filter(|_| message.get("method").is_some())
            .cloned();
        if is_event_stream(response.headers()) {
            let mut position = StreamPosition::default();
            let outcome = self
                .read_stream(response, &mut recorder, request_id.as_ref(), &mut position)
                .await;
            recorder.finish();
            if let Some(response) = outcome.response {
                return Ok(PostOutcome::Response(response));
            }
            if let (Some(cut), Some(_)) = (&outcome.cut, &request_id)
                && !matches!(cut, StreamCut::Broken(_))
            {
                // Resuming would only bring the same oversized event or silence again.
                return Err(SendError::Transport(format!(
                    "the MCP server's answer: {cut}"
                )));
            }
            return match request_id {
                Some(id) => self.resume(&id, position).await,
                None => Ok(PostOutcome::Accepted),
            };
        }
        let bytes = read_rest(recorder, response).await;
        if request_id.is_none() {
            return Ok(PostOutcome::Accepted);
        }
        let bytes = bytes.map_err(SendError::Transport)?;
        let body = parse_json(bytes).await.map_err(|e| {
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

    /// Sends `request` (with `body`, for the log) and records the exchange: the response's head
    /// is recorded, and one over the limits refused. The recorder comes back with the response,
    /// for its body.
    ///
    /// A DPoP-bound request the server answers with a nonce demand (RFC 9449 §9: 401, `DPoP
    /// error="use_dpop_nonce"`, `DPoP-Nonce`) is sent once more with a fresh proof carrying it.
    pub(super) async fn execute_recorded(
        &self,
        request: reqwest::Request,
        body: Option<&[u8]>,
    ) -> Result<(reqwest::Response, ExchangeRecorder), SendError> {
        let credentials = &self.inner.credentials;
        let retry = credentials.is_dpop().then(|| request.try_clone()).flatten();
        let (response, recorder) = self.execute_once(request, body).await?;
        let (Some(mut retry), Some(nonce)) = (retry, demanded_nonce(&response)) else {
            return Ok((response, recorder));
        };
        credentials.set_dpop_nonce(&nonce);
        let _ = read_rest(recorder, response).await;
        let method = retry.method().as_str().to_owned();
        if let Some((value, Some(proof))) = credentials.authorization(&method, retry.url().as_str())
        {
            let headers = retry.headers_mut();
            for (name, value) in [
                (header::AUTHORIZATION.as_str(), value),
                (dpop::PROOF_HEADER, proof),
            ] {
                if let Ok(value) = header::HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
        }
        self.execute_once(retry, body).await
    }

    async fn execute_once(
        &self,
        request: reqwest::Request,
        body: Option<&[u8]>,
    ) -> Result<(reqwest::Response, ExchangeRecorder), SendError> {
        let shown = request.url().clone();
        let mut recorder =
            ExchangeRecorder::start(self.inner.events.clone(), &request, body, ExchangeKind::Mcp);
        let response = match self.inner.http.calls.execute(request).await {
            Ok(response) => response,
            Err(error) => {
                let message = describe_request_error(&shown, &error);
                recorder.fail(message.clone());
                return Err(SendError::Transport(message));
            }
        };
        recorder.response(response.status().as_u16(), response.headers());
        if let Err(message) = upstream_http::check_head(&response) {
            recorder.fail(message.clone());
            return Err(SendError::Transport(message));
        }
        // A server may hand out the next nonce with any answer (RFC 9449 §9).
        if let Some(nonce) = response
            .headers()
            .get(dpop::NONCE_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|_| self.inner.credentials.is_dpop())
        {
            self.inner.credentials.set_dpop_nonce(nonce);
        }
        Ok((response, recorder))
    }

    /// Reads SSE events: the response to `request_id` is returned; everything else is forwarded.
    /// The stream is read within [`sse_limits`](super::sse_limits); a cut is reported as a notice.
    pub(super) async fn read_stream(
        &self,
        response: reqwest::Response,
        recorder: &mut ExchangeRecorder,
        request_id: Option<&Value>,
        position: &mut StreamPosition,
    ) -> StreamOutcome {
        let mut outcome = StreamOutcome {
            response: None,
            messages: 0,
            cut: None,
        };
        let body = LimitedBody::new(response, MAX_EVENT_BYTES, IDLE_LIMIT);
        let mut events = SseByteStream::new(body);
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    let cut = stream_cut(error);
                    recorder.fail(cut.to_string());
                    if !matches!(cut, StreamCut::Broken(_)) {
                        self.inner
                            .events
                            .notice(format!("The MCP server's event stream: {cut}."));
                    }
                    outcome.cut = Some(cut);
                    return outcome;
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
            match parse_json(data.into_bytes()).await {
                Ok(message) if request_id.is_some() && is_response_to(&message, request_id) => {
                    outcome.response = Some(message);
                    return outcome;
                }
                Ok(message) => {
                    outcome.messages += 1;
                    self.inner.events.server_message(message);
                }
                Err(_) => self
                    .inner
                    .events
                    .notice("The MCP server sent an event that is not JSON.".into()),
            }
        }
        outcome
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
            tokio::time::sleep(reconnect::server_delay(position.retry)).await;
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
            let response = match self.inner.http.calls.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    recorder.fail(describe_request_error(&self.inner.config.endpoint, &error));
                    continue;
                }
            };
            recorder.response(response.status().as_u16(), response.headers());
            if let Err(message) = upstream_http::check_head(&response) {
                recorder.fail(message);
                continue;
            }
            if response.status() == StatusCode::UNAUTHORIZED
                || response.status() == StatusCode::FORBIDDEN
            {
                let challenge = challenge_of(response.status(), response.headers());
                let _ = read_rest(recorder, response).await;
                return Err(SendError::Challenge(challenge));
            }
            if !response.status().is_success() || !is_event_stream(response.headers()) {
                let _ = read_rest(recorder, response).await;
                break;
            }
            let outcome = self
                .read_stream(response, &mut recorder, Some(request_id), &mut position)
                .await;
            recorder.finish();
            if let Some(response) = outcome.response {
                return Ok(PostOutcome::Response(response));
            }
            if let Some(cut) = outcome.cut.filter(|c| !matches!(c, StreamCut::Broken(_))) {
                return Err(SendError::Transport(format!(
                    "the MCP server's answer: {cut}"
                )));
            }
        }
        Err(SendError::Transport(
            "the MCP server's event stream ended before the response arrived".into(),
        ))
    }

    /// One message to a stdio server: written as a line, the response read from its stdout.
    async fn over_stdio(
        &self,
        command: &stdio::StdioCommand,
        message: &Value,
    ) -> Result<PostOutcome, SendError> {
        let channel = self.stdio_channel(command).await?;
        let message = self.on_the_wire(message);
        Ok(
            match channel.send(&message, self.inner.config.timeout).await? {
                Some(response) => PostOutcome::Response(response),
                None => PostOutcome::Accepted,
            },
        )
    }

    /// DELETE: ends the upstream session.
    pub(super) async fn delete(&self) -> Result<(), SendError> {
        let request = self
            .request(Method::DELETE)
            .build()
            .map_err(|e| SendError::Transport(e.to_string()))?;
        let mut recorder =
            ExchangeRecorder::start(self.inner.events.clone(), &request, None, ExchangeKind::Mcp);
        match tokio::time::timeout(
            Duration::from_secs(5),
            self.inner.http.calls.execute(request),
        )
        .await
        {
            Ok(Ok(response)) => recorder.response(response.status().as_u16(), response.headers()),
            Ok(Err(error)) => {
                recorder.fail(describe_request_error(&self.inner.config.endpoint, &error))
            }
            Err(_) => recorder.fail("no answer to DELETE within 5 s"),
        }
        recorder.finish();
        Ok(())
    }
}

/// An HTTP error status that is not a challenge, with the start of the body the server sent.
pub(super) fn status_error(status: StatusCode, body: &[u8]) -> SendError {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let detail = if text.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::native::redact::truncate(text, 300))
    };
    SendError::Status {
        status: status.as_u16(),
        message: format!("the MCP server answered HTTP {status}{detail}"),
    }
}

/// A 401 or 403, read to its end and returned as the challenge it is; any other response comes
/// back with its recorder.
pub(super) async fn refuse_on_challenge(
    response: reqwest::Response,
    recorder: ExchangeRecorder,
) -> Result<(reqwest::Response, ExchangeRecorder), SendError> {
    let status = response.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return Ok((response, recorder));
    }
    let challenge = challenge_of(status, response.headers());
    let _ = read_rest(recorder, response).await;
    Err(SendError::Challenge(challenge))
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

/// Reads the rest of a (non-stream) body into the recorder, up to [`MAX_BODY_BYTES`], and finishes
/// the exchange. An unreadable or too large body marks the exchange failed and says why.
pub(super) async fn read_rest(
    mut recorder: ExchangeRecorder,
    response: reqwest::Response,
) -> Result<Vec<u8>, String> {
    let body = upstream_http::read_capped(response, MAX_BODY_BYTES).await;
    match &body {
        Ok(bytes) => recorder.body_chunk(bytes),
        Err(error) => recorder.fail(error.clone()),
    }
    recorder.finish();
    body
}

/// The largest non-stream body accepted from a server (and, see
/// [`MAX_EVENT_BYTES`](super::sse_limits::MAX_EVENT_BYTES), the largest event of a stream): a server
/// under inspection may be buggy or hostile, and must not exhaust Keyhole's memory.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Bodies larger than this are parsed on a blocking thread: parsing several megabytes of JSON takes
/// tens of milliseconds, which must not hold up the async threads other sessions run on.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// Parses JSON, off the async threads when it is large.
pub(crate) async fn parse_json(bytes: Vec<u8>) -> Result<Value, String> {
    let inline = bytes.len() <= PARSE_INLINE_BYTES;
    let parse = move || serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string());
    if inline {
        return parse();
    }
    tokio::task::spawn_blocking(parse)
        .await
        .unwrap_or_else(|e| Err(format!("the parser failed: {e}")))
}

/// What ended an SSE stream early: one of our limits, or the connection.
pub(super) fn stream_cut(error: sse_stream::Error) -> StreamCut {
    match error {
        sse_stream::Error::Body(inner) => match inner.downcast::<StreamCut>() {
            Ok(cut) => *cut,
            Err(other) => StreamCut::Broken(other.to_string()),
        },
        other => StreamCut::Broken(format!("it is not a valid event stream ({other})")),
    }
}

/// Why a request to `endpoint` failed, without the URL's secrets.
pub(crate) fn describe_request_error(endpoint: &url::Url, error: &reqwest::Error) -> String {
    let shown = keyhole_shared::http::redact_url(endpoint.as_str());
    upstream_http::describe(&shown, error)
}

/// The nonce a 401 demands of a DPoP proof (RFC 9449 §9), if it is such a demand.
pub(super) fn demanded_nonce(response: &reqwest::Response) -> Option<String> {
    if response.status() != StatusCode::UNAUTHORIZED {
        return None;
    }
    let demanded = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(dpop::challenge_demands_nonce);
    let nonce = response.headers().get(dpop::NONCE_HEADER)?.to_str().ok()?;
    (demanded && !nonce.trim().is_empty()).then(|| nonce.trim().to_owned())
}
