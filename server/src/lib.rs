//! The `keyhole` binary's library: the web inspector's backend, the CLI and the launcher of the
//! built-in demo. `main.rs` only calls [`cli::main`]; tests drive [`web::app`] directly.

pub mod accept_encoding;
pub mod assets;
pub mod catalog;
pub mod cli;
pub mod client_cli;
pub mod demo;
pub mod error;
pub mod hub;
pub mod mcp_client;
pub mod native_http;
pub mod oauth_fetch;
pub mod oauth_store;
pub mod redact;
pub mod security;
pub mod servers_config;
pub mod store_routes;
pub mod testbed_cmd;
pub mod upstream_http;
pub mod web;
