//! What a server asks of the client, answered in Chromium against
//! `@modelcontextprotocol/server-everything` (npm), whose tools exist only for a client that
//! announces the capability: roots the user set are listed by the server after editing, a sampling
//! request is answered with the user's reply, an elicitation form is accepted once and declined
//! once, and a URL elicitation shows its URL. Then logs, completions, Cancel and Ping, and a
//! resource subscription on the demo. The requests queue in a panel with a badge while they wait.

use keyhole_e2e::demo::run_tool;
use keyhole_e2e::peers::ServerEverything;
use keyhole_e2e::testbed::connect;
use keyhole_e2e::{Browser, KeyholeProcess};

/// A 1×1 PNG.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn result_contains(browser: &Browser, text: &str) -> String {
    browser.wait_text("tool-result", |t| t.contains(text)).await
}

#[tokio::test]
async fn server_everything_asks_for_roots_sampling_and_elicitation_and_the_page_answers() {
    let everything = ServerEverything::start();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &everything.url).await;

    // Roots: set in the panel, then listed by the server.
    browser.click("client-panel-toggle").await;
    browser
        .fill("root-uri-input", "file:///tmp/keyhole-project")
        .await;
    browser.fill("root-name-input", "project").await;
    browser.click("root-add").await;
    browser
        .wait_text("root-item", |t| t.contains("file:///tmp/keyhole-project"))
        .await;
    run_tool(&browser, "get-roots-list", &[]).await;
    result_contains(&browser, "file:///tmp/keyhole-project").await;

    // Sampling: the request waits in the panel (with the badge) until the user replies.
    run_tool(
        &browser,
        "trigger-sampling-request",
        &[("prompt", "a haiku")],
    )
    .await;
    browser.wait_text("requests-badge", |t| t == "1").await;
    browser
        .wait_text("sampling-message", |t| t.contains("a haiku"))
        .await;
    browser
        .wait_text("sampling-system", |t| t.contains("helpful test server"))
        .await;
    browser
        .fill("sampling-reply", "Autumn moonlight, a worm digs silently")
        .await;
    browser.click("sampling-send").await;
    result_contains(&browser, "Autumn moonlight, a worm digs silently").await;
    browser
        .wait_absent("[data-testid=\"requests-badge\"]")
        .await;

    // … or with an image file the user picks (a file of another kind is refused first).
    run_tool(
        &browser,
        "trigger-sampling-request",
        &[("prompt", "a picture")],
    )
    .await;
    browser.choose("sampling-kind", "image").await;
    browser.click("sampling-send").await;
    browser
        .wait_text("sampling-problem", |t| t.contains("Choose an image"))
        .await;
    let picture = std::env::temp_dir().join(format!("keyhole-e2e-{}.png", std::process::id()));
    std::fs::write(&picture, TINY_PNG).unwrap();
    browser
        .wait_testid("sampling-file")
        .await
        .send_keys(picture.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_text("sampling-picked", |t| t.starts_with("image/png"))
        .await;
    browser.click("sampling-send").await;
    let answered = result_contains(&browser, "\"type\": \"image\"").await;
    assert!(
        answered.contains("\"mimeType\": \"image/png\""),
        "{answered}"
    );
    assert!(answered.contains(&base64_of(TINY_PNG)), "{answered}");
    let _ = std::fs::remove_file(picture);

    // A request left unanswered is answered for the user once its time is up.
    browser.choose("requests-timeout", "2").await;
    run_tool(
        &browser,
        "trigger-sampling-request",
        &[("prompt", "nobody answers")],
    )
    .await;
    browser
        .wait_text("request-deadline", |t| {
            t.contains("answered for you in 0:0")
        })
        .await;
    result_contains(&browser, "did not answer within 2 seconds").await;
    browser
        .wait_absent("[data-testid=\"requests-badge\"]")
        .await;
    browser.choose("requests-timeout", "300").await;

    // Elicitation: a form from the requested schema, accepted with a name…
    run_tool(&browser, "trigger-elicitation-request", &[]).await;
    browser
        .wait_text("elicitation-message", |t| {
            t.contains("Please provide inputs")
        })
        .await;
    browser.click("elicitation-accept").await;
    browser
        .wait_text("elicitation-problem", |t| t.contains("required"))
        .await;
    browser.fill("elicit-name", "Ada Lovelace").await;
    browser.click("elicitation-accept").await;
    result_contains(&browser, "Name: Ada Lovelace").await;

    // … and declined.
    run_tool(&browser, "trigger-elicitation-request", &[]).await;
    browser.click("elicitation-decline").await;
    result_contains(&browser, "declined").await;

    // URL mode: the URL is shown before anything opens it.
    run_tool(
        &browser,
        "trigger-url-elicitation",
        &[("url", "https://example.com/consent")],
    )
    .await;
    browser
        .wait_text("elicitation-url", |t| t == "https://example.com/consent")
        .await;
    browser.click("elicitation-decline").await;
    result_contains(&browser, "declined to open the URL").await;
    browser.close().await;
}

