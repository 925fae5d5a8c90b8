//! A testbed process (`keyhole testbed`) from a JSON configuration written by the test, and
//! connecting the browser to an MCP server through Keyhole's servers view.

use crate::{Browser, KeyholeProcess};

/// `keyhole testbed --config <file>` on a free port; stopped on drop.
pub struct TestbedProcess {
    process: KeyholeProcess,
    _config_dir: tempfile::TempDir,
}

impl TestbedProcess {
    pub fn start(config: &str) -> Self {
        Self::start_on(config, 0)
    }

    /// The same on `port` (0: any free port), e.g. to restart a testbed where it was.
    pub fn start_on(config: &str, port: u16) -> Self {
        let config_dir = tempfile::tempdir().expect("a temporary directory");
        let path = config_dir.path().join("testbed.json");
        std::fs::write(&path, config).expect("write the testbed config");
        let path = path.to_str().expect("a UTF-8 path");
        let port = port.to_string();
        let process = KeyholeProcess::spawn(&["testbed", "--config", path, "--port", &port]);
        Self {
            process,
            _config_dir: config_dir,
        }
    }

    /// `http://127.0.0.1:<port>`: the MCP servers, the authorization server, the control API.
    pub fn base_url(&self) -> &str {
        &self.process.base_url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The MCP endpoint of the server `name`.
    pub fn mcp_url(&self, name: &str) -> String {
        format!("{}/servers/{name}/mcp", self.process.base_url)
    }
}

/// Opens Keyhole's page, connects to `url` (an authorization server that approves at once
/// needs no answer) and waits until connected.
pub async fn connect(browser: &Browser, keyhole: &KeyholeProcess, url: &str) {
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.connect_to(url).await;
}
