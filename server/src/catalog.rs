//! Servers from an `mcp.json` catalog, the format most MCP clients share:
//! `{"mcpServers": {NAME: {"url": …, "type": …, "headers": {…}}}}` (`"servers"` is read too).
//! `keyhole web --config` lists every entry in the servers view; `keyhole cli --config --server
//! NAME` picks one.
//!
//! Keyhole connects to HTTP servers (`url`: Streamable HTTP, or the HTTP+SSE transport of
//! 2024-11-05 with `"type": "sse"` or when the server refuses the Streamable HTTP POST) and stdio
//! servers (`command`, `args`, `env`, `cwd`; the web app gets their environment over the
//! token-protected API, as it gets `enterprise` secrets, and shows only its names). Entries of a
//! transport Keyhole does not speak are kept with the reason, so the web app can list them and the
//! CLI can say why it refuses them.
//!
//! An entry may carry Keyhole's own `enterprise` object for enterprise-managed authorization
//! (SEP-990): the IdP and this client's registrations there and at the server's authorization
//! server, which no other key of the format can express:
//!
//! ```json
//! "enterprise": {"idpIssuer": "https://idp.example", "idpClientId": "keyhole",
//!                "idpClientSecret": "…", "idpClientAuthMethod": "client_secret_post",
//!                "idpScope": "openid email",
//!                "clientId": "keyhole-at-the-server", "clientSecret": "…",
//!                "clientAuthMethod": "client_secret_basic"}
//! ```
//!
//! The auth methods (`none`, `client_secret_basic`, `client_secret_post`) are optional: without
//! one, a client with a secret uses what the server announces, `client_secret_basic` first.
//!
//! Keyhole's `oauth` object says how to authorize at an ordinary OAuth server when dynamic
//! registration is not what the user wants, and `protocolVersion` pins the MCP version asked for:
//!
//! ```json
//! "oauth": {"clientId": "registered-in-advance", "clientSecret": "…", "scopes": "mcp files:read",
//!           "clientMetadataUrl": "https://example.com/keyhole-client.json"},
//! "protocolVersion": "2025-06-18"
//! ```
//!
//! Other keys of an entry are ignored (catalogs carry other clients' settings); unknown keys inside
//! `enterprise` are errors, since a typo there would silently lose a setting. Every error names the
//! field, e.g. `mcpServers.corp.enterprise.idpIssuer`.

use std::path::{Path, PathBuf};

use crate::native::mcp_client::HttpTransport;
use crate::native::mcp_client::stdio::StdioCommand;
use keyhole_shared::ScopeSet;
use keyhole_shared::api::{CatalogEntry, EntryOAuth, StdioEntry};
use keyhole_shared::oauth_client::{
    ClientId, EnterpriseConfig, Issuer, PreRegisteredClient, TokenEndpointAuthMethod,
};
use serde_json::{Map, Value};

/// The IdP scope asked for when an entry names none.
const DEFAULT_IDP_SCOPE: &str = "openid email";

/// Every server of a catalog file, in the file's key order (alphabetical).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub servers: Vec<CatalogServer>,
    /// The file it was read from.
    pub source: Option<PathBuf>,
}

/// The file name MCP clients keep their servers in.
pub const FILE_NAME: &str = "mcp.json";

/// One entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogServer {
    pub name: String,
    pub transport: Transport,
}

/// How Keyhole can reach an entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// An HTTP endpoint (boxed: it is much larger than the other variants).
    Http(Box<HttpServer>),
    /// A server to start and talk to over stdio (`command`, `args`, `env`, `cwd`).
    Stdio(StdioCommand),
    /// An entry Keyhole cannot connect to yet, and why (in a sentence that names the entry).
    Unsupported { reason: String },
}

