//! The URL layout of a running testbed. Everything is served by one listener:
//!
//! | path | what |
//! |---|---|
//! | `/servers/<name>/mcp` | MCP Streamable HTTP endpoint of server `<name>` |
//! | `/.well-known/oauth-protected-resource/servers/<name>/mcp` | RFC 9728 metadata |
//! | `/oauth/…` | authorization server (issuer `<base>/oauth`) |
//! | `/.well-known/oauth-authorization-server/oauth` | RFC 8414 metadata |
//! | `/idp/…` | enterprise IdP (issuer `<base>/idp`) |
//! | `/control`, `/control/api/…` | control page and API (loopback only) |

/// Absolute URLs of a testbed listening at `base` (e.g. `http://127.0.0.1:6275`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestbedUrls {
    base: String,
}

pub const AUTHORIZATION_SERVER_PATH: &str = "/oauth";
pub const IDP_PATH: &str = "/idp";
pub const CONTROL_PATH: &str = "/control";

impl TestbedUrls {
    pub fn new(base: impl Into<String>) -> Self {
        TestbedUrls {
            base: base.into().trim_end_matches('/').to_string(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn mcp_path(name: &str) -> String {
        format!("/servers/{name}/mcp")
    }

    pub fn mcp_url(&self, name: &str) -> String {
        format!("{}{}", self.base, Self::mcp_path(name))
    }

    pub fn resource_metadata_url(&self, name: &str) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource{}",
            self.base,
            Self::mcp_path(name)
        )
    }

    /// The authorization server's issuer identifier.
    pub fn issuer(&self) -> String {
        format!("{}{AUTHORIZATION_SERVER_PATH}", self.base)
    }

    pub fn authorization_server_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-authorization-server{AUTHORIZATION_SERVER_PATH}",
            self.base
        )
    }

    /// The enterprise IdP's issuer identifier.
    pub fn idp_issuer(&self) -> String {
        format!("{}{IDP_PATH}", self.base)
    }

    pub fn control_url(&self) -> String {
        format!("{}{CONTROL_PATH}", self.base)
    }
}
