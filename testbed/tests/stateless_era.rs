//! MCP 2026-07-28 on the testbed: a `modern` server answers only stateless requests and checks
//! their headers and `_meta`; a `dual` server answers both eras; `subscriptions/listen` carries
//! list changes.

use std::time::Duration;

use crate::common;

use common::Fixture;
use futures_util::StreamExt;
use serde_json::{Value, json};

const MODERN: &str = "2026-07-28";

fn config() -> Value {
    let mut config = common::base_config();
    let servers = config["servers"].as_array_mut().unwrap();
    servers.push(
        json!({"name": "modern", "era": "modern", "auth": {"mode": "none"},
        "tools": [{"preset": "echo"}, {"preset": "longRunning"}],
        "resources": [{"uri": "keyhole://modern/readme", "name": "readme", "text": "hi"}]}),
    );
    servers.push(
        json!({"name": "dual", "era": "dual", "auth": {"mode": "none"},
        "tools": [{"preset": "echo"}]}),
    );
    servers.push(json!({"name": "guarded", "era": "modern",
        "auth": {"mode": "oauth", "baseScopes": ["mcp"]}, "tools": [{"preset": "echo"}]}));
    config
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
    })
}

/// A stateless POST to `server` with the version header and `Mcp-Method: method` (when given).
fn stateless(fixture: &Fixture, server: &str, method: Option<&str>) -> reqwest::RequestBuilder {
    let request = fixture
        .http
        .post(fixture.mcp_url(server))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", MODERN);
    match method {
        Some(method) => request.header("mcp-method", method),
        None => request,
    }
}

/// A stateless POST of `message`: `headers` on top of the version header and `Mcp-Method`.
async fn post(
    fixture: &Fixture,
    server: &str,
    message: Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = stateless(fixture, server, message["method"].as_str());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.json(&message).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = match text.strip_prefix("event: message\n") {
        Some(_) => common::parse_sse(&text)
            .into_iter()
            .filter_map(|e| serde_json::from_str(&e.data).ok())
            .next_back()
            .unwrap_or(Value::Null),
        None => serde_json::from_str(&text).unwrap_or(Value::Null),
    };
    (status, body)
}

fn request(method: &str, mut params: Value) -> Value {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
}

