//! The 2026-07-28 ("modern", stateless) revision of MCP as this client speaks it: no `initialize`
//! handshake and no `Mcp-Session-Id`; every request carries the protocol version, the client's
//! capabilities and its identity in `params._meta`, and says what it is in the `Mcp-Method` and
//! `Mcp-Name` headers; `server/discover` describes the server (basic/index, Streamable HTTP
//! “Standard Request Headers”, `server/discover` in the specification).
//!
//! Written here rather than taken from an SDK for the reason the client as a whole is (see the
//! parent module): every byte on the wire has to be shown and owned by the inspector.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// The newest revision this client speaks: stateless.
pub const MODERN_PROTOCOL_VERSION: &str = "2026-07-28";

/// `server/discover` answered with this code names the versions the server speaks
/// (`error.data.supported`).
const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// Whether `version` is a stateless (2026-07-28 or later) revision. Versions are dates, so they
/// compare as text.
pub fn is_stateless(version: &str) -> bool {
    version >= MODERN_PROTOCOL_VERSION
}

/// `message` as sent at `version`: a request gets `params._meta` with the protocol version, the
/// client's capabilities and identity (keys already there, such as `progressToken`, stay).
/// Notifications and responses go as they are.
pub fn with_request_meta(message: &Value, version: &str, capabilities: &Value) -> Value {
    let is_request = message.get("method").is_some() && message.get("id").is_some();
    if !is_request {
        return message.clone();
    }
    let mut message = message.clone();
    let params = message
        .as_object_mut()
        .map(|object| object.entry("params").or_insert_with(|| json!({})));
    let Some(Value::Object(params)) = params else {
        return message;
    };
    let meta = params
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.insert(
            "io.modelcontextprotocol/protocolVersion".into(),
            json!(version),
        );
        meta.insert(
            "io.modelcontextprotocol/clientCapabilities".into(),
            capabilities.clone(),
        );
        meta.insert(
            "io.modelcontextprotocol/clientInfo".into(),
            json!({ "name": "keyhole", "title": "Keyhole", "version": keyhole_shared::VERSION }),
        );
    }
    message
}

/// The `Mcp-Method` and `Mcp-Name` headers for `message`: the method, and for `tools/call` and
/// `prompts/get` the name, for `resources/read` the URI.
pub fn standard_headers(message: &Value) -> Vec<(&'static str, String)> {
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut headers = vec![("mcp-method", header_value(method))];
    let name = match method {
        "tools/call" | "prompts/get" => message["params"]["name"].as_str(),
        "resources/read" => message["params"]["uri"].as_str(),
        _ => None,
    };
    if let Some(name) = name {
        headers.push(("mcp-name", header_value(name)));
    }
    headers
}

/// A header value as the specification writes it: as is when it is plain visible ASCII without
/// surrounding spaces, else `=?base64?…?=` of its UTF-8 (also when the plain text itself looks
/// like that form).
pub fn header_value(text: &str) -> String {
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && text.trim() == text
        && !(text.starts_with("=?base64?") && text.ends_with("?="));
    if plain {
        text.to_owned()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(text.as_bytes()))
    }
}

/// What `server/discover` answered, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Discovered {
    /// The server speaks `version`: an `InitializeResult`-shaped view of its `DiscoverResult`
    /// (`protocolVersion`, `capabilities`, `serverInfo`, `instructions`), so the pages and the CLI
    /// read either era the same way; the whole result stays under `discover`.
    Speaks(Value),
    /// The server does not speak the version asked for; these are the ones it names.
    OtherVersions(Vec<String>),
    /// An error that says nothing about versions.
    Refused(String),
}

/// Reads the response to a `server/discover` sent at `version`.
pub fn read_discover(response: &Value, version: &str) -> Discovered {
    if let Some(error) = response.get("error") {
        let supported = error["data"]["supported"].as_array();
        if error["code"].as_i64() == Some(UNSUPPORTED_PROTOCOL_VERSION)
            && let Some(supported) = supported
        {
            let versions = supported
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            return Discovered::OtherVersions(versions);
        }
        let message = error["message"].as_str().unwrap_or("no message");
        return Discovered::Refused(format!(
            "the MCP server refused `server/discover` (error {}): {message}",
            error["code"]
        ));
    }
    let result = response.get("result").cloned().unwrap_or(Value::Null);
    // A lax 2025 server may answer any method with some result: only one that describes a
    // server (its versions or its capabilities) is a `DiscoverResult`.
    if !result["supportedVersions"].is_array() && !result["capabilities"].is_object() {
        return Discovered::Refused(
            "the MCP server's answer to `server/discover` does not describe a server (no \
             `supportedVersions`, no `capabilities`)"
                .into(),
        );
    }
    let server_info = result["_meta"]["io.modelcontextprotocol/serverInfo"]
        .as_object()
        .or_else(|| result["serverInfo"].as_object())
        .map(|info| Value::Object(info.clone()))
        .unwrap_or(Value::Null);
    let mut view = json!({
        "protocolVersion": version,
        "capabilities": result.get("capabilities").cloned().unwrap_or_else(|| json!({})),
        "serverInfo": server_info,
    });
    if let Some(instructions) = result.get("instructions") {
        view["instructions"] = instructions.clone();
    }
    view["discover"] = result;
    Discovered::Speaks(view)
}

