//! Connecting to an MCP server: reuse stored tokens when the OAuth store has good ones, and
//! answer a connect-time auth challenge through the shared recovery engine (refresh or EMA
//! re-mint first), else with the browser OAuth flow (a full-page redirect; `/oauth/callback`
//! comes back through [`crate::flows::arrival`]).

use std::cell::RefCell;
use std::rc::Rc;

use keyhole_shared::challenge::ChallengeReason;
use keyhole_shared::recovery::Refused;
use keyhole_shared::secret::Secret;
use keyhole_shared::tokens::Tokens;
use std::collections::BTreeMap;

use keyhole_shared::api::StdioEntry;
use keyhole_shared::api::mcp::{AuthState, ConnectRequest, Failure, SessionReply, TransportConfig};

use crate::flows::oauth;
use crate::flows::recovery;
use crate::flows::session::RpcError;
use crate::platform::api;

/// A connection that was just made.
pub struct Connection {
    pub url: String,
    /// The successful `/api/mcp/connect` reply.
    pub reply: SessionReply,
    /// The access token the backend session sends, if any.
    pub bearer: Option<Secret>,
}

/// How a connection attempt ended.
pub enum ConnectOutcome {
    /// The successful `/api/mcp/connect` reply, and the access token the session sends.
    Connected {
        reply: SessionReply,
        bearer: Option<Secret>,
    },
    /// The page is leaving for the authorization server.
    Redirecting,
    Failed(String),
}

async fn post_connect(
    url: &str,
    headers: BTreeMap<String, String>,
    protocol_version: Option<String>,
    tokens: Option<&Tokens>,
) -> Result<Result<SessionReply, Failure>, String> {
    let body = ConnectRequest {
        config: TransportConfig {
            kind: "streamable-http".into(),
            url: url.to_owned(),
            headers,
            protocol_version,
            ..TransportConfig::default()
        },
        auth_state: tokens.map(AuthState::of),
    };
    api::call("/api/mcp/connect", &body)
        .await
        .map_err(|e| e.to_string())
}

/// Connects to `url` through the shared recovery engine, like any message: stored tokens
/// first; a stored token the server refuses without a challenge (it may have forgotten it, e.g.
/// after a restart) is left out of a second attempt, so the server can ask for a sign-in; a 401
/// is answered as mid-session (stored token, refresh or EMA re-mint) and a sign-in happens only
/// when those cannot help ([`recovery::connect`]).
/// `protocol_version` pins the MCP version; `None` lets the backend negotiate.
pub async fn connect(
    url: &str,
    headers: BTreeMap<String, String>,
    protocol_version: Option<String>,
) -> ConnectOutcome {
    oauth::clear_steps();
    let sent = Rc::new(RefCell::new(oauth::stored_tokens(url).await));
    let send = || async {
        let tokens = sent.borrow().clone();
        let reply = post_connect(
            url,
            headers.clone(),
            protocol_version.clone(),
            tokens.as_ref(),
        )
        .await
        .map_err(|error| Refused::Other(RpcError::Transport(error)))?;
        reply.map_err(refusal)
    };
    match recovery::connect(url, sent.clone(), send).await {
        Ok(reply) => ConnectOutcome::Connected {
            reply,
            bearer: sent.borrow().as_ref().map(|t| t.access_token.clone()),
        },
        Err(RpcError::Leaving) => ConnectOutcome::Redirecting,
        Err(error) => ConnectOutcome::Failed(error.to_string()),
    }
}

/// A failed connect as the engine reads it.
fn refusal(failure: Failure) -> Refused<RpcError> {
    match failure {
        // A 403 not about scopes: a sign-in would not fix it; the backend's words say why.
        Failure::AuthChallenge { auth_challenge, .. }
            if auth_challenge.reason != ChallengeReason::Forbidden =>
        {
            Refused::Challenge(auth_challenge)
        }
        failure => {
            let text = RpcError::Transport(failure.message().to_owned());
            match failure.refused() {
                Refused::NotRecognised { status, .. } => Refused::NotRecognised {
                    status,
                    error: text,
                },
                _ => Refused::Other(text),
            }
        }
    }
}

/// Starts the catalog's stdio server `entry` through the backend (no authorization: a stdio
/// server has no HTTP to challenge on). The connection's URL is the backend's `stdio:` name.
pub async fn connect_stdio(entry: &StdioEntry) -> ConnectOutcome {
    let body = ConnectRequest {
        config: TransportConfig {
            kind: "stdio".into(),
            command: Some(entry.command.clone()),
            args: entry.args.clone(),
            env: entry.env.clone(),
            cwd: entry.cwd.clone(),
            ..TransportConfig::default()
        },
        auth_state: None,
    };
    let reply: Result<Result<SessionReply, Failure>, _> =
        api::call("/api/mcp/connect", &body).await;
    match reply {
        Ok(Ok(reply)) => ConnectOutcome::Connected {
            reply,
            bearer: None,
        },
        Ok(Err(failure)) => ConnectOutcome::Failed(failure.message().to_owned()),
        Err(error) => ConnectOutcome::Failed(error.to_string()),
    }
}

/// Connects to `url` with tokens just granted.
pub async fn connect_with(url: &str, tokens: &Tokens) -> ConnectOutcome {
    // A catalog or saved entry's headers and protocol version (the connect form's own are not
    // kept across the sign-in's redirect).
    let entry = oauth::known_entry(url).unwrap_or_default();
    let headers = entry.headers.into_iter().collect();
    match post_connect(url, headers, entry.protocol_version, Some(tokens)).await {
        Ok(Ok(reply)) => ConnectOutcome::Connected {
            reply,
            bearer: Some(tokens.access_token.clone()),
        },
        Ok(Err(failure)) => ConnectOutcome::Failed(failure.message().to_owned()),
        Err(error) => ConnectOutcome::Failed(error),
    }
}
