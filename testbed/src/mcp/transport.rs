//! The Streamable HTTP transport: `POST` (JSON or SSE answers), `GET` (the standalone SSE stream
//! with `Last-Event-ID` resumption) and `DELETE` on `/servers/{name}/mcp`, with the session,
//! protocol-version, origin and authorization checks that come before any JSON-RPC handling.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::McpServer;
use super::dispatch::{
    RequestContext, RpcError, SUPPORTED_VERSIONS, gated_item, handle_request, initialize_result,
    negotiate_version, response_message,
};
use super::resource_auth::{
    Caller, authenticate, challenge_response, check_scopes, forced_challenge_response,
};
use super::session::{EventPosition, GET_STREAM, Session};
use super::stateless;
use crate::config::{ResponseMode, ToolPreset};
use crate::state::TestbedState;

const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
pub(super) const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

pub fn router() -> Router<Arc<TestbedState>> {
    Router::new().route(
        "/servers/{name}/mcp",
        post(post_message).get(open_stream).delete(end_session),
    )
}

/// An HTTP-level failure with a JSON-RPC error body.
pub(super) fn transport_error(status: StatusCode, message: &str) -> Response {
    let code = if status == StatusCode::BAD_REQUEST {
        RpcError::INVALID_REQUEST
    } else {
        -32000
    };
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// DNS-rebinding defence: a browser `Origin` must be a loopback origin.
fn check_origin(headers: &HeaderMap) -> Result<(), Response> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let loopback = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .is_some_and(|url| {
            matches!(
                url.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            )
        });
    if loopback {
        Ok(())
    } else {
        Err(transport_error(
            StatusCode::FORBIDDEN,
            "Forbidden: the Origin is not a loopback origin",
        ))
    }
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    let mut values = headers.get_all(header::ACCEPT).iter().peekable();
    if values.peek().is_none() {
        return true;
    }
    values
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.split(';').next().unwrap_or("").trim())
        .any(|item| item == media_type || item == "*/*")
}

/// Common gate of every request: known server, origin, then the bearer token.
/// `request`: the method and the path below the server's MCP URL (`""`, or the HTTP+SSE
/// transport's `/sse` and `/messages`), which a DPoP proof must name.
pub(super) fn admit(
    state: &TestbedState,
    name: &str,
    request: (&str, &str),
    headers: &HeaderMap,
) -> Result<(Arc<McpServer>, Caller), Response> {
    let server = state
        .server(name)
        .ok_or_else(|| transport_error(StatusCode::NOT_FOUND, "no such MCP server"))?;
    check_origin(headers)?;
    let caller = authenticate(state, &server, request, headers)
        .map_err(|c| challenge_response(&server, &c))?;
    Ok((server, caller))
}

/// Finds the session named by `Mcp-Session-Id` and checks `MCP-Protocol-Version` against it.
fn existing_session(server: &McpServer, headers: &HeaderMap) -> Result<Arc<Session>, Response> {
    let id = header_str(headers, &SESSION_HEADER).ok_or_else(|| {
        transport_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: the Mcp-Session-Id header is required",
        )
    })?;
    let session = server
        .sessions
        .get(id)
        .ok_or_else(|| transport_error(StatusCode::NOT_FOUND, "Session not found"))?;
    if let Some(version) = header_str(headers, &VERSION_HEADER) {
        if !SUPPORTED_VERSIONS.contains(&version) {
            return Err(transport_error(
                StatusCode::BAD_REQUEST,
                &format!("Bad Request: unsupported MCP-Protocol-Version `{version}`"),
            ));
        }
        if version != session.protocol_version {
            return Err(transport_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Bad Request: MCP-Protocol-Version `{version}` differs from the negotiated `{}`",
                    session.protocol_version
                ),
            ));
        }
    }
    Ok(session)
}

async fn post_message(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle_post(&state, &name, &headers, &body).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle_post(
    state: &Arc<TestbedState>,
    name: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    if !accepts(headers, "application/json") && !accepts(headers, "text/event-stream") {
        return Err(transport_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: accept application/json and text/event-stream",
        ));
    }
    let method = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|message| message["method"].as_str().map(str::to_owned));
    if let Some(server) = state.server(name)
        && let Some(forced) = server.take_post_challenge(method.as_deref())
    {
        return Err(forced_challenge_response(&server, &forced));
    }
    let (server, caller) = admit(state, name, ("POST", ""), headers)?;
    let message: Value = serde_json::from_slice(body).map_err(|_| {
        let body = response_message(
            &Value::Null,
            Err(RpcError::new(RpcError::PARSE_ERROR, "Parse error")),
        );
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    })?;
    if !message.is_object() || message.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(transport_error(
            StatusCode::BAD_REQUEST,
            "Invalid Request: expected one JSON-RPC 2.0 message (batches are not supported)",
        ));
    }
    if stateless::serves(&server, headers) {
        return stateless::post(server, &caller, headers, &message).await;
    }
    let method = message.get("method").and_then(Value::as_str);
    let id = message.get("id").cloned();
    if method == Some("initialize") {
        let Some(id) = id else {
            return Err(transport_error(
                StatusCode::BAD_REQUEST,
                "Invalid Request: initialize must be a request",
            ));
        };
        return Ok(initialize(state, &server, &caller, &id, &message, headers));
    }
    let session = existing_session(&server, headers)?;
    caller.record_session(state, &server, &session.id);
    let (Some(method), Some(id)) = (method, id) else {
        // A notification, or a response to a server request (which goes to whoever asked).
        session.receive(&message);
        return Ok(StatusCode::ACCEPTED.into_response());
    };
    let params = message.get("params").cloned().unwrap_or(json!({}));
    answer_request(server, &caller, session, headers, method, id, params).await
}

