//! The `askName` preset: a tool that needs the user's answer before it can finish, the
//! 2026-07-28 way (multi round-trip requests, SEP-2322): the first call returns
//! `resultType: "input_required"` with an elicitation form and an opaque `requestState`; the
//! client asks its user, then calls again with a new request id, `inputResponses` and the state
//! echoed exactly. Over the 2025 revisions the tool says it needs 2026-07-28 (asking the client
//! over the session's stream is the elicitation request of the 2025 wire, not served here).

use serde_json::{Value, json};

use super::dispatch::{RequestContext, RpcError};
use super::stateless::is_modern;
use crate::support::random_string;

/// The key of the one input this tool asks for.
const INPUT_KEY: &str = "name";
/// What every `requestState` of this tool starts with; the rest is random (a server keeps its
/// state opaque, and the client must send it back untouched).
const STATE_PREFIX: &str = "ask-name.v1.";
/// A client that does not declare what the server would ask for gets this error (SEP-2322).
const MISSING_CAPABILITY: i64 = -32021;

pub fn description() -> &'static str {
    "Asks for your name (MCP 2026-07-28: an input-required result with an elicitation form), then greets you."
}

pub fn input_schema() -> Value {
    json!({ "type": "object", "properties": {} })
}

/// A call of `askName`: the request for input, or the greeting once it came.
pub fn call(params: &Value, context: &RequestContext) -> Result<Value, RpcError> {
    if !is_modern(context.protocol_version()) {
        return Ok(json!({
            "content": [{"type": "text", "text": format!(
                "ask-name asks for input the MCP 2026-07-28 way; this session speaks {}.",
                context.protocol_version()
            )}],
            "isError": true,
        }));
    }
    let capabilities = &params["_meta"]["io.modelcontextprotocol/clientCapabilities"];
    if capabilities.get("elicitation").is_none() {
        return Err(RpcError::new(
            MISSING_CAPABILITY,
            "ask-name needs the client capability `elicitation` (declare it in \
             `_meta.io.modelcontextprotocol/clientCapabilities`)",
        ));
    }
    let Some(answer) = params["inputResponses"].get(INPUT_KEY) else {
        return Ok(ask());
    };
    let state = params["requestState"].as_str().unwrap_or_default();
    if !state.starts_with(STATE_PREFIX) {
        return Err(RpcError::new(
            RpcError::INVALID_PARAMS,
            "`requestState` is missing or was altered: send back exactly the one the server gave",
        ));
    }
    let text = match answer["action"].as_str() {
        Some("accept") => match answer["content"]["name"].as_str() {
            Some(name) if !name.trim().is_empty() => format!("Hello, {}!", name.trim()),
            _ => return Ok(ask()),
        },
        Some("decline") => "You declined to give your name.".to_owned(),
        _ => "You cancelled.".to_owned(),
    };
    Ok(json!({ "content": [{"type": "text", "text": text}] }))
}

fn ask() -> Value {
    json!({
        "resultType": "input_required",
        "inputRequests": {
            INPUT_KEY: {
                "method": "elicitation/create",
                "params": {
                    "mode": "form",
                    "message": "What is your name?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "title": "Name", "description": "How to greet you"}
                        },
                        "required": ["name"],
                    },
                },
            },
        },
        "requestState": format!("{STATE_PREFIX}{}", random_string(16)),
    })
}
