//! What a server asks of the client (MCP's client features, over a 2025 session): the page answers
//! `ping` and `roots/list` (from the roots the user set) by itself, queues `sampling/createMessage`
//! and `elicitation/create` for the user to answer (`views/server_requests.rs`), withdraws a
//! queued request the server cancels, answers for the user one left waiting too long
//! ([`timed_out`]), and refuses the rest. It also keeps which resources are
//! subscribed to and which the server said changed.

use futures_channel::oneshot;
use leptos::prelude::*;
use serde_json::{Value, json};

/// A request from the server that waits for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerRequest {
    pub id: Value,
    pub method: String,
    pub params: Value,
    /// When it arrived (milliseconds since the Unix epoch).
    pub received_at: f64,
    /// When Keyhole answers it for the user if they have not ([`timed_out`]); `None`: never.
    pub deadline: Option<f64>,
    /// Why it is asked, when not by the server directly ("input for tools/call").
    pub purpose: Option<String>,
}

/// The answer to a request: its result, or the JSON-RPC error code and message.
pub type Outcome = Result<Value, (i64, String)>;

/// The id of a request Keyhole asks the user itself (an input request of a 2026-07-28 result):
/// an object, which no JSON-RPC id can be, so it never meets a server's.
fn local_id(n: u64) -> Value {
    json!({ "input": n })
}

/// How long a queued request waits for the user by default, in seconds.
pub const ANSWER_WITHIN_S: u32 = 300;

/// The answer Keyhole gives for the user to `method` after `within_s` seconds without one:
/// elicitation is cancelled (the user dismissed it), sampling refused.
pub fn timed_out(method: &str, within_s: u32) -> Outcome {
    match method {
        "elicitation/create" => Ok(json!({ "action": "cancel" })),
        _ => Err((
            -1,
            format!("The user did not answer within {within_s} seconds"),
        )),
    }
}

/// A root the client offers the server (`roots/list`).
#[derive(Clone, Debug, PartialEq)]
pub struct Root {
    pub uri: String,
    pub name: String,
}

/// How a request from the server is handled.
#[derive(Debug, PartialEq)]
pub enum Handling {
    /// Answered at once with this result.
    Answer(Value),
    /// Shown to the user, who answers it.
    Queue,
    /// Answered with "method not found" and this message.
    Refuse(String),
}

/// The client side of one connection: what waits for the user, and the roots offered.
#[derive(Clone, Copy, Debug)]
pub struct ClientSide {
    pub pending: RwSignal<Vec<ServerRequest>>,
    pub roots: RwSignal<Vec<Root>>,
    /// The resources subscribed to (`resources/subscribe`).
    pub subscribed: RwSignal<Vec<String>>,
    /// Resources the server said changed (`notifications/resources/updated`) since last read.
    pub updated: RwSignal<Vec<String>>,
    /// Seconds a queued request waits for the user before Keyhole answers it ([`timed_out`]);
    /// 0: it waits for as long as the server does.
    pub answer_within_s: RwSignal<u32>,
    /// Where the answers to requests Keyhole asked itself go, by local id.
    waiters: StoredValue<Vec<(Value, oneshot::Sender<Outcome>)>>,
    asked_locally: StoredValue<u64>,
}

