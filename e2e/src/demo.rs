//! The built-in demo as the tests use it: a signed-in browser session on the demo server, the
//! demo authorization server's login and consent pages, and the testbed's control API (to expire
//! tokens, arm challenges, and see which tokens were used on which upstream session).

use keyhole_shared::messages::{self, SilentRecovery};
use reqwest::Client;
use serde_json::{Value, json};

use crate::{Browser, KeyholeProcess, TEST_API_TOKEN};

/// The testbed's loopback control API.
pub struct TestbedControl {
    base: String,
    http: Client,
}

impl TestbedControl {
    /// The control API of the testbed serving `mcp_url`.
    pub fn for_server(mcp_url: &str) -> Self {
        let parsed = reqwest::Url::parse(mcp_url).expect("an MCP URL");
        Self {
            base: parsed.origin().ascii_serialization(),
            http: Client::new(),
        }
    }

    /// The testbed's origin (`http://127.0.0.1:<port>`), which its issuer URLs start with.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/control/api{path}", self.base))
            .send()
            .await
            .expect("the control API answers");
        response.json().await.expect("JSON from the control API")
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/control/api{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the control API answers");
        let status = response.status();
        let reply: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "control API {path}: {status} {reply}");
        reply
    }

    /// Makes every access token expire now (refresh tokens keep working).
    pub async fn expire_access_tokens(&self) {
        self.post("/tokens/expire", json!({})).await;
    }

    /// Every token issued so far (each token request that succeeded adds one or two).
    pub async fn token_count(&self) -> usize {
        self.get("/tokens").await.as_array().map_or(0, Vec::len)
    }

    /// Every request that reached the token endpoint (refused ones too): `grantType`, `status`
    /// (null while in flight), `startedAtMs`, `finishedAtMs`.
    pub async fn token_requests(&self) -> Vec<Value> {
        self.get("/token-requests")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The grant types of the token requests so far, in order.
    pub async fn token_grant_types(&self) -> Vec<String> {
        self.token_requests()
            .await
            .iter()
            .map(|r| r["grantType"].as_str().unwrap_or("(none)").to_owned())
            .collect()
    }

    /// Holds every token request `ms` milliseconds before answering it (0: not at all).
    pub async fn delay_token_requests(&self, ms: u64) {
        self.post("/token-delay", json!({ "ms": ms })).await;
    }

    /// The next `count` `tools/call` requests to `server` answer with a challenge of `status`
    /// (naming `scopes`, for a 403).
    pub async fn fail_next_calls(
        &self,
        server: &str,
        status: u16,
        count: u32,
        scopes: Option<&[&str]>,
    ) {
        let mut body = json!({ "status": status, "count": count, "method": "tools/call" });
        if let Some(scopes) = scopes {
            body["scopes"] = json!(scopes);
        }
        self.post(&format!("/servers/{server}/fail-next"), body)
            .await;
    }

    /// The live upstream sessions of `server`, with the tokens used on each.
    pub async fn sessions(&self, server: &str) -> Vec<Value> {
        self.get("/sessions")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s["server"] == server)
            .collect()
    }

    /// The next GET stream request of `server` answers with this challenge.
    pub async fn ambient_challenge(&self, server: &str, status: u16, scopes: Option<&[&str]>) {
        let mut body = json!({ "status": status });
        if let Some(scopes) = scopes {
            body["scopes"] = json!(scopes);
        }
        self.post(&format!("/servers/{server}/ambient-challenge"), body)
            .await;
    }
}

/// Signs in at the enterprise IdP of a testbed (`alice`), for an enterprise-managed server, and
/// waits until Keyhole is connected; returns the upstream session of `server`.
pub async fn sign_in_at_the_idp(
    browser: &Browser,
    control: &TestbedControl,
    server: &str,
) -> Value {
    browser.fill("login-username", "alice").await;
    browser.fill("login-password", "alice").await;
    browser.click("login-submit").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let sessions = control.sessions(server).await;
    assert_eq!(sessions.len(), 1, "one upstream session: {sessions:?}");
    sessions[0].clone()
}

