//! The session hub: one upstream MCP session per browser connection, behind `/api/mcp/*`.
//!
//! Sessions are independent: each has its own client, event queue and network log, bounded in bytes
//! ([`SessionLimits`]), so a slow, hung or hostile upstream never blocks another session or fills
//! the memory. A session whose page went away (no event
//! stream open, no request) is ended after a grace period long enough to outlast an OAuth redirect.

mod envelope;
mod event_queue;
pub mod routes;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use keyhole_shared::ChallengeContext;
use rand::RngCore;

pub use envelope::{Reply, ambient_failure, upstream_failure};
pub use event_queue::{Delivery, Frame, Subscription};
pub use keyhole_shared::api::mcp::{Failure, Hint};
pub use session::{Session, SessionEvents, SessionLimits, dropped_frame};

use crate::native::dpop_keys::DpopKeys;
use crate::native::mcp_client::{ClientConfig, Credentials, HttpClients, McpClient};

/// Limits and timings of the hub.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// How long one upstream request may take.
    pub request_timeout: Duration,
    /// How long a session without a page survives (covers a full-page OAuth redirect).
    pub idle_grace: Duration,
    /// What one session may hold (event queue, network log, one forwarded message).
    pub limits: SessionLimits,
    /// After a command got a challenge, the same challenge on the GET stream is not repeated for this long.
    pub ambient_suppression: Duration,
}

impl Default for HubOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            idle_grace: Duration::from_secs(15 * 60),
            limits: SessionLimits::default(),
            ambient_suppression: Duration::from_secs(5),
        }
    }
}

/// What the page asked to connect to.
pub struct ConnectSpec {
    pub config: ClientConfig,
    pub credentials: Credentials,
}

/// Idle upstream connections kept per host, and for how long.
const IDLE_CONNECTIONS_PER_HOST: usize = 32;
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Hub {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    http: HttpClients,
    options: HubOptions,
    /// The DPoP proof keys (beside the OAuth store once it is open; else this process's own).
    dpop_keys: std::sync::OnceLock<Arc<DpopKeys>>,
}

impl Hub {
    pub fn new(options: HubOptions) -> Arc<Self> {
        let upstream = || {
            crate::native::upstream_http::client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("keyhole/", env!("CARGO_PKG_VERSION")))
        };
        let calls = upstream()
            // A burst of requests (a thousand pages pinging at once) opens as many connections;
            // keep a few for reuse, not all of them for reqwest's default 90 s.
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST)
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .build()
            .expect("a reqwest client with static settings builds");
        let streams = upstream()
            .pool_max_idle_per_host(0)
            .build()
            .expect("a reqwest client with static settings builds");
        Arc::new(Self {
            sessions: RwLock::new(HashMap::new()),
            http: HttpClients { calls, streams },
            options,
            dpop_keys: std::sync::OnceLock::new(),
        })
    }

    /// Signs DPoP proofs with `keys` from now on (set once, when the OAuth store opens).
    pub fn use_dpop_keys(&self, keys: Arc<DpopKeys>) {
        let _ = self.dpop_keys.set(keys);
    }

    /// The keys DPoP proofs are signed with.
    pub fn dpop_keys(&self) -> &Arc<DpopKeys> {
        self.dpop_keys
            .get_or_init(|| Arc::new(DpopKeys::in_memory()))
    }

    /// The HTTP client for upstream requests (redirects are never followed).
    pub fn http(&self) -> &reqwest::Client {
        &self.http.calls
    }

    pub fn options(&self) -> &HubOptions {
        &self.options
    }

    /// Connects upstream (initialize) and registers the session, or says why it could not.
    pub async fn connect(&self, mut spec: ConnectSpec) -> Result<Arc<Session>, Failure> {
        spec.config.timeout = self.options.request_timeout;
        let events = Arc::new(SessionEvents::new(
            self.options.limits,
            self.options.ambient_suppression,
        ));
        let client = McpClient::new(
            self.http.clone(),
            spec.config,
            Arc::new(spec.credentials),
            events.clone(),
        );
        let context = ChallengeContext {
            method: Some("initialize".into()),
            tool_name: None,
        };
        let bearer = client.credentials().bearer();
        let initialize_result = match client.initialize().await {
            Ok(result) => result,
            Err(error) => {
                // Nothing is left behind (a stdio server that started ends here).
                client.close().await;
                // The page offered its stored token: a refusal without a challenge may mean the
                // server no longer knows it.
                return Err(upstream_failure(error, context, bearer.is_some()));
            }
        };
        let session = Arc::new(Session::new(
            new_session_id(),
            client,
            events,
            initialize_result,
        ));
        session.client.credentials().accept(bearer);
        self.sessions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.id.clone(), session.clone());
        tracing::info!(session = %session.id, "connected");
        Ok(session)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self
            .sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if let Some(session) = &session {
            session.touch();
        }
        session
    }

    pub fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends a session upstream and forgets it; `false` if there was none.
    pub async fn disconnect(&self, id: &str) -> bool {
        let removed = self
            .sessions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        match removed {
            Some(session) => {
                session.client.close().await;
                tracing::info!(session = %id, "disconnected");
                drop(session);
                crate::native::memory::trim_soon();
                true
            }
            None => false,
        }
    }

    /// Ends every session (Keyhole is stopping): upstream sessions are closed and stdio servers
    /// ended with what they started.
    pub async fn close_all(&self) {
        let ids: Vec<String> = self
            .sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        futures_util::future::join_all(ids.iter().map(|id| self.disconnect(id))).await;
    }

    /// Ends the sessions whose page has been gone for the grace period; returns how many.
    pub async fn reap_abandoned(&self) -> usize {
        let grace = self.options.idle_grace;
        let abandoned: Vec<String> = self
            .sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|s| s.abandoned(grace))
            .map(|s| s.id.clone())
            .collect();
        for id in &abandoned {
            tracing::info!(session = %id, "ending a session whose page went away");
            self.disconnect(id).await;
        }
        abandoned.len()
    }

    /// Runs [`Hub::reap_abandoned`] periodically for as long as the hub lives.
    pub fn spawn_reaper(self: &Arc<Self>) {
        let hub = Arc::downgrade(self);
        let every =
            (self.options.idle_grace / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(hub) = hub.upgrade() else { return };
                hub.reap_abandoned().await;
            }
        });
    }
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