impl ClientSide {
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(Vec::new()),
            roots: RwSignal::new(Vec::new()),
            subscribed: RwSignal::new(Vec::new()),
            updated: RwSignal::new(Vec::new()),
            answer_within_s: RwSignal::new(ANSWER_WITHIN_S),
            waiters: StoredValue::new(Vec::new()),
            asked_locally: StoredValue::new(0),
        }
    }

    /// How `method` is handled.
    pub fn handling(&self, method: &str) -> Handling {
        match method {
            "ping" => Handling::Answer(json!({})),
            "roots/list" => Handling::Answer(self.roots_result()),
            "sampling/createMessage" | "elicitation/create" => Handling::Queue,
            other => Handling::Refuse(format!("Keyhole does not support {other}")),
        }
    }

    fn roots_result(&self) -> Value {
        let roots: Vec<Value> = self.roots.with_untracked(|roots| {
            roots
                .iter()
                .map(|root| match root.name.as_str() {
                    "" => json!({ "uri": root.uri }),
                    name => json!({ "uri": root.uri, "name": name }),
                })
                .collect()
        });
        json!({ "roots": roots })
    }

    /// Marks `uri` as updated (or, `on` false, as read since).
    pub fn mark_updated(&self, uri: &str, on: bool) {
        let list = self.updated;
        mark(list, uri, on);
    }

    /// A new local request id, and where its answer will arrive.
    pub fn local_request(&self) -> (Value, oneshot::Receiver<Outcome>) {
        let n = self.asked_locally.get_value() + 1;
        self.asked_locally.set_value(n);
        let (sender, answer) = oneshot::channel();
        let id = local_id(n);
        self.waiters
            .update_value(|waiters| waiters.push((id.clone(), sender)));
        (id, answer)
    }

    /// Hands `outcome` to whoever waits for local request `id`; `Err` gives it back when `id` is
    /// a server's request.
    pub fn answer_locally(&self, id: &Value, outcome: Outcome) -> Result<(), Outcome> {
        let waiter = self.waiters.try_update_value(|waiters| {
            let at = waiters.iter().position(|(local, _)| local == id)?;
            Some(waiters.swap_remove(at).1)
        });
        match waiter.flatten() {
            Some(waiter) => {
                let _ = waiter.send(outcome);
                Ok(())
            }
            None => Err(outcome),
        }
    }

    /// Whether request `id` still waits for the user.
    pub fn is_pending(&self, id: &Value) -> bool {
        self.pending
            .with_untracked(|pending| pending.iter().any(|r| &r.id == id))
    }

    /// Removes request `id` from the queue (answered, or cancelled by the server); whoever
    /// waited for a local one is told it is gone.
    pub fn withdraw(&self, id: &Value) {
        self.pending
            .update(|pending| pending.retain(|r| &r.id != id));
        self.waiters
            .update_value(|waiters| waiters.retain(|(local, _)| local != id));
    }
}

/// Adds `item` to `list` (once), or removes it.
pub fn mark(list: RwSignal<Vec<String>>, item: &str, on: bool) {
    list.update(|items| {
        items.retain(|i| i != item);
        if on {
            items.push(item.to_owned());
        }
    });
}

impl Default for ClientSide {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_and_roots_are_answered_sampling_and_elicitation_queued_the_rest_refused() {
        let client = ClientSide::new();
        client.roots.set(vec![
            Root {
                uri: "file:///a".into(),
                name: String::new(),
            },
            Root {
                uri: "file:///b".into(),
                name: "b".into(),
            },
        ]);
        assert_eq!(client.handling("ping"), Handling::Answer(json!({})));
        assert_eq!(
            client.handling("roots/list"),
            Handling::Answer(json!({"roots": [
                {"uri": "file:///a"}, {"uri": "file:///b", "name": "b"}
            ]}))
        );
        assert_eq!(client.handling("sampling/createMessage"), Handling::Queue);
        assert_eq!(client.handling("elicitation/create"), Handling::Queue);
        assert!(
            matches!(client.handling("tasks/get"), Handling::Refuse(why) if why.contains("tasks/get"))
        );

        let asked = |id: Value| ServerRequest {
            id,
            method: "elicitation/create".into(),
            params: json!({}),
            received_at: 0.0,
            deadline: None,
            purpose: None,
        };
        client.pending.set(vec![asked(json!(1)), asked(json!("1"))]);
        client.withdraw(&json!(1));
        assert_eq!(client.pending.get_untracked(), vec![asked(json!("1"))]);
        assert!(client.is_pending(&json!("1")) && !client.is_pending(&json!(1)));
    }

    #[test]
    fn a_request_keyhole_asks_itself_is_answered_to_its_asker_not_the_server() {
        let client = ClientSide::new();
        let (id, mut answer) = client.local_request();
        assert!(id.is_object(), "no JSON-RPC id is an object: {id}");
        assert_eq!(
            client.answer_locally(&json!(7), Ok(json!({}))),
            Err(Ok(json!({})))
        );
        assert_eq!(
            client.answer_locally(&id, Ok(json!({"action": "accept"}))),
            Ok(())
        );
        assert_eq!(
            answer.try_recv().unwrap(),
            Some(Ok(json!({"action": "accept"})))
        );
        // Withdrawn: the asker hears the request is gone.
        let (id, mut answer) = client.local_request();
        client.withdraw(&id);
        assert!(answer.try_recv().is_err());
    }

    #[test]
    fn a_request_nobody_answers_is_cancelled_or_refused_for_the_user() {
        assert_eq!(
            timed_out("elicitation/create", 5),
            Ok(json!({ "action": "cancel" }))
        );
        assert_eq!(
            timed_out("sampling/createMessage", 5),
            Err((-1, "The user did not answer within 5 seconds".into()))
        );
    }
}
