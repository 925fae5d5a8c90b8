//! Benchmark: what a hostile `WWW-Authenticate` costs to parse and normalise.
//!
//! `cargo bench -p keyhole-shared --bench www_authenticate` parses a 1 MB header and a
//! 40,000-parameter challenge (about 380 KB, the size that took 7–8 s when the duplicate lint was
//! quadratic) with [`parse`] and with [`AuthChallenge::from_response`] (what the backend runs for
//! every 401/403), plus a typical 150-byte challenge for scale, and prints the median and the
//! slowest run of each. The backend parses on its async threads, so each figure is time during which
//! one worker serves nothing else.

use std::hint::black_box;
use std::time::{Duration, Instant};

use keyhole_shared::ChallengeContext;
use keyhole_shared::challenge::AuthChallenge;
use keyhole_shared::www_authenticate::parse;

const RUNS: usize = 200;

fn main() {
    let typical = br#"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#.to_vec();
    let one_megabyte = format!(
        "Bearer error=\"invalid_token\", scope=\"{}\"",
        "a ".repeat(512 * 1024)
    )
    .into_bytes();
    let params: Vec<String> = (0..40_000).map(|i| format!("p{i}=\"v\"")).collect();
    let forty_thousand = format!("Bearer {}", params.join(", ")).into_bytes();
    let duplicated: Vec<&str> = vec!["scope=\"a\""; 40_000];
    let forty_thousand_duplicates = format!("Bearer {}", duplicated.join(", ")).into_bytes();

    println!(
        "{:<44} {:>10} {:>12} {:>12}",
        "input", "bytes", "median", "slowest"
    );
    for (name, header) in [
        ("typical challenge", &typical),
        ("1 MB header", &one_megabyte),
        ("40,000 distinct parameters", &forty_thousand),
        ("40,000 repeated parameters", &forty_thousand_duplicates),
    ] {
        let lines = [header.as_slice()];
        report(&format!("parse: {name}"), header.len(), || {
            black_box(parse(black_box(&lines)));
        });
        report(&format!("normalise: {name}"), header.len(), || {
            black_box(AuthChallenge::from_response(
                401,
                black_box(&lines),
                ChallengeContext::default(),
            ))
            .ok();
        });
    }
}

fn report(name: &str, bytes: usize, mut run: impl FnMut()) {
    run(); // warm-up
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{name:<44} {bytes:>10} {:>12?} {:>12?}",
        times[RUNS / 2],
        times[RUNS - 1]
    );
}