/// Lets every access token expire and runs `echo`: the call goes through after a silent
/// re-mint through the enterprise IdP, which a toast reports.
pub async fn echo_re_mints_after_expiry(browser: &Browser, control: &TestbedControl) {
    control.expire_access_tokens().await;
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "re-minted").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("re-minted"))
        .await;
    let reminted = messages::recovered_silently(SilentRecovery::EmaRemint);
    browser.wait_toast("success", |t| t == reminted).await;
}

/// The demo servers' MCP URLs, in catalog order (`demo`, then `enterprise`).
/// The MCP URL of the demo's server named `name`.
pub async fn demo_server_url(keyhole: &KeyholeProcess, name: &str) -> String {
    let suffix = format!("/servers/{name}/mcp");
    demo_server_urls(keyhole)
        .await
        .into_iter()
        .find(|url| url.ends_with(&suffix))
        .unwrap_or_else(|| panic!("the demo has no server {name:?}"))
}

pub async fn demo_server_urls(keyhole: &KeyholeProcess) -> Vec<String> {
    let config = api_get(keyhole, "/api/config").await;
    config["demoServers"]
        .as_array()
        .expect("demo servers")
        .iter()
        .filter_map(|s| s["url"].as_str().map(str::to_owned))
        .collect()
}

/// At the demo's authorization server: logs in as `demo` when the login page shows (a browser
/// already logged in goes straight to consent); returns once the consent page is there.
pub async fn log_in_if_asked(browser: &Browser) {
    if browser
        .first_of(&["login-username", "consent-approve"])
        .await
        == "login-username"
    {
        browser.fill("login-username", "demo").await;
        browser.fill("login-password", "demo").await;
        browser.click("login-submit").await;
    }
    browser.wait_testid("consent-approve").await;
}
/// On the demo authorization server: signs in as demo/demo when asked, unticks `refuse`, and
/// approves (or denies when `approve` is false).
pub async fn answer_consent(browser: &Browser, refuse: &[&str], approve: bool) {
    log_in_if_asked(browser).await;
    for scope in refuse {
        browser.click(&format!("consent-scope-{scope}")).await;
    }
    browser
        .click(if approve {
            "consent-approve"
        } else {
            "consent-deny"
        })
        .await;
}

/// On the Tools tab: selects `tool`, fills `arguments` and presses Run.
pub async fn run_tool(browser: &Browser, tool: &str, arguments: &[(&str, &str)]) {
    browser.click("tab-tools").await;
    browser.click(&format!("tool-item-{tool}")).await;
    for (name, value) in arguments {
        browser.fill(&format!("tool-arg-{name}"), value).await;
    }
    browser.click("tool-run").await;
}

/// The OAuth store the backend shares with the CLI (`GET /api/store/oauth`).
pub async fn oauth_store(keyhole: &KeyholeProcess) -> Value {
    api_get(keyhole, "/api/store/oauth").await
}

/// Replaces the OAuth store the backend shares with the CLI (`PUT /api/store/oauth`; `document`
/// carries the `revision` it was read at).
pub async fn replace_oauth_store(keyhole: &KeyholeProcess, document: &Value) -> Value {
    let response = Client::new()
        .put(format!("{}/api/store/oauth", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .json(document)
        .send()
        .await
        .expect("the backend answers");
    let status = response.status();
    let reply: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        status.is_success(),
        "PUT /api/store/oauth: {status} {reply}"
    );
    reply
}

/// A JSON answer of the backend's API (with the per-launch API token).
async fn api_get(keyhole: &KeyholeProcess, path: &str) -> Value {
    let text = api_get_text(keyhole, path).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} answers JSON: {e}"))
}

