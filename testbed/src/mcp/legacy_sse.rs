//! The HTTP+SSE transport of MCP 2024-11-05, served beside Streamable HTTP by every server whose
//! era has sessions, under its MCP path so the same protected-resource metadata covers it:
//!
//! * `GET /servers/<name>/mcp/sse` opens the stream (a new session); its first event, `endpoint`,
//!   names `/servers/<name>/mcp/messages?sessionId=<id>`;
//! * `POST` there takes one message and answers 202; a request's response, and every
//!   notification of the session, comes on the stream as a `message` event.
//!
//! The session ends with its stream (a POST for it then gets 404). Authorization is checked on
//! the GET and on every POST, as on Streamable HTTP (401/403 with `WWW-Authenticate`), and the
//! control API's forced challenges apply to the POSTs. The protocol version is 2024-11-05, the one
//! servers of this transport answer.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::McpServer;
use super::dispatch::{
    RequestContext, gated_item, handle_request, initialize_result, response_message,
};
use super::resource_auth::{challenge_response, check_scopes, forced_challenge_response};
use super::session::{GET_STREAM, Session};
use super::stateless;
use super::transport::{admit, transport_error};
use crate::state::TestbedState;

/// The protocol version of this transport's servers.
pub const LEGACY_VERSION: &str = "2024-11-05";

pub fn router() -> Router<Arc<TestbedState>> {
    Router::new()
        .route("/servers/{name}/mcp/sse", get(open_stream))
        .route("/servers/{name}/mcp/messages", post(post_message))
}

async fn open_stream(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = stateless::refuse_sessionful(&state, &name) {
        return refused;
    }
    let (server, caller) = match admit(&state, &name, ("GET", "/sse"), &headers) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if let Err(challenge) = check_scopes(&server, &caller, &[]) {
        return challenge_response(&server, &challenge);
    }
    let session = Session::new(server.name(), LEGACY_VERSION, Value::Null, Vec::new());
    server.sessions.insert(Arc::clone(&session));
    caller.record_session(&state, &server, &session.id);
    let endpoint = Event::default().event("endpoint").data(format!(
        "/servers/{name}/mcp/messages?sessionId={}",
        session.id
    ));
    let ends_session = EndsSession {
        server: Arc::clone(&server),
        session_id: session.id.clone(),
    };
    let messages = session.subscribe(GET_STREAM, 0, false).map(move |event| {
        let _ends_with_the_stream = &ends_session;
        event
    });
    let events = futures_util::stream::once(async { Ok(endpoint) }).chain(messages);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Removes the session when its stream goes away (the client left, or the session closed).
struct EndsSession {
    server: Arc<McpServer>,
    session_id: String,
}

impl Drop for EndsSession {
    fn drop(&mut self) {
        if let Some(session) = self.server.sessions.remove(&self.session_id) {
            session.close();
        }
    }
}

#[derive(Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn post_message(
    State(state): State<Arc<TestbedState>>,
    Path(name): Path<String>,
    Query(query): Query<SessionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let message: Option<Value> = serde_json::from_slice(&body).ok();
    let method = message
        .as_ref()
        .and_then(|m| m["method"].as_str())
        .map(str::to_owned);
    if let Some(server) = state.server(&name)
        && let Some(forced) = server.take_post_challenge(method.as_deref())
    {
        return forced_challenge_response(&server, &forced);
    }
    let (server, caller) = match admit(&state, &name, ("POST", "/messages"), &headers) {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(session) = server.sessions.get(&query.session_id) else {
        return transport_error(StatusCode::NOT_FOUND, "Session not found");
    };
    caller.record_session(&state, &server, &session.id);
    let Some(message) = message.filter(|m| m.get("jsonrpc") == Some(&json!("2.0"))) else {
        return transport_error(
            StatusCode::BAD_REQUEST,
            "Invalid Request: expected one JSON-RPC 2.0 message",
        );
    };
    let (Some(method), Some(id)) = (method, message.get("id").cloned()) else {
        session.receive(&message); // a notification, or the answer to a server request
        return accepted();
    };
    let params = message.get("params").cloned().unwrap_or(json!({}));
    let scopes = gated_item(&method, &params)
        .and_then(|(kind, item)| server.catalog().required_scopes(kind, &item))
        .unwrap_or_default();
    if let Err(challenge) = check_scopes(&server, &caller, &scopes) {
        return challenge_response(&server, &challenge);
    }
    if method == "initialize" {
        let result = initialize_result(&server, LEGACY_VERSION);
        session.publish(GET_STREAM, response_message(&id, Ok(result)), false);
        return accepted();
    }
    let context = RequestContext {
        session: Arc::clone(&session),
        stream: Some(GET_STREAM),
        progress_token: params
            .get("_meta")
            .and_then(|meta| meta.get("progressToken"))
            .cloned(),
        cancellation: session.in_flight.start(&id),
    };
    tokio::spawn(async move {
        let outcome = handle_request(&server, &context, &method, &params).await;
        session.in_flight.finish(&id);
        if !context.cancellation.is_cancelled() {
            session.publish(GET_STREAM, response_message(&id, outcome), false);
        }
    });
    accepted()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, "Accepted").into_response()
}