/// An HTTP server from the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpServer {
    pub url: String,
    /// `"type": "sse"`: the HTTP+SSE transport; else Streamable HTTP, with detection.
    pub transport: HttpTransport,
    /// Sent with every MCP request.
    pub headers: Vec<(String, String)>,
    /// Enterprise-managed authorization settings, when the entry has them.
    pub enterprise: Option<EnterpriseConfig>,
    /// OAuth settings (`oauth`), when the entry has them.
    pub oauth: Option<EntryOAuth>,
    /// The MCP version to ask for (`protocolVersion`), instead of negotiating.
    pub protocol_version: Option<String>,
}

/// A catalog that cannot be used, with the file and field in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub String);

impl Catalog {
    /// Reads and checks the catalog at `path`.
    pub fn load(path: &Path) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CatalogError(format!("cannot read {}: {e}", path.display())))?;
        let document: Value = serde_json::from_str(&text)
            .map_err(|e| CatalogError(format!("{} is not valid JSON: {e}", path.display())))?;
        let mut catalog = Self::from_value(&document)
            .map_err(|message| CatalogError(format!("{}: {message}", path.display())))?;
        catalog.source = Some(path.to_owned());
        Ok(catalog)
    }

    /// Where to find a catalog nobody named: `mcp.json` in `cwd`, then in Keyhole's folder of
    /// the configuration directory (`keyhole_dir`); the first that exists.
    pub fn default_location(cwd: &Path, keyhole_dir: Option<&Path>) -> Option<PathBuf> {
        std::iter::once(cwd.join(FILE_NAME))
            .chain(keyhole_dir.map(|dir| dir.join(FILE_NAME)))
            .find(|path| path.is_file())
    }

    /// Checks a parsed catalog; the error names the offending field.
    pub fn from_value(document: &Value) -> Result<Self, String> {
        let (key, servers) = ["mcpServers", "servers"]
            .into_iter()
            .find_map(|key| Some((key, document.get(key)?)))
            .ok_or("no \"mcpServers\" object")?;
        let servers = servers
            .as_object()
            .ok_or_else(|| format!("{key}: must be an object of servers by name"))?;
        let servers = servers
            .iter()
            .map(|(name, entry)| {
                let transport = transport(name, entry, &format!("{key}.{name}"))?;
                Ok(CatalogServer {
                    name: name.clone(),
                    transport,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            servers,
            source: None,
        })
    }

    /// The entries as the web app's servers view lists them.
    pub fn entries(&self) -> Vec<CatalogEntry> {
        self.servers
            .iter()
            .map(|server| {
                let mut entry = CatalogEntry {
                    name: server.name.clone(),
                    ..CatalogEntry::default()
                };
                match &server.transport {
                    Transport::Http(http) => {
                        entry.url = Some(http.url.clone());
                        entry.headers = http.headers.clone();
                        entry.enterprise = http.enterprise.clone();
                        entry.oauth = http.oauth.clone();
                        entry.protocol_version = http.protocol_version.clone();
                    }
                    Transport::Stdio(command) => {
                        entry.stdio = Some(StdioEntry {
                            command: command.command.clone(),
                            args: command.args.clone(),
                            env: command.env.iter().cloned().collect(),
                            cwd: command.cwd.as_ref().map(|cwd| cwd.display().to_string()),
                            display: command.display(),
                        });
                    }
                    Transport::Unsupported { reason } => {
                        entry.unsupported_reason = Some(reason.clone());
                    }
                }
                entry
            })
            .collect()
    }

    /// The server named `name`, or an error listing the names there are.
    pub fn server(&self, name: &str) -> Result<&CatalogServer, String> {
        self.servers.iter().find(|s| s.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.servers.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no server named {name:?} (known: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
    }
}

fn transport(name: &str, entry: &Value, at: &str) -> Result<Transport, String> {
    let entry = entry
        .as_object()
        .ok_or_else(|| format!("{at}: must be an object"))?;
    let kind = optional_text(entry, "type", at)?.unwrap_or_default();
    if entry.contains_key("command") || kind == "stdio" {
        return stdio(name, entry, at).map(Transport::Stdio);
    }
    let transport = match kind {
        "sse" => HttpTransport::LegacySse,
        "" | "http" | "streamable-http" | "streamableHttp" => HttpTransport::Detect,
        other => {
            return Ok(Transport::Unsupported {
                reason: format!(
                    "server {name:?} uses the transport {other:?}; Keyhole speaks stdio, \
                     Streamable HTTP (\"http\") and HTTP+SSE (\"sse\")"
                ),
            });
        }
    };
    let url_key = if entry.contains_key("url") {
        "url"
    } else {
        "serverUrl"
    };
    let url = optional_text(entry, url_key, at)?
        .ok_or_else(|| format!("{at}: server {name:?} has no \"url\""))?;
    check_http_url(url, &format!("{at}.{url_key}"))?;
    let mut headers = Vec::new();
    if let Some(map) = entry.get("headers") {
        let map = map
            .as_object()
            .ok_or_else(|| format!("{at}.headers: must be an object of header values"))?;
        for (key, value) in map {
            let value = value
                .as_str()
                .ok_or_else(|| format!("{at}.headers.{key}: must be a string"))?;
            headers.push((key.clone(), value.to_owned()));
        }
    }
    let enterprise = match entry.get("enterprise") {
        None | Some(Value::Null) => None,
        Some(value) => Some(enterprise(value, &format!("{at}.enterprise"))?),
    };
    let oauth = match entry.get("oauth") {
        None | Some(Value::Null) => None,
        Some(value) => Some(oauth(value, &format!("{at}.oauth"))?),
    };
    let protocol_version = optional_text(entry, "protocolVersion", at)?
        .map(|version| {
            crate::native::mcp_client::known_protocol_version(version)
                .map_err(|known| format!("{at}.protocolVersion: {version:?}: {known}"))
        })
        .transpose()?;
    Ok(Transport::Http(Box::new(HttpServer {
        url: url.to_owned(),
        transport,
        headers,
        enterprise,
        oauth,
        protocol_version,
    })))
}

/// A stdio entry: `command`, with optional `args` (strings), `env` (an object of strings) and
/// `cwd`.
fn stdio(name: &str, entry: &Map<String, Value>, at: &str) -> Result<StdioCommand, String> {
    let command = optional_text(entry, "command", at)?
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| format!("{at}: stdio server {name:?} has no \"command\""))?;
    let args = match entry.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(args)) => args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                arg.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{at}.args[{i}]: must be a string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("{at}.args: must be an array of strings")),
    };
    let mut env = Vec::new();
    if let Some(map) = entry.get("env").filter(|v| !v.is_null()) {
        let map = map
            .as_object()
            .ok_or_else(|| format!("{at}.env: must be an object of strings"))?;
        for (key, value) in map {
            let value = value
                .as_str()
                .ok_or_else(|| format!("{at}.env.{key}: must be a string"))?;
            env.push((key.clone(), value.to_owned()));
        }
    }
    Ok(StdioCommand {
        command: command.to_owned(),
        args,
        env,
        cwd: optional_text(entry, "cwd", at)?.map(std::path::PathBuf::from),
    })
}

