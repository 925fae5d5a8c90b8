//! MCP 2026-07-28 ("modern", stateless) as the testbed serves it (servers with `era` `modern` or
//! `dual`): no `initialize` handshake and no `Mcp-Session-Id`. Every POST says its protocol
//! version, what it is (`Mcp-Method`, `Mcp-Name`) and its client's capabilities (`params._meta`),
//! and is refused with the error code the specification gives when those disagree (basic/index,
//! transports › Streamable HTTP, `server/discover`, `subscriptions/listen`).
//!
//! A request runs in a session of its own that lives as long as its answer; the session of a
//! `subscriptions/listen` stream is registered with the server for as long as the stream is
//! open, so the server's list-changed broadcasts reach it.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::McpServer;
use super::dispatch::{
    RequestContext, RpcError, SUPPORTED_VERSIONS, handle_common, notification_message,
    server_capabilities, server_info,
};
use super::resource_auth::{Caller, challenge_response, check_scopes};
use super::session::{Listen, Session};
use super::transport::{VERSION_HEADER, answer_request, header_str, transport_error};
use crate::config::ProtocolEra;
use crate::state::TestbedState;

/// The stateless revision.
pub const MODERN_VERSION: &str = "2026-07-28";

const METHOD_HEADER: HeaderName = HeaderName::from_static("mcp-method");
const NAME_HEADER: HeaderName = HeaderName::from_static("mcp-name");

/// A required header is missing, disagrees with the body, or is malformed.
const HEADER_MISMATCH: i64 = -32020;
/// The request's protocol version is not one the server speaks (`data.supported` says which are).
const UNSUPPORTED_VERSION: i64 = -32022;

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
pub const META_SUBSCRIPTION: &str = "io.modelcontextprotocol/subscriptionId";

/// Methods of the stateless revision this server answers.
const METHODS: [&str; 9] = [
    "server/discover",
    "subscriptions/listen",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
];

/// Whether `version` is a stateless revision (versions are dates and compare as text).
pub fn is_modern(version: &str) -> bool {
    version >= MODERN_VERSION
}

/// Whether a POST to `server` with these headers is served the stateless way.
pub fn serves(server: &McpServer, headers: &HeaderMap) -> bool {
    match server.config.era {
        ProtocolEra::Legacy => false,
        ProtocolEra::Modern => true,
        ProtocolEra::Dual => header_str(headers, &VERSION_HEADER).is_some_and(is_modern),
    }
}

/// GET and DELETE on a server that speaks only the stateless revision: 405 (there is no
/// session and no standalone stream).
pub fn refuse_sessionful(state: &TestbedState, name: &str) -> Option<Response> {
    let server = state.server(name)?;
    if server.config.era.speaks_legacy() {
        return None;
    }
    let mut response = transport_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed: this server speaks MCP 2026-07-28, which has no sessions and no GET stream",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    Some(response)
}

/// The versions `server` speaks, newest first.
fn supported_versions(server: &McpServer) -> Vec<&'static str> {
    let mut versions = vec![MODERN_VERSION];
    if server.config.era.speaks_legacy() {
        versions.extend(SUPPORTED_VERSIONS);
    }
    versions
}

/// A refusal: `status` with a JSON-RPC error body.
fn refusal(
    status: StatusCode,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    let body = json!({ "jsonrpc": "2.0", "id": id, "error": error });
    (status, axum::Json(body)).into_response()
}

/// Decodes a header value written in the specification's `=?base64?…?=` form; others as they are.
fn decoded_header(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
        None => Some(value.to_owned()),
    }
}

/// Checks that the headers and `_meta` of `message` say what its body says.
fn check_request(server: &McpServer, headers: &HeaderMap, message: &Value) -> Result<(), Response> {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let bad = |code: i64, text: &str, data: Option<Value>| {
        Err(refusal(StatusCode::BAD_REQUEST, &id, code, text, data))
    };
    let supported = json!({ "supported": supported_versions(server) });
    let Some(version) = header_str(headers, &VERSION_HEADER) else {
        return bad(
            HEADER_MISMATCH,
            "Bad Request: Missing MCP-Protocol-Version header (this server speaks 2026-07-28 and has no initialize)",
            Some(supported),
        );
    };
    if version != MODERN_VERSION {
        let mut data = supported;
        data["requested"] = json!(version);
        return bad(
            UNSUPPORTED_VERSION,
            &format!("Unsupported protocol version {version}"),
            Some(data),
        );
    }
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return bad(
            RpcError::INVALID_REQUEST,
            "Invalid Request: send one request or notification (this server sends no requests to answer)",
            None,
        );
    };
    match header_str(headers, &METHOD_HEADER) {
        None => {
            return bad(
                HEADER_MISMATCH,
                "Bad Request: Missing Mcp-Method header",
                None,
            );
        }
        Some(named) if named != method => {
            return bad(
                HEADER_MISMATCH,
                &format!(
                    "Bad Request: Mcp-Method `{named}` differs from the body's method `{method}`"
                ),
                None,
            );
        }
        Some(_) => {}
    }
    if message.get("id").is_none() {
        return Ok(()); // a notification: nothing more is asked of it
    }
    let params = &message["params"];
    let named_item = match method {
        "tools/call" | "prompts/get" => params["name"].as_str(),
        "resources/read" => params["uri"].as_str(),
        _ => None,
    };
    if let Some(item) = named_item {
        match header_str(headers, &NAME_HEADER).map(decoded_header) {
            None => {
                return bad(
                    HEADER_MISMATCH,
                    "Bad Request: Missing Mcp-Name header",
                    None,
                );
            }
            Some(named) if named.as_deref() != Some(item) => {
                return bad(
                    HEADER_MISMATCH,
                    &format!("Bad Request: Mcp-Name differs from the body's `{item}`"),
                    None,
                );
            }
            Some(_) => {}
        }
    }
    let meta = &params["_meta"];
    match meta[META_VERSION].as_str() {
        None => {
            return bad(
                RpcError::INVALID_PARAMS,
                &format!("Invalid params: `_meta` must carry `{META_VERSION}`"),
                None,
            );
        }
        Some(in_meta) if in_meta != version => {
            return bad(
                HEADER_MISMATCH,
                &format!(
                    "Bad Request: MCP-Protocol-Version {version} differs from `_meta` {in_meta}"
                ),
                None,
            );
        }
        Some(_) => {}
    }
    if !meta[META_CAPABILITIES].is_object() {
        return bad(
            RpcError::INVALID_PARAMS,
            &format!("Invalid params: `_meta` must carry `{META_CAPABILITIES}`"),
            None,
        );
    }
    Ok(())
}

