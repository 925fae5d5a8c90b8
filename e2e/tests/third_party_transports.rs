//! Real third-party servers over each transport Keyhole speaks, through the CLI and in Chromium:
//! `@modelcontextprotocol/server-everything` (npm) in its `stdio`, `sse` (HTTP+SSE, 2024-11-05)
//! and `streamableHttp` modes, and a server on the Python SDK (`mcp` on PyPI) over stdio. Each
//! time: connect, list and call a tool, read a resource, get a prompt. In Chromium the four are
//! entries of one `mcp.json` catalog mixing the three transports, each connected from the servers
//! view and named in the header, the Protocol tab and the Network tab.

use keyhole_e2e::cli::{Cli, CliOutput};
use keyhole_e2e::demo::run_tool;
use keyhole_e2e::interop::Peers;
use keyhole_e2e::peers::ServerEverything;
use keyhole_e2e::{Browser, KeyholeProcess};
use serde_json::json;

/// What a server offers to exercise, and what its answers contain.
struct Offer {
    /// What `echo` puts before the message.
    echo_says: &'static str,
    resource_uri: &'static str,
    resource_name: &'static str,
    resource_says: &'static str,
    prompt: &'static str,
    prompt_args: &'static [(&'static str, &'static str)],
    prompt_says: &'static str,
}

const EVERYTHING: Offer = Offer {
    echo_says: "Echo: ",
    resource_uri: "demo://resource/static/document/architecture.md",
    resource_name: "architecture.md",
    resource_says: "Architecture",
    prompt: "simple-prompt",
    prompt_args: &[],
    prompt_says: "simple prompt without arguments",
};

/// `e2e/fixtures/python_oauth_server.py stdio`.
const PYTHON: Offer = Offer {
    echo_says: "echo: ",
    resource_uri: "fixture://readme",
    resource_name: "readme",
    resource_says: "readme of the Python fixture",
    prompt: "greeting",
    prompt_args: &[("name", "Ada")],
    prompt_says: "Say hello to Ada.",
};

fn python_stdio(peers: &Peers) -> (String, Vec<String>) {
    (
        peers.python().display().to_string(),
        vec![
            Peers::python_fixture().display().to_string(),
            "stdio".into(),
        ],
    )
}

/// `node <server-everything> stdio`, with node's full path: the CLI runs with a `PATH` of its
/// own, so that no desktop browser opens.
fn everything_stdio() -> (String, Vec<String>) {
    let script = ServerEverything::script().display().to_string();
    let node = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("node"))
        .find(|path| path.is_file())
        .expect("node on PATH");
    (node.display().to_string(), vec![script, "stdio".into()])
}

fn command_line((program, args): &(String, Vec<String>)) -> String {
    let mut words = vec![program.as_str()];
    words.extend(args.iter().map(String::as_str));
    shlex::try_join(words).unwrap()
}

/// `keyhole cli <target…> <words…>`.
async fn run(cli: &Cli, target: &[&str], words: &[&str]) -> CliOutput {
    let mut argv = target.to_vec();
    argv.extend_from_slice(words);
    cli.run(&argv).await
}

/// Lists and calls a tool, reads a resource and gets a prompt with `keyhole cli <target…>`.
async fn through_the_cli(target: &[&str], offer: &Offer) {
    let cli = Cli::new();
    let listed = run(&cli, target, &["tools", "list"]).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains("echo"), "{listed:?}");
    let called = run(
        &cli,
        target,
        &["tools", "call", "echo", "--arg", "message=hello"],
    )
    .await;
    assert!(
        called.stdout.contains(&format!("{}hello", offer.echo_says)),
        "{called:?}"
    );
    let read = run(&cli, target, &["resources", "read", offer.resource_uri]).await;
    assert!(read.stdout.contains(offer.resource_says), "{read:?}");
    let mut get = vec!["prompts", "get", offer.prompt];
    let pairs: Vec<String> = offer
        .prompt_args
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    for pair in &pairs {
        get.extend(["--arg", pair.as_str()]);
    }
    let got = run(&cli, target, &get).await;
    assert!(got.stdout.contains(offer.prompt_says), "{got:?}");
}

#[tokio::test]
async fn cli_server_everything_over_stdio() {
    let line = command_line(&everything_stdio());
    through_the_cli(&["--command", &line], &EVERYTHING).await;
}

#[tokio::test]
async fn cli_server_everything_over_http_sse_found_by_detection() {
    let server = ServerEverything::start_in("sse");
    through_the_cli(&["--url", &server.url], &EVERYTHING).await;
    let typed = ["--url", server.url.as_str(), "--transport", "sse"];
    through_the_cli(&typed, &EVERYTHING).await;
}

#[tokio::test]
async fn cli_server_everything_over_streamable_http() {
    let server = ServerEverything::start();
    through_the_cli(&["--url", &server.url], &EVERYTHING).await;
}

#[tokio::test]
async fn cli_python_sdk_over_stdio() {
    let Some(peers) = Peers::find() else { return };
    let line = command_line(&python_stdio(&peers));
    through_the_cli(&["--command", &line], &PYTHON).await;
}

/// Connects the catalog entry `name`, checks the transport is named, runs the offer, and
/// disconnects.
async fn in_the_page(browser: &Browser, name: &str, transport: &str, offer: &Offer) {
    browser.click(&format!("server-connect-{name}")).await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    browser.wait_text("transport", |t| t == transport).await;
    run_tool(browser, "echo", &[("message", name)]).await;
    browser
        .wait_text("tool-result", |t| {
            t.contains(&format!("{}{name}", offer.echo_says))
        })
        .await;
    browser.click("tab-resources").await;
    browser
        .click(&format!("resource-item-{}", offer.resource_name))
        .await;
    browser
        .wait_text("resource-result", |t| t.contains(offer.resource_says))
        .await;
    browser.click("tab-prompts").await;
    browser
        .click(&format!("prompt-item-{}", offer.prompt))
        .await;
    for (arg, value) in offer.prompt_args {
        browser.fill(&format!("prompt-arg-{arg}"), value).await;
    }
    browser.click("prompt-get").await;
    browser
        .wait_text("prompt-result", |t| t.contains(offer.prompt_says))
        .await;
    let over = format!("over {transport}");
    browser.click("tab-protocol").await;
    browser.wait_text("protocol-transport", |t| t == over).await;
    browser.click("tab-network").await;
    browser.wait_text("network-transport", |t| t == over).await;
    browser.click("disconnect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["disconnected"])
        .await;
}

#[tokio::test]
async fn a_catalog_mixing_the_three_transports_lists_and_connects_each_in_chromium() {
    let Some(peers) = Peers::find() else { return };
    let sse = ServerEverything::start_in("sse");
    let http = ServerEverything::start();
    let (node, node_args) = everything_stdio();
    let (python, python_args) = python_stdio(&peers);
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("mcp.json");
    let document = json!({"mcpServers": {
        "everything-stdio": {"command": node, "args": node_args},
        "everything-sse": {"type": "sse", "url": sse.url},
        "everything-http": {"type": "http", "url": http.url},
        "python-stdio": {"command": python, "args": python_args},
    }});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let keyhole = KeyholeProcess::web(&["--no-demo", "--config", catalog.to_str().unwrap()]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    in_the_page(&browser, "everything-stdio", "stdio", &EVERYTHING).await;
    in_the_page(&browser, "everything-sse", "HTTP+SSE", &EVERYTHING).await;
    in_the_page(&browser, "everything-http", "Streamable HTTP", &EVERYTHING).await;
    in_the_page(&browser, "python-stdio", "stdio", &PYTHON).await;
    browser.close().await;
}
