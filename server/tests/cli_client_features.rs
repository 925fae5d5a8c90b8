//! The CLI's answers to what the server asks of a client, against the testbed: `--log-level`
//! asks for the server's log (printed on stderr, filtered by the server), and `resources
//! subscribe` prints each update of the resource until it has seen `--count` of them. (Sampling,
//! elicitation and roots are exercised against server-everything in the e2e suite.)

use crate::cli_fixture;

use std::time::Duration;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_testbed::TestbedConfig;
use serde_json::json;

/// The CLI tests' bed plus `chatty`, which streams its answers (so a call's log messages come
/// before its result).
async fn bed() -> Bed {
    let mut config = cli_fixture::config();
    config["servers"].as_array_mut().unwrap().push(json!({
        "name": "chatty", "auth": {"mode": "none"}, "responseMode": "sse",
        "tools": [{"preset": "echo"}]}));
    Bed::with_config(TestbedConfig::from_json_str(&config.to_string()).unwrap()).await
}

#[tokio::test]
async fn log_level_asks_the_server_and_its_messages_are_printed() {
    let bed = bed().await;
    let url = bed.mcp_url("chatty");
    let call = |level: &'static str| {
        [
            "--url",
            &url,
            "--log-level",
            level,
            "tools",
            "call",
            "echo",
            "--arg",
            "message=hi",
        ]
        .map(str::to_owned)
    };
    let mut t = FakeTerminal::new();
    let argv = call("info");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains("[info] keyhole-testbed: echo called with 2 characters"),
        "{}",
        t.stderr()
    );

    let mut t = FakeTerminal::new();
    let argv = call("error");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(
        !t.stderr().contains("echo called"),
        "the server sends nothing below error: {}",
        t.stderr()
    );

    let unknown = keyhole_server::cli::parse_args(["--log-level", "loud", "tools", "list"]);
    assert!(unknown.unwrap_err().to_string().contains("emergency"));
}

#[tokio::test]
async fn resources_subscribe_prints_each_update_until_the_count() {
    let bed = bed().await;
    let url = bed.mcp_url("open");
    let mut t = FakeTerminal::new();
    let argv = [
        "--url",
        url.as_str(),
        "resources",
        "subscribe",
        "keyhole://open/readme",
        "--count",
        "2",
    ];
    let touch = async {
        let mut delivered = 0;
        while delivered < 2 {
            let reply = bed
                .control(
                    "servers/open/resource-updated",
                    json!({"uri": "keyhole://open/readme"}),
                )
                .await;
            delivered += reply["delivered"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (code, ()) = tokio::join!(bed.run(&argv, &mut t), touch);
    assert_eq!(code, 0, "{}", t.stderr());
    assert_eq!(
        t.stdout().matches("updated keyhole://open/readme").count(),
        2,
        "{}",
        t.stdout()
    );
    assert!(t.stderr().contains("Subscribed to keyhole://open/readme"));
}

#[tokio::test]
async fn a_2026_servers_input_request_is_answered_like_a_server_request() {
    let mut config = cli_fixture::config();
    config["servers"].as_array_mut().unwrap().push(json!({
        "name": "asker", "auth": {"mode": "none"}, "era": "modern",
        "tools": [{"preset": "askName"}]}));
    let bed = Bed::with_config(TestbedConfig::from_json_str(&config.to_string()).unwrap()).await;
    let url = bed.mcp_url("asker");

    let mut t = FakeTerminal::new();
    let answered = [
        "--url",
        &url,
        "--elicit-json",
        r#"{"name": "Ada"}"#,
        "tools",
        "call",
        "ask-name",
    ];
    assert_eq!(bed.run(&answered, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("Ada"), "{}", t.stdout());

    // Without an answer to give, the CLI announces no elicitation, and the server says so.
    let mut t = FakeTerminal::new();
    let unanswered = ["--url", &url, "tools", "call", "ask-name"];
    assert_ne!(bed.run(&unanswered, &mut t).await, 0);
    assert!(
        t.stderr().contains("capability `elicitation`"),
        "{}",
        t.stderr()
    );
}