/// Checks the scopes `method` needs, runs it and answers with JSON or an SSE stream (progress and
/// log messages, then the response), as the server's `responseMode` says.
pub(super) async fn answer_request(
    server: Arc<McpServer>,
    caller: &Caller,
    session: Arc<Session>,
    headers: &HeaderMap,
    method: &str,
    id: Value,
    params: Value,
) -> Result<Response, Response> {
    if let Some((kind, item)) = gated_item(method, &params) {
        let scopes = server.catalog().required_scopes(kind, &item);
        if let Some(scopes) = scopes {
            check_scopes(&server, caller, &scopes).map_err(|c| challenge_response(&server, &c))?;
        }
    } else {
        check_scopes(&server, caller, &[]).map_err(|c| challenge_response(&server, &c))?;
    }
    let use_sse = match server.config.response_mode {
        ResponseMode::Json => false,
        ResponseMode::Sse => true,
        ResponseMode::Auto => streams_progress(&server, method, &params),
    } && accepts(headers, "text/event-stream");
    let progress_token = params
        .get("_meta")
        .and_then(|meta| meta.get("progressToken"))
        .cloned();
    let method = method.to_string();
    let cancellation = session.in_flight.start(&id);
    if !use_sse {
        let context = RequestContext {
            session: Arc::clone(&session),
            stream: None,
            progress_token,
            cancellation,
        };
        let outcome = handle_request(&server, &context, &method, &params).await;
        session.in_flight.finish(&id);
        // A cancelled request still gets its HTTP response (there is no other way to end the
        // POST); the client has stopped waiting for it.
        return Ok(axum::Json(response_message(&id, outcome)).into_response());
    }
    let stream = session.open_post_stream();
    let events = session.subscribe(stream, session.current_seq(), false);
    let context = RequestContext {
        session: Arc::clone(&session),
        stream: Some(stream),
        progress_token,
        cancellation,
    };
    tokio::spawn(async move {
        let outcome = handle_request(&server, &context, &method, &params).await;
        session.in_flight.finish(&id);
        if context.cancellation.is_cancelled() {
            session.end_stream(stream); // no response to a cancelled request
        } else {
            session.publish(stream, response_message(&id, outcome), true);
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// In `auto` mode, calls of tools that report progress are answered with SSE.
fn streams_progress(server: &McpServer, method: &str, params: &Value) -> bool {
    method == "tools/call"
        && params
            .get("name")
            .and_then(Value::as_str)
            .and_then(|name| server.catalog().tool(name).map(|t| t.preset))
            .filter(|preset| matches!(preset, ToolPreset::LongRunning | ToolPreset::AskClient))
            .is_some()
}

fn initialize(
    state: &TestbedState,
    server: &McpServer,
    caller: &Caller,
    id: &Value,
    message: &Value,
    headers: &HeaderMap,
) -> Response {
    let params = message.get("params").cloned().unwrap_or(json!({}));
    let version = negotiate_version(params.get("protocolVersion").and_then(Value::as_str));
    let client_info = params.get("clientInfo").cloned().unwrap_or(Value::Null);
    if let Err(challenge) = check_scopes(server, caller, &[]) {
        return challenge_response(server, &challenge);
    }
    // The client's own `X-…` headers, so tests can see that custom headers arrive.
    let custom_headers = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let session = Session::new(server.name(), version, client_info, custom_headers);
    server.sessions.insert(Arc::clone(&session));
    caller.record_session(state, server, &session.id);
    let body = response_message(id, Ok(initialize_result(server, version)));
    let mut response = axum::Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&session.id) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

async fn open_stream(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = stateless::refuse_sessionful(&state, &name) {
        return refused;
    }
    if !accepts(&headers, "text/event-stream") {
        return transport_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the GET stream is text/event-stream",
        );
    }
    if let Some(server) = state.server(&name)
        && let Some(forced) = server.take_get_challenge()
    {
        return forced_challenge_response(&server, &forced);
    }
    let (server, caller) = match admit(&state, &name, ("GET", ""), &headers) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if let Err(challenge) = check_scopes(&server, &caller, &[]) {
        return challenge_response(&server, &challenge);
    }
    let session = match existing_session(&server, &headers) {
        Ok(session) => session,
        Err(response) => return response,
    };
    caller.record_session(&state, &server, &session.id);
    let resume_from = header_str(&headers, &LAST_EVENT_ID).and_then(EventPosition::parse);
    let (stream, after_seq) = match resume_from {
        Some(position) => (position.stream, position.seq),
        None => (GET_STREAM, session.get_stream_start()),
    };
    let prime = stream == GET_STREAM && session.protocol_version.as_str() >= "2025-11-25";
    let events = session.subscribe(stream, after_seq, prime);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn end_session(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = stateless::refuse_sessionful(&state, &name) {
        return refused;
    }
    let (server, caller) = match admit(&state, &name, ("DELETE", ""), &headers) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let session = match existing_session(&server, &headers) {
        Ok(session) => session,
        Err(response) => return response,
    };
    caller.record_session(&state, &server, &session.id);
    server.sessions.remove(&session.id);
    StatusCode::OK.into_response()
}
