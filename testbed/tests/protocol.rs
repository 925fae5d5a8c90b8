//! Streamable HTTP protocol behaviour: version negotiation, headers, sessions and the methods.

use crate::common;

use common::{Fixture, LATEST};
use serde_json::{Value, json};

#[tokio::test]
async fn versions_are_negotiated() {
    let fixture = Fixture::standard().await;
    for (asked, answered) in [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", LATEST),
    ] {
        let mut mcp = fixture.mcp("open", None);
        let reply = mcp.initialize_with(asked).await;
        assert_eq!(reply.status, 200);
        let result = &reply.response()["result"];
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
        assert!(result["serverInfo"]["name"].is_string());
    }
}

#[tokio::test]
async fn older_versions_get_no_structured_content() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let token = tokens["access_token"].as_str();
    let mut modern = fixture.mcp("main", token);
    modern.initialize_with("2025-06-18").await;
    let reply = modern
        .call_tool("get-forecast", json!({"city": "Kyiv"}))
        .await;
    let result = &reply.response()["result"];
    assert_eq!(result["structuredContent"]["city"], "Kyiv");
    let listing = modern.request("tools/list", json!({})).await;
    let forecast = listing.response()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "get-forecast")
        .unwrap()
        .clone();
    assert!(forecast["outputSchema"].is_object());

    let mut old = fixture.mcp("main", token);
    old.initialize_with("2025-03-26").await;
    let reply = old.call_tool("get-forecast", json!({"city": "Kyiv"})).await;
    assert!(
        reply.response()["result"]
            .get("structuredContent")
            .is_none()
    );
}

#[tokio::test]
async fn protocol_version_header_is_checked() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize_with("2025-06-18").await;
    mcp.protocol_version = Some("2025-11-25".into());
    assert_eq!(
        mcp.request("ping", json!({})).await.status,
        400,
        "differs from the negotiated version"
    );
    mcp.protocol_version = Some("1999-01-01".into());
    assert_eq!(
        mcp.request("ping", json!({})).await.status,
        400,
        "unsupported"
    );
    mcp.protocol_version = None;
    assert_eq!(
        mcp.request("ping", json!({})).await.status,
        200,
        "absent is accepted"
    );
}

#[tokio::test]
async fn sessions_are_required_and_end_with_delete() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    assert_eq!(
        mcp.request("ping", json!({})).await.status,
        400,
        "no session header"
    );
    mcp.session_id = Some("unknown".into());
    assert_eq!(mcp.request("ping", json!({})).await.status, 404);
    mcp.session_id = None;
    mcp.initialize().await;
    assert_eq!(
        mcp.request("ping", json!({})).await.response()["result"],
        json!({})
    );
    let deleted = mcp
        .request_builder(reqwest::Method::DELETE)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let reply = mcp.request("ping", json!({})).await;
    assert_eq!(reply.status, 404);
    assert!(reply.response()["error"].is_object());
}

#[tokio::test]
async fn methods_answer_per_the_spec() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp notes:read").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;

    let add = mcp.call_tool("add", json!({"a": 2, "b": 3.5})).await;
    assert_eq!(add.response()["result"]["content"][0]["text"], "5.5");
    let bad = mcp.call_tool("add", json!({"a": "x"})).await;
    assert_eq!(bad.response()["result"]["isError"], true);
    let unknown = mcp.call_tool("nope", json!({})).await;
    assert_eq!(unknown.response()["error"]["code"], -32602);
    let method = mcp.request("sampling/whatever", json!({})).await;
    assert_eq!(method.response()["error"]["code"], -32601);

    let templates = mcp.request("resources/templates/list", json!({})).await;
    assert_eq!(
        templates.response()["result"]["resourceTemplates"][0]["uriTemplate"],
        "keyhole://main/notes/{id}"
    );
    let note = mcp
        .request("resources/read", json!({"uri": "keyhole://main/notes/7"}))
        .await;
    assert_eq!(note.response()["result"]["contents"][0]["text"], "Note 7");
    let missing = mcp
        .request("resources/read", json!({"uri": "keyhole://main/none"}))
        .await;
    assert_eq!(missing.response()["error"]["code"], -32002);

    let prompts = mcp.request("prompts/list", json!({})).await;
    assert_eq!(
        prompts.response()["result"]["prompts"][0]["arguments"][0]["required"],
        true
    );
    let prompt = mcp
        .request(
            "prompts/get",
            json!({"name": "greeting", "arguments": {"name": "Ada", "style": "formal"}}),
        )
        .await;
    assert_eq!(
        prompt.response()["result"]["messages"][0]["content"]["text"],
        "Write a formal greeting for Ada."
    );
    let incomplete = mcp
        .request("prompts/get", json!({"name": "greeting", "arguments": {}}))
        .await;
    assert_eq!(incomplete.response()["error"]["code"], -32602);

    assert_eq!(
        mcp.request("logging/setLevel", json!({"level": "warning"}))
            .await
            .response()["result"],
        json!({})
    );
    assert!(
        mcp.request("logging/setLevel", json!({"level": "loud"}))
            .await
            .response()["error"]
            .is_object()
    );
}