/// `GET` of one of the backend's routes with the API token; the body as text.
pub async fn api_get_text(keyhole: &KeyholeProcess, path: &str) -> String {
    Client::new()
        .get(format!("{}{path}", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .expect("the backend answers")
        .text()
        .await
        .unwrap_or_else(|e| panic!("{path} answers: {e}"))
}

/// Waits until the Tools tab (its own wasm chunk) lists the server's tools: the workspace has
/// settled, and its `tools/list` went out with the token of the moment (a test that expires tokens
/// before would see that request recover too).
pub async fn wait_tools_listed(browser: &Browser) {
    browser.wait_selector("[data-testid^=\"tool-item-\"]").await;
}

/// Keyhole with the demo, and a browser signed in to the demo server.
pub struct SignedIn {
    pub keyhole: KeyholeProcess,
    pub browser: Browser,
    pub server_url: String,
    pub control: TestbedControl,
}

impl SignedIn {
    /// Signed in to the demo server (MCP 2025-11-25).
    pub async fn start() -> Self {
        Self::start_on("demo").await
    }

    /// Signed in to the demo's server named `server` (`demo`, or `modern` for MCP 2026-07-28).
    pub async fn start_on(server: &str) -> Self {
        let keyhole = KeyholeProcess::web(&[]);
        let server_url = demo_server_url(&keyhole, server).await;
        let browser = Browser::start().await;
        browser.client.goto(&keyhole.open_url).await.unwrap();
        browser.fill("server-url-input", &server_url).await;
        browser.click("connect-button").await;
        answer_consent(&browser, &[], true).await;
        browser
            .wait_attr("connection-status", "data-status", &["connected"])
            .await;
        wait_tools_listed(&browser).await;
        let control = TestbedControl::for_server(&server_url);
        Self {
            keyhole,
            browser,
            server_url,
            control,
        }
    }

    /// Loads Keyhole's page (as opening it again would).
    pub async fn open_keyhole(&self) {
        self.browser
            .client
            .goto(&self.keyhole.open_url)
            .await
            .expect("Keyhole's page loads");
    }

    /// The one upstream session of the demo server and the tokens used on it.
    pub async fn only_demo_session(&self) -> (String, Vec<String>) {
        let sessions = self.control.sessions("demo").await;
        assert_eq!(sessions.len(), 1, "one upstream session: {sessions:?}");
        let tokens = sessions[0]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        (
            sessions[0]["sessionId"].as_str().unwrap().to_owned(),
            tokens,
        )
    }

    /// Waits for the step-up modal, authorizes, consents at the demo's authorization server and
    /// waits until Keyhole's page is connected again.
    pub async fn authorize_step_up(&self) {
        self.browser.wait_testid("step-up-modal").await;
        self.browser.click("step-up-authorize").await;
        answer_consent(&self.browser, &[], true).await;
        self.browser
            .wait_attr("connection-status", "data-status", &["connected"])
            .await;
    }

    /// Selects `tool`, fills `arguments` and presses Run.
    pub async fn run_tool(&self, tool: &str, arguments: &[(&str, &str)]) {
        run_tool(&self.browser, tool, arguments).await;
    }

    /// The Network tab's list of this session's exchanges as `(kind, method, url, status)`, in
    /// order (the tab must be open).
    pub async fn network_entries(&self) -> Vec<(String, String, String, String)> {
        network_entries(&self.browser).await
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

/// The Network tab's list of exchanges as `(kind, method, url, status)`, in order.
pub async fn network_entries(browser: &Browser) -> Vec<(String, String, String, String)> {
    browser.wait_testid("network-log").await;
    let rows = browser
        .script(
            "return [...document.querySelectorAll(\
               '[data-testid=\"network-log\"] > [data-testid=\"network-entry\"]')]\
             .map(e => [e.dataset.kind, e.querySelector('.method').textContent, \
                        e.querySelector('.url').textContent, e.dataset.status]);",
        )
        .await;
    rows.as_array()
        .expect("an array of rows")
        .iter()
        .map(|row| {
            let field = |i: usize| row[i].as_str().unwrap_or_default().to_owned();
            (field(0), field(1), field(2), field(3))
        })
        .collect()
}
