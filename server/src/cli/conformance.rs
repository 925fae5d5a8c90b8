//! `keyhole cli conformance URL`: the client command for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance client --command "keyhole cli conformance"`).
//!
//! The suite names the scenario in `MCP_CONFORMANCE_SCENARIO` and, for some, passes a JSON
//! context in `MCP_CONFORMANCE_CONTEXT` (pre-registered client, private key, IdP token…). Every
//! scenario runs the same way a user's command would — connect with authorization (non-interactive
//! mode: the suite's authorization server approves at once), list tools, call them — with the
//! scenario's credentials mapped onto the CLI's options. Credentials go to a throw-away store, never
//! the user's.

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::args::ConnectionArgs;
use super::session::Session;
use super::{CliError, EXIT_OK, Terminal};
use crate::native::oauth_store::FileStore;

/// The client id URL the suite expects when the authorization server supports metadata documents.
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

pub(super) async fn run(url: &str, terminal: &mut dyn Terminal) -> Result<u8, CliError> {
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let context: Value = match std::env::var("MCP_CONFORMANCE_CONTEXT") {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| CliError::usage(format!("MCP_CONFORMANCE_CONTEXT is not JSON: {e}")))?,
        Err(_) => Value::Null,
    };
    let dir = tempfile_dir()?;
    let store = FileStore::new(dir.join("store.json"));
    let args = connection_args(url, &context, &dir)?;
    terminal.err(&format!("conformance scenario {scenario:?} against {url}"));
    let calls = tool_calls(&context);
    let outcome = drive(&scenario, &args, &calls, store, terminal).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn tempfile_dir() -> Result<std::path::PathBuf, CliError> {
    let dir = std::env::temp_dir().join(format!(
        "keyhole-conformance-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::error(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// The CLI options a scenario's context amounts to.
fn connection_args(
    url: &str,
    context: &Value,
    dir: &std::path::Path,
) -> Result<ConnectionArgs, CliError> {
    let text = |key: &str| context.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut args = ConnectionArgs {
        url: Some(url.to_owned()),
        yes: true,
        non_interactive: true,
        timeout: 30,
        auth_timeout: 30,
        callback_port: super::args::DEFAULT_CALLBACK_PORT,
        client_metadata_url: Some(CLIENT_METADATA_URL.to_owned()),
        client_id: text("client_id"),
        client_secret: text("client_secret"),
        // The runner says which revision a scenario runs at; 2026-07-28 is stateless.
        protocol_version: std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
            .ok()
            .filter(|v| crate::native::mcp_client::KNOWN_PROTOCOL_VERSIONS.contains(&v.as_str())),
        ..ConnectionArgs::default()
    };
    if let Some(pem) = text("private_key_pem") {
        let path = dir.join("client-key.pem");
        std::fs::write(&path, pem)
            .map_err(|e| CliError::error(format!("cannot write {}: {e}", path.display())))?;
        args.private_key = Some(path);
    }
    // Workload identity (auth/wif-jwt-bearer): the workload's token, as a projected token file.
    if let Some(jwt) = text("valid_jwt") {
        let path = dir.join("workload-token");
        std::fs::write(&path, jwt)
            .map_err(|e| CliError::error(format!("cannot write {}: {e}", path.display())))?;
        args.workload_token_file = Some(path);
    }
    if let Some(token) = text("idp_id_token") {
        args.idp_id_token = Some(token);
        args.idp_issuer = text("idp_issuer");
        args.idp_client_id = text("idp_client_id");
        args.idp_client_secret = text("idp_client_secret");
    } else if args.client_id.is_some() && is_client_credentials(context) {
        args.client_credentials = true;
    }
    Ok(args)
}

/// Client-credentials scenarios hand over a confidential client; the pre-registration one also
/// does, but expects the authorization-code flow.
fn is_client_credentials(context: &Value) -> bool {
    let name = context.get("name").and_then(Value::as_str).unwrap_or("");
    name.contains("client-credentials")
}

/// The arguments a scenario asks each tool to be called with (`toolCalls` in its context).
fn tool_calls(context: &Value) -> Map<String, Value> {
    let mut calls = Map::new();
    for call in context["toolCalls"].as_array().into_iter().flatten() {
        if let Some(name) = call["name"].as_str() {
            calls.insert(name.to_owned(), call["arguments"].clone());
        }
    }
    calls
}

async fn drive(
    scenario: &str,
    args: &ConnectionArgs,
    calls: &Map<String, Value>,
    store: FileStore,
    terminal: &mut dyn Terminal,
) -> Result<u8, CliError> {
    let capabilities = json!({ "elicitation": { "form": {} } });
    let mut session = Session::open_with_store(args, store, capabilities, terminal).await?;
    session.answer_input = Some(std::sync::Arc::new(answer_input));
    let (responses_in, mut responses) = mpsc::unbounded_channel();
    let answering = answer_server_requests(&mut session, responses_in);
    let outcome = exercise(scenario, &mut session, calls, &mut responses).await;
    answering.abort();
    session.close().await;
    outcome.map(|()| EXIT_OK)
}

/// Lists the tools and calls each one with arguments built from its input schema.
async fn exercise(
    scenario: &str,
    session: &mut Session<'_>,
    calls: &Map<String, Value>,
    responses: &mut mpsc::UnboundedReceiver<Value>,
) -> Result<(), CliError> {
    if scenario == "initialize" {
        return Ok(());
    }
    let listed = session.request("tools/list", json!({})).await?;
    let tools = listed["tools"].as_array().cloned().unwrap_or_default();
    for tool in &tools {
        let name = tool["name"].as_str().unwrap_or_default().to_owned();
        let arguments = match calls.get(&name) {
            Some(arguments) => arguments.clone(),
            // The scenario checks that a schema comes back exactly as the server sent it.
            None if name == "json_schema_echo" => json!({ "schema": focal_schema(&tools) }),
            None => sample_arguments(&tool["inputSchema"]),
        };
        // A server may deliver the response on the GET stream after a broken POST stream
        // (SSE resumption); whichever way it arrives first answers the call.
        let id = json!(session.next_request_id());
        let params = json!({ "name": name, "arguments": arguments });
        let response = {
            let mut call = std::pin::pin!(session.request_raw("tools/call", params));
            tokio::select! {
                response = &mut call => response?,
                Some(response) = response_with_id(responses, &id) => {
                    // Let the client finish resuming its broken stream (`Last-Event-ID`, after
                    // the server's `retry`) before moving on.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut call).await;
                    response
                }
            }
        };
        // A JSON-RPC error is the server's answer, not the client's failure (some scenarios'
        // servers only list their tools).
        let answer = response.get("result").or(response.get("error"));
        session
            .terminal
            .err(&format!("{name}: {}", answer.unwrap_or(&Value::Null)));
    }
    Ok(())
}

/// The JSON Schema 2020-12 scenario's tool schema, as listed (keywords and all).
fn focal_schema(tools: &[Value]) -> Value {
    tools
        .iter()
        .find(|tool| tool["name"] == "json_schema_2020_12_tool")
        .map(|tool| tool["inputSchema"].clone())
        .unwrap_or_else(|| json!({}))
}

/// The first response with `id` among the messages the server sent outside a POST.
async fn response_with_id(
    responses: &mut mpsc::UnboundedReceiver<Value>,
    id: &Value,
) -> Option<Value> {
    while let Some(response) = responses.recv().await {
        if response.get("id") == Some(id) {
            return Some(response);
        }
    }
    None
}

/// Arguments satisfying a tool's input schema: defaults, else small sample values.
fn sample_arguments(schema: &Value) -> Value {
    let mut arguments = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let value =
            property
                .get("default")
                .cloned()
                .unwrap_or_else(|| match property["type"].as_str() {
                    Some("number") | Some("integer") => json!(1),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    _ => property["enum"]
                        .get(0)
                        .cloned()
                        .unwrap_or_else(|| json!("test")),
                });
        arguments.insert(name.clone(), value);
    }
    Value::Object(arguments)
}

/// Answers the server's requests while commands run: elicitation is accepted with the schema's
/// defaults (SEP-1034), `ping` is answered, anything else is refused. Responses that arrive on the
/// GET stream go to `responses`.
fn answer_server_requests(
    session: &mut Session<'_>,
    responses: mpsc::UnboundedSender<Value>,
) -> tokio::task::JoinHandle<()> {
    let mut messages = session.take_server_messages();
    let client = session.client.clone();
    tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            let Some(id) = message.get("id") else {
                continue; // a notification
            };
            let Some(method) = message["method"].as_str() else {
                let _ = responses.send(message.clone()); // a response that came the other way
                continue;
            };
            let reply = match method {
                "elicitation/create" => json!({
                    "jsonrpc": "2.0", "id": id,
                    "result": { "action": "accept", "content": elicitation_defaults(&message["params"]["requestedSchema"]) },
                }),
                "ping" => json!({ "jsonrpc": "2.0", "id": id, "result": {} }),
                _ => json!({
                    "jsonrpc": "2.0", "id": id,
                    "error": { "code": -32601, "message": format!("Keyhole does not handle {method}") },
                }),
            };
            if let Err(error) = client.send(&reply).await {
                tracing::warn!(%error, "could not answer the server's {method}");
            }
        }
    })
}

/// Answers a 2026-07-28 input request as [`answer_server_requests`] answers a server request:
/// elicitation accepted with the schema's defaults, roots as none; sampling is not offered.
fn answer_input(method: &str, params: &Value) -> Option<Value> {
    match method {
        "elicitation/create" => Some(json!({
            "action": "accept",
            "content": elicitation_defaults(&params["requestedSchema"]),
        })),
        "roots/list" => Some(json!({ "roots": [] })),
        _ => None,
    }
}

/// The content of an accepted elicitation: every property's `default`.
pub(super) fn elicitation_defaults(schema: &Value) -> Value {
    let mut content = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(default) = property.get("default") {
            content.insert(name.clone(), default.clone());
        }
    }
    Value::Object(content)
}