/// Serves one stateless POST (already authenticated).
pub async fn post(
    server: Arc<McpServer>,
    caller: &Caller,
    headers: &HeaderMap,
    message: &Value,
) -> Result<Response, Response> {
    check_request(&server, headers, message)?;
    let method = message["method"].as_str().unwrap_or_default();
    let Some(id) = message.get("id").cloned() else {
        return Ok(StatusCode::ACCEPTED.into_response());
    };
    if !METHODS.contains(&method) {
        return Err(refusal(
            StatusCode::NOT_FOUND,
            &id,
            RpcError::METHOD_NOT_FOUND,
            &format!("Method not found: `{method}` (not part of MCP 2026-07-28)"),
            None,
        ));
    }
    let params = message.get("params").cloned().unwrap_or(json!({}));
    let meta = &params["_meta"];
    let custom_headers = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let session = Session::new(
        server.name(),
        MODERN_VERSION,
        meta[META_CLIENT_INFO].clone(),
        custom_headers,
    );
    match meta[META_LOG_LEVEL].as_str() {
        Some(level) => {
            session.set_log_level(level);
        }
        None => session.silence_logs(),
    }
    if method == "subscriptions/listen" {
        check_scopes(&server, caller, &[]).map_err(|c| challenge_response(&server, &c))?;
        return Ok(listen(server, session, id, &params));
    }
    let method = method.to_owned();
    answer_request(server, caller, session, headers, &method, id, params).await
}

/// A stateless request's result: the methods of the revision, each result marked complete and
/// signed with the server's identity.
pub async fn handle(
    server: &McpServer,
    context: &RequestContext,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let mut result = match method {
        "server/discover" => discover_result(server),
        _ => handle_common(server, context, method, params).await?,
    };
    if let Some(object) = result.as_object_mut() {
        object
            .entry("resultType")
            .or_insert_with(|| json!("complete"));
        let meta = object.entry("_meta").or_insert_with(|| json!({}));
        meta[META_SERVER_INFO] = server_info(server);
    }
    Ok(result)
}

/// `server/discover`: the versions, capabilities and instructions (the server's identity goes in
/// `_meta`, added by [`handle`]).
fn discover_result(server: &McpServer) -> Value {
    let mut result = json!({
        "supportedVersions": supported_versions(server),
        "capabilities": server_capabilities(MODERN_VERSION),
        "ttlMs": 0,
        "cacheScope": "private",
    });
    if let Some(instructions) = &server.config.instructions {
        result["instructions"] = json!(instructions);
    }
    result
}

/// `subscriptions/listen`: an SSE stream that first acknowledges the notifications the server
/// agrees to send (the list changes it announces), then carries them, each tagged with the listen
/// request's id, until the client closes it.
fn listen(server: Arc<McpServer>, session: Arc<Session>, id: Value, params: &Value) -> Response {
    let asked = &params["notifications"];
    let wants = |key: &str| asked[key] == json!(true);
    let listen = Listen {
        subscription_id: id.clone(),
        stream: session.open_post_stream(),
        tools: wants("toolsListChanged"),
        prompts: wants("promptsListChanged"),
        resources: wants("resourcesListChanged"),
    };
    let mut agreed = json!({});
    for (key, on) in [
        ("toolsListChanged", listen.tools),
        ("promptsListChanged", listen.prompts),
        ("resourcesListChanged", listen.resources),
    ] {
        if on {
            agreed[key] = json!(true);
        }
    }
    let stream = listen.stream;
    let events = session.subscribe(stream, session.current_seq(), false);
    let acknowledged = notification_message(
        "notifications/subscriptions/acknowledged",
        json!({ "notifications": agreed, "_meta": { META_SUBSCRIPTION: id } }),
    );
    session.publish(stream, acknowledged, false);
    session.start_listening(listen);
    server.sessions.insert(Arc::clone(&session));
    let registration = Registration {
        server,
        session_id: session.id.clone(),
    };
    let events = events.map(move |event| {
        let _open = &registration;
        event
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Keeps a listening session registered while its stream is open.
struct Registration {
    server: Arc<McpServer>,
    session_id: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.server.sessions.remove(&self.session_id);
    }
}
