//! `keyhole testbed`: runs the testbed on its own, from a JSON configuration file, until Ctrl+C.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use keyhole_testbed::{Testbed, TestbedConfig};

/// Loads the configuration (the shipped demo when `config` is `None`).
pub fn load_config(config: Option<&Path>) -> Result<TestbedConfig, String> {
    let Some(path) = config else {
        return Ok(TestbedConfig::demo());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    TestbedConfig::from_json_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Starts the testbed on loopback, prints its URLs, and serves until Ctrl+C.
pub async fn run(config: TestbedConfig, port: u16) -> Result<(), String> {
    let testbed = Testbed::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Keyhole testbed {} at {}",
        keyhole_shared::VERSION,
        testbed.base_url()
    );
    for (name, url) in testbed.servers() {
        println!("  MCP server {name:<14} {url}");
    }
    println!("  Authorization server  {}", testbed.issuer_url());
    if let Some(idp) = testbed.idp_url() {
        println!("  Enterprise IdP        {idp}");
    }
    println!("  Control page          {}", testbed.control_url());
    println!("  Press Ctrl+C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    testbed.shutdown().await;
    Ok(())
}
