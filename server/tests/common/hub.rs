//! A Keyhole backend (the real router, on a real loopback port) next to a real testbed, with a
//! client that speaks `/api/mcp/*` as the web app does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use keyhole_server::web::hub::{Hub, HubOptions};
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app};
use keyhole_testbed::{RunningTestbed, Testbed, TestbedConfig};
use serde_json::{Value, json};

pub const API_TOKEN: &str = "hub-test-token";

pub struct HubFixture {
    pub testbed: RunningTestbed,
    pub base: String,
    pub hub: Arc<Hub>,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for HubFixture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn quick_options() -> HubOptions {
    HubOptions {
        request_timeout: Duration::from_secs(5),
        ..HubOptions::default()
    }
}

impl HubFixture {
    /// The demo testbed and a backend with test-sized timeouts.
    pub async fn start() -> Self {
        Self::with(TestbedConfig::demo(), quick_options()).await
    }

    pub async fn with(config: TestbedConfig, options: HubOptions) -> Self {
        let testbed = Testbed::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let (base, hub, server) = start_backend(options, None).await;
        let http = reqwest::Client::new();
        Self {
            testbed,
            base,
            hub,
            http,
            server,
        }
    }

    pub fn demo_url(&self) -> String {
        self.testbed.mcp_url("demo").unwrap()
    }

    pub fn token(&self, scopes: &[&str]) -> String {
        self.testbed.mint_access_token("demo", scopes, 300).unwrap()
    }

    /// POSTs to one of our routes with the API token; returns the status and the JSON body.
    pub async fn api(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-Keyhole-Token", API_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs one of our routes with the API token.
    pub async fn api_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("X-Keyhole-Token", API_TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn connect(&self, url: &str, token: Option<&str>) -> Value {
        let mut body = json!({ "config": { "type": "streamable-http", "url": url } });
        if let Some(token) = token {
            body["authState"] =
                json!({ "tokens": { "access_token": token, "token_type": "Bearer" } });
        }
        let (status, reply) = self.api("/api/mcp/connect", body).await;
        assert_eq!(status, 200, "{reply}");
        reply
    }

    /// Connects to the demo server with a token carrying `scopes`; returns the session id.
    pub async fn connected(&self, scopes: &[&str]) -> String {
        let reply = self
            .connect(&self.demo_url(), Some(&self.token(scopes)))
            .await;
        assert_eq!(reply["ok"], true, "{reply}");
        reply["sessionId"].as_str().unwrap().to_owned()
    }

    pub async fn send(&self, session: &str, message: Value) -> Value {
        let (status, reply) = self
            .api(
                "/api/mcp/send",
                json!({ "sessionId": session, "message": message }),
            )
            .await;
        assert_eq!(status, 200, "{reply}");
        reply
    }

    pub async fn call_tool(&self, session: &str, id: u64, name: &str, arguments: Value) -> Value {
        let message = json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": name, "arguments": arguments }
        });
        self.send(session, message).await
    }

    /// On `session`: a call of `get-weather` refused with 403 (step-up) and answered once a
    /// token with `weather:read` is pushed, then — all tokens expired — a call of `echo` refused
    /// with 401 and answered once a new token is pushed. `mint` makes a token with the scopes
    /// given. Nothing reconnects: the Keyhole session is the same throughout.
    pub async fn recovers_step_up_then_expiry(
        &self,
        session: &str,
        mint: impl Fn(&[&str]) -> String,
    ) {
        let refused = self
            .call_tool(session, 3, "get-weather", json!({"city": "Oslo"}))
            .await;
        assert_eq!(refused["kind"], "auth_challenge", "{refused}");
        assert_eq!(refused["authChallenge"]["raw"]["httpStatus"], 403);
        self.push_token(session, &mint(&["mcp", "weather:read"]))
            .await;
        let called = self
            .call_tool(session, 4, "get-weather", json!({"city": "Oslo"}))
            .await;
        assert_eq!(called["ok"], true, "{called}");

        self.control("tokens/expire", json!({})).await;
        let expired = self
            .call_tool(session, 5, "echo", json!({"message": "x"}))
            .await;
        assert_eq!(
            expired["authChallenge"]["raw"]["httpStatus"], 401,
            "{expired}"
        );
        self.push_token(session, &mint(&["mcp"])).await;
        let called = self
            .call_tool(session, 6, "echo", json!({"message": "again"}))
            .await;
        assert_eq!(
            called["response"]["result"]["content"][0]["text"], "again",
            "{called}"
        );
    }

    pub async fn push_token(&self, session: &str, token: &str) {
        let body = json!({
            "sessionId": session,
            "authState": { "tokens": { "access_token": token, "token_type": "Bearer" } }
        });
        let (status, reply) = self.api("/api/mcp/auth-state", body).await;
        assert_eq!((status, &reply["ok"]), (200, &json!(true)), "{reply}");
    }

    /// `GET /control/api/<path>` of the testbed.
    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/control/api/{path}", self.testbed.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until the GET-stream challenge armed on `server` has been served to a client.
    pub async fn wait_until_get_challenge_served(&self, server: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let state = self.control_get("state").await;
            let pending = state["servers"]
                .as_array()
                .and_then(|all| all.iter().find(|s| s["name"] == server))
                .map(|s| s["pendingGetChallenge"].clone())
                .expect("the server is in the testbed's state");
            if pending.is_null() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the armed GET challenge was never served: {pending}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/control/api/{path}", self.testbed.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Opens `/api/mcp/events` and returns a stream of `(event name, data)`.
    pub async fn events(&self, session: &str) -> EventStream {
        let response = self
            .http
            .get(format!("{}/api/mcp/events?sessionId={session}", self.base))
            .header("X-Keyhole-Token", API_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        EventStream {
            inner: Box::pin(sse_stream::SseByteStream::new(response.bytes_stream())),
        }
    }
}

type SseItems = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<sse_stream::Sse, sse_stream::Error>> + Send>,
>;

pub struct EventStream {
    inner: SseItems,
}

impl EventStream {
    /// The next event named `name` within `within`, skipping others; `None` only when none came
    /// in time. A broken or ended stream, or an event that is not JSON, fails the test: none of
    /// them may pass for "no event".
    pub async fn next_named(&mut self, name: &str, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_elapsed) => return None,
                Ok(None) => panic!("the event stream ended while waiting for {name:?}"),
                Ok(Some(Err(error))) => panic!("the event stream broke: {error}"),
                Ok(Some(Ok(event))) => event,
            };
            if event.event.as_deref() == Some(name) {
                let data = event.data.as_deref().unwrap_or_default();
                return Some(
                    serde_json::from_str(data).unwrap_or_else(|e| {
                        panic!("the {name:?} event is not JSON ({e}): {data:?}")
                    }),
                );
            }
        }
    }
}

/// The real router on a loopback port.
pub async fn start_backend(
    options: HubOptions,
    store: Option<Arc<keyhole_server::native::oauth_store::FileStore>>,
) -> (String, Arc<Hub>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound: SocketAddr = listener.local_addr().unwrap();
    let hub = Hub::new(options);
    let mut state =
        AppState::new(ApiToken::pinned(API_TOKEN).unwrap(), bound).with_hub(hub.clone());
    if let Some(store) = store {
        state = state.with_store(store);
    }
    let server = tokio::spawn(async move {
        keyhole_server::web::http1_server::serve(listener, app(state), std::future::pending())
            .await
            .unwrap();
    });
    (format!("http://{bound}"), hub, server)
}
