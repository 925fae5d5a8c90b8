//! Real third-party MCP servers for the interop tests, installed from the registries by
//! `scripts/test.sh` (`scripts/lib.sh`: `ensure_interop_peers`) into `target/interop/`:
//!
//! * the TypeScript SDK's example server (`@modelcontextprotocol/sdk` on npm,
//!   `simpleStreamableHttp.js --oauth`, optionally `--oauth-strict`): authorization server and MCP
//!   server in one Node process, everything in memory;
//! * an OAuth-protected server on the Python SDK (`mcp` on PyPI), `e2e/fixtures/python_oauth_server.py`:
//!   the SDK's authorization-server routes with a login form, and the SDK's MCP server, in two
//!   processes so either can restart alone.
//!
//! Where they are: `KEYHOLE_INTEROP_DIR`, else `target/interop/` of this workspace. When a peer is
//! missing, a test fails if `KEYHOLE_INTEROP=1` or `CI=true` (the suite must run there), and is
//! skipped with a message otherwise (a developer without the peers installed).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a peer may take to start (the Python SDK imports slowly on a busy machine).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The installed peers.
pub struct Peers {
    dir: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate sits in the workspace")
        .to_path_buf()
}

fn required() -> bool {
    let set = |name: &str, value: &str| std::env::var(name).is_ok_and(|v| v == value);
    set("KEYHOLE_INTEROP", "1") || set("CI", "true")
}

impl Peers {
    /// The peers, or `None` (after saying why) when they are not installed and not required.
    pub fn find() -> Option<Self> {
        let dir = std::env::var_os("KEYHOLE_INTEROP_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/interop"));
        let peers = Self { dir };
        let missing: Vec<PathBuf> = [peers.typescript_example(), peers.python()]
            .into_iter()
            .filter(|p| !p.exists())
            .collect();
        if missing.is_empty() {
            return Some(peers);
        }
        let why = format!(
            "interop peers missing ({missing:?}); scripts/test.sh installs them (or set KEYHOLE_INTEROP_DIR)"
        );
        assert!(!required(), "{why}");
        eprintln!("skipping: {why}");
        None
    }

    pub fn typescript_example(&self) -> PathBuf {
        self.dir.join(
            "npm/node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js",
        )
    }

    pub fn python(&self) -> PathBuf {
        self.dir.join("venv/bin/python")
    }

    pub fn python_fixture() -> PathBuf {
        workspace_root().join("e2e/fixtures/python_oauth_server.py")
    }
}

/// A free TCP port (on every interface: the TypeScript example listens on all of them).
pub fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One peer process, restartable with the same command (so the same port); killed on drop.
pub struct Peer {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Lines that must all have appeared on stdout before the peer counts as ready.
    ready: Vec<String>,
    child: Option<Child>,
}

impl Peer {
    pub fn new(name: &str, program: PathBuf, args: Vec<String>, ready: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            program,
            args,
            env: Vec::new(),
            ready: ready.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Starts the process and waits until it printed every ready line.
    pub fn start(&mut self) {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", self.name));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    // Nobody listens any more: keep draining so the peer never blocks.
                    continue;
                }
            }
        });
        let mut waiting = self.ready.clone();
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => waiting.retain(|marker| !line.contains(marker.as_str())),
                Err(_) => {
                    let _ = child.kill();
                    panic!("{} did not print {waiting:?} in time", self.name);
                }
            }
        }
        self.child = Some(child);
    }

    /// Kills the process: everything it kept in memory is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A restart, as during development: same port, empty memory.
    pub fn restart(&mut self) {
        self.stop();
        self.start();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The TypeScript SDK's example server with its in-memory authorization server.
pub struct TypeScriptExample {
    pub process: Peer,
    /// `http://localhost:<port>/mcp`: the example names its resource with `localhost`.
    pub mcp_url: String,
}

impl TypeScriptExample {
    pub fn start(peers: &Peers, strict: bool) -> Self {
        let (mcp_port, auth_port) = (free_port(), free_port());
        let flag = if strict { "--oauth-strict" } else { "--oauth" };
        let script = peers.typescript_example().display().to_string();
        let mut process = Peer::new(
            "the TypeScript SDK example server",
            PathBuf::from("node"),
            vec![script, "--oauth".into(), flag.into()],
            &[
                "OAuth Authorization Server listening",
                "MCP Streamable HTTP Server listening",
            ],
        )
        .env("MCP_PORT", &mcp_port.to_string())
        .env("MCP_AUTH_PORT", &auth_port.to_string());
        process.start();
        Self {
            process,
            mcp_url: format!("http://localhost:{mcp_port}/mcp"),
        }
    }
}

/// The Python SDK fixture: authorization server and MCP server.
pub struct PythonSdkServer {
    pub authorization_server: Peer,
    pub mcp_server: Peer,
    pub issuer: String,
    pub mcp_url: String,
}

impl PythonSdkServer {
    /// `client_auth`: the token-endpoint method the authorization server assigns to every client
    /// it registers (`post`, `basic` or `none`); `transport`: the MCP server's, `streamable-http`
    /// (at `/mcp`) or `sse` (the HTTP+SSE transport of 2024-11-05, at `/sse`).
    pub fn start(peers: &Peers, client_auth: &str, transport: &str) -> Self {
        let (as_port, mcp_port) = (free_port(), free_port());
        let fixture = Peers::python_fixture().display().to_string();
        let issuer = format!("http://127.0.0.1:{as_port}");
        let mut authorization_server = Peer::new(
            "the Python SDK authorization server",
            peers.python(),
            vec![
                fixture.clone(),
                "as".into(),
                "--port".into(),
                as_port.to_string(),
                "--client-auth".into(),
                client_auth.into(),
            ],
            &["ready "],
        );
        let mut mcp_server = Peer::new(
            "the Python SDK MCP server",
            peers.python(),
            vec![
                fixture,
                "mcp".into(),
                "--port".into(),
                mcp_port.to_string(),
                "--issuer".into(),
                issuer.clone(),
                "--transport".into(),
                transport.into(),
            ],
            &["ready "],
        );
        authorization_server.start();
        mcp_server.start();
        Self {
            authorization_server,
            mcp_server,
            issuer,
            mcp_url: format!(
                "http://127.0.0.1:{mcp_port}/{}",
                if transport == "sse" { "sse" } else { "mcp" }
            ),
        }
    }
}

/// The Python fixture's login page, played without a browser: from the authorization URL to the
/// redirect back to the client (whose URL is returned, not visited).
pub async fn python_login(authorization_url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let location = |response: &reqwest::Response| {
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("a redirect, got HTTP {}", response.status()))
    };
    let authorize = http
        .get(authorization_url)
        .send()
        .await
        .expect("the authorization endpoint answers");
    let login_url = location(&authorize);
    let login = reqwest::Url::parse(&login_url).expect("the login page URL");
    let request = login
        .query_pairs()
        .find(|(k, _)| k == "request")
        .map(|(_, v)| v.into_owned())
        .expect("the login request id");
    let page = http
        .get(login.clone())
        .send()
        .await
        .expect("the login page");
    assert_eq!(page.status(), 200, "the login page");
    let signed_in = http
        .post(login.join("/login").expect("the login form target"))
        .form(&[
            ("request", request.as_str()),
            ("username", "demo"),
            ("password", "demo"),
        ])
        .send()
        .await
        .expect("the login form answers");
    location(&signed_in)
}
