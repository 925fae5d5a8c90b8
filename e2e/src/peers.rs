//! Third-party MCP servers for the end-to-end tests, installed from npm by `scripts/test.sh`
//! (`ensure_peers` in `scripts/lib.sh`) into `target/peers/` (`KEYHOLE_PEERS_DIR` overrides).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the peers are installed.
fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KEYHOLE_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    crate::emulation::target_dir().join("peers")
}

/// `@modelcontextprotocol/server-everything` serving HTTP on a free loopback port; stopped on
/// drop.
pub struct ServerEverything {
    child: Child,
    /// The MCP endpoint: `http://localhost:<port>/mcp`, or `…/sse` in `sse` mode.
    pub url: String,
}

impl ServerEverything {
    /// Its launcher script (`node <script> stdio|sse|streamableHttp`).
    pub fn script() -> PathBuf {
        let script =
            peers_dir().join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        assert!(
            script.exists(),
            "{} is missing: run scripts/test.sh, or `source scripts/lib.sh && ensure_peers`, \
             which installs @modelcontextprotocol/server-everything from npm",
            script.display()
        );
        script
    }

    /// Streamable HTTP, at `/mcp`.
    pub fn start() -> Self {
        Self::start_in("streamableHttp")
    }

    /// `mode` is `streamableHttp` (`/mcp`) or `sse` (the HTTP+SSE transport, `/sse`).
    pub fn start_in(mode: &str) -> Self {
        let script = Self::script();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("node")
            .arg(&script)
            .arg(mode)
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start node {}: {e}", script.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "server-everything did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let path = if mode == "sse" { "sse" } else { "mcp" };
        Self {
            child,
            url: format!("http://localhost:{port}/{path}"),
        }
    }
}

impl Drop for ServerEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
