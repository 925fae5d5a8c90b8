//! Shared fixtures for the testbed's integration tests: a testbed on a random loopback port, an
//! HTTP client that does not follow redirects, the browser legs of the OAuth flows (login and
//! consent form posts), a small MCP client and an SSE reader.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyhole_testbed::{RunningTestbed, Testbed, TestbedConfig};
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
pub const LATEST: &str = "2025-11-25";

/// The configuration most tests use: `main` (OAuth), `ema` (enterprise-managed), `open` (no auth).
pub fn base_config() -> Value {
    json!({
        "servers": [
            {
                "name": "main",
                "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
                "tools": [
                    {"preset": "echo"},
                    {"preset": "add"},
                    {"preset": "weather", "requiredScopes": ["weather:read"]},
                    {"preset": "structured"},
                    {"preset": "longRunning"}
                ],
                "resources": [
                    {"uri": "keyhole://main/readme", "name": "readme", "text": "hello"},
                    {"uri": "keyhole://main/secret", "name": "secret", "text": "s3cret", "requiredScopes": ["notes:read"]}
                ],
                "resourceTemplates": [
                    {"uriTemplate": "keyhole://main/notes/{id}", "name": "note", "text": "Note {id}"}
                ],
                "prompts": [
                    {"name": "greeting", "arguments": [{"name": "name", "required": true}, {"name": "style"}],
                     "template": "Write a {style} greeting for {name}."}
                ]
            },
            {
                "name": "ema",
                "auth": {"mode": "ema", "baseScopes": ["mcp"]},
                "tools": [{"preset": "echo"}, {"preset": "weather", "requiredScopes": ["weather:read"]}]
            },
            {"name": "open", "auth": {"mode": "none"}, "tools": [{"preset": "echo"}]}
        ],
        "oauth": {
            "scopesSupported": ["mcp", "weather:read", "notes:read"],
            "defaultScopes": ["mcp"],
            "accessTokenLifetimeSecs": 120,
            "refreshTokens": {"enabled": true, "rotate": false},
            "staticClients": [
                {"clientId": "basic-client", "clientSecret": "basic-secret", "redirectUris": [REDIRECT_URI],
                 "tokenEndpointAuthMethod": "client_secret_basic"},
                {"clientId": "post-client", "clientSecret": "post-secret", "redirectUris": [REDIRECT_URI],
                 "tokenEndpointAuthMethod": "client_secret_post"},
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

/// A running testbed plus an HTTP client.
pub struct Fixture {
    pub testbed: RunningTestbed,
    pub http: reqwest::Client,
}

/// OAuth client credentials.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Send the secret with HTTP Basic (else in the form).
    pub basic: bool,
}

impl ClientCredentials {
    pub fn public(client_id: &str) -> Self {
        ClientCredentials {
            client_id: client_id.into(),
            client_secret: None,
            basic: false,
        }
    }
}

/// The redirect back to the client after authorization.
#[derive(Debug)]
pub struct Callback {
    pub params: Vec<(String, String)>,
    pub verifier: String,
}

impl Callback {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn pkce_pair() -> (String, String) {
    let verifier = format!("verifier-{}", rand_suffix());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_suffix() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The value of the hidden `request` input of a login or consent page.
pub fn hidden_request_id(html: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("the page has a request field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub fn query_params(location: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(location).expect("absolute Location");
    url.query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

impl Fixture {
    pub async fn start(config: Value) -> Fixture {
        let config = TestbedConfig::from_json_str(&config.to_string()).expect("valid test config");
        let testbed = Testbed::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("testbed starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Fixture { testbed, http }
    }

    pub async fn standard() -> Fixture {
        Self::start(base_config()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.testbed.base_url())
    }

    pub fn mcp_url(&self, server: &str) -> String {
        self.testbed.mcp_url(server).expect("known server")
    }

    /// Registers a public client (token_endpoint_auth_method `none`) dynamically.
    pub async fn register_public_client(&self) -> ClientCredentials {
        let response = self
            .http
            .post(self.url("/oauth/register"))
            .json(&json!({"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none", "client_name": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ClientCredentials::public(body["client_id"].as_str().unwrap())
    }

    /// The authorization URL of the testbed's authorization server.
    pub fn authorization_url(
        &self,
        client_id: &str,
        challenge: &str,
        scope: &str,
        resource: Option<&str>,
    ) -> String {
        let mut url = url::Url::parse(&self.url("/oauth/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "xyz")
            .append_pair("scope", scope);
        if let Some(resource) = resource {
            url.query_pairs_mut().append_pair("resource", resource);
        }
        url.to_string()
    }

    /// Signs in as demo/demo and returns the consent page's request id.
    pub async fn login(&self, authorization_url: &str) -> String {
        let page = self.http.get(authorization_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the login page is shown");
        let html = page.text().await.unwrap();
        assert!(html.contains("data-testid=\"login-username\""));
        let request_id = hidden_request_id(&html);
        let response = self
            .http
            .post(self.url("/oauth/login"))
            .form(&[
                ("request", request_id.as_str()),
                ("username", "demo"),
                ("password", "demo"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let consent_path = response.headers()[LOCATION].to_str().unwrap().to_string();
        let consent = self.http.get(self.url(&consent_path)).send().await.unwrap();
        assert_eq!(consent.status(), 200);
        let html = consent.text().await.unwrap();
        assert!(html.contains("data-testid=\"consent-approve\""));
        hidden_request_id(&html)
    }

    /// Posts the consent form with the given boxes ticked (`approve`) or denies it.
    pub async fn decide(
        &self,
        request_id: &str,
        ticked: &[&str],
        approve: bool,
    ) -> Vec<(String, String)> {
        let mut form = vec![
            ("request", request_id),
            ("action", if approve { "approve" } else { "deny" }),
        ];
        form.extend(ticked.iter().map(|scope| ("scope", *scope)));
        let response = self
            .http
            .post(self.url("/oauth/consent"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        query_params(response.headers()[LOCATION].to_str().unwrap())
    }

    /// The browser legs: authorize, sign in, tick `ticked`, approve.
    pub async fn authorize(
        &self,
        client_id: &str,
        scope: &str,
        resource: Option<&str>,
        ticked: &[&str],
    ) -> Callback {
        let (verifier, challenge) = pkce_pair();
        let url = self.authorization_url(client_id, &challenge, scope, resource);
        let request_id = self.login(&url).await;
        Callback {
            params: self.decide(&request_id, ticked, true).await,
            verifier,
        }
    }

    /// A token-endpoint request with client authentication.
    pub async fn token_request(
        &self,
        endpoint: &str,
        client: &ClientCredentials,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        let mut request = self.http.post(self.url(endpoint));
        match (&client.client_secret, client.basic) {
            (Some(secret), true) => request = request.basic_auth(&client.client_id, Some(secret)),
            (Some(secret), false) => {
                form.push(("client_id", &client.client_id));
                form.push(("client_secret", secret));
            }
            (None, _) => form.push(("client_id", &client.client_id)),
        }
        let response = request.form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn exchange_code(
        &self,
        client: &ClientCredentials,
        callback: &Callback,
    ) -> (u16, Value) {
        let code = callback.get("code").expect("a code");
        self.token_request(
            "/oauth/token",
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &callback.verifier),
            ],
        )
        .await
    }

    /// DCR + authorize (approving everything) + token exchange for `main`.
    pub async fn obtain_tokens(&self, scope: &str) -> (ClientCredentials, Value) {
        let client = self.register_public_client().await;
        let ticked: Vec<&str> = scope.split(' ').collect();
        let callback = self
            .authorize(
                &client.client_id,
                scope,
                Some(&self.mcp_url("main")),
                &ticked,
            )
            .await;
        let (status, tokens) = self.exchange_code(&client, &callback).await;
        assert_eq!(status, 200, "{tokens}");
        (client, tokens)
    }

    pub async fn control_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/control/api/{path}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(self.url(&format!("/control/api/{path}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn mcp(&self, server: &str, token: Option<&str>) -> McpClient {
        McpClient {
            http: self.http.clone(),
            url: self.mcp_url(server),
            token: token.map(str::to_string),
            session_id: None,
            protocol_version: None,
            next_id: 1,
        }
    }
}

/// An HTTP answer from the MCP endpoint; `messages` are the JSON-RPC messages of a JSON or SSE body.
#[derive(Debug)]
pub struct McpReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub messages: Vec<Value>,
}

impl McpReply {
    /// The JSON-RPC response (the last message).
    pub fn response(&self) -> &Value {
        self.messages.last().expect("a JSON-RPC message")
    }

    pub fn www_authenticate(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// A minimal Streamable HTTP client.
pub struct McpClient {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
    pub session_id: Option<String>,
    pub protocol_version: Option<String>,
    next_id: u64,
}

impl McpClient {
    pub fn request_builder(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, &self.url)
            .header("accept", "application/json, text/event-stream");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session_id {
            request = request.header("mcp-session-id", session);
        }
        if let Some(version) = &self.protocol_version {
            request = request.header("mcp-protocol-version", version);
        }
        request
    }

    pub async fn post(&mut self, message: Value) -> McpReply {
        let response = self
            .request_builder(reqwest::Method::POST)
            .json(&message)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let is_sse = headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
        let text = response.text().await.unwrap();
        let messages = if is_sse {
            parse_sse(&text)
                .into_iter()
                .filter_map(|e| serde_json::from_str(&e.data).ok())
                .collect()
        } else {
            serde_json::from_str(&text)
                .map(|v| vec![v])
                .unwrap_or_default()
        };
        McpReply {
            status,
            headers,
            messages,
        }
    }

    pub async fn request(&mut self, method: &str, params: Value) -> McpReply {
        let id = self.next_id;
        self.next_id += 1;
        self.post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await
    }

    /// `initialize` + `notifications/initialized`; keeps the session id and version.
    pub async fn initialize_with(&mut self, version: &str) -> McpReply {
        let reply = self
            .request(
                "initialize",
                json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "tests", "version": "0"}}),
            )
            .await;
        if reply.status == 200 {
            self.session_id = reply
                .headers
                .get("mcp-session-id")
                .map(|v| v.to_str().unwrap().to_string());
            self.protocol_version = reply.response()["result"]["protocolVersion"]
                .as_str()
                .map(str::to_string);
            let ack = self
                .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .await;
            assert_eq!(ack.status, 202);
        }
        reply
    }

    pub async fn initialize(&mut self) -> McpReply {
        self.initialize_with(LATEST).await
    }

    pub async fn call_tool(&mut self, name: &str, arguments: Value) -> McpReply {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// POSTs `message` and reads its answer as it streams (an SSE response).
    pub async fn post_streaming(&self, message: &Value) -> SseReader {
        let response = self
            .request_builder(reqwest::Method::POST)
            .json(message)
            .send()
            .await
            .unwrap();
        SseReader::new(response)
    }

    /// Opens the GET stream, optionally resuming after `last_event_id`.
    pub async fn open_stream(&self, last_event_id: Option<&str>) -> reqwest::Response {
        let mut request = self
            .request_builder(reqwest::Method::GET)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.unwrap()
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub data: String,
}

/// Parses complete events out of an SSE text (comments ignored).
pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    for block in text.replace("\r\n", "\n").split("\n\n") {
        let mut id = None;
        let mut data: Vec<&str> = Vec::new();
        let mut has_field = false;
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("id:") {
                id = Some(value.trim_start().to_string());
                has_field = true;
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.strip_prefix(' ').unwrap_or(value));
                has_field = true;
            }
        }
        if has_field {
            events.push(SseEvent {
                id,
                data: data.join("\n"),
            });
        }
    }
    events
}

/// Reads events from a streaming SSE response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        SseReader {
            response,
            buffer: String::new(),
        }
    }

    /// The next event with data (priming events are skipped), or `None` when the stream ended
    /// or nothing came within `wait`.
    pub async fn next_message(&mut self, wait: Duration) -> Option<(String, Value)> {
        loop {
            let normalized = self.buffer.replace("\r\n", "\n");
            if let Some(end) = normalized.find("\n\n") {
                let block = normalized[..end + 2].to_string();
                self.buffer = normalized[end + 2..].to_string();
                if let Some(event) = parse_sse(&block).into_iter().next()
                    && !event.data.is_empty()
                {
                    let message = serde_json::from_str(&event.data).expect("JSON data");
                    return Some((event.id.unwrap_or_default(), message));
                }
                continue;
            }
            match tokio::time::timeout(wait, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Whether the server ended the stream within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(remaining, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}
