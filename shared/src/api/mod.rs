//! The JSON shapes of Keyhole's own backend API (`/api/*`), shared by the server that produces them
//! and the web app that consumes them, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

/// The header that carries the per-launch API token on every `/api/*` request.
pub const API_TOKEN_HEADER: &str = "X-Keyhole-Token";
/// The cookie that may carry the same token (for requests that cannot set headers, like `EventSource`),
/// followed by `_<port>`: browsers share cookies between ports, and two Keyhole processes must not
/// overwrite each other's.
pub const API_TOKEN_COOKIE: &str = "keyhole_token";
/// The client route an authorization server redirects back to.
pub const OAUTH_CALLBACK_PATH: &str = "/oauth/callback";

/// `GET /api/config`: what the web app needs to know about this Keyhole process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigResponse {
    /// The Keyhole version (the server's).
    pub version: String,
    /// The built-in demo servers, when the demo runs.
    #[serde(default)]
    pub demo_servers: Vec<CatalogEntry>,
    /// Servers from the `--config mcp.json` catalog.
    #[serde(default)]
    pub catalog: Vec<CatalogEntry>,
    /// Servers whose settings were entered in the connect form during this run (enterprise-managed
    /// authorization), kept by the backend so a page coming back from a sign-in still knows them.
    #[serde(default)]
    pub added_servers: Vec<CatalogEntry>,
    /// The demo's control page (expire or revoke tokens, change required scopes), when the demo runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_control_url: Option<String>,
    /// The servers the user saved in the web app (kept in Keyhole's configuration folder).
    #[serde(default)]
    pub saved: SavedServers,
    /// The origin MCP Apps run on (a second loopback listener serving only the sandbox proxy),
    /// when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_sandbox: Option<String>,
}

/// The servers the user keeps (`GET /api/config`'s `saved`; `PUT /api/config/saved` answers with
/// it): each as written in the file, and as the servers view connects it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedServers {
    /// The file they live in; `None` when this machine has no configuration folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// In the user's order, as the file has them.
    #[serde(default)]
    pub servers: Vec<SavedServer>,
    /// The same servers, ready to connect (one per server, in the same order).
    #[serde(default)]
    pub entries: Vec<CatalogEntry>,
    /// Why the file could not be read (it is then left alone: saving is refused until it is
    /// fixed or removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One saved server: its name and its `mcp.json` entry (`url`, `type`, `headers`, or `command`,
/// `args`, `env`, `cwd`; `enterprise`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedServer {
    pub name: String,
    pub entry: serde_json::Value,
}

/// `PUT /api/config/saved`: the whole list, in order (answered with [`SavedServers`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaveServersRequest {
    pub servers: Vec<SavedServer>,
}

/// One server the user can pick instead of typing a URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    pub name: String,
    /// The Streamable HTTP endpoint, when the entry has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why Keyhole cannot connect to this entry (e.g. a stdio server), when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported_reason: Option<String>,
    /// A one-line description for the servers view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Headers to send with every MCP request (the catalog entry's `headers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// For an enterprise-managed server (SEP-990): the IdP and this client's registrations, so the
    /// web app signs in at the IdP and never falls back to an ordinary redirect. It carries
    /// client secrets, so it only ever travels over the token-protected API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<crate::oauth_client::EnterpriseConfig>,
    /// For a stdio server: how to start it (the backend does, when the page connects it). Its
    /// `env` may carry secrets, so like `enterprise` it only travels over the token-protected API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio: Option<StdioEntry>,
    /// The protocol version to ask for instead of negotiating (the entry's `protocolVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The entry's OAuth settings (Keyhole's `oauth` key). A client secret in it travels only
    /// over the token-protected API, like `enterprise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<EntryOAuth>,
}

/// How to authorize at one catalog entry's server, when it is not the default (dynamic
/// registration, the scopes the server asks for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryOAuth {
    /// A client registered in advance at the server's authorization server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<crate::oauth_client::ClientId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<crate::secret::Secret>,
    /// The scopes to ask for when the server's challenge names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<crate::scopes::ScopeSet>,
    /// The HTTPS URL of a client ID metadata document to use as the client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata_url: Option<String>,
    /// Workload identity federation: the file holding the workload's identity token (a path, read
    /// at each use by the CLI and the TUI), exchanged with the JWT-bearer grant for `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_token_file: Option<String>,
}

impl EntryOAuth {
    /// The OAuth client's per-server settings these make for `server_url`.
    pub fn server_config(&self, server_url: &str) -> crate::oauth_client::ServerConfig {
        let client = self.client_id.as_ref().map(|id| {
            let mut client = crate::oauth_client::PreRegisteredClient::public(id.as_str());
            client.client_secret = self.client_secret.clone();
            client
        });
        crate::oauth_client::ServerConfig {
            scopes: self.scopes.clone(),
            client,
            metadata_document_url: self.client_metadata_url.clone(),
            ..crate::oauth_client::ServerConfig::new(server_url)
        }
    }
}

/// A stdio server of the catalog, as `/api/mcp/connect` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StdioEntry {
    pub command: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The command line to show (arguments quoted, environment names without their values).
    pub display: String,
}

/// `POST /api/config/servers`: remembers, for this run, settings entered in the connect form for
/// the server at `url` (answered with `{ok: true}`; listed in [`ConfigResponse::added_servers`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddServerRequest {
    pub url: String,
    /// Enterprise-managed authorization settings; carries client secrets, so it only travels over
    /// the token-protected API and is never written to disk.
    pub enterprise: crate::oauth_client::EnterpriseConfig,
}

/// The body of every error Keyhole's own API answers with (misuse of our API, not upstream failures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
}

/// One HTTP exchange Keyhole made upstream, as the Network view shows it. Secrets are already
/// redacted by the time one of these exists (`Authorization`, cookies, tokens in bodies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpExchange {
    /// Increasing within one backend session.
    pub seq: u64,
    /// What the exchange was for.
    pub kind: ExchangeKind,
    /// Milliseconds since the Unix epoch when the request was sent.
    pub started_at_ms: u64,
    pub duration_ms: f64,
    pub method: String,
    pub url: String,
    /// `None` when no response arrived (connection refused, timeout…).
    pub status: Option<u16>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The first bytes of the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// The first bytes of the response body (for an SSE response, of its events' data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// How many server-sent events the response carried.
    #[serde(default)]
    pub sse_events: u32,
    /// Why the exchange failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The purpose of an upstream HTTP exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeKind {
    /// MCP traffic: POST, the GET stream, DELETE.
    Mcp,
    /// An OAuth leg: metadata, registration, token.
    Oauth,
}

/// The `/api/oauth/fetch` reply (inside the envelope): the authorization server's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The `POST /api/oauth/dpop-proof` reply (the body is a [`crate::dpop::ProofRequest`]): a DPoP
/// proof signed by the backend with the server's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpopProofReply {
    pub proof: String,
}

/// The `POST /api/doctor` body: the server to audit and extra headers for its MCP requests (the
/// reply, inside the envelope, is a [`crate::doctor::DoctorReport`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DoctorRequest {
    pub url: String,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

pub mod mcp;
#[cfg(test)]
mod tests;