#[tokio::test]
async fn malformed_and_foreign_requests_are_refused() {
    let fixture = Fixture::standard().await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let response = mcp
        .request_builder(reqwest::Method::POST)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    let batch = mcp
        .post(json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]))
        .await;
    assert_eq!(batch.status, 400);
    let foreign = mcp
        .request_builder(reqwest::Method::POST)
        .header("origin", "https://evil.example")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let unknown_server = fixture
        .http
        .post(fixture.url("/servers/nope/mcp"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_server.status(), 404);
}

#[tokio::test]
async fn long_running_calls_stream_progress_over_sse() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let mut mcp = fixture.mcp("main", tokens["access_token"].as_str());
    mcp.initialize().await;
    let reply = mcp
        .request("tools/call", json!({"name": "long-running", "arguments": {"steps": 3, "delayMs": 10}, "_meta": {"progressToken": "p1"}}))
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let progress: Vec<&Value> = reply
        .messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3);
    assert_eq!(progress[0]["params"]["progressToken"], "p1");
    assert_eq!(progress[2]["params"]["progress"], 3);
    assert_eq!(progress[2]["params"]["total"], 3);
    assert!(
        reply
            .messages
            .iter()
            .any(|m| m["method"] == "notifications/message")
    );
    assert_eq!(
        reply.response()["result"]["content"][0]["text"],
        "Completed 3 steps (10 ms each)."
    );

    // Other calls are plain JSON in `auto` mode.
    let echo = mcp.call_tool("echo", json!({"message": "x"})).await;
    assert!(
        echo.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn response_mode_can_force_sse_or_json() {
    let mut config = common::base_config();
    config["servers"][2]["responseMode"] = json!("sse");
    config["servers"][2]["tools"] = json!([{"preset": "echo"}, {"preset": "longRunning"}]);
    let fixture = Fixture::start(config).await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let echo = mcp.call_tool("echo", json!({"message": "x"})).await;
    assert!(
        echo.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(echo.response()["result"]["content"][0]["text"], "x");

    let mut config = common::base_config();
    config["servers"][2]["responseMode"] = json!("json");
    config["servers"][2]["tools"] = json!([{"preset": "longRunning"}]);
    let fixture = Fixture::start(config).await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;
    let reply = mcp
        .request("tools/call", json!({"name": "long-running", "arguments": {"steps": 2, "delayMs": 1}, "_meta": {"progressToken": 9}}))
        .await;
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(reply.messages.len(), 1);
}

#[tokio::test]
async fn a_server_with_a_page_size_pages_its_lists_and_refuses_a_forged_cursor() {
    let mut config = common::base_config();
    config["servers"][2]["pageSize"] = json!(2);
    config["servers"][2]["tools"] = json!([{"preset": "echo"}, {"preset": "add"}, {"preset": "weather"}, {"preset": "structured"}, {"preset": "longRunning"}]);
    let fixture = Fixture::start(config).await;
    let mut mcp = fixture.mcp("open", None);
    mcp.initialize().await;

    let mut names = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let params = if cursor.is_null() {
            json!({})
        } else {
            json!({ "cursor": cursor })
        };
        let reply = mcp.request("tools/list", params).await;
        let result = reply.response()["result"].clone();
        let page = result["tools"].as_array().unwrap();
        assert!(page.len() <= 2, "{result}");
        names.extend(page.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        pages += 1;
        cursor = result["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        ["echo", "add", "get-weather", "get-forecast", "long-running"]
    );

    let forged = mcp
        .request("tools/list", json!({ "cursor": "page-2" }))
        .await;
    assert_eq!(forged.response()["error"]["code"], -32602);
    let past_the_end = mcp
        .request("tools/list", json!({ "cursor": "offset-99" }))
        .await;
    assert_eq!(past_the_end.response()["result"]["tools"], json!([]));
}