/// A tool's `x-mcp-header` annotations: each header's name (`Mcp-Param-<name>`) and the path of
/// `properties` keys to the argument it mirrors.
pub type ParamHeaders = Vec<(String, Vec<String>)>;

/// The `x-mcp-header` annotations of a tool's `inputSchema`, checked as the specification asks:
/// a non-empty token name, unique ignoring case, on a `string`, `integer` or `boolean` property
/// reached from the root through `properties` alone. `Err` says why the tool must not be offered.
pub fn param_headers(schema: &Value) -> Result<ParamHeaders, String> {
    let mut found = Vec::new();
    collect_param_headers(schema, &mut Vec::new(), &mut found)?;
    let anywhere = count_annotations(schema);
    if anywhere != found.len() {
        return Err("an `x-mcp-header` sits where only `properties` may lead to it".into());
    }
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in &found {
        let folded = name.to_ascii_lowercase();
        if seen.contains(&folded) {
            return Err(format!("the header name {name:?} is used twice"));
        }
        seen.push(folded);
    }
    Ok(found)
}

fn collect_param_headers(
    schema: &Value,
    path: &mut Vec<String>,
    found: &mut ParamHeaders,
) -> Result<(), String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (key, property) in properties {
        path.push(key.clone());
        if let Some(annotation) = property.get("x-mcp-header") {
            let name = annotation.as_str().unwrap_or_default();
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(format!(
                    "the header name {annotation} of `{}` is not a token",
                    path.join(".")
                ));
            }
            let kind = property.get("type").and_then(Value::as_str);
            if !matches!(kind, Some("string" | "integer" | "boolean")) {
                return Err(format!(
                    "`{}` carries a header but is not a string, integer or boolean",
                    path.join(".")
                ));
            }
            found.push((name.to_owned(), path.clone()));
        }
        collect_param_headers(property, path, found)?;
        path.pop();
    }
    Ok(())
}

/// RFC 9110 `tchar`.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn count_annotations(value: &Value) -> usize {
    match value {
        Value::Object(object) => {
            usize::from(object.contains_key("x-mcp-header"))
                + object.values().map(count_annotations).sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count_annotations).sum(),
        _ => 0,
    }
}