/// The suggestions offered for `field` (its datalist's options: hidden, so read by script).
async fn wait_suggestion(browser: &Browser, field: &str, wanted: &str) {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid=\"completion-{field}\"] option')].map(o => o.value)"
    );
    for _ in 0..100 {
        let offered = browser.script(&script).await;
        if offered
            .as_array()
            .is_some_and(|values| values.iter().any(|v| v == wanted))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{wanted:?} was never suggested for {field}");
}

#[tokio::test]
async fn logs_completions_cancel_and_ping_against_server_everything() {
    let everything = ServerEverything::start();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &everything.url).await;

    browser.click("ping-button").await;
    browser
        .wait_text("ping-result", |t| t.starts_with("answered in"))
        .await;

    // Logs: the server's messages, narrowed by level; the server's own level set.
    run_tool(&browser, "toggle-simulated-logging", &[]).await;
    browser.click("tab-logs").await;
    browser.wait_count("[data-testid=\"log-entry\"]", 1).await;
    browser.choose("log-filter-level", "emergency").await;
    browser
        .wait_absent("[data-testid=\"log-entry\"]:not([data-level=\"emergency\"])")
        .await;
    browser.choose("log-level-select", "error").await;
    browser
        .wait_text("log-level-status", |t| t.contains("error and above"))
        .await;

    // Completions: the department first, then a name given the department.
    browser.click("tab-prompts").await;
    browser.click("prompt-item-completable-prompt").await;
    browser.fill("prompt-arg-department", "Eng").await;
    wait_suggestion(&browser, "department", "Engineering").await;
    browser.fill("prompt-arg-department", "Engineering").await;
    browser.fill("prompt-arg-name", "A").await;
    wait_suggestion(&browser, "name", "Alice").await;

    // Cancel: the call stops at once and the server is told.
    run_tool(
        &browser,
        "trigger-long-running-operation",
        &[("duration", "30"), ("steps", "30")],
    )
    .await;
    browser.wait_testid("tool-progress").await;
    browser.click("tool-cancel").await;
    browser
        .wait_text("tool-result", |t| t.contains("You cancelled the call"))
        .await;
    browser.click("tab-protocol").await;
    browser
        .wait_selector("[data-testid=\"protocol-entry\"][data-method=\"notifications/cancelled\"]")
        .await;
    browser.close().await;
}

