//! MCP Apps in Chromium against real app servers from npm — the official examples
//! `@modelcontextprotocol/server-basic-vanillajs` and `server-basic-react` (a framework app), each
//! with the tool `get-time` and the same app in two builds: the tool is marked as
//! having an app; running it renders the app in a frame from Keyhole's sandbox origin; the app
//! initialises, receives the result, calls the server through Keyhole, and sends a message; every
//! bridge message is in the Protocol view as app traffic; and script inside the app reaches
//! neither Keyhole's page, its storage, nor cookies. And the demo's own app (the testbed's
//! `weatherApp` preset): its call after the token expired is refreshed silently and answered, and
//! its call that needs a scope asks the user for the step-up, like a call of the user's own, and
//! the return from that sign-in reopens the same app. An app that misbehaves is refused what
//! it may not have, cut off when it floods, and reported.

use std::time::{Duration, Instant};

use keyhole_e2e::demo::{SignedIn, answer_consent, run_tool};
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
    // The app said its size: the frame took it (it starts at 320 px).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let height = browser
            .script("return document.querySelector('[data-testid=app-frame]').style.height;")
            .await;
        let height = height.as_str().unwrap_or_default().to_owned();
        if height.ends_with("px") && height != "320px" {
            break;
        }
        assert!(Instant::now() < deadline, "the frame is still {height:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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

/// The text of the element `id` in the app.
async fn app_text(browser: &Browser, id: &str) -> String {
    in_app(
        browser,
        &format!("const e = document.getElementById('{id}'); return e ? e.textContent : '';"),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Waits until the app's element `id` says something `check` accepts.
async fn wait_app_text(browser: &Browser, id: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = app_text(browser, id).await;
        if check(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the app's #{id} still says {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_demos_app_recovers_an_expired_token_and_asks_for_a_step_up() {
    let demo = SignedIn::start().await;
    run_tool(&demo.browser, "weather-app", &[("city", "Lisbon")]).await;
    demo.browser
        .wait_attr("app-frame", "data-state", &["running"])
        .await;
    wait_app_text(&demo.browser, "report", |t| t.contains("Lisbon")).await;

    // The token expires; the app's next call is refreshed silently and answered.
    demo.control.expire_access_tokens().await;
    press(&demo.browser, "Ask again").await;
    wait_app_text(&demo.browser, "report", |t| {
        t.contains("Lisbon") && !t.contains("asking")
    })
    .await;
    assert!(
        demo.control
            .token_grant_types()
            .await
            .iter()
            .any(|g| g == "refresh_token"),
        "the expired token was refreshed"
    );
    assert_eq!(demo.browser.count("[data-testid=step-up-modal]").await, 0);

    // A call that needs weather:read asks the user, as the user's own call would; cancelled,
    // the app is told.
    press(&demo.browser, "Detailed forecast").await;
    demo.browser.wait_testid("step-up-modal").await;
    demo.browser
        .wait_attr("step-up-scope-weather:read", "data-new", &["true"])
        .await;
    demo.browser.click("step-up-cancel").await;
    wait_app_text(&demo.browser, "report", |t| t.starts_with("error")).await;

    // Authorized this time: the sign-in leaves the page, and the return reopens the same app
    // (same tool, arguments and result), where the call now has its scope.
    press(&demo.browser, "Detailed forecast").await;
    demo.browser.click("step-up-authorize").await;
    answer_consent(&demo.browser, &[], true).await;
    demo.browser
        .wait_attr("app-frame", "data-state", &["running"])
        .await;
    assert_eq!(app_text(&demo.browser, "city").await, "Lisbon");
    wait_app_text(&demo.browser, "report", |t| t.contains("Lisbon")).await;
    press(&demo.browser, "Detailed forecast").await;
    wait_app_text(&demo.browser, "report", |t| {
        t.contains("Lisbon") && !t.starts_with("error") && !t.contains("asking")
    })
    .await;
    assert_eq!(demo.browser.count("[data-testid=step-up-modal]").await, 0);
    demo.browser.close().await;
}

/// An app that misbehaves (the testbed's `unrulyApp`): what a host does not give apps is refused
/// with an error, a flood is cut off and reported, and the page goes on working.
#[tokio::test]
async fn a_misbehaving_app_is_refused_cut_off_and_reported() {
    let testbed = keyhole_e2e::testbed::TestbedProcess::start(
        r#"{ "servers": [ { "name": "open", "auth": { "mode": "none" },
             "tools": [ { "preset": "unrulyApp" }, { "preset": "echo" } ] } ] }"#,
    );
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser
        .fill("server-url-input", &testbed.mcp_url("open"))
        .await;
    browser.click("connect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.click("tool-item-unruly-app").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("app-frame", "data-state", &["running"])
        .await;
    wait_app_text(&browser, "refused", |t| t == "error -32601").await;
    browser
        .wait_text("app-problem", |t| t.contains("more than 5000 messages"))
        .await;
    // The page still works: another tool runs.
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "still here").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("still here"))
        .await;
    browser.close().await;
}
