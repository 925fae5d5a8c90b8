//! `keyhole cli` against a small stateless server (pinned with `--protocol-version 2026-07-28`, or
//! negotiated): no `initialize` and no session, `server/discover` first (asked once more when the
//! server names its versions), and every request carrying `_meta` and the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`
//! headers. What the server received is checked, not what Keyhole says it sent.

use crate::cli_fixture;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cli_fixture::{Bed, FakeTerminal};
use serde_json::{Value, json};

/// One request as the server saw it: its headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Seen {
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A 2026-07-28 server that rejects the first `server/discover` with the versions it speaks.
async fn stateless_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                let headers = headers
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let mut log = log.lock().unwrap();
                log.push(Seen {
                    headers,
                    body: body.clone(),
                });
                let discovers = log
                    .iter()
                    .filter(|s| s.body["method"] == "server/discover")
                    .count();
                answer(&body, discovers)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

fn answer(body: &Value, discovers: usize) -> Response {
    let id = body["id"].clone();
    let result = match body["method"].as_str().unwrap_or_default() {
        "server/discover" if discovers == 1 => {
            let error = json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32022, "message": "Unsupported protocol version",
                "data": {"supported": ["2026-07-28"], "requested": "2026-07-28"}}});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
        "server/discover" => json!({
            "resultType": "complete", "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "stateless", "version": "1"}}}),
        "tools/list" => json!({"resultType": "complete", "tools": [
            {"name": "echo", "inputSchema": {"type": "object",
                "properties": {"message": {"type": "string"}}}},
            {"name": "regional", "inputSchema": {"type": "object",
                "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}},
            {"name": "broken", "inputSchema": {"type": "object",
                "properties": {"region": {"type": "string", "x-mcp-header": "My Region"}}}},
            {"name": "confirm", "inputSchema": {"type": "object", "properties": {}}}]}),
        "tools/call" if body["params"]["name"] == "confirm" => json!({
            "resultType": "input_required", "requestState": "opaque",
            "inputRequests": {"ok": {"method": "elicitation/create",
                "params": {"message": "Sure?", "requestedSchema": {"type": "object"}}}}}),
        "tools/call" => json!({"resultType": "complete",
            "content": [{"type": "text", "text": body["params"]["arguments"]["message"]}]}),
        _ => {
            let error = json!({"jsonrpc": "2.0", "id": id,
                               "error": {"code": -32601, "message": "Method not found"}});
            return (StatusCode::NOT_FOUND, Json(error)).into_response();
        }
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

#[tokio::test]
async fn a_call_speaks_the_stateless_protocol_from_discover_to_the_tool() {
    let bed = Bed::start().await;
    let (url, seen) = stateless_server().await;
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "--protocol-version",
        "2026-07-28",
        "tools",
        "call",
        "echo",
        "--arg",
        "message=hé there",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("hé there"), "{}", t.stdout());

    let seen = seen.lock().unwrap().clone();
    let methods: Vec<&str> = seen
        .iter()
        .map(|s| s.body["method"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        methods,
        [
            "server/discover",
            "server/discover",
            "tools/list",
            "tools/call"
        ],
        "no initialize; discover asked once more after -32022; the tool looked up for its headers"
    );
    for request in &seen {
        let meta = &request.body["params"]["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        assert!(meta["io.modelcontextprotocol/clientCapabilities"].is_object());
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "keyhole"
        );
        assert_eq!(request.header("mcp-protocol-version"), Some("2026-07-28"));
        assert_eq!(
            request.header("mcp-method"),
            request.body["method"].as_str()
        );
        assert_eq!(request.header("mcp-session-id"), None);
    }
    let call = &seen[3];
    assert_eq!(call.header("mcp-name"), Some("echo"));
    assert_eq!(call.body["params"]["arguments"]["message"], "hé there");
}

#[tokio::test]
async fn a_server_that_does_not_speak_the_version_is_named_and_an_unknown_version_is_a_usage_error()
{
    let bed = Bed::start().await;
    let legacy = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &legacy,
        "--protocol-version",
        "2026-07-28",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 1, "{}", t.stderr());
    assert!(t.stderr().contains("server/discover"), "{}", t.stderr());

    let argv = [
        "--url",
        &legacy,
        "--protocol-version",
        "2024-01-01",
        "tools",
        "list",
    ];
    let refused = keyhole_server::cli::parse_args(argv)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("Keyhole speaks MCP 2026-07-28, 2025-11-25"),
        "{refused}"
    );

    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &legacy,
        "--protocol-version",
        "2025-06-18",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(
        t.stdout().contains("echo"),
        "the handshake at a pinned 2025 version"
    );
}

#[tokio::test]
async fn tools_follow_their_header_annotations_and_a_bad_one_is_not_offered() {
    let bed = Bed::start().await;
    let (url, seen) = stateless_server().await;
    let modern = |rest: &[&'static str]| {
        let mut argv = vec!["--url".to_owned(), url.clone()];
        argv.extend(["--protocol-version", "2026-07-28"].map(str::to_owned));
        argv.extend(rest.iter().map(|s| (*s).to_owned()));
        argv
    };
    let bed = &bed;
    let run = |argv: Vec<String>| async move {
        let mut t = FakeTerminal::new();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let code = bed.run(&argv, &mut t).await;
        (code, t)
    };

    let (code, t) = run(modern(&["tools", "list"])).await;
    assert_eq!(code, 0, "{}", t.stderr());
    assert!(t.stdout().contains("regional"), "{}", t.stdout());
    assert!(
        !t.stdout().contains("broken"),
        "an invalid annotation drops the tool"
    );

    seen.lock().unwrap().clear();
    let (code, t) = run(modern(&[
        "tools",
        "call",
        "regional",
        "--arg",
        "region=us-west1",
    ]))
    .await;
    assert_eq!(code, 0, "{}", t.stderr());
    let call = seen
        .lock()
        .unwrap()
        .iter()
        .find(|s| s.body["method"] == "tools/call")
        .cloned()
        .expect("the call reached the server");
    assert_eq!(call.header("mcp-param-region"), Some("us-west1"));

    seen.lock().unwrap().clear();
    let (code, t) = run(modern(&["tools", "call", "broken", "--arg", "region=x"])).await;
    assert_eq!(code, 1);
    assert!(t.stderr().contains("is not offered"), "{}", t.stderr());
    let calls = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.body["method"] == "tools/call")
        .count();
    assert_eq!(calls, 0, "a tool that is not offered is not called");

    let (code, t) = run(modern(&["tools", "call", "confirm"])).await;
    assert_eq!(code, 1);
    assert!(
        t.stderr().contains("asks for input (elicitation/create)"),
        "{}",
        t.stderr()
    );
}

#[tokio::test]
async fn without_a_version_the_client_negotiates_the_era_each_server_speaks() {
    let bed = Bed::start().await;
    let (url, seen) = stateless_server().await;
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        &url,
        "tools",
        "call",
        "echo",
        "--arg",
        "message=hi",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("hi"), "{}", t.stdout());
    let methods: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.body["method"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert_eq!(methods[0], "server/discover", "{methods:?}");
    assert!(!methods.contains(&"initialize".to_owned()), "{methods:?}");

    // A 2025 server refuses the probe; the handshake follows and the command works. A person
    // at a terminal is told which version and era were negotiated.
    let mut t = FakeTerminal {
        interactive: true,
        ..FakeTerminal::new()
    };
    let argv = ["--url", &bed.mcp_url("open"), "tools", "list"];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("echo"), "{}", t.stdout());
    assert!(
        t.stderr().contains(": MCP 2025-11-25 (session)"),
        "{}",
        t.stderr()
    );
    let mut t = FakeTerminal {
        interactive: true,
        ..FakeTerminal::new()
    };
    let argv = ["--url", &url, "tools", "list"];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains("Connected to stateless: MCP 2026-07-28 (stateless)"),
        "{}",
        t.stderr()
    );
}
