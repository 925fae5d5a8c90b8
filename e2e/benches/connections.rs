//! Benchmark: what a thousand connections cost the real binary, and how it answers them all at once (#25).
//!
//! `cargo bench -p keyhole-e2e --bench connections` (set `KEYHOLE_BIN` to measure another build;
//! `CONNECTIONS=N` for another count, `LOAD_ROUNDS=N` for another number of load rounds: 0 leaves
//! a heap profiler's peak at the idle connections) starts `keyhole --no-demo` and a testbed in processes of
//! their own, so the resident memory read from `/proc` is Keyhole's alone, then:
//!
//! * **memory:** opens the connections as pages do — `/api/mcp/connect` (upstream: `initialize`,
//!   the server's event stream) and `/api/mcp/events` held open — and prints the resident memory
//!   they added, per connection; then ends them all (`/api/mcp/disconnect`, event streams and
//!   the client's connections closed) and prints what is left above the baseline;
//! * **load:** sends one `ping` through every connection at once, several rounds, and prints the
//!   p50 and p99 latency, the pings per second and how many replies were lost;
//! * **the hop**, first: one `ping` at a time, straight to the testbed and through
//!   `/api/mcp/send`, interleaved, and what Keyhole adds (the issue's side-by-side setting: the
//!   real processes; `server/benches/hub_overhead.rs` runs everything in one process), once with
//!   answers in JSON and once with answers as event streams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyhole_e2e::testbed::TestbedProcess;
use keyhole_e2e::{KeyholeProcess, TEST_API_TOKEN};
use serde_json::{Value, json};

/// `open` answers every POST with a JSON body; `streamed` with an event stream, as the SDKs'
/// servers do (the TypeScript SDK's and server-everything's answers are all `text/event-stream`).
const TESTBED: &str = r#"{ "servers": [
    { "name": "open", "auth": { "mode": "none" }, "tools": [ { "preset": "echo" } ] },
    { "name": "streamed", "auth": { "mode": "none" }, "responseMode": "sse" }
] }"#;

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let load_rounds: usize = std::env::var("LOAD_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let testbed = TestbedProcess::start(TESTBED);
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(count)
            .build()
            .unwrap(),
        base: keyhole.base_url.clone(),
    });
    let server = testbed.mcp_url("open");

    // One connection made and ended first: what is allocated once (pools, caches) is not
    // counted per connection.
    let warm = api.connect(&server).await;
    api.disconnect(&warm).await;
    hop(&api, &server, "JSON").await;
    hop(&api, &testbed.mcp_url("streamed"), "event stream").await;
    settle().await;
    let baseline = resident_kib(keyhole.pid());

    let started = Instant::now();
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        let session = api.connect(&server).await;
        let events = api.open_events(&session).await;
        connections.push((session, events));
    }
    let opened_in = started.elapsed();
    settle().await;
    let open = resident_kib(keyhole.pid());
    println!(
        "{count} connections with their event streams open (opened in {:.1} s): baseline {baseline} KiB, \
         now {open} KiB: {:.1} KiB per connection",
        opened_in.as_secs_f64(),
        open.saturating_sub(baseline) as f64 / count as f64
    );

    let sessions: Vec<String> = connections.iter().map(|(s, _)| s.clone()).collect();
    for round in 1..=load_rounds {
        let load = ping_all(&api, &sessions).await;
        println!(
            "round {round}: {count} concurrent pings in {:.0} ms: p50 {:.2} ms, p99 {:.2} ms, \
             {:.0} pings/s, {} lost",
            load.wall.as_secs_f64() * 1000.0,
            load.percentile(50),
            load.percentile(99),
            count as f64 / load.wall.as_secs_f64(),
            load.lost
        );
    }
    let after_load = resident_kib(keyhole.pid());
    println!("after the load: {after_load} KiB");

    for (session, events) in connections {
        drop(events);
        api.disconnect(&session).await;
    }
    // The pages are gone: so are their keep-alive connections.
    drop(api);
    settle().await;
    let closed = resident_kib(keyhole.pid());
    println!(
        "all ended: {closed} KiB, {} KiB above the baseline ({:.1} KiB per connection made)",
        closed as i64 - baseline as i64,
        (closed as f64 - baseline as f64) / count as f64
    );
}

