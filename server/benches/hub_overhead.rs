//! Benchmark: what the backend adds to a round trip.
//!
//! `cargo bench -p keyhole-server --bench hub_overhead` starts the demo testbed and the real router
//! on loopback, sends `ping` straight to the testbed and through `/api/mcp/send` (interleaved, in the
//! same run), and prints both medians; then the same for a `tools/call` of `echo` on both eras of
//! MCP (the demo's 2025-11-25 server with its session, and its stateless 2026-07-28 server, where
//! every request carries `_meta` and the `Mcp-*` headers). The router is served as the binary
//! serves it. What connections cost in memory, and a thousand pings at once, are measured on the
//! real binary: `cargo bench -p keyhole-e2e --bench connections`.

use std::time::{Duration, Instant};

use keyhole_server::web::hub::{Hub, HubOptions};
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app};
use keyhole_testbed::{Testbed, TestbedConfig};
use serde_json::{Value, json};

const TOKEN: &str = "bench-token";
const ROUNDS: usize = 2_000;

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
    let state = AppState::new(ApiToken::pinned(TOKEN).unwrap(), bound).with_hub(hub);
    tokio::spawn(async move {
        keyhole_server::web::http1_server::serve(listener, app(state), std::future::pending())
            .await
            .unwrap()
    });
    let base = format!("http://{bound}");
    let http = reqwest::Client::new();

    let session = connect(&http, &base, &mcp_url, &bearer).await;
    let direct = Direct::open(&http, &mcp_url, &bearer, Era::Legacy).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let (straight, proxied) = measure(&http, &base, &session, &direct, &ping).await;
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

    let echo = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "echo", "arguments": {"message": "bench"}}});
    let modern_url = testbed.mcp_url("modern").unwrap();
    let modern_bearer = testbed.mint_access_token("modern", &["mcp"], 3600).unwrap();
    let modern = connect(&http, &base, &modern_url, &modern_bearer).await;
    assert_eq!(modern["protocolVersion"], "2026-07-28", "{modern}");
    let eras = [
        ("2025-11-25", &session, direct),
        (
            "2026-07-28",
            &modern,
            Direct::open(&http, &modern_url, &modern_bearer, Era::Modern).await,
        ),
    ];
    for (version, session, direct) in &eras {
        let (straight, proxied) = measure(&http, &base, session, direct, &echo).await;
        println!(
            "tools/call echo, {version}: straight {:.3} ms, through the backend {:.3} ms, added {:.3} ms",
            ms(straight),
            ms(proxied),
            ms(proxied.saturating_sub(straight))
        );
    }
}

/// Medians of `message` sent straight and through the backend, interleaved (after a warm-up).
async fn measure(
    http: &reqwest::Client,
    base: &str,
    session: &Value,
    direct: &Direct,
    message: &Value,
) -> (Duration, Duration) {
    for _ in 0..200 {
        direct.send(http, message).await;
        via_hub(http, base, &session["sessionId"], message).await;
    }
    let (mut straight, mut proxied) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let started = Instant::now();
        direct.send(http, message).await;
        straight.push(started.elapsed());
        let started = Instant::now();
        via_hub(http, base, &session["sessionId"], message).await;
        proxied.push(started.elapsed());
    }
    (median(&mut straight), median(&mut proxied))
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

#[derive(Clone, Copy, PartialEq)]
enum Era {
    /// 2025-11-25: `initialize`, then the session's id and version on every request.
    Legacy,
    /// 2026-07-28: no handshake; `_meta` and the `Mcp-*` headers on every request.
    Modern,
}

/// A client talking straight to the testbed, as one without Keyhole would.
struct Direct {
    url: String,
    bearer: String,
    era: Era,
    session_id: Option<String>,
}

impl Direct {
    async fn open(http: &reqwest::Client, url: &str, bearer: &str, era: Era) -> Self {
        let mut direct = Self {
            url: url.to_owned(),
            bearer: bearer.to_owned(),
            era,
            session_id: None,
        };
        if era == Era::Legacy {
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
            direct.session_id = Some(
                response.headers()["mcp-session-id"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
            let _ = response.bytes().await;
        }
        direct
    }

    async fn send(&self, http: &reqwest::Client, message: &Value) {
        let mut request = http
            .post(&self.url)
            .bearer_auth(&self.bearer)
            .header("Accept", "application/json, text/event-stream");
        let mut message = message.clone();
        match self.era {
            Era::Legacy => {
                request = request
                    .header("Mcp-Session-Id", self.session_id.as_deref().unwrap_or(""))
                    .header("MCP-Protocol-Version", "2025-11-25");
            }
            Era::Modern => {
                request = request
                    .header("MCP-Protocol-Version", "2026-07-28")
                    .header("Mcp-Method", message["method"].as_str().unwrap_or(""));
                if let Some(name) = message["params"]["name"].as_str() {
                    request = request.header("Mcp-Name", name);
                }
                message["params"]["_meta"] = json!({
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                });
            }
        }
        let response = request.json(&message).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
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