const ENTERPRISE_KEYS: [&str; 8] = [
    "idpIssuer",
    "idpClientId",
    "idpClientSecret",
    "idpClientAuthMethod",
    "idpScope",
    "clientId",
    "clientSecret",
    "clientAuthMethod",
];

/// The client authentication methods a catalog entry may name (a key file it cannot carry).
const AUTH_METHODS: [TokenEndpointAuthMethod; 3] = [
    TokenEndpointAuthMethod::None,
    TokenEndpointAuthMethod::ClientSecretBasic,
    TokenEndpointAuthMethod::ClientSecretPost,
];

fn enterprise(value: &Value, at: &str) -> Result<EnterpriseConfig, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("{at}: must be an object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !ENTERPRISE_KEYS.contains(&k.as_str()))
    {
        return Err(format!(
            "{at}.{unknown}: unknown setting (known: {})",
            ENTERPRISE_KEYS.join(", ")
        ));
    }
    let idp_issuer = required_text(object, "idpIssuer", at)?;
    check_http_url(idp_issuer, &format!("{at}.idpIssuer"))?;
    let client = |prefix: &str| -> Result<PreRegisteredClient, String> {
        let key = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                let mut chars = name.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                format!("{prefix}{}{}", first.unwrap_or_default(), chars.as_str())
            }
        };
        let mut client = PreRegisteredClient::public(required_text(object, &key("clientId"), at)?);
        client.client_secret = optional_text(object, &key("clientSecret"), at)?.map(Into::into);
        let method_key = key("clientAuthMethod");
        client.auth_method = optional_text(object, &method_key, at)?
            .map(|name| {
                AUTH_METHODS
                    .into_iter()
                    .find(|m| m.as_str() == name)
                    .ok_or_else(|| {
                        let known: Vec<&str> = AUTH_METHODS.iter().map(|m| m.as_str()).collect();
                        format!(
                            "{at}.{method_key}: {name:?} is not one of {}",
                            known.join(", ")
                        )
                    })
            })
            .transpose()?;
        Ok(client)
    };
    Ok(EnterpriseConfig {
        idp_issuer: Issuer::new(idp_issuer),
        idp_client: client("idp")?,
        idp_scope: ScopeSet::parse(
            optional_text(object, "idpScope", at)?.unwrap_or(DEFAULT_IDP_SCOPE),
        ),
        resource_client: client("")?,
    })
}

