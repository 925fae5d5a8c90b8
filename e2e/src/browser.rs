//! A real headless Chromium driven over WebDriver (ChromeDriver + fantoccini).
//!
//! The flags are the ones that work on this kind of machine as root with no outside network
//! (`shared/FACTS.md`): without the background-networking flags Chromium floods the closed network.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    pub async fn start() -> Self {
        let chromedriver = find_program("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let chromium = find_program(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
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
    pub async fn wait_testid(&self, testid: &str) -> fantoccini::elements::Element {
        let selector = format!("[data-testid=\"{testid}\"]");
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&selector))
            .await
            .unwrap_or_else(|e| panic!("no element with data-testid={testid:?} appeared: {e}"))
    }

    /// Waits until `testid`'s text satisfies `check`, returning the text.
    pub async fn wait_text(&self, testid: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self
                .wait_testid(testid)
                .await
                .text()
                .await
                .unwrap_or_default();
            if check(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "data-testid={testid:?} kept the text {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element with `testid`.
    pub async fn click(&self, testid: &str) {
        self.wait_testid(testid)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("could not click data-testid={testid:?}: {e}"));
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

    /// Waits until `testid`'s attribute `name` equals one of `values`, returning it.
    pub async fn wait_attr(&self, testid: &str, name: &str, values: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self
                .wait_testid(testid)
                .await
                .attr(name)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            if values.contains(&value.as_str()) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "data-testid={testid:?} kept {name}={value:?}, wanted one of {values:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many elements match a CSS selector right now.
    pub async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .map(|all| all.len())
            .unwrap_or(0)
    }

    /// Waits until at least `at_least` elements match `selector`.
    pub async fn wait_count(&self, selector: &str, at_least: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let n = self.count(selector).await;
            if n >= at_least {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "only {n} elements match {selector:?}, wanted at least {at_least}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until one of `testids` is on the page; returns which.
    pub async fn first_of(&self, testids: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for testid in testids {
                if self.count(&format!("[data-testid=\"{testid}\"]")).await > 0 {
                    return (*testid).to_owned();
                }
            }
            assert!(Instant::now() < deadline, "none of {testids:?} appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The current value of the input with `testid`.
    pub async fn value(&self, testid: &str) -> String {
        self.wait_testid(testid)
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Waits until an element matching `selector` has a text satisfying `check`; returns it.
    pub async fn wait_selector_text(&self, selector: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(all) = self.client.find_all(Locator::Css(selector)).await {
                for element in all {
                    let text = element.text().await.unwrap_or_default();
                    if check(&text) {
                        return text;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no element matching {selector:?} got the expected text"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        self.client
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
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
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