/// The `Mcp-Param-*` headers of a call with `arguments`: a string as is (base64 when not plain),
/// an integer in decimal, a boolean as `true`/`false`; an absent or `null` argument, none.
pub fn param_header_values(headers: &ParamHeaders, arguments: &Value) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, path)| {
            let value = path.iter().try_fold(arguments, |v, key| v.get(key))?;
            let text = match value {
                Value::String(text) => header_value(text),
                Value::Bool(flag) => flag.to_string(),
                Value::Number(number) if number.is_i64() || number.is_u64() => number.to_string(),
                _ => return None,
            };
            Some((format!("mcp-param-{name}"), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_2026_07_28_on_are_stateless() {
        assert!(is_stateless("2026-07-28"));
        assert!(is_stateless("2027-01-01"));
        assert!(!is_stateless("2025-11-25"));
    }

    #[test]
    fn every_request_carries_its_meta_and_keeps_what_was_there() {
        let caps = json!({"elicitation": {}});
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let sent = with_request_meta(&request, "2026-07-28", &caps);
        let meta = &sent["params"]["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        assert_eq!(meta["io.modelcontextprotocol/clientCapabilities"], caps);
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "keyhole"
        );

        let with_token = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                "params": {"name": "t", "_meta": {"progressToken": 5}}});
        let sent = with_request_meta(&with_token, "2026-07-28", &caps);
        assert_eq!(sent["params"]["_meta"]["progressToken"], 5);
        assert_eq!(sent["params"]["name"], "t");

        let notification = json!({"jsonrpc": "2.0", "method": "notifications/cancelled"});
        assert_eq!(
            with_request_meta(&notification, "2026-07-28", &caps),
            notification
        );
        let odd = json!({"jsonrpc": "2.0", "id": 3, "method": "x", "params": [1]});
        assert_eq!(
            with_request_meta(&odd, "2026-07-28", &caps),
            odd,
            "not an object: left alone"
        );
    }

    #[test]
    fn method_and_name_headers_follow_the_method() {
        let call = json!({"method": "tools/call", "params": {"name": "get-weather"}});
        assert_eq!(
            standard_headers(&call),
            [
                ("mcp-method", "tools/call".into()),
                ("mcp-name", "get-weather".into())
            ]
        );
        let read = json!({"method": "resources/read", "params": {"uri": "file:///a b"}});
        assert_eq!(
            standard_headers(&read)[1],
            ("mcp-name", "file:///a b".into())
        );
        let list = json!({"method": "tools/list"});
        assert_eq!(
            standard_headers(&list),
            [("mcp-method", "tools/list".into())]
        );
        assert!(standard_headers(&json!({"id": 1, "result": {}})).is_empty());
    }

    #[test]
    fn values_that_are_not_plain_ascii_are_base64() {
        assert_eq!(header_value("plain-name_1"), "plain-name_1");
        assert_eq!(header_value("héllo"), "=?base64?aMOpbGxv?=");
        assert_eq!(header_value(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(header_value("tab\there"), "=?base64?dGFiCWhlcmU=?=");
        assert_eq!(
            header_value("=?base64?eA==?="),
            "=?base64?PT9iYXNlNjQ/ZUE9PT89?="
        );
    }

    #[test]
    fn a_discover_result_reads_like_an_initialize_result() {
        let response = json!({"jsonrpc": "2.0", "id": 1, "result": {
            "resultType": "complete", "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}}, "instructions": "be nice",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}}});
        let Discovered::Speaks(view) = read_discover(&response, "2026-07-28") else {
            panic!("a DiscoverResult")
        };
        assert_eq!(view["protocolVersion"], "2026-07-28");
        assert_eq!(view["capabilities"], json!({"tools": {}}));
        assert_eq!(view["serverInfo"]["name"], "s");
        assert_eq!(view["instructions"], "be nice");
        assert_eq!(view["discover"]["supportedVersions"][0], "2026-07-28");

        let in_body = json!({"result": {"capabilities": {}, "serverInfo": {"name": "b"}}});
        let Discovered::Speaks(view) = read_discover(&in_body, "2026-07-28") else {
            panic!()
        };
        assert_eq!(
            view["serverInfo"]["name"], "b",
            "serverInfo in the body is read too"
        );
    }

    #[test]
    fn version_errors_name_the_versions_and_other_errors_are_refusals() {
        let other = json!({"error": {"code": -32022, "message": "no",
                                     "data": {"supported": ["2026-09-01"], "requested": "x"}}});
        assert_eq!(
            read_discover(&other, "2026-07-28"),
            Discovered::OtherVersions(vec!["2026-09-01".into()])
        );
        let legacy = json!({"error": {"code": -32601, "message": "Method not found"}});
        assert!(matches!(
            read_discover(&legacy, "2026-07-28"),
            Discovered::Refused(_)
        ));
    }

    #[test]
    fn header_annotations_are_checked_as_the_specification_asks() {
        let tool = |properties: Value| json!({"type": "object", "properties": properties});
        let ok = tool(json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "nested": {"type": "object", "properties": {
                "flag": {"type": "boolean", "x-mcp-header": "Flag"}}},
            "plain": {"type": "number"}}));
        let headers = param_headers(&ok).unwrap();
        assert_eq!(headers.len(), 2);
        assert!(headers.contains(&("Flag".into(), vec!["nested".into(), "flag".into()])));

        for (bad, why) in [
            (
                tool(json!({"a": {"type": "string", "x-mcp-header": ""}})),
                "empty",
            ),
            (
                tool(json!({"a": {"type": "object", "x-mcp-header": "A"}})),
                "object",
            ),
            (
                tool(json!({"a": {"type": "number", "x-mcp-header": "A"}})),
                "number",
            ),
            (
                tool(json!({"a": {"type": "string", "x-mcp-header": "My Region"}})),
                "space",
            ),
            (
                tool(json!({"a": {"type": "string", "x-mcp-header": "Région"}})),
                "non-ASCII",
            ),
            (
                tool(json!({"a": {"type": "string", "x-mcp-header": "A:B"}})),
                "colon",
            ),
            (
                tool(json!({"a": {"type": "string", "x-mcp-header": "X"},
                         "b": {"type": "string", "x-mcp-header": "x"}})),
                "duplicate",
            ),
            (
                tool(
                    json!({"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}),
                ),
                "under items",
            ),
        ] {
            assert!(param_headers(&bad).is_err(), "{why}: {bad}");
        }
    }

    #[test]
    fn header_values_mirror_the_arguments() {
        let headers: ParamHeaders = vec![
            ("Region".into(), vec!["region".into()]),
            ("Priority".into(), vec!["priority".into()]),
            ("Verbose".into(), vec!["verbose".into()]),
            ("Empty".into(), vec!["empty".into()]),
            ("Missing".into(), vec!["missing".into()]),
            ("Tab".into(), vec!["tab".into()]),
        ];
        let arguments = json!({"region": "us-west1", "priority": 42, "verbose": null,
                               "empty": "", "tab": "\tindented"});
        assert_eq!(
            param_header_values(&headers, &arguments),
            [
                ("mcp-param-Region".into(), "us-west1".into()),
                ("mcp-param-Priority".into(), "42".into()),
                ("mcp-param-Empty".into(), String::new()),
                ("mcp-param-Tab".into(), "=?base64?CWluZGVudGVk?=".into()),
            ]
        );
    }
}
