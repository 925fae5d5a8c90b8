//! Fixtures for the OAuth client tests (`oauth_*.rs`): a testbed, an [`OAuthClient`] over the
//! native HTTP client (observed) and a file store in a temporary directory, the headless browser
//! legs (login and consent form posts at the authorization server and the IdP), a minimal MCP
//! caller, and a small scripted server for the cases the testbed cannot produce.
#![allow(dead_code)] // each test file uses its own subset

pub mod fake_server;

use keyhole_server::native::native_http::{NativeHttp, OsEntropy, SystemClock};
use keyhole_server::native::oauth_store::FileStore;
use keyhole_shared::http::{HttpExchange, Observed, RecordingObserver};
use keyhole_shared::oauth_client::{ClientConfig, OAuthClient, ServerConfig};
use keyhole_shared::store::StoreDocument;
use keyhole_shared::{AuthChallenge, ChallengeContext};
use keyhole_testbed::{RunningTestbed, Testbed, TestbedConfig};
use reqwest::header::LOCATION;
use serde_json::{Value, json};

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

pub type Client =
    OAuthClient<Observed<NativeHttp, RecordingObserver>, FileStore, SystemClock, OsEntropy>;

/// `main` (OAuth, refresh tokens), `ema` (enterprise-managed), with one static client.
pub fn config(rotate: bool) -> Value {
    json!({
        "servers": [
            {"name": "main", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
             "tools": [{"preset": "echo"}, {"preset": "weather", "requiredScopes": ["weather:read"]}]},
            {"name": "ema", "auth": {"mode": "ema", "baseScopes": ["mcp"]},
             "tools": [{"preset": "echo"}, {"preset": "weather", "requiredScopes": ["weather:read"]}]}
        ],
        "oauth": {
            "scopesSupported": ["mcp", "weather:read", "notes:read"],
            "defaultScopes": ["mcp"],
            "accessTokenLifetimeSecs": 300,
            "refreshTokens": {"enabled": true, "rotate": rotate},
            "staticClients": [
                {"clientId": "basic-client", "clientSecret": "basic-secret", "redirectUris": [REDIRECT_URI],
                 "tokenEndpointAuthMethod": "client_secret_basic"},
                {"clientId": "ema-client", "clientSecret": "ema-secret", "tokenEndpointAuthMethod": "client_secret_basic"}
            ]
        },
        "ema": {
            "users": [{"username": "alice", "password": "alice-pw", "email": "alice@example.com"}],
            "clients": [
                {"clientId": "idp-client", "clientSecret": "idp-secret", "redirectUris": [REDIRECT_URI],
                 "tokenEndpointAuthMethod": "client_secret_post", "resourceClientId": "ema-client"}
            ]
        }
    })
}

/// A running testbed, a browser stand-in and an OAuth client storing into a temporary file.
pub struct Bed {
    pub testbed: RunningTestbed,
    /// Plays the browser: never follows redirects.
    pub browser: reqwest::Client,
    pub client: Client,
    pub dir: tempfile::TempDir,
}

pub fn new_client(dir: &tempfile::TempDir, config: ClientConfig) -> Client {
    let store = FileStore::new(dir.path().join("oauth-store.json"));
    // Proofs for DPoP-bound tokens, signed with the keys kept beside the store (so clients over
    // one store share them, as the web app and the CLI do).
    let keys = std::sync::Arc::new(keyhole_server::native::dpop_keys::DpopKeys::beside(&store));
    let http = NativeHttp::new()
        .with_dpop_keys(keys)
        .observed(RecordingObserver::default());
    OAuthClient::new(http, store, SystemClock, OsEntropy, config)
}

impl Bed {
    pub async fn start(config: Value) -> Self {
        Self::with_client(config, ClientConfig::new(REDIRECT_URI)).await
    }

    pub async fn with_client(config: Value, client: ClientConfig) -> Self {
        let config = TestbedConfig::from_json_str(&config.to_string()).expect("valid config");
        let testbed = Testbed::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("testbed starts");
        let dir = tempfile::tempdir().unwrap();
        Self {
            testbed,
            browser: browser(),
            client: new_client(&dir, client),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.testbed.base_url())
    }

    pub fn mcp_url(&self, server: &str) -> String {
        self.testbed.mcp_url(server).unwrap()
    }

    pub fn exchanges(&self) -> Vec<HttpExchange> {
        self.client.http().observer.exchanges()
    }

    /// How many observed exchanges were made for a step (e.g. "token (refresh)").
    pub fn count_step(&self, step: &str) -> usize {
        self.exchanges()
            .iter()
            .filter(|e| e.step.as_deref() == Some(step))
            .count()
    }

