//! `tools`, `resources` and `prompts`: the requests and their output, human-readable by default,
//! the raw MCP `result` as JSON with `--json`.

use serde_json::{Map, Value, json};

use super::client_side::Note;
use super::session::Session;
use super::{CliError, EXIT_OK, EXIT_TOOL_ERROR};

/// Lists every page of `method` (following `nextCursor`) and returns the merged `key` array.
pub(crate) async fn list_all(
    session: &mut Session<'_>,
    method: &str,
    key: &str,
) -> Result<Value, CliError> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let params = match &cursor {
            Some(cursor) => json!({ "cursor": cursor }),
            None => json!({}),
        };
        let result = session.request(method, params).await?;
        if let Some(page) = result.get(key).and_then(Value::as_array) {
            items.extend(page.iter().cloned());
        }
        cursor = result
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    Ok(json!({ key: items }))
}

fn print_json(session: &mut Session<'_>, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    session.terminal.out(&text);
}

fn describe(item: &Value, name_key: &str) -> String {
    let name = item[name_key].as_str().unwrap_or("?");
    let title = item["title"].as_str().filter(|t| *t != name);
    let description = item["description"]
        .as_str()
        .map(|d| d.lines().next().unwrap_or(""));
    let mut line = name.to_owned();
    if let Some(title) = title {
        line.push_str(&format!(" ({title})"));
    }
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        line.push_str(&format!(" — {description}"));
    }
    line
}

pub(super) async fn tools_list(session: &mut Session<'_>) -> Result<u8, CliError> {
    let result = list_all(session, "tools/list", "tools").await?;
    if session.json {
        print_json(session, &result);
        return Ok(EXIT_OK);
    }
    let tools = result["tools"].as_array().cloned().unwrap_or_default();
    if tools.is_empty() {
        session.terminal.out("(no tools)");
    }
    for tool in &tools {
        session.terminal.out(&describe(tool, "name"));
        if let Some(properties) = tool["inputSchema"]["properties"].as_object() {
            let required: Vec<&str> = tool["inputSchema"]["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, schema) in properties {
                let kind = schema["type"].as_str().unwrap_or("any");
                let flag = if required.contains(&name.as_str()) {
                    ", required"
                } else {
                    ""
                };
                session
                    .terminal
                    .out(&format!("    --arg {name}=<{kind}{flag}>"));
            }
        }
    }
    Ok(EXIT_OK)
}

/// `k=v` pairs into a JSON object; with `typed`, a value that parses as JSON is taken as such.
pub(super) fn parse_pairs(pairs: &[String], typed: bool) -> Result<Map<String, Value>, CliError> {
    let mut map = Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--arg {pair:?} is not key=value")))?;
        if key.is_empty() {
            return Err(CliError::usage(format!("--arg {pair:?} has an empty key")));
        }
        let value = if typed {
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()))
        } else {
            Value::String(value.to_owned())
        };
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

pub(super) async fn tools_call(
    session: &mut Session<'_>,
    name: &str,
    pairs: &[String],
    args_json: Option<&str>,
    as_task: bool,
) -> Result<u8, CliError> {
    let arguments = match args_json {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(CliError::usage("--args-json must be a JSON object")),
            Err(e) => return Err(CliError::usage(format!("--args-json is not JSON: {e}"))),
        },
        None => parse_pairs(pairs, true)?,
    };
    let mut params = json!({ "name": name, "arguments": Value::Object(arguments) });
    if as_task {
        params["task"] = json!({});
    }
    // A server that runs tools as tasks may refuse a plain call of one that must run as a task.
    let task_hint = (!as_task && super::tasks::offers_tool_tasks(&session.initialize_result))
        .then_some(
            "hint: this server runs tools as tasks; call one that must run as a task with --task",
        );
    let mut result = match session.request("tools/call", params).await {
        Err(CliError::Failed(message)) if let Some(hint) = task_hint => {
            return Err(CliError::error(format!("{message}\n{hint}")));
        }
        other => other?,
    };
    if as_task && result.get("task").is_some() {
        result = super::tasks::follow(session, &result).await?;
    }
    let is_error = result["isError"].as_bool().unwrap_or(false);
    if session.json {
        print_json(session, &result);
    } else {
        print_content(session, &result["content"]);
        if let Some(structured) = result.get("structuredContent") {
            session
                .terminal
                .out(&format!("structuredContent: {structured}"));
        }
    }
    if is_error {
        session
            .terminal
            .err(&format!("error: the tool {name:?} reported an error"));
        if let Some(hint) = task_hint {
            session.terminal.err(hint);
        }
        return Ok(EXIT_TOOL_ERROR);
    }
    Ok(EXIT_OK)
}

fn print_content(session: &mut Session<'_>, content: &Value) {
    for line in content_lines(content) {
        session.terminal.out(&line);
    }
}

/// A tool result's content blocks, one line each (text as it is, binary data described).
pub(crate) fn content_lines(content: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for block in content.as_array().into_iter().flatten() {
        let line = match block["type"].as_str() {
            Some("text") => block["text"].as_str().unwrap_or("").to_owned(),
            Some("image") | Some("audio") => format!(
                "[{} {}, {} bytes base64]",
                block["type"].as_str().unwrap_or(""),
                block["mimeType"].as_str().unwrap_or("?"),
                block["data"].as_str().map_or(0, str::len)
            ),
            Some("resource") => resource_text(&block["resource"]),
            Some("resource_link") => {
                format!("[resource link {}]", block["uri"].as_str().unwrap_or("?"))
            }
            _ => block.to_string(),
        };
        lines.push(line);
    }
    lines
}

