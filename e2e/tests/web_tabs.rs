//! The connection's tabs in a real headless Chromium against the real binary and a testbed server
//! that needs no authorization: tools (form, run, result, progress), resources, prompts, and the
//! Protocol and Network views; a large result shows its beginning, the rest when asked.

use keyhole_e2e::testbed::{TestbedProcess, connect};
use keyhole_e2e::{Browser, KeyholeProcess};

const TESTBED: &str = r#"{
  "servers": [{
    "name": "open",
    "title": "Open test server",
    "auth": { "mode": "none" },
    "responseMode": "auto",
    "tools": [
      { "preset": "echo" },
      { "preset": "add" },
      { "preset": "longRunning" },
      { "preset": "structured" },
      { "preset": "bulk" }
    ],
    "resources": [
      { "uri": "keyhole://open/readme", "name": "readme", "title": "Read me", "text": "Hello from the open server." }
    ],
    "resourceTemplates": [
      { "uriTemplate": "keyhole://open/notes/{id}", "name": "note", "text": "This is note {id}." }
    ],
    "prompts": [
      { "name": "greeting", "arguments": [{ "name": "name", "required": true }, { "name": "style" }],
        "template": "Write a {style} greeting for {name}." }
    ]
  }]
}"#;

/// A testbed with one open server; returns it and its MCP URL.
fn open_testbed() -> (TestbedProcess, String) {
    let testbed = TestbedProcess::start(TESTBED);
    let url = testbed.mcp_url("open");
    (testbed, url)
}

#[tokio::test]
async fn tools_resources_prompts_and_logs_against_an_open_server() {
    let (_testbed, url) = open_testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &url).await;

    // Tools: listed, searchable, run echo.
    browser.click("tab-tools").await;
    browser.wait_testid("tool-item-add").await;
    browser.fill("tool-search", "echo").await;
    browser
        .wait_count("[data-testid=\"tool-item-echo\"]", 1)
        .await;
    assert_eq!(browser.count("[data-testid=\"tool-item-add\"]").await, 0);
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "hello keyhole").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    browser
        .wait_text("tool-result", |t| t.contains("hello keyhole"))
        .await;

    // A required argument left empty is reported, not sent.
    browser.fill("tool-search", "").await;
    browser.click("tool-item-add").await;
    browser.fill("tool-arg-a", "2").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-form-problem", |t| t.contains("b is required"))
        .await;
    browser.fill("tool-arg-b", "40").await;
    browser.click("tool-run").await;
    browser.wait_text("tool-result", |t| t.contains("42")).await;

    // A long-running tool reports progress and then its result.
    browser.click("tool-item-long-running").await;
    browser.fill("tool-arg-delayMs", "400").await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-progress", |t| t.contains("of 5"))
        .await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;

    // Resources: read one, then fill a template.
    browser.click("tab-resources").await;
    browser.click("resource-item-readme").await;
    browser
        .wait_text("resource-result", |t| {
            t.contains("Hello from the open server.")
        })
        .await;
    browser.click("resource-template-note").await;
    browser.fill("resource-template-arg-id", "7").await;
    browser.click("resource-template-read").await;
    browser
        .wait_text("resource-result", |t| t.contains("This is note 7."))
        .await;

    // Prompts: argument form and rendered messages.
    browser.click("tab-prompts").await;
    browser.click("prompt-item-greeting").await;
    browser.fill("prompt-arg-name", "Ada").await;
    browser.fill("prompt-arg-style", "formal").await;
    browser.click("prompt-get").await;
    browser
        .wait_text("prompt-result", |t| {
            t.contains("Write a formal greeting for Ada.")
        })
        .await;

    // Protocol: both directions, filterable.
    browser.click("tab-protocol").await;
    browser
        .wait_count(
            "[data-testid=\"protocol-entry\"][data-direction=\"sent\"][data-method=\"tools/call\"]",
            3,
        )
        .await;
    browser
        .wait_count("[data-testid=\"protocol-entry\"][data-direction=\"received\"][data-method=\"tools/call\"]", 3)
        .await;
    browser.fill("protocol-filter", "prompts/get").await;
    browser
        .wait_count(
            "[data-testid=\"protocol-entry\"][data-method=\"prompts/get\"]",
            2,
        )
        .await;
    assert_eq!(
        browser
            .count("[data-testid=\"protocol-entry\"][data-method=\"tools/call\"]")
            .await,
        0
    );

    // Network: the upstream HTTP exchanges, including initialize.
    browser.click("tab-network").await;
    browser
        .wait_count("[data-testid=\"network-entry\"][data-kind=\"mcp\"]", 5)
        .await;

    // Auth: an open server holds no credentials.
    browser.click("tab-auth").await;
    browser
        .wait_text("auth-none", |t| {
            t == "Keyhole holds no credentials for this server (it needed none, or none were obtained yet)."
        })
        .await;
    assert_eq!(browser.count("[data-testid=\"auth-credentials\"]").await, 0);

    // Disconnect returns to the servers view.
    browser.click("disconnect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["disconnected"])
        .await;
    browser.wait_testid("server-url-input").await;
    browser.close().await;
}

