//! A real headless Chromium driven over WebDriver (ChromeDriver + fantoccini).
//!
//! The flags are the ones that work on this kind of machine as root with no outside network:
//! without the background-networking flags Chromium floods the closed network.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;

/// How long the waiting helpers wait for the page before failing the test.
const WAIT: Duration = Duration::from_secs(20);
/// How often they look again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

fn testid_selector(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

/// What ChromeDriver answers while the page is navigating or re-rendering: worth asking again.
/// (It reports an interrupted command as a bare string, which fantoccini calls non-conforming.)
const TRANSIENT_MESSAGES: [&str; 5] = [
    "aborted by navigation",
    "target frame detached",
    "Execution context was destroyed",
    "Cannot find context with specified id",
    "does not belong to the document",
];

/// Whether `error` comes from the page changing under the command (it is retried), rather than
/// from the driver or the browser failing (which fails the test).
fn is_transient(error: &CmdError) -> bool {
    if error.is_no_such_element() || error.is_stale_element_reference() {
        return true;
    }
    let message = match error {
        CmdError::NotW3C(Value::String(text)) => text.as_str(),
        CmdError::Standard(error) => error.message.as_ref(),
        _ => return false,
    };
    TRANSIENT_MESSAGES.iter().any(|m| message.contains(m))
}

/// ChromeDriver's `goog/cdp/execute`: one Chrome DevTools Protocol command on the current page.
#[derive(Debug)]
struct DevToolsCommand {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One waiting loop: a deadline, and the last transient error to explain a timeout.
struct Poll {
    deadline: Instant,
    last_error: Option<String>,
}

impl Poll {
    fn new() -> Self {
        Self {
            deadline: Instant::now() + WAIT,
            last_error: None,
        }
    }

    /// The result of one attempt: `Some` on success, `None` after a transient error (to try
    /// again); any other WebDriver error fails the test at once.
    fn settle<T>(&mut self, result: Result<T, CmdError>, what: &str) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) if is_transient(&error) => {
                self.last_error = Some(error.to_string());
                None
            }
            Err(error) => panic!("WebDriver failed on {what}: {error}"),
        }
    }

    /// Waits before the next attempt; fails the test with `message` once the deadline passed.
    async fn next(&self, message: impl FnOnce() -> String) {
        if Instant::now() >= self.deadline {
            match &self.last_error {
                Some(error) => panic!("{} (last WebDriver answer: {error})", message()),
                None => panic!("{}", message()),
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A ChromeDriver process and a WebDriver session on it; both end on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn find_program(env_var: &str, candidates: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var) {
        return PathBuf::from(path);
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "none of {candidates:?} exists (set {env_var}); install Chromium and its driver with \
                 `apt-get install chromium chromium-driver`, or run scripts/test.sh which does"
            )
        })
}