/// One `ping` at a time, straight and through Keyhole, interleaved; prints the medians. `answers`
/// names how `server` answers a POST.
async fn hop(api: &Api, server: &str, answers: &str) {
    const WARM_UP: usize = 200;
    const ROUNDS: usize = 2_000;
    let session = api.connect(server).await;
    let straight = StraightSession::open(&api.http, server).await;
    let (mut direct, mut through) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for id in 0..WARM_UP + ROUNDS {
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": "ping" });
        let started = Instant::now();
        straight.send(&message).await;
        let between = Instant::now();
        let reply = api
            .post(
                "/api/mcp/send",
                &json!({ "sessionId": session, "message": message }),
            )
            .await
            .unwrap();
        assert_eq!(reply["response"]["id"], id, "{reply}");
        if id >= WARM_UP {
            direct.push(between - started);
            through.push(between.elapsed());
        }
    }
    api.disconnect(&session).await;
    let (direct, through) = (percentile_ms(&direct, 50), percentile_ms(&through, 50));
    println!(
        "one ping at a time, answered as {answers} ({ROUNDS} rounds, medians): straight \
         {direct:.3} ms, through Keyhole {through:.3} ms: added {:.3} ms",
        through - direct
    );
}

/// The `p`th percentile of `latencies`, in milliseconds.
fn percentile_ms(latencies: &[Duration], p: usize) -> f64 {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let at = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted
        .get(at)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// An MCP session with the testbed itself, for the straight pings.
struct StraightSession<'a> {
    http: &'a reqwest::Client,
    url: String,
    session_id: String,
}

impl<'a> StraightSession<'a> {
    async fn open(http: &'a reqwest::Client, url: &str) -> Self {
        let mut session = Self {
            http,
            url: url.to_owned(),
            session_id: String::new(),
        };
        let initialize = json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "connections-bench", "version": "1" },
        } });
        let response = session.post(&initialize).await;
        session.session_id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        response.bytes().await.unwrap();
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        session.post(&initialized).await.bytes().await.unwrap();
        session
    }

    async fn post(&self, message: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-11-25")
            .json(message);
        if !self.session_id.is_empty() {
            request = request.header("Mcp-Session-Id", &self.session_id);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response
    }

    /// Sends `message` and reads the whole answer (JSON or an event stream), which must name its id.
    async fn send(&self, message: &Value) {
        let answer = self.post(message).await.text().await.unwrap();
        let id = format!("\"id\":{}", message["id"]);
        assert!(answer.contains(&id), "{answer}");
    }
}

/// Time for streams to be set up or torn down and memory to be given back.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}

struct Api {
    http: reqwest::Client,
    base: String,
}

/// The latencies of one round of concurrent pings.
struct Load {
    latencies: Vec<Duration>,
    wall: Duration,
    lost: usize,
}

impl Load {
    fn percentile(&self, p: usize) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

impl Api {
    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-Keyhole-Token", TEST_API_TOKEN)
            .json(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        response.json().await.map_err(|e| e.to_string())
    }

    async fn connect(&self, url: &str) -> String {
        let body = json!({ "config": { "type": "streamable-http", "url": url } });
        let reply = self.post("/api/mcp/connect", &body).await.unwrap();
        assert_eq!(reply["ok"], true, "{reply}");
        reply["sessionId"].as_str().unwrap().to_owned()
    }

    /// The page's event stream, read up to its opening comment and then held open.
    async fn open_events(&self, session: &str) -> reqwest::Response {
        let mut response = self
            .http
            .get(format!("{}/api/mcp/events", self.base))
            .query(&[("sessionId", session)])
            .header("X-Keyhole-Token", TEST_API_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.chunk().await.unwrap();
        response
    }

    async fn disconnect(&self, session: &str) {
        let reply = self
            .post("/api/mcp/disconnect", &json!({ "sessionId": session }))
            .await
            .unwrap();
        assert_eq!(reply["ok"], true, "{reply}");
    }
}

/// One `ping` through every session at once, each from a task of its own; a reply that is
/// missing or not a success is lost.
async fn ping_all(api: &Arc<Api>, sessions: &[String]) -> Load {
    let started = Instant::now();
    let mut pings = tokio::task::JoinSet::new();
    for (id, session) in sessions.iter().enumerate() {
        let (api, session) = (api.clone(), session.clone());
        pings.spawn(async move {
            let message = json!({ "jsonrpc": "2.0", "id": id, "method": "ping" });
            let sent = Instant::now();
            let reply = api
                .post(
                    "/api/mcp/send",
                    &json!({ "sessionId": session, "message": message }),
                )
                .await;
            let answered = matches!(&reply, Ok(r) if r["ok"] == true && r["response"]["id"] == id);
            (sent.elapsed(), answered)
        });
    }
    let results = pings.join_all().await;
    let wall = started.elapsed();
    let lost = results.iter().filter(|(_, answered)| !answered).count();
    Load {
        latencies: results.into_iter().map(|(latency, _)| latency).collect(),
        wall,
        lost,
    }
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .expect("the resident memory of the keyhole process")
}