/// The keys of an `oauth` object.
const OAUTH_KEYS: [&str; 5] = [
    "clientId",
    "clientSecret",
    "scopes",
    "clientMetadataUrl",
    "workloadTokenFile",
];

/// An entry's `oauth` object: unknown keys are errors (a typo would silently lose a setting).
fn oauth(value: &Value, at: &str) -> Result<EntryOAuth, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("{at}: must be an object"))?;
    if let Some(unknown) = object.keys().find(|k| !OAUTH_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{at}.{unknown}: unknown setting (known: {})",
            OAUTH_KEYS.join(", ")
        ));
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        Ok(optional_text(object, key, at)?
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned))
    };
    let settings = EntryOAuth {
        client_id: text("clientId")?.map(ClientId::new),
        client_secret: text("clientSecret")?.map(Into::into),
        scopes: text("scopes")?.map(|scopes| ScopeSet::parse(&scopes)),
        client_metadata_url: text("clientMetadataUrl")?,
        workload_token_file: text("workloadTokenFile")?,
    };
    if settings.client_secret.is_some() && settings.client_id.is_none() {
        return Err(format!("{at}.clientSecret: needs a clientId"));
    }
    if settings.workload_token_file.is_some() && settings.client_id.is_none() {
        return Err(format!(
            "{at}.workloadTokenFile: needs the clientId the workload is known by"
        ));
    }
    if let Some(url) = &settings.client_metadata_url {
        keyhole_shared::oauth_client::identity::metadata_document_client(url)
            .map_err(|e| format!("{at}.clientMetadataUrl: {e}"))?;
    }
    Ok(settings)
}

fn required_text<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<&'v str, String> {
    optional_text(object, key, at)?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{at}.{key}: required"))
}

fn optional_text<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'v str>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(format!("{at}.{key}: must be a string")),
    }
}

fn check_http_url(text: &str, at: &str) -> Result<(), String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("{at}: {text:?} is not an http(s) URL")),
        Err(e) => Err(format!("{at}: {text:?} is not a URL ({e})")),
    }
}

