//! The shared state of a running testbed, handed to every HTTP handler.

use std::sync::Arc;

use crate::authz::AuthorizationServer;
use crate::config::TestbedConfig;
use crate::idp::IdentityProvider;
use crate::mcp::McpServer;
use crate::tokens::TokenStore;
use crate::urls::TestbedUrls;

/// Everything the testbed knows at run time.
pub struct TestbedState {
    pub config: TestbedConfig,
    pub urls: TestbedUrls,
    pub tokens: TokenStore,
    pub authz: AuthorizationServer,
    pub idp: Option<IdentityProvider>,
    /// DPoP proofs' replay cache and the servers' nonce.
    pub dpop: crate::dpop::DpopGuard,
    servers: Vec<Arc<McpServer>>,
}

impl TestbedState {
    /// Builds the state for a testbed reachable at `urls`.
    pub fn new(config: TestbedConfig, urls: TestbedUrls) -> Arc<Self> {
        let servers = config
            .servers
            .iter()
            .map(|server| Arc::new(McpServer::new(server, &urls)))
            .collect();
        Arc::new(TestbedState {
            authz: AuthorizationServer::new(&config.oauth),
            idp: config.ema.as_ref().map(IdentityProvider::new),
            tokens: TokenStore::default(),
            dpop: crate::dpop::DpopGuard::default(),
            servers,
            urls,
            config,
        })
    }

    pub fn servers(&self) -> &[Arc<McpServer>] {
        &self.servers
    }

    pub fn server(&self, name: &str) -> Option<Arc<McpServer>> {
        self.servers.iter().find(|s| s.name() == name).cloned()
    }

    /// The server whose MCP URL is `resource` (RFC 8707), ignoring a trailing slash.
    pub fn server_for_resource(&self, resource: &str) -> Option<Arc<McpServer>> {
        let resource = resource.trim_end_matches('/');
        self.servers
            .iter()
            .find(|s| s.mcp_url.trim_end_matches('/') == resource)
            .cloned()
    }
}
