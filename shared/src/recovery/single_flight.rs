//! One recovery at a time per server, and one recovery for many identical challenges.
//!
//! When several requests to one server are refused at once (a token expired under a burst of
//! tool calls), running a refresh or opening a prompt per request would race and spam the user.
//! [`SingleFlight`] serialises recoveries per server with an async mutex and lets concurrent
//! callers with the same key await one shared future. Nothing here needs `Send`, so it works on
//! the browser's single thread as well as natively.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use futures::lock::Mutex as AsyncMutex;

use super::{
    AuthorizationUrlBuilder, Clock, CredentialKey, CredentialStore, EmaReminter, Ports,
    RecoveryOutcome, RetryOnce, ServerAuth, StepUpGuard, StepUpPlan, TokenRefresher,
    confirm_step_up, handle_auth_challenge,
};
use crate::challenge::{AuthChallenge, ChallengeReason};
use crate::secret::Secret;

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

type Flight<'a, V> = Shared<LocalBoxFuture<'a, V>>;

/// Serialises work per server and shares the result of identical concurrent work.
pub struct SingleFlight<'a, K, V> {
    servers: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
    /// Work in flight, with how many callers are waiting for it.
    in_flight: Mutex<HashMap<K, (Flight<'a, V>, usize)>>,
}

impl<K, V> Default for SingleFlight<'_, K, V> {
    fn default() -> Self {
        Self {
            servers: Mutex::default(),
            in_flight: Mutex::default(),
        }
    }
}

impl<'a, K, V> SingleFlight<'a, K, V>
where
    K: Eq + Hash + Clone,
    V: Clone + 'a,
{
    pub fn new() -> Self {
        Self::default()
    }

    fn server_lock(&self, server: &str) -> Arc<AsyncMutex<()>> {
        locked(&self.servers)
            .entry(server.to_owned())
            .or_default()
            .clone()
    }

    /// Runs `work` under `server`'s lock, unless work with the same `key` is already in flight,
    /// in which case its result is awaited instead. `work` only builds the future. If every caller
    /// waiting for some work gives up (its future is dropped), the work is dropped too, releasing
    /// the server's lock.
    pub async fn run<F, Fut>(&self, server: &str, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + 'a,
    {
        let shared = {
            let mut in_flight = locked(&self.in_flight);
            match in_flight.get_mut(&key) {
                Some((shared, waiters)) => {
                    *waiters += 1;
                    shared.clone()
                }
                None => {
                    let lock = self.server_lock(server);
                    let future = work();
                    let task = async move {
                        let _turn = lock.lock().await;
                        future.await
                    };
                    let shared = task.boxed_local().shared();
                    in_flight.insert(key.clone(), (shared.clone(), 1));
                    shared
                }
            }
        };
        let waiter = Waiter {
            flights: self,
            key,
            shared,
        };
        let value = waiter.shared.clone().await;
        waiter.finish();
        value
    }

    /// How many distinct pieces of work are running or waiting.
    pub fn in_flight(&self) -> usize {
        locked(&self.in_flight).len()
    }
}

/// One caller's interest in a flight; see [`SingleFlight::run`].
struct Waiter<'f, 'a, K: Eq + Hash, V> {
    flights: &'f SingleFlight<'a, K, V>,
    key: K,
    shared: Flight<'a, V>,
}

impl<K: Eq + Hash, V> Waiter<'_, '_, K, V> {
    /// The work completed: later callers start afresh instead of reusing this result.
    fn finish(self) {
        let mut in_flight = locked(&self.flights.in_flight);
        if in_flight
            .get(&self.key)
            .is_some_and(|(f, _)| f.ptr_eq(&self.shared))
        {
            in_flight.remove(&self.key);
        }
    }
}

impl<K: Eq + Hash, V> Drop for Waiter<'_, '_, K, V> {
    fn drop(&mut self) {
        let mut in_flight = locked(&self.flights.in_flight);
        if let Some((flight, waiters)) = in_flight.get_mut(&self.key)
            && flight.ptr_eq(&self.shared)
        {
            *waiters -= 1;
            if *waiters == 0 {
                in_flight.remove(&self.key);
            }
        }
    }
}

/// What makes two recoveries "identical".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlightKey {
    Challenge {
        key: CredentialKey,
        reason: ChallengeReason,
        scopes: String,
    },
    Confirm {
        key: CredentialKey,
        scopes: String,
    },
}

/// The entry point for callers: recovery decisions with single flight, the step-up loop guard
/// and the retry-once bookkeeping, over one set of [`Ports`].
pub struct Recoverer<'a, S, R, M, C, A> {
    ports: Ports<'a, S, R, M, C, A>,
    guard: Arc<StepUpGuard>,
    retries: RetryOnce,
    flights: SingleFlight<'a, FlightKey, RecoveryOutcome>,
}

impl<'a, S, R, M, C, A> Recoverer<'a, S, R, M, C, A>
where
    S: CredentialStore,
    R: TokenRefresher,
    M: EmaReminter,
    C: Clock,
    A: AuthorizationUrlBuilder,
{
    pub fn new(ports: Ports<'a, S, R, M, C, A>) -> Self {
        Self {
            ports,
            guard: Arc::default(),
            retries: RetryOnce::new(),
            flights: SingleFlight::new(),
        }
    }

    /// [`handle_auth_challenge`], shared with identical concurrent challenges for the server.
    pub async fn handle(
        &self,
        server: &ServerAuth,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
    ) -> RecoveryOutcome {
        let flight = FlightKey::Challenge {
            key: server.key.clone(),
            reason: challenge.reason,
            scopes: challenge.required_scopes.to_scope_string(),
        };
        let ports = self.ports;
        let guard = Arc::clone(&self.guard);
        let owned = (server.clone(), challenge.clone(), rejected.cloned());
        let work = move || async move {
            let (server, challenge, rejected) = owned;
            handle_auth_challenge(ports, &server, &challenge, rejected.as_ref(), &guard).await
        };
        self.flights.run(&server.key.server_url, flight, work).await
    }

    /// [`confirm_step_up`], shared by concurrent confirmations of the same request.
    pub async fn confirm(&self, server: &ServerAuth, plan: &StepUpPlan) -> RecoveryOutcome {
        let flight = FlightKey::Confirm {
            key: server.key.clone(),
            scopes: plan.requested.to_scope_string(),
        };
        let ports = self.ports;
        let owned = (server.clone(), plan.clone());
        let work = move || async move {
            let (server, plan) = owned;
            confirm_step_up(ports, &server, &plan).await
        };
        self.flights.run(&server.key.server_url, flight, work).await
    }

    pub fn step_up_guard(&self) -> &StepUpGuard {
        &self.guard
    }

    pub fn retries(&self) -> &RetryOnce {
        &self.retries
    }
}
