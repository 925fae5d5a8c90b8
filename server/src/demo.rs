//! The built-in demo: the testbed started in-process next to the web inspector, so a first-time user
//! can try every auth flow against servers that behave exactly as the tests expect.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use keyhole_shared::api::CatalogEntry;
use keyhole_testbed::{RunningTestbed, StartError, Testbed, TestbedConfig};

/// The demo's usual port, so stored credentials for its servers stay valid across launches.
pub const DEFAULT_DEMO_PORT: u16 = 6275;

/// Starts the demo on `port` (0: any free port). If the usual port is taken, a free one is used
/// instead and the log says so; the demo is a convenience, not worth failing the launch for.
pub async fn start(port: u16) -> Result<RunningTestbed, StartError> {
    let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match Testbed::start(TestbedConfig::demo(), at(port)).await {
        Err(StartError::Bind { source, .. })
            if port != 0 && source.kind() == io::ErrorKind::AddrInUse =>
        {
            tracing::warn!(
                port,
                "the demo's port is in use; starting the demo on a free port instead"
            );
            Testbed::start(TestbedConfig::demo(), at(0)).await
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
            let description = config.server(&name).and_then(|server| server.title.clone());
            CatalogEntry {
                name,
                url: Some(url),
                unsupported_reason: None,
                description,
            }
        })
        .collect()
}
