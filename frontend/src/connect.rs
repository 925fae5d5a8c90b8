//! Connecting to an MCP server: reuse stored tokens when the OAuth store has good ones, else
//! connect, and answer a connect-time auth challenge through the shared recovery rules (refresh
//! or EMA re-mint first), else with the browser OAuth flow (a full-page redirect;
//! `/oauth/callback` comes back through [`crate::arrival`]).

use keyhole_shared::challenge::{AuthChallenge, ChallengeReason};
use keyhole_shared::messages;
use keyhole_shared::oauth::Tokens;
use keyhole_shared::recovery::{InteractiveFlow, InteractivePlan, RecoveryOutcome, StepUpGuard};
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
    tokens: Option<&Tokens>,
) -> Result<Value, String> {
    let mut body = json!({ "config": { "type": "streamable-http", "url": url } });
    if !headers.is_empty() {
        body["config"]["headers"] = Value::Object(headers);
    }
    if let Some(tokens) = tokens {
        body["authState"] = oauth::auth_state(tokens);
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
/// out of a second attempt, so the server can ask for a sign-in. A 401 is answered as mid-session
/// (and as the CLI does): stored token, then refresh or EMA re-mint, and a sign-in only when
/// those cannot help.
pub async fn connect(url: &str, headers: Map<String, Value>) -> ConnectOutcome {
    oauth::clear_steps();
    let mut sent = oauth::stored_tokens(url).await;
    let mut reply = match post_connect(url, headers.clone(), sent.as_ref()).await {
        Ok(reply) => reply,
        Err(error) => return ConnectOutcome::Failed(error),
    };
    let mut refused = None;
    if reply["hint"] == "token_not_recognised" {
        refused = sent.take().map(|t| t.access_token);
        reply = match post_connect(url, headers.clone(), None).await {
            Ok(reply) => reply,
            Err(error) => return ConnectOutcome::Failed(error),
        };
    }
    let challenge = match read_reply(reply, sent.as_ref()) {
        Answer::Done(outcome) => return outcome,
        Answer::Challenged(challenge) => challenge,
    };
    if !challenge.reason.is_unauthorized() {
        return sign_in(url, &challenge).await;
    }
    let rejected = sent.map(|t| t.access_token).or(refused);
    let outcome = oauth::client()
        .handle_challenge(url, &challenge, rejected.as_ref(), &StepUpGuard::new())
        .await;
    let tokens = match outcome {
        RecoveryOutcome::Satisfied {
            tokens,
            storage_error,
            ..
        } => {
            if let Some(error) = storage_error {
                leptos::logging::warn!("{}", messages::token_not_saved(&error));
            }
            tokens
        }
        RecoveryOutcome::Interactive(InteractivePlan {
            flow: InteractiveFlow::AuthorizationCode { authorization_url },
            ..
        }) => {
            return match oauth::leave_for_connect(url, &challenge, &authorization_url) {
                Ok(()) => ConnectOutcome::Redirecting,
                Err(error) => sign_in_failed(url, error),
            };
        }
        RecoveryOutcome::Failed { error } => return sign_in_failed(url, error.to_string()),
        _ => return sign_in(url, &challenge).await,
    };
    let reply = match post_connect(url, headers, Some(&tokens)).await {
        Ok(reply) => reply,
        Err(error) => return ConnectOutcome::Failed(error),
    };
    match read_reply(reply, Some(&tokens)) {
        Answer::Done(outcome) => outcome,
        // Refused again right after a renewal: only a sign-in can help.
        Answer::Challenged(challenge) => sign_in(url, &challenge).await,
    }
}

/// What a connect reply says.
enum Answer {
    /// Connected, or failed for a reason a sign-in would not fix (e.g. a 403 not about scopes).
    Done(ConnectOutcome),
    /// The server asks for authorization.
    Challenged(AuthChallenge),
}

/// Reads a `/api/mcp/connect` reply to a request that carried `sent`.
fn read_reply(reply: Value, sent: Option<&Tokens>) -> Answer {
    if reply["ok"] == Value::Bool(true) {
        return Answer::Done(ConnectOutcome::Connected {
            reply,
            bearer: sent.map(|t| t.access_token.clone()),
        });
    }
    if reply["kind"] == "auth_challenge"
        && let Ok(challenge) =
            serde_json::from_value::<AuthChallenge>(reply["authChallenge"].clone())
        && challenge.reason != ChallengeReason::Forbidden
    {
        return Answer::Challenged(challenge);
    }
    Answer::Done(ConnectOutcome::Failed(failure_text(&reply)))
}

/// Leaves for the sign-in that answers `challenge`.
async fn sign_in(url: &str, challenge: &AuthChallenge) -> ConnectOutcome {
    match oauth::redirect_for_connect(url, challenge).await {
        Ok(()) => ConnectOutcome::Redirecting,
        Err(error) => sign_in_failed(url, error),
    }
}

fn sign_in_failed(url: &str, error: String) -> ConnectOutcome {
    ConnectOutcome::Failed(format!("Signing in to {url} failed: {error}"))
}

/// Connects to `url` with tokens just granted.
pub async fn connect_with(url: &str, tokens: &Tokens) -> ConnectOutcome {
    match post_connect(url, Map::new(), Some(tokens)).await {
        Ok(reply) if reply["ok"] == Value::Bool(true) => ConnectOutcome::Connected {
            reply,
            bearer: Some(tokens.access_token.clone()),
        },
        Ok(reply) => ConnectOutcome::Failed(failure_text(&reply)),
        Err(error) => ConnectOutcome::Failed(error),
    }
}
