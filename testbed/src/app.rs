//! Assembling the router and running the testbed on a loopback listener.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::TestbedConfig;
use crate::state::TestbedState;
use crate::urls::TestbedUrls;

/// Every route of the testbed (MCP servers, authorization server, IdP, control API and page).
pub fn app(state: Arc<TestbedState>) -> Router {
    Router::new()
        .route(
            "/.well-known/oauth-protected-resource/servers/{name}/mcp",
            get(crate::mcp::resource_auth::protected_resource_metadata),
        )
        .merge(crate::mcp::transport::router())
        .merge(crate::mcp::legacy_sse::router())
        .merge(crate::authz::router())
        .merge(crate::idp::router())
        .merge(crate::control::router())
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::cors::cors,
        ))
        .with_state(state)
}

/// Why the testbed could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the testbed binds loopback addresses only, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Entry point: `Testbed::start(config, "127.0.0.1:0".parse()?)`.
pub struct Testbed;

impl Testbed {
    /// Binds `bind` (loopback only; port 0 picks a free port) and serves in the background.
    pub async fn start(
        config: TestbedConfig,
        bind: SocketAddr,
    ) -> Result<RunningTestbed, StartError> {
        if !bind.ip().is_loopback() {
            return Err(StartError::NotLoopback(bind));
        }
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| StartError::Bind { addr: bind, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: bind, source })?;
        let urls = TestbedUrls::new(format!("http://{local_addr}"));
        let state = TestbedState::new(config, urls);
        let router = app(Arc::clone(&state));
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let shutdown = async {
                let _ = shutdown_rx.await;
            };
            if let Err(error) = axum::serve(sending_at_once(listener), service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(%error, "testbed server stopped");
            }
        });
        tracing::info!(address = %local_addr, "testbed listening");
        Ok(RunningTestbed {
            local_addr,
            state,
            shutdown: Some(shutdown_tx),
            task: Some(task),
        })
    }
}

/// `listener`, its connections sending each write at once (`TCP_NODELAY`).
///
/// Why: an answer as an event stream is written in pieces (the head, then each event). With
/// Nagle's algorithm a piece written while the previous one is unacknowledged waits for the
/// client's acknowledgement, which a client waiting for the rest of the answer delays by up to
/// 40 ms: every request answered with SSE took ~44 ms instead of ~0.3 (measured, #25).
fn sending_at_once(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a testbed connection");
        }
    })
}

/// A testbed serving in the background; dropping it stops the server (open SSE streams are cut).
pub struct RunningTestbed {
    local_addr: SocketAddr,
    state: Arc<TestbedState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningTestbed {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        self.state.urls.base()
    }

    /// The MCP endpoint of the server named `name`.
    pub fn mcp_url(&self, name: &str) -> Option<String> {
        self.state.server(name).map(|server| server.mcp_url.clone())
    }

    /// Ends every session of the server named `name`, closing their streams, as a restart of
    /// the server would; returns how many there were.
    pub fn end_sessions(&self, name: &str) -> usize {
        let Some(server) = self.state.server(name) else {
            return 0;
        };
        let sessions = server.sessions.all();
        for session in &sessions {
            server.sessions.remove(&session.id);
            session.close();
        }
        sessions.len()
    }

    /// `(name, MCP URL)` of every configured server, in configuration order.
    pub fn servers(&self) -> Vec<(String, String)> {
        self.state
            .servers()
            .iter()
            .map(|s| (s.name().to_string(), s.mcp_url.clone()))
            .collect()
    }

    /// The authorization server's issuer (`<base>/oauth`).
    pub fn issuer_url(&self) -> String {
        self.state.urls.issuer()
    }

    /// The enterprise IdP's issuer (`<base>/idp`), when one is configured.
    pub fn idp_url(&self) -> Option<String> {
        self.state
            .idp
            .as_ref()
            .map(|_| self.state.urls.idp_issuer())
    }

    /// The control page (`<base>/control`); the API lives under `<base>/control/api/`.
    pub fn control_url(&self) -> String {
        self.state.urls.control_url()
    }

    /// Issues an access token for the server named `server` with `scopes`, as if a client had
    /// completed the authorization flow. For tests and benchmarks of *other* components, which need
    /// a valid bearer but are not about how it was obtained. `None` for an unknown server.
    pub fn mint_access_token(
        &self,
        server: &str,
        scopes: &[&str],
        lifetime_secs: u64,
    ) -> Option<String> {
        let server = self.state.server(server)?;
        let grant = crate::tokens::TokenGrant {
            client_id: "keyhole-test-fixture".into(),
            subject: "fixture".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            resource: Some(server.mcp_url.clone()),
            grant: "fixture".into(),
            family: format!("fixture-{}", self.state.tokens.list().len()),
            jkt: None,
        };
        let (value, _) =
            self.state
                .tokens
                .issue(crate::tokens::TokenKind::Access, &grant, lifetime_secs);
        Some(value)
    }

    /// Issues an ID token at the enterprise IdP for the user `username` and the IdP client
    /// `client_id`, as if that user had signed in there (EMA leg 1). For tests of clients that
    /// take an ID token from elsewhere. `None` without an IdP or for an unknown user.
    pub fn mint_id_token(&self, username: &str, client_id: &str) -> Option<String> {
        let idp = self.state.idp.as_ref()?;
        idp.id_token(&self.state.urls.idp_issuer(), username, client_id, None)
    }

    /// The MCP session ids the token with this value was presented on, in order: lets a test assert
    /// that re-authorization kept the session (same `Mcp-Session-Id`).
    pub fn sessions_used_by(&self, token: &str) -> Vec<String> {
        let fingerprint = crate::support::sha256_base64url(token);
        self.state
            .tokens
            .list()
            .into_iter()
            .filter(|record| record.fingerprint == fingerprint)
            .flat_map(|record| record.sessions)
            .map(|used| used.session_id)
            .collect()
    }

    /// The live state, for in-process inspection.
    pub fn state(&self) -> &Arc<TestbedState> {
        &self.state
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.stop_signal();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(2), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }

    fn stop_signal(&mut self) {
        for server in self.state.servers() {
            for session in server.sessions.all() {
                session.close();
            }
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for RunningTestbed {
    fn drop(&mut self) {
        self.stop_signal();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_each_write_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut listener = sending_at_once(listener);
        let _client = TcpStream::connect(address).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().unwrap());
    }
}
