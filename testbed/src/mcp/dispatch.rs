//! JSON-RPC method handling for one MCP session: initialize, ping, tools, resources, prompts and
//! logging, plus the context through which a running request sends progress and log messages.

use std::sync::Arc;

use serde_json::{Value, json};

use super::McpServer;
use super::catalog::ItemKind;
use super::presets;
use super::session::{GET_STREAM, Session};

/// Protocol versions this server speaks, newest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
pub const LATEST_VERSION: &str = SUPPORTED_VERSIONS[0];

/// The requested version when supported, else the latest one.
pub fn negotiate_version(requested: Option<&str>) -> &'static str {
    SUPPORTED_VERSIONS
        .iter()
        .find(|v| Some(**v) == requested)
        .copied()
        .unwrap_or(LATEST_VERSION)
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const RESOURCE_NOT_FOUND: i64 = -32002;

    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }
}

/// A JSON-RPC response message for `id`.
pub fn response_message(id: &Value, outcome: Result<Value, RpcError>) -> Value {
    match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": error.code, "message": error.message},
        }),
    }
}

pub fn notification_message(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// The item a request operates on, when that operation may need extra scopes.
pub fn gated_item(method: &str, params: &Value) -> Option<(ItemKind, String)> {
    let (kind, key) = match method {
        "tools/call" => (ItemKind::Tool, "name"),
        "resources/read" => (ItemKind::Resource, "uri"),
        "prompts/get" => (ItemKind::Prompt, "name"),
        _ => return None,
    };
    let name = params.get(key)?.as_str()?;
    Some((kind, name.to_string()))
}

/// What a request handler may use to talk back while it runs.
pub struct RequestContext {
    pub session: Arc<Session>,
    /// The SSE stream answering this request; `None` when answering with plain JSON.
    pub stream: Option<u64>,
    pub progress_token: Option<Value>,
    /// Fires when the client cancels the request (or the task it runs in).
    pub cancellation: super::cancellation::Cancellation,
}

impl RequestContext {
    pub fn protocol_version(&self) -> &str {
        &self.session.protocol_version
    }

    /// Sends `notifications/progress` when the request asked for it and SSE is in use.
    pub fn progress(&self, progress: u64, total: u64, message: &str) {
        let (Some(stream), Some(token)) = (self.stream, &self.progress_token) else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress, "total": total});
        if self.protocol_version() >= "2025-03-26" {
            params["message"] = json!(message);
        }
        self.session.publish(
            stream,
            notification_message("notifications/progress", params),
            false,
        );
    }

    /// Sends `notifications/message` (on the request's stream, or the GET stream for JSON).
    pub fn log(&self, level: &str, message: &str) {
        if !self.session.wants_log_level(level) {
            return;
        }
        let params = json!({"level": level, "logger": "keyhole-testbed", "data": message});
        self.session.publish(
            self.stream.unwrap_or(GET_STREAM),
            notification_message("notifications/message", params),
            false,
        );
    }
}

/// The server's identity (`serverInfo`): its name, version and title.
pub fn server_info(server: &McpServer) -> Value {
    let config = &server.config;
    let mut server_info = json!({"name": config.name, "version": config.version});
    if let Some(title) = &config.title {
        server_info["title"] = json!(title);
    }
    server_info
}

/// What every testbed server can do at `protocol_version`: list changes, resource
/// subscriptions, logging, completions, and tasks from 2025-11-25 (not in the stateless
/// 2026-07-28, which has no sessions to keep them in).
pub fn server_capabilities(protocol_version: &str) -> Value {
    let mut capabilities = json!({
        "tools": {"listChanged": true},
        "resources": {"listChanged": true, "subscribe": true},
        "prompts": {"listChanged": true},
        "logging": {},
        "completions": {},
    });
    if protocol_version == "2025-11-25" {
        capabilities["tasks"] = super::tasks::capability();
    }
    capabilities
}

pub fn initialize_result(server: &McpServer, protocol_version: &str) -> Value {
    let mut result = json!({
        "protocolVersion": protocol_version,
        "capabilities": server_capabilities(protocol_version),
        "serverInfo": server_info(server),
    });
    if let Some(instructions) = &server.config.instructions {
        result["instructions"] = json!(instructions);
    }
    result
}

/// Handles one request (other than `initialize`) and returns its result or error.
pub async fn handle_request(
    server: &McpServer,
    context: &RequestContext,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    if super::stateless::is_modern(context.protocol_version()) {
        super::stateless::handle(server, context, method, params).await
    } else {
        handle_common(server, context, method, params).await
    }
}

