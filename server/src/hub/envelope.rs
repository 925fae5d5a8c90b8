//! The reply envelope of `/api/mcp/*` (DESIGN.md §2): upstream outcomes are never HTTP errors. A
//! reply is HTTP 200 with `{"ok": true, …}` or `{"ok": false, "kind": …, "message": …}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use keyhole_shared::{AuthChallenge, ChallengeContext};
use serde::Serialize;
use serde_json::{Value, json};

use crate::mcp_client::{SendError, UpstreamChallenge};

/// Why an upstream operation produced no result.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    AuthChallenge {
        #[serde(rename = "authChallenge")]
        auth_challenge: Box<AuthChallenge>,
        message: String,
    },
    TransportError {
        message: String,
    },
}

impl Failure {
    /// Classifies an upstream failure; a challenge is normalised with `context` by the auth core.
    pub fn from_send_error(error: SendError, context: ChallengeContext) -> Self {
        match error {
            SendError::Challenge(challenge) => Self::challenge(&challenge, context),
            SendError::Transport(message) => Self::TransportError { message },
        }
    }

    pub fn challenge(challenge: &UpstreamChallenge, context: ChallengeContext) -> Self {
        let lines: Vec<&[u8]> = challenge
            .www_authenticate
            .iter()
            .map(Vec::as_slice)
            .collect();
        let normalised = AuthChallenge::from_response(challenge.status, &lines, context.clone())
            .ok()
            .or_else(|| AuthChallenge::from_status_only(challenge.status, &lines, context));
        match normalised {
            Some(auth_challenge) => Self::AuthChallenge {
                message: format!(
                    "The MCP server answered HTTP {} and asks for authorization.",
                    challenge.status
                ),
                auth_challenge: Box::new(auth_challenge),
            },
            None => Self::TransportError {
                message: format!("the MCP server answered HTTP {}", challenge.status),
            },
        }
    }
}

/// An envelope reply.
pub enum Reply {
    Ok(Value),
    Failed(Failure),
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = match self {
            Reply::Ok(mut fields) => {
                if let Value::Object(map) = &mut fields {
                    map.insert("ok".into(), Value::Bool(true));
                }
                fields
            }
            Reply::Failed(failure) => {
                let mut value = serde_json::to_value(&failure).unwrap_or_else(|_| json!({}));
                value["ok"] = Value::Bool(false);
                value
            }
        };
        Json(body).into_response()
    }
}

/// The `context` of a challenge raised by `message`: its method and, for `tools/call`, the tool.
pub fn context_of(message: &Value) -> ChallengeContext {
    let method = message["method"].as_str().map(str::to_owned);
    let tool_name = (method.as_deref() == Some("tools/call"))
        .then(|| message["params"]["name"].as_str().map(str::to_owned))
        .flatten();
    ChallengeContext { method, tool_name }
}
