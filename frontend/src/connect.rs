//! Connecting to an MCP server: reuse stored tokens when the OAuth store has good ones, else
//! connect, and answer a connect-time auth challenge with the browser OAuth flow (a full-page
//! redirect; `/oauth/callback` finishes it with [`finish_callback`]).

use keyhole_shared::challenge::{AuthChallenge, ChallengeReason};
use serde_json::{Map, Value, json};

use crate::api;
use crate::oauth;

/// How a connection attempt ended.
pub enum ConnectOutcome {
    /// The successful `/api/mcp/connect` reply.
    Connected(Value),
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

/// Connects to `url`, signing in through OAuth when the server asks for it.
pub async fn connect(url: &str, headers: Map<String, Value>) -> ConnectOutcome {
    let stored = oauth::stored_auth_state(url).await;
    let reply = match post_connect(url, headers, stored).await {
        Ok(reply) => reply,
        Err(error) => return ConnectOutcome::Failed(error),
    };
    if reply["ok"] == Value::Bool(true) {
        return ConnectOutcome::Connected(reply);
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

/// On `/oauth/callback`: completes the code exchange and connects with the new tokens.
/// Returns the server URL and the outcome.
pub async fn finish_callback() -> (Option<String>, ConnectOutcome) {
    let (url, auth_state) = match oauth::complete_callback().await {
        Ok(done) => done,
        Err(error) => return (None, ConnectOutcome::Failed(error)),
    };
    let outcome = match post_connect(&url, Map::new(), Some(auth_state)).await {
        Ok(reply) if reply["ok"] == Value::Bool(true) => ConnectOutcome::Connected(reply),
        Ok(reply) => ConnectOutcome::Failed(failure_text(&reply)),
        Err(error) => ConnectOutcome::Failed(error),
    };
    (Some(url), outcome)
}
