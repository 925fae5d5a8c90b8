//! MCP Apps in Chromium against real app servers from npm — the official examples
//! `@modelcontextprotocol/server-basic-vanillajs` and `server-basic-react` (a framework app), each
//! with the tool `get-time` and the same app in two builds: the tool is marked as
//! having an app; running it renders the app in a frame from Keyhole's sandbox origin; the app
//! initialises, receives the result, calls the server through Keyhole, and sends a message; every
//! bridge message is in the Protocol view as app traffic; and script inside the app reaches
//! neither Keyhole's page, its storage, nor cookies.

use std::time::{Duration, Instant};

use keyhole_e2e::peers::AppServer;
use keyhole_e2e::{Browser, KeyholeProcess};
use serde_json::Value;

/// Runs `script` in the app's document (inside the sandbox proxy's frame), then comes back.
async fn in_app(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .enter_frame(0)
        .await
        .expect("the proxy frame");
    browser
        .client
        .enter_frame(0)
        .await
        .expect("the app's frame");
    let value = browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("the script failed in the app: {e}"));
    browser.client.enter_parent_frame().await.unwrap();
    browser.client.enter_parent_frame().await.unwrap();
    value
}

/// The app's "Server Time", once it shows something other than `previous`.
async fn server_time_after(browser: &Browser, previous: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = in_app(
            browser,
            "const e = document.querySelector('p code'); return e ? e.textContent : '';",
        )
        .await;
        let shown = shown.as_str().unwrap_or_default().to_owned();
        if !shown.is_empty() && shown != previous && shown != "Loading..." {
            return shown;
        }
        assert!(Instant::now() < deadline, "the app still shows {shown:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Presses the app's button that says `label`.
async fn press(browser: &Browser, label: &str) {
    let pressed = in_app(
        browser,
        &format!(
            "const b = [...document.querySelectorAll('button')].find(b => b.textContent.includes('{label}'));
             if (b) b.click(); return !!b;"
        ),
    )
    .await;
    assert_eq!(pressed, Value::Bool(true), "no button {label:?} in the app");
}

#[tokio::test]
async fn the_vanilla_js_example_renders_and_calls_the_server_through_keyhole() {
    walk_the_example("server-basic-vanillajs").await;
}

#[tokio::test]
async fn the_react_example_renders_and_calls_the_server_through_keyhole() {
    walk_the_example("server-basic-react").await;
}

async fn walk_the_example(package: &str) {
    let server = AppServer::start(package);
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &server.url).await;
    browser.click("connect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.click("tool-item-get-time").await;
    browser
        .wait_selector(".runner [data-testid=tool-hint][data-hint=app]")
        .await;

    browser.click("tool-run").await;
    browser
        .wait_attr("app-frame", "data-state", &["running"])
        .await;
    // The result reached the app (tool-input, then tool-result, after it initialised).
    let first = server_time_after(&browser, "").await;
    assert!(first.contains('T') && first.contains(':'), "{first}");

    // The app's own call goes to the server through Keyhole, and its answer back to the app.
    press(&browser, "Get Server Time").await;
    let second = server_time_after(&browser, &first).await;
    assert_ne!(first, second);

    // A message from the app is shown.
    press(&browser, "Send Message").await;
    browser
        .wait_text("app-note", |t| t.contains("This is message text."))
        .await;

    // The app's script cannot reach the page, its storage or its cookies.
    let reach = in_app(
        &browser,
        "const tried = {};
         const attempt = (name, f) => { try { tried[name] = String(f()); } catch (e) { tried[name] = 'blocked'; } };
         attempt('pageStorage', () => window.top.sessionStorage.length);
         attempt('pageDocument', () => window.top.document.title);
         attempt('pageLocation', () => window.top.location.href);
         attempt('ownStorage', () => window.localStorage.length);
         attempt('cookie', () => document.cookie);
         return tried;",
    )
    .await;
    for name in [
        "pageStorage",
        "pageDocument",
        "pageLocation",
        "ownStorage",
        "cookie",
    ] {
        assert_eq!(reach[name], "blocked", "{name}: {reach}");
    }

    // Every bridge message is in the Protocol view, marked as app traffic.
    browser.click("tab-protocol").await;
    browser
        .wait_selector(
            "[data-testid=protocol-entry][data-direction=from-app][data-method=\"ui/initialize\"]",
        )
        .await;
    browser
        .wait_selector(
            "[data-testid=protocol-entry][data-direction=from-app][data-method=\"tools/call\"]",
        )
        .await;
    browser
        .wait_selector("[data-testid=protocol-entry][data-direction=to-app][data-method=\"ui/notifications/tool-result\"]")
        .await;
    browser.close().await;
}
