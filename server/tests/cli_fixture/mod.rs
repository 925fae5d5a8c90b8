//! Fixtures for the CLI tests (`cli_*.rs`): a testbed with an OAuth-protected server (`main`, auto
//! consent, refresh tokens) and an open one (`open`), a store in a temporary directory, and a
//! scripted terminal that records output, answers `[y/N]` prompts and plays the browser (it follows
//! the authorization redirect to the CLI's loopback callback).
#![allow(dead_code)] // each test file uses its own subset

use std::sync::{Arc, Mutex};

use keyhole_server::cli::{self, Terminal};
use keyhole_server::native::oauth_store::FileStore;
use keyhole_shared::oauth_client::Issuer;
use keyhole_shared::tokens::Tokens;
use keyhole_shared::{ScopeSet, Secret};
use keyhole_testbed::{RunningTestbed, Testbed, TestbedConfig};
use serde_json::{Value, json};

pub fn config() -> Value {
    json!({
        "servers": [
            {"name": "main", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
             "tools": [{"preset": "echo"}, {"preset": "add"},
                       {"preset": "weather", "requiredScopes": ["weather:read"]}],
             "resources": [{"uri": "keyhole://main/readme", "name": "readme", "text": "Hello from main."}],
             "prompts": [{"name": "greeting", "arguments": [{"name": "name", "required": true}],
                          "template": "Write a greeting for {name}."}]},
            {"name": "open", "auth": {"mode": "none"},
             "tools": [{"preset": "echo"}, {"preset": "add"}],
             "resources": [{"uri": "keyhole://open/readme", "name": "readme", "title": "Read me",
                            "text": "Hello from open."}],
             "resourceTemplates": [{"uriTemplate": "keyhole://open/notes/{id}", "name": "note", "text": "Note {id}"}],
             "prompts": [{"name": "greeting", "description": "Writes a greeting.",
                          "arguments": [{"name": "name", "required": true}],
                          "template": "Write a greeting for {name}."}]}
        ],
        "oauth": {
            "scopesSupported": ["mcp", "weather:read"],
            "defaultScopes": ["mcp"],
            "accessTokenLifetimeSecs": 300,
            "refreshTokens": {"enabled": true, "rotate": true},
            "dynamicRegistration": true,
            "consent": "auto"
        }
    })
}

pub struct Bed {
    pub testbed: RunningTestbed,
    pub dir: tempfile::TempDir,
}

impl Bed {
    pub async fn start() -> Self {
        let config = TestbedConfig::from_json_str(&config().to_string()).expect("valid config");
        Self::with_config(config).await
    }