    pub fn stored(&self) -> StoreDocument {
        self.client.store().read_document().unwrap()
    }

    /// Login as demo/demo, then decide the consent form; returns the callback URL.
    pub async fn consent(&self, authorization_url: &str, ticked: &[&str], approve: bool) -> String {
        let html = self.browser.get(authorization_url).send().await.unwrap();
        assert_eq!(html.status(), 200, "the login page");
        let request = hidden_request(&html.text().await.unwrap());
        let login = self
            .browser
            .post(self.url("/oauth/login"))
            .form(&[
                ("request", request.as_str()),
                ("username", "demo"),
                ("password", "demo"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303);
        let consent_path = login.headers()[LOCATION].to_str().unwrap().to_owned();
        let page = self
            .browser
            .get(self.url(&consent_path))
            .send()
            .await
            .unwrap();
        let request = hidden_request(&page.text().await.unwrap());
        let mut form = vec![
            ("request", request.as_str()),
            ("action", if approve { "approve" } else { "deny" }),
        ];
        form.extend(ticked.iter().map(|s| ("scope", *s)));
        let decided = self
            .browser
            .post(self.url("/oauth/consent"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), 303);
        decided.headers()[LOCATION].to_str().unwrap().to_owned()
    }

    /// Approves every scope the authorization URL asks for.
    pub async fn approve_all(&self, authorization_url: &str) -> String {
        let scope = query_param(authorization_url, "scope").unwrap_or_default();
        let ticked: Vec<&str> = scope.split_whitespace().collect();
        self.consent(authorization_url, &ticked, true).await
    }

    /// EMA leg 1 in the browser: sign in at the IdP as alice; returns the callback URL.
    pub async fn idp_sign_in(&self, authorization_url: &str) -> String {
        let page = self.browser.get(authorization_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the IdP login page");
        let request = hidden_request(&page.text().await.unwrap());
        let login = self
            .browser
            .post(self.url("/idp/login"))
            .form(&[
                ("request", request.as_str()),
                ("username", "alice"),
                ("password", "alice-pw"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303);
        login.headers()[LOCATION].to_str().unwrap().to_owned()
    }

    /// Registers a server's configuration with the client.
    pub fn add_server(&self, server: ServerConfig) {
        self.client.add_server(server);
    }

    pub async fn control(&self, path: &str, body: Value) -> u16 {
        let response = self
            .browser
            .post(self.url(&format!("/control/api/{path}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    pub fn mcp(&self, server: &str) -> Mcp {
        Mcp {
            http: self.browser.clone(),
            url: self.mcp_url(server),
            session: None,
        }
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn hidden_request(html: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("a request field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Replaces (or adds) one query parameter of a URL.
pub fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    parsed.into()
}

/// One answer from the MCP endpoint.
#[derive(Debug)]
pub struct McpReply {
    pub status: u16,
    pub www_authenticate: Vec<String>,
    pub body: String,
}

impl McpReply {
    /// The challenge this reply carries, if it is a 401/403.
    pub fn challenge(&self, tool: Option<&str>) -> AuthChallenge {
        let lines: Vec<&[u8]> = self.www_authenticate.iter().map(|l| l.as_bytes()).collect();
        let context = ChallengeContext {
            method: Some("tools/call".into()),
            tool_name: tool.map(str::to_owned),
        };
        AuthChallenge::from_response(self.status, &lines, context).expect("an auth challenge")
    }
}

/// A minimal Streamable HTTP caller: initialize once, then send requests with any token.
pub struct Mcp {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
}

impl Mcp {
    async fn post(&mut self, token: Option<&str>, message: Value) -> McpReply {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .json(&message);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        let response = request.send().await.unwrap();
        if let Some(id) = response.headers().get("mcp-session-id") {
            self.session = Some(id.to_str().unwrap().to_owned());
        }
        McpReply {
            status: response.status().as_u16(),
            www_authenticate: response
                .headers()
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn initialize(&mut self, token: Option<&str>) -> McpReply {
        let reply = self
            .post(
                token,
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "oauth-tests", "version": "0"}}}),
            )
            .await;
        if reply.status == 200 {
            self.post(
                token,
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        }
        reply
    }

    pub async fn call(&mut self, token: &str, tool: &str) -> McpReply {
        let arguments = match tool {
            "get-weather" => json!({"city": "Oslo"}),
            _ => json!({"message": "hi"}),
        };
        self.post(
            Some(token),
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": tool, "arguments": arguments}}),
        )
        .await
    }
}