#[tokio::test]
async fn tool_errors_and_structured_results_are_rendered() {
    let (_testbed, url) = open_testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &url).await;

    // `isError: true` is shown as an error.
    browser.click("tool-item-long-running").await;
    browser.fill("tool-arg-steps", "100000").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-result", "data-state", &["error"])
        .await;
    browser
        .wait_text("tool-result", |t| t.contains("must be an integer"))
        .await;

    // Structured content is rendered as JSON next to the text.
    browser.click("tool-item-get-forecast").await;
    browser.fill("tool-arg-city", "Paris").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    browser
        .wait_text("tool-result", |t| {
            t.contains("Structured content") && t.contains("temperatureCelsius")
        })
        .await;

    // The raw-JSON fallback starts from the form's values and is what gets sent.
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "from the form").await;
    browser.click("tool-args-json-toggle").await;
    let prefilled = browser
        .wait_testid("tool-args-json")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(prefilled.contains("from the form"), "{prefilled}");
    browser
        .fill("tool-args-json", r#"{"message": "typed as JSON"}"#)
        .await;
    browser.click("tool-run").await;
    browser
        .wait_text("tool-result", |t| t.contains("typed as JSON"))
        .await;
    browser.close().await;
}

/// The characters of the first `selector` in the page (0 when there is none).
async fn text_length(browser: &Browser, selector: &str) -> u64 {
    let script = format!("return document.querySelector({selector:?})?.textContent.length ?? 0;");
    browser.script(&script).await.as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_large_result_shows_its_beginning_and_its_raw_json_once_opened() {
    let (_testbed, url) = open_testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &url).await;
    browser.click("tab-tools").await;
    browser.click("tool-item-bulk").await;
    browser.fill("tool-arg-kib", "200").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;

    let text = "[data-testid=\"tool-result\"] pre[data-content=\"text\"]";
    let shown = text_length(&browser, text).await;
    assert!(
        (60_000..=65_536).contains(&shown),
        "the first 64 KiB, cut after a line: {shown} characters"
    );
    let note = browser
        .wait_text("content-truncated", |t| !t.is_empty())
        .await;
    assert!(note.contains("of 204800 bytes"), "{note}");
    // The raw result is printed only once opened.
    let raw = "[data-testid=\"tool-result\"] details.json pre";
    assert_eq!(browser.count(raw).await, 0, "nothing printed while closed");

    // The rest is in a closed `<details>`; together they are all of it.
    let rest = "[data-testid=\"content-truncated\"] pre";
    assert_eq!(shown + text_length(&browser, rest).await, 200 * 1024);
    assert_eq!(
        browser
            .script("return document.querySelector('[data-testid=\"content-truncated\"]').open;")
            .await,
        serde_json::json!(false)
    );

    browser
        .script(
            "document.querySelector('[data-testid=\"tool-result\"] details.json > summary').click(); \
             return null;",
        )
        .await;
    browser.wait_count(raw, 1).await;
    let raw_shown = text_length(&browser, raw).await;
    assert!(
        (1..=65_536).contains(&raw_shown),
        "the raw JSON's beginning: {raw_shown} characters"
    );
    browser.close().await;
}