impl Browser {
    pub async fn start() -> Self {
        let chromedriver = find_program("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let chromium = find_program(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let port = crate::interop::free_port();
        // Its own process group, which the Chromium it starts joins: dropping the browser (also
        // when a test panics) stops them all, instead of leaving Chromium behind.
        let driver = Command::new(&chromedriver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromedriver.display()));
        let profile = tempfile::tempdir().expect("temp profile dir");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = serde_json::json!({
            "goog:chromeOptions": { "binary": chromium, "args": args }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls connector")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => {
                    panic!("ChromeDriver did not accept a session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
            }
        };
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits for an element by `data-testid`.
    pub async fn wait_testid(&self, testid: &str) -> Element {
        self.wait_selector(&testid_selector(testid)).await
    }

    /// Waits for the first element matching a CSS selector.
    pub async fn wait_selector(&self, selector: &str) -> Element {
        let mut poll = Poll::new();
        loop {
            let found = self.client.find(Locator::Css(selector)).await;
            if let Some(element) = poll.settle(found, selector) {
                return element;
            }
            poll.next(|| format!("no element matching {selector:?} appeared"))
                .await;
        }
    }

    /// Waits until `testid`'s text satisfies `check`, returning the text.
    pub async fn wait_text(&self, testid: &str, check: impl Fn(&str) -> bool) -> String {
        let selector = testid_selector(testid);
        let mut poll = Poll::new();
        let mut seen = None;
        loop {
            let text = async {
                let element = self.client.find(Locator::Css(&selector)).await?;
                element.text().await
            }
            .await;
            if let Some(text) = poll.settle(text, &selector) {
                if check(&text) {
                    return text;
                }
                seen = Some(text);
            }
            poll.next(|| format!("data-testid={testid:?} kept the text {seen:?}"))
                .await;
        }
    }

    /// Clicks the element with `testid` (found again if the page re-rendered it meanwhile).
    pub async fn click(&self, testid: &str) {
        let selector = testid_selector(testid);
        let mut poll = Poll::new();
        loop {
            let clicked = async {
                let element = self.client.find(Locator::Css(&selector)).await?;
                element.click().await
            }
            .await;
            if poll.settle(clicked, &selector).is_some() {
                return;
            }
            poll.next(|| format!("could not click data-testid={testid:?}"))
                .await;
        }
    }

    /// Replaces the value of the input with `testid` by `text`, firing `input` events as typing does.
    pub async fn fill(&self, testid: &str, text: &str) {
        let input = self.wait_testid(testid).await;
        let element = serde_json::to_value(&input).expect("element reference");
        self.client
            .execute(
                "arguments[0].value = ''; \
                 arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
                vec![element],
            )
            .await
            .unwrap_or_else(|e| panic!("could not clear data-testid={testid:?}: {e}"));
        if !text.is_empty() {
            input
                .send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("could not type into data-testid={testid:?}: {e}"));
        }
    }

    /// Picks `value` in the `<select>` with `testid`, firing `change` as a choice by hand does.
    pub async fn choose(&self, testid: &str, value: &str) {
        let select = self.wait_testid(testid).await;
        let element = serde_json::to_value(&select).expect("element reference");
        self.client
            .execute(
                "arguments[0].value = arguments[1]; \
                 arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                vec![element, serde_json::json!(value)],
            )
            .await
            .unwrap_or_else(|e| {
                panic!("could not choose {value:?} in data-testid={testid:?}: {e}")
            });
    }

    /// Waits until `testid`'s attribute `name` equals one of `values`, returning it.
    pub async fn wait_attr(&self, testid: &str, name: &str, values: &[&str]) -> String {
        let selector = testid_selector(testid);
        let mut poll = Poll::new();
        let mut seen = None;
        loop {
            let value = async {
                let element = self.client.find(Locator::Css(&selector)).await?;
                Ok((element.attr(name).await?, element.text().await?))
            }
            .await;
            if let Some((value, text)) = poll.settle(value, &selector) {
                let value = value.unwrap_or_default();
                if values.contains(&value.as_str()) {
                    return value;
                }
                seen = Some((value, text));
            }
            poll.next(|| {
                format!(
                    "data-testid={testid:?} kept {name}={:?}, wanted one of {values:?} (its text: {:?})",
                    seen.as_ref().map(|s| &s.0),
                    seen.as_ref().map(|s| &s.1),
                )
            })
            .await;
        }
    }

    /// How many elements match a CSS selector right now. A page in the middle of navigating is
    /// asked again; any other WebDriver error fails the test (it is never read as "none").
    pub async fn count(&self, selector: &str) -> usize {
        let mut poll = Poll::new();
        loop {
            let all = self.client.find_all(Locator::Css(selector)).await;
            if let Some(all) = poll.settle(all, selector) {
                return all.len();
            }
            poll.next(|| format!("could not count the elements matching {selector:?}"))
                .await;
        }
    }

    /// Waits until nothing matches `selector`.
    pub async fn wait_absent(&self, selector: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let n = self.count(selector).await;
            if n == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{n} elements still match {selector:?}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Asserts that nothing matches `selector` for `during`, checking all along (for things that
    /// must *not* happen, e.g. a modal while the tab is hidden).
    pub async fn assert_absent_for(&self, selector: &str, during: Duration, why: &str) {
        let until = Instant::now() + during;
        while Instant::now() < until {
            let n = self.count(selector).await;
            assert_eq!(n, 0, "{n} elements match {selector:?}: {why}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until at least `at_least` elements match `selector`.
    pub async fn wait_count(&self, selector: &str, at_least: usize) -> usize {
        let deadline = Instant::now() + WAIT;
        loop {
            let n = self.count(selector).await;
            if n >= at_least {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "only {n} elements match {selector:?}, wanted at least {at_least}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until one of `testids` is on the page; returns which.
    pub async fn first_of(&self, testids: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            for testid in testids {
                if self.count(&testid_selector(testid)).await > 0 {
                    return (*testid).to_owned();
                }
            }
            assert!(Instant::now() < deadline, "none of {testids:?} appeared");
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The current value of the input with `testid`.
    pub async fn value(&self, testid: &str) -> String {
        let selector = testid_selector(testid);
        let mut poll = Poll::new();
        loop {
            let value = async {
                let element = self.client.find(Locator::Css(&selector)).await?;
                element.prop("value").await
            }
            .await;
            if let Some(value) = poll.settle(value, &selector) {
                return value.unwrap_or_default();
            }
            poll.next(|| format!("could not read the value of data-testid={testid:?}"))
                .await;
        }
    }

    /// The texts of every element matching `selector`, in document order.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let mut poll = Poll::new();
        loop {
            let texts = async {
                let mut texts = Vec::new();
                for element in self.client.find_all(Locator::Css(selector)).await? {
                    texts.push(element.text().await?);
                }
                Ok(texts)
            }
            .await;
            if let Some(texts) = poll.settle(texts, selector) {
                return texts;
            }
            poll.next(|| format!("could not read the elements matching {selector:?}"))
                .await;
        }
    }

    /// Waits until an element matching `selector` has a text satisfying `check`; returns it.
    pub async fn wait_selector_text(&self, selector: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let texts = self.texts(selector).await;
            if let Some(text) = texts.iter().find(|t| check(t)) {
                return text.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no element matching {selector:?} got the expected text; they read {texts:?}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until a toast of `kind` (`info`, `success`, `warning`, `error`) shows a message
    /// satisfying `check` (its text without the dismiss button); returns the message.
    pub async fn wait_toast(&self, kind: &str, check: impl Fn(&str) -> bool) -> String {
        let selector = format!("[data-testid=\"toast\"][data-kind=\"{kind}\"] > span");
        self.wait_selector_text(&selector, check).await
    }

    /// On the servers view: connects to the MCP server at `url` through the URL field, and
    /// waits until the connection is up.
    pub async fn connect_to(&self, url: &str) {
        self.fill("server-url-input", url).await;
        self.click("connect-button").await;
        self.wait_attr("connection-status", "data-status", &["connected"])
            .await;
    }

    /// Sends a Chrome DevTools Protocol command through ChromeDriver (for what WebDriver has no
    /// command for, e.g. making requests fail as a dead network would).
    pub async fn devtools(&self, command: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(DevToolsCommand { command, params })
            .await
            .unwrap_or_else(|e| panic!("the DevTools command {command} failed: {e}"))
    }

    /// Runs a script in the page (for what a headless browser cannot do for real).
    pub async fn script(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}"))
    }

    /// The path of the page's address.
    pub async fn path(&self) -> String {
        let mut poll = Poll::new();
        loop {
            let url = self.client.current_url().await;
            if let Some(url) = poll.settle(url, "the current URL") {
                return url.path().to_owned();
            }
            poll.next(|| "could not read the page's address".to_owned())
                .await;
        }
    }

    /// Ends the WebDriver session (closing Chromium) before the driver is killed.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: ChromeDriver and the Chromium processes it started.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
