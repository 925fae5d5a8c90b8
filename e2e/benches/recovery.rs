//! Benchmark: what a silent recovery costs next to a plain call (#25).
//!
//! `cargo bench -p keyhole-e2e --bench recovery` (set `KEYHOLE_BIN` to measure another build):
//!
//! * **browser** (headless Chromium, the demo signed in): the milliseconds from pressing Run on
//!   `echo` to its result in the page, with a good token, and after every access token was made
//!   to expire (401 → refresh → token pushed → the same call again). The first recovery in a page
//!   reads the discovery documents (what every recovery did before they were kept while fresh);
//!   the later ones find them fresh.
//! * **cli** (a testbed whose authorization server approves at once): the wall time of one
//!   `keyhole cli tools call echo` (process start and `initialize` included), with a stored good
//!   token and with an expired one. Each run is a new process, so each recovery reads the
//!   discovery documents.
//!
//! Medians (and the slowest) are printed, with the ratio of recovered to plain.

use std::time::Instant;

use keyhole_e2e::Browser;
use keyhole_e2e::cli::Cli;
use keyhole_e2e::demo::SignedIn;
use keyhole_e2e::testbed::TestbedProcess;
use serde_json::json;

const RUNS: usize = 9;

/// Presses Run on `echo` with `message` and returns the milliseconds until the page shows it.
async fn timed_echo(browser: &Browser, message: &str) -> f64 {
    browser.fill("tool-arg-message", message).await;
    let script = r#"const [text, done] = arguments;
        const result = () => document.querySelector('[data-testid="tool-result"]');
        const shown = () => { const r = result();
            return r && r.dataset.state === 'ok' && r.textContent.includes(text); };
        const start = performance.now();
        new MutationObserver((_, observer) => {
            if (shown()) { observer.disconnect(); performance.mark('bench: result shown'); done(performance.now() - start); }
        }).observe(document.body, { subtree: true, childList: true, characterData: true,
                                    attributes: true });
        performance.mark('bench: Run pressed'); document.querySelector('[data-testid="tool-run"]').click();"#;
    browser
        .client
        .execute_async(script, vec![json!(message)])
        .await
        .expect("the call's result shows")
        .as_f64()
        .unwrap_or(f64::NAN)
}

fn median(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

fn report(what: &str, plain: Vec<f64>, recovered: Vec<f64>) {
    let (plain, plain_worst) = median(plain);
    let (recovered, recovered_worst) = median(recovered);
    println!(
        "{what}: plain {plain:.1} ms (slowest {plain_worst:.1}), recovered {recovered:.1} ms \
         (slowest {recovered_worst:.1}): {:.1}×",
        recovered / plain
    );
}

async fn browser() {
    let demo = SignedIn::start().await;
    demo.browser.click("tab-tools").await;
    demo.browser.click("tool-item-echo").await;
    for warm_up in 0..3 {
        timed_echo(&demo.browser, &format!("warm-up {warm_up}")).await;
    }
    let (mut plain, mut recovered) = (Vec::new(), Vec::new());
    let mut first = f64::NAN;
    for run in 0..=RUNS {
        let good = timed_echo(&demo.browser, &format!("plain {run}")).await;
        demo.control.expire_access_tokens().await;
        let renewed = timed_echo(&demo.browser, &format!("renewed {run}")).await;
        if run == 0 {
            first = renewed;
            continue;
        }
        plain.push(good);
        recovered.push(renewed);
    }
    // Where one more recovery's time goes: the page's requests, in order.
    demo.browser
        .script("performance.clearResourceTimings(); performance.clearMarks(); return null;")
        .await;
    demo.control.expire_access_tokens().await;
    timed_echo(&demo.browser, "traced").await;
    let requests = demo
        .browser
        .script(
            "return [...performance.getEntriesByType('resource'), \
                     ...performance.getEntriesByType('mark')] \
                 .sort((a, b) => a.startTime - b.startTime) \
                 .map(e => e.entryType === 'mark' ? `${e.startTime.toFixed(1)} ${e.name}` : \
                      `${e.startTime.toFixed(1)} +${e.duration.toFixed(1)} ms ${e.initiatorType} \
                       ${new URL(e.name).pathname}`);",
        )
        .await;
    println!("browser: the requests of one recovery (start, duration, path), in time order:");
    let lines = requests.as_array().cloned().unwrap_or_default();
    for line in &lines {
        println!("  {}", line.as_str().unwrap_or_default());
    }
    println!("browser: the page's first recovery (discovery read) {first:.1} ms");
    report(
        "browser, later recoveries (discovery fresh)",
        plain,
        recovered,
    );
    demo.close().await;
}

fn cli() {
    let config = json!({
        "servers": [{"name": "main", "auth": {"mode": "oauth", "baseScopes": ["mcp"]},
                     "tools": [{"preset": "echo"}]}],
        "oauth": {"scopesSupported": ["mcp"], "defaultScopes": ["mcp"],
                  "refreshTokens": {"enabled": true, "rotate": true},
                  "dynamicRegistration": true, "consent": "auto"}
    });
    let bed = TestbedProcess::start(&config.to_string());
    let url = bed.mcp_url("main");
    let cli = Cli::new();
    let call = [
        "--url",
        url.as_str(),
        "--non-interactive",
        "tools",
        "call",
        "echo",
        "--arg",
        "message=hi",
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let run = |expire: bool| {
        runtime.block_on(async {
            if expire {
                reqwest::Client::new()
                    .post(format!("{}/control/api/tokens/expire", bed.base_url()))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
            }
            let start = Instant::now();
            let output = cli.run(&call).await;
            assert_eq!(output.code, 0, "{output:?}");
            start.elapsed().as_secs_f64() * 1000.0
        })
    };
    run(false); // signs in
    let (mut plain, mut recovered) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plain.push(run(false));
        recovered.push(run(true));
    }
    report("cli (one process per call)", plain, recovered);
}

fn main() {
    cli();
    tokio::runtime::Runtime::new().unwrap().block_on(browser());
}
