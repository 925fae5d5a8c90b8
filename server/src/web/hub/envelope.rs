//! The reply envelope of `/api/mcp/*` as the hub writes it (see ARCHITECTURE.md, “The envelope”;
//! the shapes are `keyhole_shared::api::mcp`'s): upstream outcomes are never HTTP errors. A reply
//! is HTTP 200 with `{"ok": true, …}` or `{"ok": false, "kind": …, "message": …}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use keyhole_shared::ChallengeContext;
use keyhole_shared::api::mcp::{Envelope, Failure, Hint};
use keyhole_shared::recovery::Refused;
use serde::Serialize;
use serde_json::Value;

use crate::native::mcp_client::{SendError, UpstreamChallenge};

/// An upstream failure as the page reads it; a challenge is normalised with `context` by the
/// auth core. `token_held` says the request carried a token the server accepted before, which
/// turns an HTTP error without a challenge into a [`Hint::TokenNotRecognised`] (the reading of
/// [`SendError::into_refusal`], the CLI's too).
pub fn upstream_failure(error: SendError, context: ChallengeContext, token_held: bool) -> Failure {
    let (error, hint) = match error.into_refusal(context, token_held) {
        Refused::Challenge(auth_challenge) => {
            return Failure::AuthChallenge {
                message: format!(
                    "The MCP server answered HTTP {} and asks for authorization.",
                    auth_challenge.raw.http_status
                ),
                auth_challenge,
            };
        }
        Refused::NotRecognised { error, .. } => (error, Some(Hint::TokenNotRecognised)),
        Refused::Other(error) => (error, None),
    };
    match error {
        SendError::Status { status, message } => Failure::TransportError {
            message,
            http_status: Some(status),
            hint,
        },
        other => Failure::transport(other.to_string()),
    }
}

/// A challenge that arrived with no command (the event stream).
pub fn ambient_failure(challenge: &UpstreamChallenge) -> Failure {
    let context = ChallengeContext::default();
    upstream_failure(SendError::Challenge(challenge.clone()), context, false)
}

/// An envelope reply (`ok` is written by [`Envelope::to_json`], nowhere else).
pub struct Reply<T>(pub Envelope<T>);

impl<T> Reply<T> {
    pub fn ok(reply: T) -> Self {
        Self(Envelope::Ok(reply))
    }

    pub fn failed(failure: Failure) -> Self {
        Self(Envelope::Failed(failure))
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        Json(self.0.to_json()).into_response()
    }
}

/// The `context` of a challenge raised by `message`: its method and, for `tools/call`, the tool.
pub fn context_of(message: &Value) -> ChallengeContext {
    match message["method"].as_str() {
        Some(method) => ChallengeContext::of_request(method, &message["params"]),
        None => ChallengeContext::default(),
    }
}