/// Parses `'Name: value'` (a `--header` option).
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("--header {text:?} is not 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("--header {text:?} has no valid header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn only(document: Value) -> Result<Transport, String> {
        Catalog::from_value(&document).map(|c| c.servers[0].transport.clone())
    }

    #[test]
    fn http_entries_with_headers_and_enterprise_settings() {
        let catalog = Catalog::from_value(&json!({"mcpServers": {
            "plain": {"type": "http", "url": "http://127.0.0.1:3000/mcp"},
            "corp": {
                "serverUrl": "https://mcp.example/mcp",
                "headers": {"X-Team": "blue"},
                "enterprise": {"idpIssuer": "https://idp.example", "idpClientId": "kh",
                               "idpClientSecret": "s1", "idpClientAuthMethod": "client_secret_post",
                               "clientId": "kh-rs", "clientSecret": "s2"},
                "disabled": false
            }
        }}))
        .unwrap();
        let names: Vec<&str> = catalog.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["corp", "plain"]);
        let Transport::Http(corp) = &catalog.server("corp").unwrap().transport else {
            panic!("an HTTP server");
        };
        assert_eq!(corp.url, "https://mcp.example/mcp");
        assert_eq!(corp.headers, [("X-Team".to_owned(), "blue".to_owned())]);
        let enterprise = corp.enterprise.as_ref().unwrap();
        assert_eq!(enterprise.idp_issuer.as_str(), "https://idp.example");
        assert_eq!(enterprise.idp_client.client_id.as_str(), "kh");
        assert_eq!(
            enterprise
                .idp_client
                .client_secret
                .as_ref()
                .unwrap()
                .expose(),
            "s1"
        );
        assert_eq!(
            enterprise.idp_client.auth_method,
            Some(TokenEndpointAuthMethod::ClientSecretPost)
        );
        assert_eq!(enterprise.idp_scope, ScopeSet::parse(DEFAULT_IDP_SCOPE));
        assert_eq!(enterprise.resource_client.client_id.as_str(), "kh-rs");
        assert_eq!(enterprise.resource_client.auth_method, None);
        assert!(
            !format!("{catalog:?}").contains("s2"),
            "secrets stay out of Debug"
        );
    }

    #[test]
    fn the_default_catalog_is_the_working_directory_s_then_keyhole_s_folder() {
        let cwd = tempfile::tempdir().unwrap();
        let keyhole = tempfile::tempdir().unwrap();
        assert_eq!(
            Catalog::default_location(cwd.path(), Some(keyhole.path())),
            None
        );
        std::fs::write(keyhole.path().join(FILE_NAME), "{}").unwrap();
        assert_eq!(
            Catalog::default_location(cwd.path(), Some(keyhole.path())),
            Some(keyhole.path().join(FILE_NAME))
        );
        std::fs::write(cwd.path().join(FILE_NAME), "{}").unwrap();
        assert_eq!(
            Catalog::default_location(cwd.path(), Some(keyhole.path())),
            Some(cwd.path().join(FILE_NAME))
        );
        assert_eq!(
            Catalog::default_location(keyhole.path(), None),
            Some(keyhole.path().join(FILE_NAME))
        );
    }

    #[test]
    fn stdio_and_sse_entries_are_read_and_unknown_transports_kept_with_the_reason() {
        let catalog = Catalog::from_value(&json!({"servers": {
            "local": {"command": "npx", "args": ["-y", "srv"], "env": {"KEY": "k1"}, "cwd": "/tmp"},
            "old": {"type": "sse", "url": "http://127.0.0.1:1/sse"},
            "sock": {"type": "ws", "url": "ws://127.0.0.1:1/"}
        }}))
        .unwrap();
        let Transport::Stdio(local) = &catalog.server("local").unwrap().transport else {
            panic!("{catalog:?}");
        };
        assert_eq!(local.command_line(), "npx -y srv");
        assert_eq!(local.env, [("KEY".to_owned(), "k1".to_owned())]);
        assert_eq!(local.cwd.as_deref(), Some(Path::new("/tmp")));
        match &catalog.server("old").unwrap().transport {
            Transport::Http(old) => assert_eq!(old.transport, HttpTransport::LegacySse),
            other => panic!("{other:?}"),
        }
        match &catalog.server("sock").unwrap().transport {
            Transport::Unsupported { reason } => assert!(reason.contains("\"ws\""), "{reason}"),
            other => panic!("{other:?}"),
        }
        let listed = catalog.entries();
        let stdio = listed[0].stdio.as_ref().unwrap();
        assert_eq!(stdio.display, "npx -y srv (with KEY set)");
        assert_eq!(
            stdio.env["KEY"], "k1",
            "the page connects it with its environment"
        );
        assert_eq!(listed[0].unsupported_reason, None);
        for (entry, says) in [
            (json!({"command": ""}), "has no \"command\""),
            (
                json!({"command": "x", "args": "a b"}),
                "a.args: must be an array",
            ),
            (
                json!({"command": "x", "args": [1]}),
                "a.args[0]: must be a string",
            ),
            (
                json!({"command": "x", "env": {"K": 1}}),
                "a.env.K: must be a string",
            ),
        ] {
            let error = Catalog::from_value(&json!({"servers": {"a": entry}})).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn an_entry_carries_its_sign_in_settings_and_protocol_version() {
        let Transport::Http(server) = only(json!({"mcpServers": {"a": {
            "url": "http://x/mcp", "protocolVersion": "2025-06-18",
            "oauth": {"clientId": "c", "clientSecret": "s", "scopes": "mcp files:read",
                      "clientMetadataUrl": "https://example.com/client.json"}}}}))
        .unwrap() else {
            panic!("an HTTP entry");
        };
        assert_eq!(server.protocol_version.as_deref(), Some("2025-06-18"));
        let oauth = server.oauth.unwrap();
        assert_eq!(oauth.workload_token_file, None);
        assert_eq!(oauth.client_id.unwrap().as_str(), "c");
        assert_eq!(oauth.client_secret.unwrap().expose(), "s");
        assert_eq!(oauth.scopes.unwrap(), ScopeSet::parse("mcp files:read"));
        assert_eq!(
            oauth.client_metadata_url.as_deref(),
            Some("https://example.com/client.json")
        );
    }

    #[test]
    fn every_error_names_its_field() {
        let cases = [
            (json!({}), "no \"mcpServers\" object"),
            (json!({"mcpServers": []}), "mcpServers: must be an object"),
            (json!({"mcpServers": {"a": {}}}), "has no \"url\""),
            (
                json!({"mcpServers": {"a": {"url": "ftp://x/"}}}),
                "mcpServers.a.url: \"ftp://x/\" is not an http(s) URL",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "headers": {"K": 1}}}}),
                "mcpServers.a.headers.K: must be a string",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "enterprise": {"idpIssuer": "https://i"}}}}),
                "mcpServers.a.enterprise.idpClientId: required",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "enterprise": {
                    "idpIssuer": "https://i", "idpClientId": "c", "clientId": "r", "idpSecret": "s"}}}}),
                "mcpServers.a.enterprise.idpSecret: unknown setting",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "enterprise": {
                    "idpIssuer": "idp", "idpClientId": "c", "clientId": "r"}}}}),
                "mcpServers.a.enterprise.idpIssuer: \"idp\" is not a URL",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "enterprise": {
                    "idpIssuer": "https://i", "idpClientId": "c", "clientId": "r",
                    "clientAuthMethod": "private_key_jwt"}}}}),
                "mcpServers.a.enterprise.clientAuthMethod: \"private_key_jwt\" is not one of none, \
                 client_secret_basic, client_secret_post",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "oauth": {"clientID": "c"}}}}),
                "mcpServers.a.oauth.clientID: unknown setting",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "oauth": {"clientSecret": "s"}}}}),
                "mcpServers.a.oauth.clientSecret: needs a clientId",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/",
                    "oauth": {"clientMetadataUrl": "http://example.com/c.json"}}}}),
                "mcpServers.a.oauth.clientMetadataUrl: ",
            ),
            (
                json!({"mcpServers": {"a": {"url": "http://x/", "protocolVersion": "2024-01-01"}}}),
                "mcpServers.a.protocolVersion: \"2024-01-01\": Keyhole speaks MCP",
            ),
        ];
        for (document, expected) in cases {
            let error = only(document.clone()).unwrap_err();
            assert!(error.contains(expected), "{document}: {error}");
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let catalog =
            Catalog::from_value(&json!({"mcpServers": {"a": {"url": "http://x/"}}})).unwrap();
        assert_eq!(
            catalog.server("b").unwrap_err(),
            "no server named \"b\" (known: a)"
        );
    }
}