#[tokio::test]
async fn discover_describes_the_server_and_results_are_marked_complete() {
    let fixture = Fixture::start(config()).await;
    let (status, reply) = post(
        &fixture,
        "modern",
        request("server/discover", json!({})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let result = &reply["result"];
    assert_eq!(result["supportedVersions"], json!([MODERN]));
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "modern"
    );

    let call = request(
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    let (status, reply) = post(&fixture, "modern", call, &[("mcp-name", "echo")]).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["content"][0]["text"], "hi");
    assert_eq!(reply["result"]["resultType"], "complete");

    // A name that is not header-safe travels base64-encoded.
    let read = request("resources/read", json!({"uri": "keyhole://modern/readme"}));
    let (status, reply) = post(
        &fixture,
        "modern",
        read,
        &[("mcp-name", "keyhole://modern/readme")],
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let encoded = "=?base64?a2V5aG9sZTovL21vZGVybi9yZWFkbWU=?=";
    let read = request("resources/read", json!({"uri": "keyhole://modern/readme"}));
    let (status, _) = post(&fixture, "modern", read, &[("mcp-name", encoded)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn headers_and_meta_that_disagree_with_the_body_are_refused_with_the_specified_codes() {
    let fixture = Fixture::start(config()).await;
    let url = fixture.mcp_url("modern");
    // No version header at all (what a 2025 client's initialize looks like).
    let legacy = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let response = fixture
        .http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&legacy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32020);
    assert_eq!(body["error"]["data"]["supported"], json!([MODERN]));

    /// A request, the headers it is sent with, and the error code it must get.
    type Case<'a> = (Value, Vec<(&'a str, &'a str)>, i64);
    let cases: Vec<Case> = vec![
        // Mcp-Method names another method.
        (
            request("tools/list", json!({})),
            vec![("mcp-method", "prompts/list")],
            -32020,
        ),
        // Mcp-Name missing, then naming another tool.
        (
            request("tools/call", json!({"name": "echo", "arguments": {}})),
            vec![],
            -32020,
        ),
        (
            request("tools/call", json!({"name": "echo", "arguments": {}})),
            vec![("mcp-name", "add")],
            -32020,
        ),
        // `_meta` without the version, or with another one.
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
            vec![],
            -32602,
        ),
        (
            {
                let mut r = request("tools/list", json!({}));
                r["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] =
                    json!("2025-11-25");
                r
            },
            vec![],
            -32020,
        ),
    ];
    for (message, headers, code) in cases {
        let named = headers.iter().any(|(n, _)| *n == "mcp-method");
        let method = message["method"].as_str().filter(|_| !named);
        let mut builder = stateless(&fixture, "modern", method);
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        let response = builder.json(&message).send().await.unwrap();
        assert_eq!(response.status(), 400, "{message} {headers:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{message} {headers:?}: {body}");
    }

    // A version the server does not speak: the ones it does, and the one asked for.
    let response = fixture
        .http
        .post(&url)
        .header("mcp-protocol-version", "2099-01-01")
        .header("mcp-method", "server/discover")
        .json(&request("server/discover", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32022);
    assert_eq!(body["error"]["data"]["supported"], json!([MODERN]));
    assert_eq!(body["error"]["data"]["requested"], "2099-01-01");

    // Methods the revision dropped are not found (404 with a JSON-RPC body); no GET, no DELETE.
    let (status, reply) = post(&fixture, "modern", request("ping", json!({})), &[]).await;
    assert_eq!(status, 404);
    assert_eq!(reply["error"]["code"], -32601);
    let get = fixture
        .http
        .get(&url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(
        fixture.http.delete(&url).send().await.unwrap().status(),
        405
    );
}

#[tokio::test]
async fn a_dual_server_answers_both_eras_and_a_guarded_one_challenges_before_anything() {
    let fixture = Fixture::start(config()).await;
    let mut legacy = fixture.mcp("dual", None);
    let reply = legacy.initialize_with("2025-11-25").await;
    assert_eq!(reply.status, 200);
    assert!(legacy.session_id.is_some());
    let (status, reply) = post(&fixture, "dual", request("server/discover", json!({})), &[]).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["supportedVersions"][0], MODERN);
    assert!(
        reply["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );

    let (status, _) = post(
        &fixture,
        "guarded",
        request("server/discover", json!({})),
        &[],
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn logs_come_only_to_requests_that_ask_for_them() {
    let fixture = Fixture::start(config()).await;
    let call = |level: Option<&str>| {
        let mut message = request(
            "tools/call",
            json!({"name": "long-running", "arguments": {"steps": 2, "delayMs": 1}}),
        );
        message["params"]["_meta"]["progressToken"] = json!("p");
        if let Some(level) = level {
            message["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!(level);
        }
        message
    };
    let methods = |text: &str| -> Vec<String> {
        common::parse_sse(text)
            .into_iter()
            .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
            .filter_map(|m| m["method"].as_str().map(str::to_owned))
            .collect()
    };
    for (level, expect_logs) in [(None, false), (Some("debug"), true)] {
        let text = stateless(&fixture, "modern", Some("tools/call"))
            .header("mcp-name", "long-running")
            .json(&call(level))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let seen = methods(&text);
        assert!(
            seen.contains(&"notifications/progress".to_owned()),
            "{text}"
        );
        assert_eq!(
            seen.contains(&"notifications/message".to_owned()),
            expect_logs,
            "logLevel {level:?}: {text}"
        );
    }
}

#[tokio::test]
async fn listen_acknowledges_then_carries_the_list_changes_it_asked_for() {
    let fixture = Fixture::start(config()).await;
    let mut listen = request(
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["x"]}}),
    );
    listen["id"] = json!("listen-1");
    let response = stateless(&fixture, "modern", Some("subscriptions/listen"))
        .json(&listen)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut next_message = async || -> Value {
        loop {
            if let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(message) = serde_json::from_str(data)
                {
                    return message;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .expect("the listen stream delivers")
                .expect("the stream is open")
                .unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    let acknowledged = next_message().await;
    assert_eq!(
        acknowledged["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert_eq!(
        acknowledged["params"]["notifications"],
        json!({"toolsListChanged": true}),
        "resource subscriptions are not offered, so they are not agreed to"
    );
    let sessions = fixture.control_get("sessions").await;
    assert!(sessions.to_string().contains("modern"), "{sessions}");

    let (status, _) = fixture
        .control_post(
            "servers/modern/required-scopes",
            json!({"tool": "echo", "requiredScopes": []}),
        )
        .await;
    assert_eq!(status, 200);
    let changed = next_message().await;
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
}

#[tokio::test]
async fn ask_name_requires_input_and_finishes_with_the_answer_and_the_state_echoed() {
    let mut config = config();
    config["servers"][3]["tools"]
        .as_array_mut()
        .unwrap()
        .push(json!({"preset": "askName"}));
    let fixture = Fixture::start(config).await;
    let ask = |capabilities: Value, extra: Value| {
        let mut message = request("tools/call", json!({"name": "ask-name", "arguments": {}}));
        message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = capabilities;
        for (key, value) in extra.as_object().unwrap() {
            message["params"][key] = value.clone();
        }
        message
    };
    let headers = [("mcp-name", "ask-name")];

    // Without the capability the server may not ask.
    let (status, reply) = post(&fixture, "modern", ask(json!({}), json!({})), &headers).await;
    assert_eq!(status, 200);
    assert_eq!(reply["error"]["code"], -32021, "{reply}");

    let elicits = json!({"elicitation": {"form": {}}});
    let (_, reply) = post(
        &fixture,
        "modern",
        ask(elicits.clone(), json!({})),
        &headers,
    )
    .await;
    let result = &reply["result"];
    assert_eq!(result["resultType"], "input_required", "{reply}");
    let asked = &result["inputRequests"]["name"];
    assert_eq!(asked["method"], "elicitation/create");
    assert_eq!(
        asked["params"]["requestedSchema"]["required"],
        json!(["name"])
    );
    let state = result["requestState"].as_str().unwrap().to_owned();

    let answer = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
    let altered = json!({"inputResponses": answer, "requestState": format!("x{state}")});
    let (_, reply) = post(&fixture, "modern", ask(elicits.clone(), altered), &headers).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");

    let echoed = json!({"inputResponses": answer, "requestState": state});
    let (_, reply) = post(&fixture, "modern", ask(elicits, echoed), &headers).await;
    assert_eq!(reply["result"]["resultType"], "complete", "{reply}");
    assert_eq!(reply["result"]["content"][0]["text"], "Hello, Ada!");
}