#[tokio::test]
async fn a_subscribed_resource_is_marked_when_the_server_updates_it_and_read_again() {
    let signed_in = keyhole_e2e::demo::SignedIn::start().await;
    let browser = &signed_in.browser;
    browser.click("tab-resources").await;
    browser.click("resource-item-readme").await;
    browser
        .wait_text("resource-result", |t| !t.is_empty())
        .await;
    browser.click("resource-subscribe").await;
    browser
        .wait_text("resource-subscribe", |t| t == "Unsubscribe")
        .await;
    let touched = signed_in
        .control
        .post(
            "/servers/demo/resource-updated",
            serde_json::json!({"uri": "keyhole://demo/readme"}),
        )
        .await;
    assert_eq!(touched["delivered"], 1, "{touched}");
    browser.wait_testid("resource-updated").await;
    browser.click("resource-reread").await;
    browser
        .wait_absent("[data-testid=\"resource-updated\"]")
        .await;
    signed_in.close().await;
}

#[tokio::test]
async fn the_demo_asks_for_sampling_elicitation_and_roots_and_the_panel_answers() {
    let signed_in = keyhole_e2e::demo::SignedIn::start().await;
    let browser = &signed_in.browser;

    signed_in
        .run_tool("ask-client", &[("prompt", "a haiku about keys")])
        .await;
    browser
        .wait_text("sampling-message", |t| t.contains("a haiku about keys"))
        .await;
    browser
        .fill("sampling-reply", "Brass teeth in the lock")
        .await;
    browser.click("sampling-send").await;
    result_contains(browser, "Brass teeth in the lock").await;

    browser.click("tab-tools").await;
    browser.choose("tool-arg-kind", "elicitation").await;
    browser.click("tool-run").await;
    browser.fill("elicit-name", "Ada").await;
    browser.click("elicitation-accept").await;
    result_contains(browser, "\"name\":\"Ada\"").await;

    browser.click("client-panel-toggle").await;
    browser.fill("root-uri-input", "file:///srv/project").await;
    browser.click("root-add").await;
    browser.choose("tool-arg-kind", "roots").await;
    browser.click("tool-run").await;
    result_contains(browser, "file:///srv/project").await;
    signed_in.close().await;
}

#[tokio::test]
async fn the_demo_completes_by_context_runs_a_task_and_stops_a_cancelled_call() {
    let signed_in = keyhole_e2e::demo::SignedIn::start().await;
    let browser = &signed_in.browser;

    // Completions: the city suggestions depend on the country typed in the other field.
    browser.click("tab-resources").await;
    browser.click("resource-template-city").await;
    browser.fill("resource-template-arg-country", "Ja").await;
    wait_suggestion(browser, "country", "Japan").await;
    browser.fill("resource-template-arg-country", "Japan").await;
    browser.fill("resource-template-arg-city", "K").await;
    wait_suggestion(browser, "city", "Kyoto").await;
    browser.click("resource-template-read").await;
    browser
        .wait_text("resource-result", |t| t.contains("K is a city in Japan"))
        .await;

    // The long-running tool as a task: created, polled, its result fetched.
    browser.click("tab-tools").await;
    browser.click("tool-item-long-running").await;
    browser.click("tool-as-task").await;
    browser.fill("tool-arg-steps", "3").await;
    browser.fill("tool-arg-delayMs", "100").await;
    browser.click("tool-run").await;
    result_contains(browser, "Completed 3 steps").await;
    browser.click("tab-protocol").await;
    for method in ["tasks/get", "tasks/result"] {
        browser
            .wait_selector(&format!(
                "[data-testid=\"protocol-entry\"][data-method=\"{method}\"]"
            ))
            .await;
    }
    browser.click("tab-tools").await;

    // A plain call cancelled while it runs: the server is told and stops.
    browser.click("tool-as-task").await;
    browser.fill("tool-arg-steps", "50").await;
    browser.click("tool-run").await;
    browser.wait_testid("tool-progress").await;
    browser.click("tool-cancel").await;
    browser
        .wait_text("tool-result", |t| t.contains("You cancelled the call"))
        .await;
    browser.click("tab-logs").await;
    browser
        .wait_selector_text("[data-testid=\"log-entry\"]", |t| {
            t.contains("long-running: cancelled after")
        })
        .await;
    signed_in.close().await;
}