    /// A bed serving `config` instead of the CLI tests' own.
    pub async fn with_config(config: TestbedConfig) -> Self {
        let testbed = Testbed::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("testbed starts");
        Self {
            testbed,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn mcp_url(&self, server: &str) -> String {
        self.testbed.mcp_url(server).unwrap()
    }

    pub fn store(&self) -> FileStore {
        FileStore::new(self.dir.path().join("oauth-store.json"))
    }

    /// Puts a token for `server` with `scopes` into the store, as the web app would have.
    pub fn seed_token(&self, server: &str, scopes: &[&str]) -> String {
        let token = self.testbed.mint_access_token(server, scopes, 300).unwrap();
        let tokens = Tokens {
            access_token: Secret::new(token.clone()),
            token_type: "Bearer".into(),
            refresh_token: None,
            scopes: ScopeSet::parse(&scopes.join(" ")),
            expires_at: None,
        };
        let (url, issuer) = (self.mcp_url(server), Issuer::new(self.testbed.issuer_url()));
        self.store()
            .update(|d| {
                d.save_tokens(&url, &issuer, &tokens, 1);
                Ok(())
            })
            .unwrap();
        token
    }

    /// The access token the store holds for `server`.
    pub fn stored_token(&self, server: &str) -> Option<Tokens> {
        let document = self.store().read_document().unwrap();
        document
            .credential(&self.mcp_url(server), None)?
            .tokens
            .clone()
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/control/api/{path}", self.testbed.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "control {path}");
        response.json().await.unwrap()
    }

    /// Signs in to `server` (the testbed consents at once) with a `tools list`.
    pub async fn sign_in(&self, server: &str) {
        let url = self.mcp_url(server);
        let mut t = FakeTerminal::new();
        let code = self
            .run(
                &["--url", &url, "--non-interactive", "tools", "list"],
                &mut t,
            )
            .await;
        assert_eq!(code, 0, "{}", t.stderr());
    }

    /// The grant types of the requests that reached the token endpoint, in order.
    pub async fn token_grant_types(&self) -> Vec<String> {
        let requests = self.control_get("token-requests").await;
        requests
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| r["grantType"].as_str().unwrap_or("(none)").to_owned())
            .collect()
    }

    pub async fn control_get(&self, path: &str) -> Value {
        reqwest::get(format!("{}/control/api/{path}", self.testbed.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Runs `keyhole cli ARGS…` in-process against this bed's store.
    pub async fn run(&self, argv: &[&str], terminal: &mut FakeTerminal) -> u8 {
        let args = cli::parse_args(argv).expect("arguments parse");
        cli::execute_with_store(args, Some(self.store()), terminal).await
    }
}

/// A free port on 127.0.0.1 for the loopback callback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Records output; answers prompts with `answer`; as a browser, follows the authorization URL's
/// redirect to the loopback callback (when `browser` is set).
#[derive(Default)]
pub struct FakeTerminal {
    pub out: Vec<String>,
    pub err: Vec<String>,
    pub interactive: bool,
    pub answer: bool,
    pub prompts: Vec<String>,
    pub browser: bool,
    pub opened: Arc<Mutex<Vec<String>>>,
}

impl FakeTerminal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_browser() -> Self {
        Self {
            browser: true,
            ..Self::default()
        }
    }

    pub fn stdout(&self) -> String {
        self.out.join("\n")
    }

    pub fn stderr(&self) -> String {
        self.err.join("\n")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout()).expect("stdout is JSON")
    }
}

impl Terminal for FakeTerminal {
    fn out(&mut self, text: &str) {
        self.out.push(text.to_owned());
    }

    fn err(&mut self, text: &str) {
        self.err.push(text.to_owned());
    }

    fn is_interactive(&self) -> bool {
        self.interactive
    }

    fn confirm(&mut self, question: &str) -> bool {
        self.prompts.push(question.to_owned());
        self.answer
    }

    fn open_browser(&mut self, url: &str) -> bool {
        self.opened.lock().unwrap().push(url.to_owned());
        if !self.browser {
            return false;
        }
        let url = url.to_owned();
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let response = http.get(&url).send().await.unwrap();
            let location = response.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            let page = reqwest::get(&location).await.unwrap();
            assert_eq!(page.status(), 200, "the loopback callback answers");
        });
        true
    }
}

/// The small stdio MCP server written for the tests (`stdio_server.py`, run with `python3`).
pub fn stdio_server_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixture/stdio_server.py")
}

/// The stdio server's and its helper's process ids, as `stdio_server.py` wrote them to
/// `PID_FILE`.
pub fn stdio_server_pids(file: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .expect("the server wrote its process ids")
        .split_whitespace()
        .map(|pid| pid.parse().expect("a process id"))
        .collect()
}

/// Whether `pid` still runs (a zombie waiting for its parent does not).
pub fn process_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit(')').next().map(|rest| rest.trim().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

/// Waits up to 5 s for every process of `pids` to end; fails the test naming those left.
pub async fn until_gone(pids: &[u32]) {
    for _ in 0..50 {
        if !pids.iter().any(|pid| process_running(*pid)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let left: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|pid| process_running(*pid))
        .collect();
    panic!("processes left running: {left:?}");
}
