//! The web app on the demo's MCP 2026-07-28 server (stateless: no initialize, no session): the
//! connection negotiates the newest version and says so, tools run, an expired token is renewed
//! silently, and a step-up through the consent page comes back to the same tool and arguments on
//! the same Keyhole connection. The version selector pins an older revision.

use keyhole_e2e::demo::{SignedIn, answer_consent};
use keyhole_shared::messages::{self, SilentRecovery};

async fn shows_protocol(demo: &SignedIn, version: &str, era: &str) {
    demo.browser
        .wait_text("protocol-version", |t| t.contains(version))
        .await;
    demo.browser
        .wait_attr("protocol-version", "data-era", &[era])
        .await;
}

#[tokio::test]
async fn tools_run_and_an_expired_token_is_renewed_silently_over_the_stateless_protocol() {
    let demo = SignedIn::start_on("modern").await;
    shows_protocol(&demo, "2026-07-28", "stateless").await;

    demo.run_tool("echo", &[("message", "no session needed")])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("no session needed"))
        .await;

    demo.control.expire_access_tokens().await;
    demo.run_tool("echo", &[("message", "after expiry")]).await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("after expiry"))
        .await;
    let renewed = messages::recovered_silently(SilentRecovery::Refresh);
    demo.browser.wait_toast("success", |t| t == renewed).await;
    assert_eq!(demo.browser.path().await, "/", "no redirect happened");
    assert_eq!(
        demo.control.token_grant_types().await,
        ["authorization_code", "refresh_token"],
        "one refresh grant ran"
    );

    // Every request announced the stateless revision; none opened a session.
    demo.browser.click("tab-network").await;
    demo.browser
        .wait_count(
            "[data-testid=\"network-entry\"][data-kind=\"mcp\"][data-status=\"401\"]",
            1,
        )
        .await;
    // Each exchange shows what the stateless revision adds, as sent: the headers and `_meta`.
    let sent = demo
        .browser
        .script("return document.querySelector('[data-testid=\"network-log\"]').textContent")
        .await;
    let sent = sent.as_str().unwrap_or_default();
    for added in [
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "io.modelcontextprotocol/protocolVersion",
        "io.modelcontextprotocol/clientCapabilities",
    ] {
        assert!(sent.contains(added), "the Network tab shows {added}");
    }
    let entries = demo.network_entries().await;
    assert!(
        entries
            .iter()
            .all(|(kind, method, _, _)| kind != "mcp" || method == "POST"),
        "no GET stream and no DELETE on a stateless server: {entries:?}"
    );
    demo.close().await;
}

#[tokio::test]
async fn a_step_up_comes_back_to_the_same_tool_and_arguments_on_the_same_connection() {
    let demo = SignedIn::start_on("modern").await;
    // The Network tab lists the exchanges of this Keyhole connection: kept across the redirect
    // only if the page comes back to the same connection.
    demo.browser.click("tab-network").await;
    demo.run_tool("get-weather", &[("city", "Lisbon")]).await;
    demo.browser.wait_testid("step-up-modal").await;
    demo.browser
        .wait_count("[data-testid=\"network-entry\"][data-status=\"403\"]", 1)
        .await;
    let before = demo.network_entries().await;
    demo.browser
        .wait_attr("step-up-scope-weather:read", "data-new", &["true"])
        .await;
    demo.browser.click("step-up-authorize").await;
    answer_consent(&demo.browser, &[], true).await;

    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    shows_protocol(&demo, "2026-07-28", "stateless").await;
    demo.browser
        .wait_attr("tool-item-get-weather", "class", &["item selected"])
        .await;
    assert_eq!(demo.browser.value("tool-arg-city").await, "Lisbon");
    let back = messages::not_sent_again("get-weather");
    demo.browser
        .wait_text("tool-rerun-notice", |t| t.contains(&back))
        .await;
    demo.browser.click("tool-run-again").await;
    demo.browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("Lisbon"))
        .await;
    demo.browser.click("tab-network").await;
    demo.browser
        .wait_count("[data-testid=\"network-entry\"]", before.len() + 1)
        .await;
    let after = demo.network_entries().await;
    assert_eq!(
        after[..before.len()],
        before[..],
        "the page came back to the Keyhole connection it left"
    );
    demo.close().await;
}

#[tokio::test]
async fn the_version_selector_pins_an_older_revision() {
    let demo = SignedIn::start().await;
    shows_protocol(&demo, "2025-11-25", "session").await;
    demo.browser
        .wait_text("transport", |t| t == "Streamable HTTP")
        .await;
    demo.browser
        .wait_text("server-target", |t| t == demo.server_url)
        .await;
    demo.browser.click("disconnect-button").await;
    demo.browser
        .fill("server-url-input", &demo.server_url)
        .await;
    demo.browser
        .choose("protocol-version-select", "2025-06-18")
        .await;
    demo.browser.click("connect-button").await;
    demo.browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    shows_protocol(&demo, "2025-06-18", "session").await;
    demo.close().await;
}

#[tokio::test]
async fn a_tool_that_needs_input_asks_in_the_server_requests_panel_then_finishes() {
    let demo = SignedIn::start_on("modern").await;
    demo.run_tool("ask-name", &[]).await;
    // The input request waits in the same panel as a 2025 server's requests, marked as input
    // for the call.
    demo.browser
        .wait_text("elicitation-message", |t| t.contains("What is your name?"))
        .await;
    demo.browser
        .wait_text("request-purpose", |t| t == "input for tools/call")
        .await;
    demo.browser.wait_text("requests-badge", |t| t == "1").await;
    // The form checks what the server's schema requires before anything is sent.
    demo.browser.click("elicitation-accept").await;
    demo.browser.wait_testid("elicitation-problem").await;
    demo.browser.fill("elicit-name", "Ada").await;
    demo.browser.click("elicitation-accept").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("Hello, Ada!"))
        .await;
    demo.browser
        .wait_absent("[data-testid=\"server-request\"]")
        .await;

    // Declining is an answer too; the server says what it makes of it.
    demo.browser.click("tool-run").await;
    demo.browser.click("elicitation-decline").await;
    demo.browser
        .wait_text("tool-result", |t| t.contains("You declined"))
        .await;
    demo.close().await;
}
