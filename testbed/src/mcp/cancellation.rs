//! Cancelling work the server is doing: a request the client gives up on
//! (`notifications/cancelled` with its `requestId`) or a task it cancels (`tasks/cancel`). The
//! work holds a [`Cancellation`] and stops at its next step once it fires; the server then sends
//! no response for a cancelled request, as the specification asks.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::watch;

/// What a running request or task watches to learn that it was cancelled.
#[derive(Clone, Debug)]
pub struct Cancellation(watch::Receiver<bool>);

impl Cancellation {
    /// A cancellation and the switch that fires it.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (switch, receiver) = watch::channel(false);
        (switch, Cancellation(receiver))
    }

    /// One that never fires (work nobody can cancel).
    pub fn never() -> Self {
        Cancellation(watch::channel(false).1)
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled; never when the switch is gone without firing.
    pub async fn cancelled(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|cancelled| *cancelled).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The requests of a session that are being answered, by JSON-RPC id.
#[derive(Default)]
pub struct InFlight {
    requests: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl InFlight {
    fn requests(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<bool>>> {
        self.requests
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Starts tracking the request `id`; the returned [`Cancellation`] fires if the client
    /// cancels it. Call [`InFlight::finish`] once it is answered.
    pub fn start(&self, id: &Value) -> Cancellation {
        let (switch, cancellation) = Cancellation::new();
        self.requests().insert(id.to_string(), switch);
        cancellation
    }

    pub fn finish(&self, id: &Value) {
        self.requests().remove(&id.to_string());
    }

    /// Cancels the request `id`; false when no such request is being answered.
    pub fn cancel(&self, id: &Value) -> bool {
        self.requests()
            .remove(&id.to_string())
            .is_some_and(|switch| switch.send(true).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn cancelling_an_id_fires_only_its_request() {
        let in_flight = InFlight::default();
        let first = in_flight.start(&json!(1));
        let second = in_flight.start(&json!("1"));
        assert!(in_flight.cancel(&json!(1)));
        first.cancelled().await;
        assert!(first.is_cancelled());
        assert!(!second.is_cancelled(), "the id \"1\" is not the id 1");
        assert!(!in_flight.cancel(&json!(1)), "already cancelled");
        in_flight.finish(&json!("1"));
        assert!(!in_flight.cancel(&json!("1")), "already answered");
    }
}