pub(crate) fn resource_text(contents: &Value) -> String {
    match (contents["text"].as_str(), contents["blob"].as_str()) {
        (Some(text), _) => text.to_owned(),
        (None, Some(blob)) => format!(
            "[{} {}, {} bytes base64]",
            contents["uri"].as_str().unwrap_or("?"),
            contents["mimeType"].as_str().unwrap_or("binary"),
            blob.len()
        ),
        _ => contents.to_string(),
    }
}

pub(super) async fn resources_list(session: &mut Session<'_>) -> Result<u8, CliError> {
    let resources = list_all(session, "resources/list", "resources").await?;
    // Templates are optional in servers; a server without them may answer with an error.
    let templates = list_all(session, "resources/templates/list", "resourceTemplates")
        .await
        .unwrap_or_else(|_| json!({ "resourceTemplates": [] }));
    let result = json!({
        "resources": resources["resources"],
        "resourceTemplates": templates["resourceTemplates"],
    });
    if session.json {
        print_json(session, &result);
        return Ok(EXIT_OK);
    }
    let resources = result["resources"].as_array().cloned().unwrap_or_default();
    let templates = result["resourceTemplates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if resources.is_empty() && templates.is_empty() {
        session.terminal.out("(no resources)");
    }
    for resource in &resources {
        let line = format!(
            "{}  {}",
            resource["uri"].as_str().unwrap_or("?"),
            describe(resource, "name")
        );
        session.terminal.out(&line);
    }
    for template in &templates {
        let line = format!(
            "{}  {} (template)",
            template["uriTemplate"].as_str().unwrap_or("?"),
            describe(template, "name")
        );
        session.terminal.out(&line);
    }
    Ok(EXIT_OK)
}

pub(super) async fn resources_read(session: &mut Session<'_>, uri: &str) -> Result<u8, CliError> {
    let result = session
        .request("resources/read", json!({ "uri": uri }))
        .await?;
    if session.json {
        print_json(session, &result);
        return Ok(EXIT_OK);
    }
    for contents in result["contents"].as_array().into_iter().flatten() {
        let text = resource_text(contents);
        session.terminal.out(&text);
    }
    Ok(EXIT_OK)
}

/// Subscribes to `uri` and prints a line per update (the notification as JSON with `--json`)
/// until Ctrl+C or `count` updates; the server's log messages are printed as they come.
pub(super) async fn resources_subscribe(
    session: &mut Session<'_>,
    notes: &mut super::Notes,
    uri: &str,
    count: Option<usize>,
) -> Result<u8, CliError> {
    session
        .request("resources/subscribe", json!({ "uri": uri }))
        .await?;
    session.terminal.err(&format!(
        "Subscribed to {uri}; waiting for updates (Ctrl+C stops)."
    ));
    let mut seen = 0;
    while count.is_none_or(|count| seen < count) {
        let note = tokio::select! {
            note = notes.recv() => note,
            _ = tokio::signal::ctrl_c() => None,
        };
        match note {
            None => break,
            Some(Note::Log(line)) => session.terminal.err(&line),
            Some(Note::Other(message))
                if message["method"] == "notifications/resources/updated"
                    && message["params"]["uri"] == uri =>
            {
                seen += 1;
                if session.json {
                    print_json(session, &message);
                } else {
                    session.terminal.out(&format!("updated {uri}"));
                }
            }
            Some(Note::Other(_)) => {}
        }
    }
    // Best effort: the session ends next anyway.
    let _ = session
        .request("resources/unsubscribe", json!({ "uri": uri }))
        .await;
    Ok(EXIT_OK)
}

pub(super) async fn prompts_list(session: &mut Session<'_>) -> Result<u8, CliError> {
    let result = list_all(session, "prompts/list", "prompts").await?;
    if session.json {
        print_json(session, &result);
        return Ok(EXIT_OK);
    }
    let prompts = result["prompts"].as_array().cloned().unwrap_or_default();
    if prompts.is_empty() {
        session.terminal.out("(no prompts)");
    }
    for prompt in &prompts {
        session.terminal.out(&describe(prompt, "name"));
        for argument in prompt["arguments"].as_array().into_iter().flatten() {
            let required = if argument["required"].as_bool().unwrap_or(false) {
                " (required)"
            } else {
                ""
            };
            let line = format!(
                "    --arg {}=…{required}",
                argument["name"].as_str().unwrap_or("?")
            );
            session.terminal.out(&line);
        }
    }
    Ok(EXIT_OK)
}

pub(super) async fn prompts_get(
    session: &mut Session<'_>,
    name: &str,
    pairs: &[String],
) -> Result<u8, CliError> {
    let arguments = parse_pairs(pairs, false)?;
    let result = session
        .request(
            "prompts/get",
            json!({ "name": name, "arguments": Value::Object(arguments) }),
        )
        .await?;
    if session.json {
        print_json(session, &result);
        return Ok(EXIT_OK);
    }
    if let Some(description) = result["description"].as_str() {
        session.terminal.out(&format!("# {description}"));
    }
    for message in result["messages"].as_array().into_iter().flatten() {
        let role = message["role"].as_str().unwrap_or("?");
        session.terminal.out(&format!("[{role}]"));
        print_content(session, &Value::Array(vec![message["content"].clone()]));
    }
    Ok(EXIT_OK)
}
