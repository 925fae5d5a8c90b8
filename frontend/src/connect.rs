//! Connecting to an MCP server: reuse stored tokens when the OAuth store has good ones, else
//! connect, and answer a connect-time auth challenge with the browser OAuth flow (a full-page
//! redirect; `/oauth/callback` comes back through [`crate::arrival`]).

use keyhole_shared::challenge::{AuthChallenge, ChallengeReason};
use keyhole_shared::oauth::Tokens;
use keyhole_shared::secret::Secret;
use serde_json::{Map, Value, json};

use crate::api;
use crate::oauth;

/// A connection that was just made.
pub struct Connection {
    pub url: String,
    /// The successful `/api/mcp/connect` reply.
    pub reply: Value,
    /// The access token the backend session sends, if any.
    pub bearer: Option<Secret>,
}

/// How a connection attempt ended.
pub enum ConnectOutcome {
    /// The successful `/api/mcp/connect` reply, and the access token the session sends.
    Connected {
        reply: Value,
        bearer: Option<Secret>,
    },
    /// The page is leaving for the authorization server.
    Redirecting,
    Failed(String),
}

async fn post_connect(
    url: &str,
    headers: Map<String, Value>,
    auth_state: Option<Value>,
) -> Result<Value, String> {
    let mut body = json!({ "config": { "type": "streamable-http", "url": url } });
    if !headers.is_empty() {
        body["config"]["headers"] = Value::Object(headers);
    }
    if let Some(auth_state) = auth_state {
        body["authState"] = auth_state;
    }
    api::post_json::<_, Value>("/api/mcp/connect", &body)
        .await
        .map_err(|e| e.to_string())
}

fn failure_text(reply: &Value) -> String {
    reply["message"]
        .as_str()
        .unwrap_or("The connection failed.")
        .to_owned()
}

/// Connects to `url`, signing in through OAuth when the server asks for it. A stored token the
/// server refuses without a challenge (it may have forgotten it, e.g. after a restart) is left
/// out of a second attempt, so the server can ask for a sign-in.
pub async fn connect(url: &str, headers: Map<String, Value>) -> ConnectOutcome {
    oauth::clear_steps();
    let mut stored = oauth::stored_tokens(url).await;
    let auth_state = stored.as_ref().map(oauth::auth_state);
    let mut reply = match post_connect(url, headers.clone(), auth_state).await {
        Ok(reply) => reply,
        Err(error) => return ConnectOutcome::Failed(error),
    };
    if reply["hint"] == "token_not_recognised" {
        stored = None;
        reply = match post_connect(url, headers, None).await {
            Ok(reply) => reply,
            Err(error) => return ConnectOutcome::Failed(error),
        };
    }
    if reply["ok"] == Value::Bool(true) {
        return ConnectOutcome::Connected {
            reply,
            bearer: stored.map(|t| t.access_token),
        };
    }
    if reply["kind"] != "auth_challenge" {
        return ConnectOutcome::Failed(failure_text(&reply));
    }
    let challenge = match serde_json::from_value::<AuthChallenge>(reply["authChallenge"].clone()) {
        Ok(challenge) => challenge,
        Err(_) => return ConnectOutcome::Failed(failure_text(&reply)),
    };
    if challenge.reason == ChallengeReason::Forbidden {
        return ConnectOutcome::Failed(failure_text(&reply));
    }
    match oauth::redirect_for_connect(url, &challenge).await {
        Ok(()) => ConnectOutcome::Redirecting,
        Err(error) => ConnectOutcome::Failed(format!("Signing in to {url} failed: {error}")),
    }
}

/// Connects to `url` with tokens just granted.
pub async fn connect_with(url: &str, tokens: &Tokens) -> ConnectOutcome {
    match post_connect(url, Map::new(), Some(oauth::auth_state(tokens))).await {
        Ok(reply) if reply["ok"] == Value::Bool(true) => ConnectOutcome::Connected {
            reply,
            bearer: Some(tokens.access_token.clone()),
        },
        Ok(reply) => ConnectOutcome::Failed(failure_text(&reply)),
        Err(error) => ConnectOutcome::Failed(error),
    }
}
