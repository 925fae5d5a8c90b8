//! Matching responses to the requests waiting for them, on transports where they arrive apart from
//! the request: a stdio server's stdout ([`stdio`](super::stdio)) and the event stream of the
//! legacy HTTP+SSE transport ([`legacy_sse`](super::legacy_sse)). A request registers its id
//! before it is sent; the reader hands each response to its waiter and everything else (the
//! server's notifications and requests, answers nobody waits for) back to the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::oneshot;

/// Responses awaited, by the JSON text of their request's id.
#[derive(Clone, Default)]
pub struct Responses {
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
}

/// A request's claim on its response; dropping it (a timeout, a failed send) withdraws the claim.
pub struct Awaited {
    responses: Responses,
    key: String,
    pub answer: oneshot::Receiver<Value>,
}

impl Drop for Awaited {
    fn drop(&mut self) {
        self.responses.lock().remove(&self.key);
    }
}

impl Responses {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<Value>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For a request, its claim on the response; `None` for a notification or a response.
    pub fn expect(&self, message: &Value) -> Option<Awaited> {
        message.get("method")?; // a response or a notification: nothing comes back
        let key = message.get("id")?.to_string();
        let (sender, answer) = oneshot::channel();
        self.lock().insert(key.clone(), sender);
        Some(Awaited {
            responses: self.clone(),
            key,
            answer,
        })
    }

    /// Hands a response to the request waiting for it; any other message comes back.
    pub fn route(&self, message: Value) -> Option<Value> {
        let is_response = message.get("method").is_none()
            && (message.get("result").is_some() || message.get("error").is_some());
        if !is_response {
            return Some(message);
        }
        let key = message.get("id").map(Value::to_string).unwrap_or_default();
        let waiting = self.lock().remove(&key);
        match waiting {
            Some(waiting) => {
                let _ = waiting.send(message);
                None
            }
            None => Some(message),
        }
    }

    /// The channel ended: every request still waiting fails.
    pub fn fail_all(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_response_reaches_its_request_and_the_rest_comes_back() {
        let responses = Responses::default();
        let mut awaited = responses
            .expect(&json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}))
            .unwrap();
        let note = json!({"jsonrpc": "2.0", "method": "notifications/message"});
        assert_eq!(responses.route(note.clone()), Some(note));
        let stranger = json!({"jsonrpc": "2.0", "id": "7", "result": {}});
        assert!(responses.route(stranger).is_some(), "\"7\" is not 7");
        assert_eq!(
            responses.route(json!({"jsonrpc": "2.0", "id": 7, "result": {}})),
            None
        );
        assert_eq!((&mut awaited.answer).await.unwrap()["id"], 7);
    }

    #[test]
    fn a_withdrawn_claim_leaves_nothing_behind() {
        let responses = Responses::default();
        drop(responses.expect(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})));
        assert!(responses.lock().is_empty());
        assert!(
            responses
                .expect(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .is_none()
        );
    }
}
