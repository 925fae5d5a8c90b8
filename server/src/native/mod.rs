//! What the web backend and the CLI share on this machine: the MCP client for upstream servers
//! ([`mcp_client`], over [`upstream_http`]), the OAuth core's native effects ([`native_http`]),
//! the OAuth store file ([`oauth_store`]) and the DPoP proof keys beside it ([`dpop_keys`]) in Keyhole's folder ([`paths`]) with its secrets in the OS keychain ([`secret_vault`]) and the redaction of
//! secrets in logs ([`redact`]), and giving freed memory back ([`memory`]).

pub mod dpop_keys;
pub mod mcp_client;
pub mod memory;
pub mod native_http;
pub mod oauth_store;
pub mod paths;
pub mod redact;
pub mod secret_vault;
pub mod upstream_http;
