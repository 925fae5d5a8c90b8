//! Benchmark: a 5 MiB tool result in the web app, in headless Chromium (#25: large results render
//! without freezing the page).
//!
//! `cargo bench -p keyhole-e2e --bench large_result` starts the real binary (no demo) and a testbed
//! whose open server has the `bulk` tool, connects the page to it, and runs `bulk` for 5,120 KiB
//! of text several times. For each run it measures, in the page, the milliseconds from pressing
//! Run to the frame after the result is shown, and the longest the page could not answer input
//! meanwhile (the longest task Chromium reports to a `longtask` observer; 0 when no task took
//! 50 ms). Then the same for opening the Protocol tab, whose log then holds every one of those
//! results. Medians and the slowest are printed.

use keyhole_e2e::testbed::{TestbedProcess, connect};
use keyhole_e2e::{Browser, KeyholeProcess};
use serde_json::{Value, json};

const RUNS: usize = 5;
const KIB: u64 = 5 * 1024;

/// Observes long tasks, runs `start` (script that begins the work), and finishes with
/// `[elapsed, longest task]` once `finished()` holds, a frame later.
fn timed(start: &str, finished: &str) -> String {
    format!(
        r#"const done = arguments[arguments.length - 1];
           let longest = 0;
           const longTasks = new PerformanceObserver(list => {{
               for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
           }});
           longTasks.observe({{ type: 'longtask' }});
           let pending = false;
           const finished = () => {{ {finished} }};
           const began = performance.now();
           const check = () => {{
               if (!finished()) return false;
               watcher.disconnect();
               requestAnimationFrame(() => setTimeout(() => {{
                   for (const entry of longTasks.takeRecords())
                       longest = Math.max(longest, entry.duration);
                   longTasks.disconnect();
                   done([performance.now() - began, longest]);
               }}, 0));
               return true;
           }};
           const watcher = new MutationObserver(check);
           watcher.observe(document.body, {{ subtree: true, childList: true, attributes: true }});
           {start}"#
    )
}

async fn measure(browser: &Browser, script: &str) -> (f64, f64) {
    let answer: Value = browser
        .client
        .execute_async(script, vec![])
        .await
        .expect("the measured work finishes");
    let number = |i: usize| answer[i].as_f64().unwrap_or(f64::NAN);
    (number(0), number(1))
}

fn report(what: &str, times: &[(f64, f64)]) {
    let summary = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        (values[values.len() / 2], values[values.len() - 1])
    };
    let (median, slowest) = summary(times.iter().map(|t| t.0).collect());
    let (blocked, most_blocked) = summary(times.iter().map(|t| t.1).collect());
    println!(
        "{what}: median {median:.0} ms (slowest {slowest:.0}); longest task median \
         {blocked:.0} ms (worst {most_blocked:.0})"
    );
}

#[tokio::main]
async fn main() {
    let config = json!({
        "servers": [{ "name": "open", "auth": { "mode": "none" },
                      "tools": [{ "preset": "bulk" }] }]
    });
    let bed = TestbedProcess::start(&config.to_string());
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &bed.mcp_url("open")).await;
    browser.click("tab-tools").await;
    browser.click("tool-item-bulk").await;
    browser.fill("tool-arg-kib", &KIB.to_string()).await;

    // The result is `ok` once it has gone through `pending` (the previous run's is `ok` too).
    let run = timed(
        "document.querySelector('[data-testid=\"tool-run\"]').click();",
        "const state = document.querySelector('[data-testid=\"tool-result\"]')?.dataset.state;
         if (state === 'pending') pending = true;
         return pending && state === 'ok';",
    );
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        runs.push(measure(&browser, &run).await);
    }
    report(&format!("a {KIB} KiB result, Run → shown"), &runs);

    let open_protocol = timed(
        "document.querySelector('[data-testid=\"tab-protocol\"]').click();",
        "return document.querySelectorAll('[data-testid=\"protocol-entry\"]').length > 0;",
    );
    let opened = measure(&browser, &open_protocol).await;
    report(
        &format!("the Protocol tab with {RUNS} such results, opened"),
        &[opened],
    );
    browser.close().await;
}
