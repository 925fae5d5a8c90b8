//! The `/api/mcp/*` contract (see ARCHITECTURE.md, “The envelope” and “The backend API”): the
//! request bodies, the reply envelope with its failure kinds, and the events of
//! `/api/mcp/events`. The server writes and the web app reads these through the same types, and
//! `api/tests.rs` pins their JSON, so a change to the wire is a deliberate one.
//!
//! The envelope is written by hand ([`Envelope::to_json`], [`Envelope::from_json`]): `ok` sits
//! beside the reply's own fields, which serde's enum representations cannot say for a generic `T`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::challenge::AuthChallenge;
use crate::recovery::Refused;
use crate::secret::Secret;

/// `POST /api/mcp/connect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectRequest {
    pub config: TransportConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_state: Option<AuthState>,
}

/// Where the MCP server is and how to reach it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportConfig {
    /// `streamable-http` (and HTTP+SSE when the server refuses it), `sse` (HTTP+SSE of
    /// 2024-11-05 only), or `stdio` (the hub starts `command` and talks over its stdio).
    #[serde(rename = "type")]
    pub kind: String,
    /// `streamable-http`: the server's URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The MCP protocol version to speak; absent: negotiate (2026-07-28 first, then the 2025
    /// handshake).
    #[serde(
        rename = "protocolVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol_version: Option<String>,
    /// `stdio`: the program to start (no shell runs it), its arguments, environment variables
    /// set on top of Keyhole's, and its working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// What the page holds for a server: the token the session sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthState {
    pub tokens: BearerToken,
}

impl AuthState {
    /// The state that hands `tokens`' access token to a session.
    pub fn of(tokens: &crate::tokens::Tokens) -> Self {
        Self {
            tokens: BearerToken {
                access_token: tokens.access_token.clone(),
                token_type: Some(tokens.token_type.clone()),
            },
        }
    }
}

/// An access token as the page hands it over (OAuth's snake_case names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BearerToken {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

/// `POST /api/mcp/send`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    pub session_id: String,
    pub message: Value,
}

/// `POST /api/mcp/auth-state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthStateRequest {
    pub session_id: String,
    /// `null`: the session sends no token from now on (fault injection's "forget the access
    /// token").
    pub auth_state: Option<AuthState>,
}

/// A session named in a query or a body (`/events`, `/log`, `/session`, `/disconnect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRef {
    pub session_id: String,
}

/// The `connect` and `session` reply: what a page needs to show a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionReply {
    pub session_id: String,
    pub server_url: String,
    pub initialize_result: Value,
    pub protocol_version: Option<String>,
    pub upstream_session_id: Option<String>,
    /// How the backend reaches the server: `streamable-http`, `sse` (HTTP+SSE, 2024-11-05) or
    /// `stdio`.
    #[serde(default)]
    pub transport: String,
}

/// The `send` reply: the JSON-RPC response, absent for a notification or a response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

/// The `log` reply: the session's network log, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkLogReply {
    pub exchanges: Vec<crate::api::HttpExchange>,
}

/// A reply with nothing to say but `ok` (`auth-state`, `disconnect`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Done {}

/// Why an upstream operation produced no result.
///
/// Read through [`FailureFields`]: serde reads an internally tagged enum by buffering the whole
/// object first, which costs the web app several KB of wasm; a flat struct reads in one pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "FailureFields")]
pub enum Failure {
    AuthChallenge {
        #[serde(rename = "authChallenge")]
        auth_challenge: Box<AuthChallenge>,
        message: String,
    },
    TransportError {
        message: String,
        /// The upstream HTTP status, when the server answered with an error status.
        #[serde(
            rename = "httpStatus",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        http_status: Option<u16>,
        /// What the page may do about it (see [`Hint`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<Hint>,
    },
}

/// Every field a [`Failure`] can have, as it comes off the wire.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailureFields {
    kind: FailureKind,
    message: String,
    #[serde(default)]
    auth_challenge: Option<Box<AuthChallenge>>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    hint: Option<Hint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FailureKind {
    AuthChallenge,
    TransportError,
}

impl TryFrom<FailureFields> for Failure {
    type Error = String;

    fn try_from(fields: FailureFields) -> Result<Self, String> {
        let FailureFields {
            kind,
            message,
            auth_challenge,
            http_status,
            hint,
        } = fields;
        match (kind, auth_challenge) {
            (FailureKind::AuthChallenge, Some(auth_challenge))
                if http_status.is_none() && hint.is_none() =>
            {
                Ok(Self::AuthChallenge {
                    auth_challenge,
                    message,
                })
            }
            (FailureKind::AuthChallenge, _) => {
                Err("an auth_challenge carries `authChallenge` and `message` only".into())
            }
            (FailureKind::TransportError, None) => Ok(Self::TransportError {
                message,
                http_status,
                hint,
            }),
            (FailureKind::TransportError, Some(_)) => {
                Err("a transport_error carries no `authChallenge`".into())
            }
        }
    }
}

/// Advice carried by a `transport_error` envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

    pub fn message(&self) -> &str {
        match self {
            Self::AuthChallenge { message, .. } | Self::TransportError { message, .. } => message,
        }
    }

    /// The failure as the recovery engine reads it.
    pub fn refused(self) -> Refused<Self> {
        match self {
            Self::AuthChallenge { auth_challenge, .. } => Refused::Challenge(auth_challenge),
            Self::TransportError {
                http_status: Some(status),
                hint: Some(Hint::TokenNotRecognised),
                ..
            } => Refused::NotRecognised {
                status,
                error: self,
            },
            other => Refused::Other(other),
        }
    }
}