/// The methods both eras share (and the 2025 ones the stateless revision dropped, which
/// [`super::stateless`] never routes here).
pub(super) async fn handle_common(
    server: &McpServer,
    context: &RequestContext,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let version = context.protocol_version();
    match method {
        "ping" => Ok(json!({})),
        "tools/list" => paged(server, params, server.catalog().list_tools(version)),
        "resources/list" => paged(server, params, server.catalog().list_resources()),
        "resources/templates/list" => {
            paged(server, params, server.catalog().list_resource_templates())
        }
        "prompts/list" => paged(server, params, server.catalog().list_prompts()),
        "tools/call" => call_tool(server, context, params).await,
        "resources/read" => read_resource(server, params),
        "resources/subscribe" | "resources/unsubscribe" => {
            let uri = read_resource(server, params)?["contents"][0]["uri"].clone();
            let uri = uri.as_str().unwrap_or_default();
            context
                .session
                .subscribe_to(uri, method == "resources/subscribe");
            Ok(json!({}))
        }
        "prompts/get" => get_prompt(server, params),
        "completion/complete" => super::completions::complete(&server.catalog(), params),
        "logging/setLevel" => {
            let level = params.get("level").and_then(Value::as_str).unwrap_or("");
            if context.session.set_log_level(level) {
                Ok(json!({}))
            } else {
                Err(RpcError::new(
                    RpcError::INVALID_PARAMS,
                    format!("unknown log level `{level}`"),
                ))
            }
        }
        "initialize" => Err(RpcError::new(
            RpcError::INVALID_REQUEST,
            "the session is already initialized",
        )),
        _ if method.starts_with("tasks/") && version == "2025-11-25" => {
            super::tasks::handle(&context.session, method, params, |list| {
                paged(server, params, list)
            })
            .await
            .unwrap_or_else(|| {
                Err(RpcError::new(
                    RpcError::METHOD_NOT_FOUND,
                    format!("method `{method}` not found"),
                ))
            })
        }
        _ => Err(RpcError::new(
            RpcError::METHOD_NOT_FOUND,
            format!("method `{method}` not found"),
        )),
    }
}

/// One page of a list result (`{ "<items>": [...] }`) when the server pages its lists: the
/// cursor is the offset of the page's first item, as text; one that is not is refused.
pub(super) fn paged(
    server: &McpServer,
    params: &Value,
    mut list: Value,
) -> Result<Value, RpcError> {
    let Some(size) = server.config.page_size else {
        return Ok(list);
    };
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(cursor) => cursor
            .as_str()
            .and_then(|c| c.strip_prefix("offset-"))
            .and_then(|c| c.parse::<usize>().ok())
            .ok_or_else(|| {
                RpcError::new(RpcError::INVALID_PARAMS, format!("invalid cursor {cursor}"))
            })?,
    };
    let Some((_, Value::Array(items))) = list.as_object_mut().and_then(|o| o.iter_mut().next())
    else {
        return Ok(list);
    };
    let all = std::mem::take(items);
    let end = (start + size).min(all.len());
    *items = all
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    if end < all.len() {
        list["nextCursor"] = json!(format!("offset-{end}"));
    }
    Ok(list)
}

async fn call_tool(
    server: &McpServer,
    context: &RequestContext,
    params: &Value,
) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMS, "`name` is required"))?;
    let (preset, task_support) = server
        .catalog()
        .tool(name)
        .map(|tool| (tool.preset, tool.task_support()))
        .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMS, format!("unknown tool `{name}`")))?;
    if preset == crate::config::ToolPreset::AskName {
        return super::input_required::call(params, context);
    }
    if context.protocol_version() == "2025-11-25" {
        use crate::config::TaskSupport;
        match (params.get("task").is_some(), task_support) {
            (true, TaskSupport::Forbidden) => {
                return Err(RpcError::new(
                    RpcError::METHOD_NOT_FOUND,
                    format!("tool `{name}` does not run as a task"),
                ));
            }
            (false, TaskSupport::Required) => {
                return Err(RpcError::new(
                    RpcError::METHOD_NOT_FOUND,
                    format!("tool `{name}` runs only as a task: call it with `task`"),
                ));
            }
            (true, _) => return Ok(super::tasks::start_tool(preset, params, context)),
            (false, _) => {}
        }
    }
    let arguments = params.get("arguments").cloned().unwrap_or(json!({}));
    Ok(presets::call(preset, &arguments, context).await)
}

fn read_resource(server: &McpServer, params: &Value) -> Result<Value, RpcError> {
    let uri = params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMS, "`uri` is required"))?;
    let resource = server.catalog().read_resource(uri).ok_or_else(|| {
        RpcError::new(
            RpcError::RESOURCE_NOT_FOUND,
            format!("resource not found: {uri}"),
        )
    })?;
    Ok(json!({
        "contents": [{"uri": resource.uri, "mimeType": resource.mime_type, "text": resource.text}],
    }))
}

fn get_prompt(server: &McpServer, params: &Value) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::new(RpcError::INVALID_PARAMS, "`name` is required"))?;
    let prompt = server.catalog().prompt(name).cloned().ok_or_else(|| {
        RpcError::new(RpcError::INVALID_PARAMS, format!("unknown prompt `{name}`"))
    })?;
    let supplied = params.get("arguments").cloned().unwrap_or(json!({}));
    let mut values = Vec::new();
    for argument in &prompt.arguments {
        match supplied.get(&argument.name).and_then(Value::as_str) {
            Some(value) => values.push((argument.name.clone(), value.to_string())),
            None if argument.required => {
                return Err(RpcError::new(
                    RpcError::INVALID_PARAMS,
                    format!("missing required argument `{}`", argument.name),
                ));
            }
            None => {}
        }
    }
    let text = super::catalog::fill_placeholders(&prompt.template, &values);
    let mut result = json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    });
    if let Some(description) = &prompt.description {
        result["description"] = json!(description);
    }
    Ok(result)
}
