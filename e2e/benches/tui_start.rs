//! Benchmark: how fast `keyhole tui` is ready to use.
//!
//! `cargo bench -p keyhole-e2e --bench tui_start` (set `KEYHOLE_BIN` to measure another build)
//! starts the real binary in a pseudo-terminal, with the built-in demo, and measures the
//! milliseconds from the start of the process to:
//!
//! * **interactive**: the first full screen drawn (the tabs and the servers list: keys are read
//!   from then on);
//! * **demo listed**: the demo's servers in the list (the demo starts beside the screen).
//!
//! Each is repeated and the median printed, with the slowest.

use std::time::{Duration, Instant};

use keyhole_e2e::tui::Tui;

const RUNS: usize = 15;

fn median(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[values.len() - 1])
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut interactive = Vec::new();
    let mut listed = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let tui = Tui::start(&["--demo-port", "0"]);
        tui.wait_until("the first screen", Duration::from_secs(10), |s| {
            s.contains("1 Servers") && s.contains("q quit")
        })
        .await;
        interactive.push(start.elapsed().as_secs_f64() * 1000.0);
        tui.wait_until("the demo's servers", Duration::from_secs(10), |s| {
            s.contains("demo: demo")
        })
        .await;
        listed.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let (interactive, slowest_interactive) = median(interactive);
    let (listed, slowest_listed) = median(listed);
    println!("keyhole tui start, {RUNS} runs (median / slowest):");
    println!("  interactive screen  {interactive:7.1} ms / {slowest_interactive:7.1} ms");
    println!("  demo servers listed {listed:7.1} ms / {slowest_listed:7.1} ms");
}
