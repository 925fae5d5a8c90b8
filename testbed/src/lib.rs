//! The Keyhole testbed: a composable MCP server with an OAuth authorization server and an
//! enterprise IdP, used as the built-in demo and as the fixture behind every auth test.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use keyhole_testbed::{Testbed, TestbedConfig};
//! let testbed = Testbed::start(TestbedConfig::demo(), "127.0.0.1:0".parse()?).await?;
//! println!("MCP server at {}", testbed.mcp_url("demo").unwrap());
//! # Ok(()) }
//! ```

// Handlers bail out early with a finished `Response`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod app;
mod authz;
mod clients;
mod code_grant;
pub mod config;
mod control;
mod cors;
mod dpop;
mod idp;
mod jwt;
mod mcp;
mod oauth_http;
mod pages;
mod state;
mod support;
mod tokens;
mod urls;

pub use app::{RunningTestbed, StartError, Testbed, app};
pub use config::{ConfigError, DEMO_CONFIG_JSON, TestbedConfig};
pub use state::TestbedState;
pub use tokens::{SessionUse, TokenKind, TokenRecord};
pub use urls::TestbedUrls;

/// A summary of the configuration format, for `keyhole testbed --help`.
pub const CONFIG_HELP: &str = include_str!("../CONFIG_HELP.txt");
