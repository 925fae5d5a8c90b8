//! Benchmark: how fast the page is ready, in headless Chromium.
//!
//! `cargo bench -p keyhole-e2e --bench page_load` (set `KEYHOLE_BIN` to measure another build)
//! starts the real binary with the demo and measures, in the page, the milliseconds from
//! navigation start to an interactive form (the URL field present and the app mounted; see
//! [`ready_ms`] for the two ways it is read):
//!
//! * **cold**: a fresh browser profile, nothing cached;
//! * **warm**: the same page opened again in that browser (and once more from `about:blank`,
//!   without the teardown of the open app);
//! * **redirect return**: the demo sign-in, from the click on the consent page's Approve (the
//!   authorization server redirects back to Keyhole) to the connection's status `connected`, the
//!   page having loaded the app again on the way back.
//!
//! Each is repeated and the median printed, with the slowest. For the warm load from a blank page
//! it also prints where the time went, stage by stage: the marks `boot.js` and the app set
//! (`keyhole-boot`, `-compiled`, `-app`, `-mounted`, `-form`) and the wasm's last byte.

use std::time::Instant;

use keyhole_e2e::demo::{demo_server_url, log_in_if_asked};
use keyhole_e2e::{Browser, KeyholeProcess};

const RUNS: usize = 7;

/// Milliseconds from navigation start to the interactive form, two ways: the app's own
/// `keyhole-form` performance mark (set once the form is in the page; builds before it had none),
/// and when a script polling from the end of the navigation first saw the URL field (what older
/// runs of this bench reported: never earlier than the page's load event and WebDriver's answer).
async fn ready_ms(browser: &Browser) -> (Option<f64>, f64) {
    let script = r#"const done = arguments[arguments.length - 1];
        const check = () => document.querySelector('[data-testid="server-url-input"]')
            ? done(performance.now()) : setTimeout(check, 1);
        check();"#;
    let seen = browser
        .client
        .execute_async(script, vec![])
        .await
        .expect("the page becomes ready")
        .as_f64()
        .unwrap_or(f64::NAN);
    let mark = browser
        .script(
            "const m = performance.getEntriesByName('keyhole-form', 'mark'); \
             return m.length ? m[0].startTime : null;",
        )
        .await
        .as_f64();
    (mark, seen)
}

/// Where a load spent its time: milliseconds from navigation start to each stage, read from the
/// page's performance timeline (`NaN` for a stage the build does not mark).
const STAGES: [&str; 8] = [
    "the page's response",
    "its first file asked for",
    "boot.js running (`keyhole-boot`)",
    "the wasm's last byte",
    "the wasm compiled (`keyhole-compiled`)",
    "the app's code running (`keyhole-app`)",
    "the app mounted (`keyhole-mounted`)",
    "the form (`keyhole-form`)",
];

async fn stages(browser: &Browser) -> Vec<f64> {
    let script = "const n = performance.getEntriesByType('navigation')[0]; \
        const files = performance.getEntriesByType('resource'); \
        const file = (name) => files.find((e) => e.name.endsWith(name)); \
        const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? NaN; \
        return [n.responseEnd, Math.min(...files.map((e) => e.startTime)), mark('keyhole-boot'), \
            file('keyhole_bg.wasm')?.responseEnd ?? NaN, mark('keyhole-compiled'), \
            mark('keyhole-app'), mark('keyhole-mounted'), mark('keyhole-form')];";
    let value = browser.script(script).await;
    let values = value.as_array().cloned().unwrap_or_default();
    values
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn report_stages(runs: &[Vec<f64>]) {
    println!("warm load from a blank page, stage by stage (medians):");
    for (index, stage) in STAGES.iter().enumerate() {
        let mut times: Vec<f64> = runs
            .iter()
            .filter_map(|run| run.get(index).copied())
            .collect();
        times.sort_by(|a, b| a.total_cmp(b));
        if let Some(median) = times.get(times.len() / 2) {
            println!("  {stage}: {median:.0} ms");
        }
    }
}

fn report(what: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what}: median {:.0} ms, slowest {:.0} ms ({} runs)",
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
}

#[tokio::main]
async fn main() {
    let (mut cold, mut warm, mut back) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cold_mark, mut warm_mark, mut blank_mark) = (Vec::new(), Vec::new(), Vec::new());
    let mut blank_stages = Vec::new();
    for _ in 0..RUNS {
        // A Keyhole of its own each time, so no token is held and the sign-in really redirects.
        let keyhole = KeyholeProcess::web(&[]);
        let browser = Browser::start().await;
        browser.client.goto(&keyhole.open_url).await.unwrap();
        let (mark, seen) = ready_ms(&browser).await;
        cold.push(seen);
        cold_mark.extend(mark);
        browser.client.goto(&keyhole.open_url).await.unwrap();
        let (mark, seen) = ready_ms(&browser).await;
        warm.push(seen);
        warm_mark.extend(mark);
        // Warm again, from a blank page: without the teardown of the app that was open.
        browser.client.goto("about:blank").await.unwrap();
        browser.client.goto(&keyhole.open_url).await.unwrap();
        let (mark, _) = ready_ms(&browser).await;
        blank_mark.extend(mark);
        blank_stages.push(stages(&browser).await);

        // The sign-in to the demo: leave for the consent page, then time the way back.
        let server_url = demo_server_url(&keyhole, "demo").await;
        browser.fill("server-url-input", &server_url).await;
        browser.click("connect-button").await;
        log_in_if_asked(&browser).await;
        let clicked = Instant::now();
        browser.click("consent-approve").await;
        browser
            .wait_attr("connection-status", "data-status", &["connected"])
            .await;
        back.push(clicked.elapsed().as_secs_f64() * 1000.0);
        browser.close().await;
    }
    if !cold_mark.is_empty() {
        report("cold load to interactive form (the app's mark)", cold_mark);
        report("warm load to interactive form (the app's mark)", warm_mark);
        report(
            "warm load from a blank page to interactive form (the app's mark)",
            blank_mark,
        );
    }
    report_stages(&blank_stages);
    report(
        "cold load to interactive form (seen by polling after the load)",
        cold,
    );
    report(
        "warm load to interactive form (seen by polling after the load)",
        warm,
    );
    report("return from the sign-in redirect to connected", back);
}
