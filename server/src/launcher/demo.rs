//! The built-in demo: the testbed started in-process next to the web inspector, so a first-time user
//! can try every auth flow against servers that behave exactly as the tests expect.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use keyhole_shared::ScopeSet;
use keyhole_shared::api::CatalogEntry;
use keyhole_shared::oauth_client::{
    EnterpriseConfig, Issuer, PreRegisteredClient, TokenEndpointAuthMethod,
};
use keyhole_testbed::config::{AuthMode, ClientAuthMethod, StaticClientConfig};
use keyhole_testbed::{RunningTestbed, StartError, Testbed, TestbedConfig};

/// The demo's usual port, so stored credentials for its servers stay valid across launches.
pub const DEFAULT_DEMO_PORT: u16 = 6275;

/// The demo's configuration for a web app listening on `web_port`: its `/oauth/callback` is a
/// registered redirect URI of the demo IdP's client, whatever port the app got.
fn config_for(web_port: u16) -> TestbedConfig {
    let mut config = TestbedConfig::demo();
    if let Some(ema) = config.ema.as_mut() {
        for client in &mut ema.clients {
            for host in ["127.0.0.1", "localhost"] {
                let uri = format!("http://{host}:{web_port}/oauth/callback");
                if !client.redirect_uris.contains(&uri) {
                    client.redirect_uris.push(uri);
                }
            }
        }
    }
    config
}

/// Starts the demo on `port` (0: any free port) for the web app on `web_port`. If the usual port
/// is taken, a free one is used instead and the log says so; the demo is a convenience, not worth
/// failing the launch for.
pub async fn start(port: u16, web_port: u16) -> Result<RunningTestbed, StartError> {
    let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match Testbed::start(config_for(web_port), at(port)).await {
        Err(StartError::Bind { source, .. })
            if port != 0 && source.kind() == io::ErrorKind::AddrInUse =>
        {
            tracing::warn!(
                port,
                "the demo's port is in use; starting the demo on a free port instead"
            );
            Testbed::start(config_for(web_port), at(0)).await
        }
        started => started,
    }
}

/// The demo's MCP servers as entries of the servers view.
pub fn catalog_entries(demo: &RunningTestbed) -> Vec<CatalogEntry> {
    let config = TestbedConfig::demo();
    demo.servers()
        .into_iter()
        .map(|(name, url)| {
            let server = config.server(&name);
            let enterprise = server
                .filter(|s| s.auth.mode == AuthMode::Ema)
                .and_then(|_| enterprise_config(demo, &config));
            CatalogEntry {
                description: server.and_then(|s| s.title.clone()),
                name,
                url: Some(url),
                enterprise,
                ..CatalogEntry::default()
            }
        })
        .collect()
}

/// How Keyhole signs in to the demo's enterprise-managed server: its client at the demo IdP, and
/// the client that client is known as at the demo authorization server.
fn enterprise_config(demo: &RunningTestbed, config: &TestbedConfig) -> Option<EnterpriseConfig> {
    let idp_client = config.ema.as_ref()?.clients.first()?;
    let resource_id = idp_client
        .resource_client_id
        .as_deref()
        .unwrap_or(&idp_client.client_id);
    let resource_client = config
        .oauth
        .static_clients
        .iter()
        .find(|c| c.client_id == resource_id)?;
    Some(EnterpriseConfig {
        idp_issuer: Issuer::new(demo.idp_url()?),
        idp_client: preregistered(idp_client),
        idp_scope: ScopeSet::parse("openid email"),
        resource_client: preregistered(resource_client),
    })
}

fn preregistered(client: &StaticClientConfig) -> PreRegisteredClient {
    let mut registered = match &client.client_secret {
        Some(secret) => PreRegisteredClient::confidential(&client.client_id, secret),
        None => PreRegisteredClient::public(&client.client_id),
    };
    registered.auth_method = client
        .token_endpoint_auth_method
        .map(|method| match method {
            ClientAuthMethod::None => TokenEndpointAuthMethod::None,
            ClientAuthMethod::ClientSecretBasic => TokenEndpointAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost => TokenEndpointAuthMethod::ClientSecretPost,
        });
    registered
}
