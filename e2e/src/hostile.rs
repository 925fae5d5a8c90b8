//! A misbehaving MCP server for the robustness tests: a raw TCP server that speaks just enough HTTP
//! and MCP to be connected to (`initialize`, `notifications/*`, `ping`), then answers `tools/call` or
//! the GET event stream with one [`Attack`]. It writes raw bytes, so it can send what no HTTP library
//! would: a garbage status line, a megabyte header, a reset instead of an answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attack {
    /// Nothing: a well-behaved server (for the session that must stay responsive).
    None,
    /// `tools/call` gets 401 with a `WWW-Authenticate` of this many distinct parameters.
    HugeChallenge { params: usize },
    /// `tools/call` gets an event stream whose first event never ends: `data:` lines forever.
    EndlessEvent,
    /// `tools/call` gets a response with one header of this many bytes.
    HugeHeader { bytes: usize },
    /// `tools/call` gets a response with this many headers.
    ManyHeaders { count: usize },
    /// `tools/call`: the connection is reset instead of answered.
    Reset,
    /// `tools/call` gets this instead of a status line.
    GarbageStatus(&'static str),
    /// `tools/call` gets a JSON body of this many bytes (no `Content-Length`).
    OversizeBody { bytes: usize },
    /// Every GET stream answers with `header_bytes` of headers, sends `retry: 0` and closes at once.
    ReconnectStorm { header_bytes: usize },
    /// The GET stream sends `count` notifications of about `bytes` each, as fast as it can.
    NotificationFlood { count: usize, bytes: usize },
}

/// The running server; stops when dropped.
pub struct HostileServer {
    /// The MCP endpoint, `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// How many GET streams were opened so far.
    pub get_streams: Arc<AtomicUsize>,
    /// How many notifications the flood has written so far.
    pub flooded: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileServer {
    pub async fn start(attack: Attack) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let get_streams = Arc::new(AtomicUsize::new(0));
        let flooded = Arc::new(AtomicUsize::new(0));
        let counters = (get_streams.clone(), flooded.clone());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                let attack = attack.clone();
                let counters = counters.clone();
                connections.spawn(async move {
                    let _ = serve(socket, attack, counters).await;
                });
            }
        });
        Self {
            url,
            get_streams,
            flooded,
            task,
        }
    }
}

struct Request {
    method: String,
    body: Value,
}

async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 || buffer.len() > 1 << 20 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let method = head.split_whitespace().next()?.to_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    Some(Request { method, body })
}

/// One connection, one request: every answer closes the connection.
async fn serve(
    mut socket: TcpStream,
    attack: Attack,
    (get_streams, flooded): (Arc<AtomicUsize>, Arc<AtomicUsize>),
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut socket).await else {
        return Ok(());
    };
    if request.method == "GET" {
        get_streams.fetch_add(1, Ordering::SeqCst);
        return get_stream(socket, &attack, &flooded).await;
    }
    if request.method != "POST" {
        return write_all(&mut socket, &status_only(405)).await;
    }
    let id = request.body["id"].clone();
    match request.body["method"].as_str().unwrap_or("") {
        "initialize" => {
            let result = json!({
                "protocolVersion": "2025-11-25",
                "capabilities": { "tools": {} },
                "serverInfo": { "name": "hostile", "version": "1" },
            });
            let body = json!({ "jsonrpc": "2.0", "id": id, "result": result });
            write_all(
                &mut socket,
                &json_response(&body, "Mcp-Session-Id: hostile-1\r\n"),
            )
            .await
        }
        "tools/call" => tool_call(socket, &attack, id).await,
        method if method.starts_with("notifications/") => {
            write_all(&mut socket, &status_only(202)).await
        }
        _ => {
            let body = json!({ "jsonrpc": "2.0", "id": id, "result": {} });
            write_all(&mut socket, &json_response(&body, "")).await
        }
    }
}

async fn tool_call(mut socket: TcpStream, attack: &Attack, id: Value) -> std::io::Result<()> {
    let ok = json!({ "jsonrpc": "2.0", "id": id, "result": { "content": [] } });
    match attack {
        Attack::HugeChallenge { params } => {
            // Unquoted values keep 40,000 parameters (about 390 KB) under hyper's 400 KiB head limit.
            let params: Vec<String> = (0..*params).map(|i| format!("p{i}=v")).collect();
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"invalid_token\", {}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                params.join(", ")
            );
            write_all(&mut socket, head.as_bytes()).await
        }
        Attack::EndlessEvent => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await?;
            socket
                .write_all(b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"\n")
                .await?;
            let line = format!("data: {}\n", "x".repeat(64 * 1024));
            loop {
                // Ends when Keyhole closes the connection.
                socket.write_all(line.as_bytes()).await?;
            }
        }
        Attack::HugeHeader { bytes } => {
            let body = ok.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Huge: {}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                "h".repeat(*bytes),
                body.len()
            );
            write_all(&mut socket, head.as_bytes()).await
        }
        Attack::ManyHeaders { count } => {
            let headers: String = (0..*count)
                .map(|i| format!("X-Header-{i}: {i}\r\n"))
                .collect();
            let body = ok.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            write_all(&mut socket, head.as_bytes()).await
        }
        Attack::Reset => {
            // SO_LINGER 0: closing sends RST instead of FIN. (Deprecated because a non-zero linger
            // blocks the thread on drop; a zero one does not.)
            #[allow(deprecated)]
            socket.set_linger(Some(Duration::ZERO))?;
            drop(socket);
            Ok(())
        }
        Attack::GarbageStatus(line) => {
            let response = format!("{line}\r\nContent-Length: 0\r\n\r\n");
            write_all(&mut socket, response.as_bytes()).await
        }
        Attack::OversizeBody { bytes } => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await?;
            socket
                .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"pad\":\"")
                .await?;
            let block = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < *bytes {
                socket.write_all(&block).await?;
                sent += block.len();
            }
            write_all(&mut socket, b"\"}}").await
        }
        _ => write_all(&mut socket, &json_response(&ok, "")).await,
    }
}

async fn get_stream(
    mut socket: TcpStream,
    attack: &Attack,
    flooded: &AtomicUsize,
) -> std::io::Result<()> {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n";
    match attack {
        Attack::ReconnectStorm { header_bytes } => {
            // A few headers of 64 KB each: large in bytes, few in number.
            let filler: String = (0..header_bytes.div_ceil(64 * 1024))
                .map(|i| format!("X-Filler-{i}: {}\r\n", "f".repeat(64 * 1024)))
                .collect();
            let response = format!("{head}{filler}\r\nretry: 0\n\n");
            write_all(&mut socket, response.as_bytes()).await
        }
        Attack::NotificationFlood { count, bytes } => {
            socket.write_all(format!("{head}\r\n").as_bytes()).await?;
            let padding = "n".repeat(*bytes);
            for i in 0..*count {
                let message = json!({
                    "jsonrpc": "2.0", "method": "notifications/message",
                    "params": { "level": "info", "data": { "seq": i, "padding": padding } }
                });
                socket
                    .write_all(format!("data: {message}\n\n").as_bytes())
                    .await?;
                flooded.fetch_add(1, Ordering::SeqCst);
            }
            // Keep the stream open, quietly, until Keyhole goes away.
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(())
        }
        _ => write_all(&mut socket, &status_only(405)).await,
    }
}

fn json_response(body: &Value, extra_headers: &str) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn status_only(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

async fn write_all(socket: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    socket.write_all(bytes).await?;
    socket.shutdown().await
}
