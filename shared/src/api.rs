//! The JSON shapes of Keyhole's own backend API (`/api/*`), shared by the server that produces them
//! and the web app that consumes them, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

/// The header that carries the per-launch API token on every `/api/*` request.
pub const API_TOKEN_HEADER: &str = "X-Keyhole-Token";
/// The cookie that may carry the same token (for requests that cannot set headers, like `EventSource`).
pub const API_TOKEN_COOKIE: &str = "keyhole_token";

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
    /// The demo's control page (expire or revoke tokens, change required scopes), when the demo runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_control_url: Option<String>,
}

/// One server the user can pick instead of typing a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// The body of every error Keyhole's own API answers with (misuse of our API, not upstream failures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
}
