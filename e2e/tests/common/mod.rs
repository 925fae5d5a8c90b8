//! Shared by the interop tests: Keyhole's web app in a real browser, pointed at a third-party
//! server (no demo), with the few steps every scenario repeats.
#![allow(dead_code)] // each test file uses its own subset

use keyhole_e2e::demo::oauth_store;
use keyhole_e2e::{Browser, KeyholeProcess};

pub struct Web {
    pub keyhole: KeyholeProcess,
    pub browser: Browser,
}

impl Web {
    pub async fn start() -> Self {
        let keyhole = KeyholeProcess::web(&["--no-demo"]);
        let browser = Browser::start().await;
        browser.client.goto(&keyhole.open_url).await.unwrap();
        Self { keyhole, browser }
    }

    /// Types the server's URL and presses Connect.
    pub async fn connect(&self, url: &str) {
        self.browser.fill("server-url-input", url).await;
        self.browser.click("connect-button").await;
    }

    pub async fn wait_connected(&self) {
        self.browser
            .wait_attr("connection-status", "data-status", &["connected"])
            .await;
    }

    /// Selects `tool`, fills `arguments` and presses Run.
    pub async fn run_tool(&self, tool: &str, arguments: &[(&str, &str)]) {
        keyhole_e2e::demo::run_tool(&self.browser, tool, arguments).await;
    }

    /// Waits for a successful result containing `text`.
    pub async fn wait_result(&self, text: &str) {
        self.browser
            .wait_text("tool-result", |t| t.contains(text))
            .await;
        self.browser
            .wait_attr("tool-result", "data-state", &["ok"])
            .await;
    }

    /// The one client registration in the store: its id and token-endpoint method.
    pub async fn only_client(&self) -> (String, String) {
        let store = oauth_store(&self.keyhole).await;
        let clients = store["clients"].as_array().cloned().unwrap_or_default();
        assert_eq!(clients.len(), 1, "one registration: {store}");
        let registration = &clients[0]["registration"];
        (
            registration["clientId"].as_str().unwrap().to_owned(),
            registration["authMethod"].as_str().unwrap().to_owned(),
        )
    }

    /// Everything the Network tab holds, hidden details included: the backend session's log,
    /// which a new connection would not have.
    pub async fn network_log_text(&self) -> String {
        self.browser.click("tab-network").await;
        self.browser.wait_testid("network-log").await;
        let text = self
            .browser
            .script("return document.querySelector('[data-testid=\"network-log\"]').textContent;")
            .await;
        self.browser.click("tab-tools").await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The text of the page the browser shows (an authorization server's error page, say).
    pub async fn page_text(&self) -> String {
        self.browser
            .script("return document.body ? document.body.innerText : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

/// The Python fixture's login form, in the browser.
pub async fn python_login(browser: &Browser) {
    browser.fill("login-username", "demo").await;
    browser.fill("login-password", "demo").await;
    browser.click("login-submit").await;
}
