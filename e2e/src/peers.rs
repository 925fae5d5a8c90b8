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
        let (child, port) = start_node(&Self::script(), &[mode]);
        let path = if mode == "sse" { "sse" } else { "mcp" };
        Self {
            child,
            url: format!("http://localhost:{port}/{path}"),
        }
    }
}

/// `node <script> <args>` with `PORT` set to a free loopback port, once it listens there.
fn start_node(script: &std::path::Path, args: &[&str]) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new("node")
        .arg(script)
        .args(args)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start node {}: {e}", script.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{} did not listen on {port} within 30 s",
            script.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, port)
}

/// An MCP Apps example server from npm (`@modelcontextprotocol/server-basic-vanillajs`: the tool
/// `get-time` and its app), over Streamable HTTP on a free port; stopped on drop.
pub struct AppServer {
    child: Child,
    /// `http://localhost:<port>/mcp`.
    pub url: String,
}

impl AppServer {
    /// `package` (e.g. `server-basic-vanillajs`) from `target/peers`.
    pub fn start(package: &str) -> Self {
        let script = peers_dir().join(format!(
            "node_modules/@modelcontextprotocol/{package}/dist/index.js"
        ));
        assert!(
            script.exists(),
            "{} is missing: run scripts/test.sh, or `source scripts/lib.sh && ensure_peers`",
            script.display()
        );
        let (child, port) = start_node(&script, &[]);
        Self {
            child,
            url: format!("http://localhost:{port}/mcp"),
        }
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
