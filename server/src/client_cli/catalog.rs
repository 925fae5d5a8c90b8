//! Servers by name from an `mcp.json` catalog: `{"mcpServers": {NAME: {"url": …, "type": …,
//! "headers": {…}}}}`, the format most MCP clients share. Entries with `command` (stdio) are
//! refused with a clear message: Keyhole speaks Streamable HTTP only.

use std::path::Path;

use serde_json::Value;

use super::CliError;

/// One HTTP server from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogServer {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// Reads `path` and returns the server named `name`.
pub fn load(path: &Path, name: &str) -> Result<CatalogServer, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{} is not valid JSON: {e}", path.display())))?;
    find(&document, name)
        .map_err(|message| CliError::usage(format!("{}: {message}", path.display())))
}

/// The server named `name` in a parsed catalog.
pub fn find(document: &Value, name: &str) -> Result<CatalogServer, String> {
    let servers = document
        .get("mcpServers")
        .or_else(|| document.get("servers"))
        .and_then(Value::as_object)
        .ok_or("no \"mcpServers\" object")?;
    let entry = servers.get(name).ok_or_else(|| {
        let known: Vec<&str> = servers.keys().map(String::as_str).collect();
        format!(
            "no server named {name:?} (known: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })?;
    let kind = entry.get("type").and_then(Value::as_str).unwrap_or("");
    if entry.get("command").is_some() || kind == "stdio" {
        return Err(format!(
            "server {name:?} is a stdio server (it has a \"command\"); Keyhole only supports Streamable HTTP servers (\"url\")"
        ));
    }
    if kind == "sse" {
        return Err(format!(
            "server {name:?} uses the legacy SSE transport; Keyhole only supports Streamable HTTP"
        ));
    }
    let url = entry
        .get("url")
        .or_else(|| entry.get("serverUrl"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("server {name:?} has no \"url\""))?;
    let mut headers = Vec::new();
    if let Some(map) = entry.get("headers").and_then(Value::as_object) {
        for (key, value) in map {
            let value = value
                .as_str()
                .ok_or_else(|| format!("server {name:?}: header {key:?} is not a string"))?;
            headers.push((key.clone(), value.to_owned()));
        }
    }
    Ok(CatalogServer {
        url: url.to_owned(),
        headers,
    })
}

/// Parses `'Name: value'`.
pub fn parse_header(text: &str) -> Result<(String, String), CliError> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| CliError::usage(format!("--header {text:?} is not 'Name: value'")))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(CliError::usage(format!(
            "--header {text:?} has no valid header name"
        )));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}
