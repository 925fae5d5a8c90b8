//! The reply envelope of `/api/mcp/*` (see ARCHITECTURE.md, “The envelope”): upstream outcomes are
//! never HTTP errors. A reply is HTTP 200 with `{"ok": true, …}` or
//! `{"ok": false, "kind": …, "message": …}`.

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
        /// The upstream HTTP status, when the server answered with an error status.
        #[serde(rename = "httpStatus", skip_serializing_if = "Option::is_none")]
        http_status: Option<u16>,
        /// What the page may do about it (see [`Hint`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<Hint>,
    },
}

/// Advice carried by a `transport_error` envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// The refused request carried a token the server accepted before (or the page's stored one,
    /// at connect), and the refusal came without a challenge: the server may not recognise the
    /// token any more, and authorizing again may help.
    TokenNotRecognised,
}

impl Failure {
    /// A failure that is not the upstream server's answer (no connection, bad input…).
    pub fn transport(message: String) -> Self {
        Self::TransportError {
            message,
            http_status: None,
            hint: None,
        }
    }

    /// Classifies an upstream failure; a challenge is normalised with `context` by the auth core.
    pub fn from_send_error(error: SendError, context: ChallengeContext) -> Self {
        Self::from_send_error_with(error, context, false)
    }

    /// Same; `token_held` says the request carried a token the server accepted before, which
    /// turns an HTTP error without a challenge into a [`Hint::TokenNotRecognised`].
    pub fn from_send_error_with(
        error: SendError,
        context: ChallengeContext,
        token_held: bool,
    ) -> Self {
        let suspicious = error.may_be_token_refusal().is_some() && token_held;
        match error {
            SendError::Challenge(challenge) => Self::challenge(&challenge, context),
            SendError::Transport(message) => Self::transport(message),
            SendError::Status { status, message } => Self::TransportError {
                message,
                http_status: Some(status),
                hint: suspicious.then_some(Hint::TokenNotRecognised),
            },
        }
    }

    pub fn challenge(challenge: &UpstreamChallenge, context: ChallengeContext) -> Self {
        let lines: Vec<&[u8]> = challenge
            .www_authenticate
            .iter()
            .map(Vec::as_slice)
            .collect();
        match AuthChallenge::from_refusal(challenge.status, &lines, context) {
            Some(auth_challenge) => Self::AuthChallenge {
                message: format!(
                    "The MCP server answered HTTP {} and asks for authorization.",
                    challenge.status
                ),
                auth_challenge: Box::new(auth_challenge),
            },
            None => Self::TransportError {
                message: format!("the MCP server answered HTTP {}", challenge.status),
                http_status: Some(challenge.status),
                hint: None,
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