/// A reply of `/api/mcp/*`: `{"ok": true, …T's fields}` or `{"ok": false, "kind": …, …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope<T> {
    Ok(T),
    Failed(Failure),
}

/// A body that is not an envelope of the expected reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the backend's reply is not the expected shape: {0}")]
pub struct EnvelopeError(String);

impl<T: Serialize> Envelope<T> {
    /// The JSON body; `ok` is written here and nowhere else.
    pub fn to_json(&self) -> Value {
        let (ok, fields) = match self {
            Self::Ok(reply) => (true, serde_json::to_value(reply)),
            Self::Failed(failure) => (false, serde_json::to_value(failure)),
        };
        let mut object = match fields {
            Ok(Value::Object(object)) => object,
            _ => Map::new(),
        };
        object.insert("ok".into(), Value::Bool(ok));
        Value::Object(object)
    }
}

impl<T: DeserializeOwned> Envelope<T> {
    /// Reads a body written by [`Envelope::to_json`].
    pub fn from_json(mut body: Value) -> Result<Self, EnvelopeError> {
        let ok = body
            .as_object_mut()
            .and_then(|object| object.remove("ok"))
            .and_then(|ok| ok.as_bool())
            .ok_or_else(|| EnvelopeError("no boolean `ok`".into()))?;
        let read = |e: serde_json::Error| EnvelopeError(e.to_string());
        Ok(if ok {
            Self::Ok(serde_json::from_value(body).map_err(read)?)
        } else {
            Self::Failed(serde_json::from_value(body).map_err(read)?)
        })
    }

    /// The reply, or the failure.
    pub fn into_result(self) -> Result<T, Failure> {
        match self {
            Self::Ok(reply) => Ok(reply),
            Self::Failed(failure) => Err(failure),
        }
    }
}

/// An event of `/api/mcp/events`: the SSE event name and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A JSON-RPC message from the server (a notification or a server-to-client request).
    Message(Value),
    /// One HTTP exchange with the upstream server.
    Http(Box<crate::api::HttpExchange>),
    /// A challenge with no command waiting for it (the GET stream was refused): an `ok: false`
    /// envelope of kind `auth_challenge`.
    AuthChallenge(Failure),
    /// Something the user should know (the stream was cut and reopened…).
    Notice(Notice),
    /// The page read too slowly and events were dropped.
    Dropped(Dropped),
    /// A line a stdio server wrote to its stderr (its log).
    Console(ConsoleLine),
}

/// The `console` event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleLine {
    pub line: String,
}

/// The `notice` event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub message: String,
}

/// The `dropped` event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dropped {
    pub events: u64,
    pub messages: u64,
    pub reason: String,
}

/// An event the web app cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable `{name}` event: {reason}")]
pub struct EventError {
    pub name: String,
    pub reason: String,
}

impl SessionEvent {
    /// Every event name, for a client that listens per name (`EventSource`).
    pub const NAMES: [&'static str; 6] = [
        "message",
        "http",
        "auth_challenge",
        "notice",
        "dropped",
        "console",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::Message(_) => "message",
            Self::Http(_) => "http",
            Self::AuthChallenge(_) => "auth_challenge",
            Self::Notice(_) => "notice",
            Self::Dropped(_) => "dropped",
            Self::Console(_) => "console",
        }
    }

    /// The event's data line.
    pub fn data(&self) -> String {
        let value = match self {
            Self::Message(message) => return message.to_string(),
            Self::Http(exchange) => serde_json::to_value(exchange),
            Self::AuthChallenge(failure) => {
                return Envelope::<Done>::Failed(failure.clone())
                    .to_json()
                    .to_string();
            }
            Self::Notice(notice) => serde_json::to_value(notice),
            Self::Dropped(dropped) => serde_json::to_value(dropped),
            Self::Console(line) => serde_json::to_value(line),
        };
        value.map(|v| v.to_string()).unwrap_or_default()
    }

    /// Reads an event sent as `name` with `data`.
    pub fn parse(name: &str, data: &str) -> Result<Self, EventError> {
        let error = |reason: String| EventError {
            name: name.to_owned(),
            reason,
        };
        let json: Value = serde_json::from_str(data).map_err(|e| error(e.to_string()))?;
        let typed = |e: serde_json::Error| error(e.to_string());
        Ok(match name {
            "message" => Self::Message(json),
            "http" => Self::Http(Box::new(serde_json::from_value(json).map_err(typed)?)),
            "auth_challenge" => match Envelope::<Done>::from_json(json) {
                Ok(Envelope::Failed(failure)) => Self::AuthChallenge(failure),
                Ok(Envelope::Ok(_)) => return Err(error("`ok` is true".into())),
                Err(e) => return Err(error(e.to_string())),
            },
            "notice" => Self::Notice(serde_json::from_value(json).map_err(typed)?),
            "dropped" => Self::Dropped(serde_json::from_value(json).map_err(typed)?),
            "console" => Self::Console(serde_json::from_value(json).map_err(typed)?),
            other => return Err(error(format!("no event is named {other:?}"))),
        })
    }
}
