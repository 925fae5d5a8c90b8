//! Tool calls as tasks (MCP 2025-11-25, experimental) in Chromium against
//! `@modelcontextprotocol/server-everything` (npm): its research tool runs only as a task; the
//! page polls it, answers the elicitation the task asks for on the way (a titled enum), shows
//! the result; the Tasks tab lists the task; a second run is cancelled with `tasks/cancel`.

use keyhole_e2e::peers::ServerEverything;
use keyhole_e2e::testbed::connect;
use keyhole_e2e::{Browser, KeyholeProcess};

#[tokio::test]
async fn a_tool_that_runs_as_a_task_is_followed_answered_listed_and_cancelled() {
    let everything = ServerEverything::start();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &everything.url).await;

    browser.click("tab-tools").await;
    browser.click("tool-item-simulate-research-query").await;
    let as_task = browser.wait_testid("tool-as-task").await;
    assert_eq!(
        as_task.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        as_task.prop("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    browser.fill("tool-arg-topic", "python").await;
    browser.click("tool-arg-ambiguous").await;
    browser.click("tool-run").await;

    // The task works, then asks which Python is meant: a form with the server's titles.
    browser
        .wait_attr("tool-task", "data-status", &["working", "input_required"])
        .await;
    browser
        .wait_text("elicitation-message", |t| {
            t.contains("multiple interpretations")
        })
        .await;
    browser
        .wait_selector_text("[data-testid=\"elicit-interpretation\"]", |t| {
            t.contains("Python snake species")
        })
        .await;
    browser.choose("elicit-interpretation", "snake").await;
    browser.click("elicitation-accept").await;
    browser
        .wait_text("tool-result", |t| {
            t.contains("Research Report: python (snake)")
        })
        .await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;

    // The Tasks tab lists it, completed.
    browser.click("tab-tasks").await;
    browser
        .wait_selector("[data-testid=\"task-row\"][data-status=\"completed\"]")
        .await;

    // A second run, cancelled while it works: the server is told and the task says so.
    browser.click("tab-tools").await;
    browser.fill("tool-arg-topic", "rust").await;
    browser.click("tool-arg-ambiguous").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-task", "data-status", &["working"])
        .await;
    browser.click("tool-cancel").await;
    browser
        .wait_text("tool-result", |t| t.contains("tasks/cancel"))
        .await;
    browser.click("tab-tasks").await;
    browser.click("task-refresh").await;
    browser
        .wait_selector("[data-testid=\"task-row\"][data-status=\"cancelled\"]")
        .await;
    browser.close().await;
}
