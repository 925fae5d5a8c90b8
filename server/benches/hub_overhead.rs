//! Benchmark: what the backend adds to a round trip, and what an idle session costs.
//!
//! `cargo bench -p keyhole-server --bench hub_overhead` starts the demo testbed and the real router
//! on loopback, sends `ping` straight to the testbed and through `/api/mcp/send` (interleaved, in the
//! same run), and prints both medians; then opens 1,000 sessions and prints the resident memory they
//! added, per session (this includes the testbed's side of each session, which runs in-process).

use std::time::{Duration, Instant};

use keyhole_server::web::hub::{Hub, HubOptions};
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app};
use keyhole_testbed::{Testbed, TestbedConfig};
use serde_json::{Value, json};

const TOKEN: &str = "bench-token";
const ROUNDS: usize = 2_000;
const SESSIONS: usize = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let testbed = Testbed::start(TestbedConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mcp_url = testbed.mcp_url("demo").unwrap();
    let bearer = testbed.mint_access_token("demo", &["mcp"], 3600).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    let hub = Hub::new(HubOptions::default());
    let state = AppState::new(ApiToken::pinned(TOKEN).unwrap(), bound).with_hub(hub.clone());
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    let base = format!("http://{bound}");
    let http = reqwest::Client::new();

    let session = connect(&http, &base, &mcp_url, &bearer).await;
    let direct = DirectSession::open(&http, &mcp_url, &bearer).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    for _ in 0..200 {
        direct.send(&http, &ping).await;
        via_hub(&http, &base, &session["sessionId"], &ping).await;
    }
    let (mut straight, mut proxied) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let started = Instant::now();
        direct.send(&http, &ping).await;
        straight.push(started.elapsed());
        let started = Instant::now();
        via_hub(&http, &base, &session["sessionId"], &ping).await;
        proxied.push(started.elapsed());
    }
    let (straight, proxied) = (median(&mut straight), median(&mut proxied));
    println!(
        "ping straight to the testbed:     median {:.3} ms ({ROUNDS} rounds)",
        ms(straight)
    );
    println!(
        "ping through /api/mcp/send:       median {:.3} ms",
        ms(proxied)
    );
    println!(
        "added by the backend:             {:.3} ms",
        ms(proxied.saturating_sub(straight))
    );

    let before = resident_kib();
    for _ in 0..SESSIONS {
        connect(&http, &base, &mcp_url, &bearer).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident_kib();
    println!(
        "{SESSIONS} idle sessions: +{} KiB resident, {:.1} KiB per session (testbed side included); hub holds {}",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / SESSIONS as f64,
        hub.len()
    );
}

async fn connect(http: &reqwest::Client, base: &str, url: &str, bearer: &str) -> Value {
    let body = json!({
        "config": {"type": "streamable-http", "url": url},
        "authState": {"tokens": {"access_token": bearer, "token_type": "Bearer"}}
    });
    let reply: Value = http
        .post(format!("{base}/api/mcp/connect"))
        .header("X-Keyhole-Token", TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
    reply
}

async fn via_hub(http: &reqwest::Client, base: &str, session: &Value, message: &Value) {
    let reply: Value = http
        .post(format!("{base}/api/mcp/send"))
        .header("X-Keyhole-Token", TOKEN)
        .json(&json!({"sessionId": session, "message": message}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
}

/// A session opened straight against the testbed, as a client without Keyhole would.
struct DirectSession {
    url: String,
    bearer: String,
    session_id: String,
}

impl DirectSession {
    async fn open(http: &reqwest::Client, url: &str, bearer: &str) -> Self {
        let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}});
        let response = http
            .post(url)
            .bearer_auth(bearer)
            .header("Accept", "application/json, text/event-stream")
            .json(&initialize)
            .send()
            .await
            .unwrap();
        let session_id = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = response.bytes().await;
        Self {
            url: url.to_owned(),
            bearer: bearer.to_owned(),
            session_id,
        }
    }

    async fn send(&self, http: &reqwest::Client, message: &Value) {
        let response = http
            .post(&self.url)
            .bearer_auth(&self.bearer)
            .header("Accept", "application/json, text/event-stream")
            .header("Mcp-Session-Id", &self.session_id)
            .header("MCP-Protocol-Version", "2025-11-25")
            .json(message)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let _ = response.bytes().await;
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}
