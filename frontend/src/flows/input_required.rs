//! A call the server answers with "input required" (MCP 2026-07-28, multi round-trip requests):
//! [`InputRound`] reads what the server asks for; each request is answered as a 2025 server's
//! request would be — roots from the page, elicitation (form or URL) and sampling by the user in
//! the server-requests panel (`views/server_requests.rs`), marked as input for the call — and
//! [`InputRound::retry`] builds the call again with the answers and the server's `requestState`,
//! passed back untouched. A refused sampling request or an unknown method stops the call.

use futures_channel::oneshot;
use serde_json::{Map, Value};

use crate::flows::client_side::{Handling, Outcome};
use crate::flows::session::Session;

/// How many rounds of input one call may ask for before Keyhole stops it.
pub const MAX_ROUNDS: usize = 5;

/// One request for input: the server's key for it, its method and its params.
#[derive(Clone, Debug, PartialEq)]
pub struct InputRequest {
    pub key: String,
    pub method: String,
    pub params: Value,
}

/// What a server asked for in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct InputRound {
    pub requests: Vec<InputRequest>,
    /// `requestState` exactly as received.
    pub state: Option<Value>,
}

impl InputRound {
    /// The round `result` asks for, when it is an input-required result.
    pub fn of(result: &Value) -> Option<Self> {
        if result["resultType"] != "input_required" {
            return None;
        }
        let requests = result["inputRequests"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, request)| InputRequest {
                key: key.clone(),
                method: request["method"].as_str().unwrap_or_default().to_owned(),
                params: request["params"].clone(),
            })
            .collect();
        Some(Self {
            requests,
            state: result.get("requestState").cloned(),
        })
    }

    /// The call's `params` to send again with `responses` (and the state, when there was one).
    pub fn retry(&self, params: &Value, responses: Value) -> Value {
        let mut params = params.clone();
        if let Some(object) = params.as_object_mut() {
            object.insert("inputResponses".into(), responses);
            match &self.state {
                Some(state) => object.insert("requestState".into(), state.clone()),
                None => object.remove("requestState"),
            };
        }
        params
    }
}

/// Sends `method` with `params` as request `id`; while the server answers "input required",
/// asks the user (or answers from what the page knows) and sends the call again (a new id)
/// with the answers. The last result, or why there is none.
pub async fn call(session: Session, id: u64, method: &str, params: Value) -> Result<Value, String> {
    let (mut id, mut params) = (id, params);
    for _ in 0..MAX_ROUNDS {
        let result = session
            .request_with_id(id, method, params.clone())
            .await
            .map_err(|error| error.to_string())?;
        let Some(round) = InputRound::of(&result) else {
            return Ok(result);
        };
        let responses = answer(session, &round, method).await?;
        params = round.retry(&params, responses);
        id = session.fresh_id();
    }
    Err(format!(
        "The server asked for input {MAX_ROUNDS} times; Keyhole stopped the call."
    ))
}

/// The `inputResponses` for `round`: what the page answers by itself (roots), and what the user
/// answers in the server-requests panel, as for a server's request of the 2025 revisions.
async fn answer(session: Session, round: &InputRound, asked_by: &str) -> Result<Value, String> {
    let mut answers = Map::new();
    let mut waiting = Vec::new();
    for request in &round.requests {
        match session.client.handling(&request.method) {
            Handling::Answer(result) => {
                answers.insert(request.key.clone(), result);
            }
            Handling::Queue => {
                let purpose = format!("input for {asked_by}");
                let (id, answer) =
                    session.ask_user(&request.method, request.params.clone(), purpose);
                waiting.push((request.key.clone(), id, answer));
            }
            Handling::Refuse(why) => {
                withdraw(session, &waiting);
                return Err(format!("{why}; Keyhole stopped the call."));
            }
        }
    }
    for index in 0..waiting.len() {
        let (key, _, answer) = &mut waiting[index];
        match answer.await {
            Ok(Ok(result)) => {
                answers.insert(key.clone(), result);
            }
            Ok(Err((_, why))) => {
                withdraw(session, &waiting[index + 1..]);
                return Err(format!(
                    "{why}: the server's request for input was not answered, so the call stopped."
                ));
            }
            Err(_) => {
                withdraw(session, &waiting[index + 1..]);
                return Err(
                    "The server's request for input was withdrawn; the call stopped.".into(),
                );
            }
        }
    }
    Ok(Value::Object(answers))
}

/// Takes the rest of a round's questions off the queue once the call stops.
fn withdraw(session: Session, waiting: &[(String, Value, oneshot::Receiver<Outcome>)]) {
    for (_, id, _) in waiting {
        session.client.withdraw(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asked() -> Value {
        json!({
            "resultType": "input_required",
            "inputRequests": {
                "name": {"method": "elicitation/create",
                         "params": {"message": "Name?", "requestedSchema": {"type": "object"}}},
                "roots": {"method": "roots/list", "params": {}},
            },
            "requestState": "opaque \u{1F512} state",
        })
    }

    #[test]
    fn a_complete_result_asks_for_nothing() {
        assert_eq!(InputRound::of(&json!({"content": []})), None);
        assert_eq!(InputRound::of(&json!({"resultType": "complete"})), None);
    }

    #[test]
    fn the_retry_carries_the_answers_and_the_state_exactly_as_received() {
        let round = InputRound::of(&asked()).unwrap();
        assert_eq!(round.requests.len(), 2);
        assert!(
            round
                .requests
                .iter()
                .any(|r| r.key == "name" && r.method == "elicitation/create")
        );
        assert!(
            round
                .requests
                .iter()
                .any(|r| r.key == "roots" && r.method == "roots/list")
        );
        let params = json!({"name": "ask", "arguments": {}, "requestState": "old"});
        let answers = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
        let retry = round.retry(&params, answers.clone());
        assert_eq!(retry["requestState"], "opaque \u{1F512} state");
        assert_eq!(retry["inputResponses"], answers);
        assert_eq!(retry["arguments"], json!({}));

        let stateless = InputRound {
            state: None,
            ..round.clone()
        };
        assert!(
            stateless
                .retry(&params, json!({}))
                .get("requestState")
                .is_none()
        );
    }
}
