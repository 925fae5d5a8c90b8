//! The `keyhole` binary's library, one folder per part (see ARCHITECTURE.md, “Module map”):
//!
//! * [`launcher`]: the `keyhole` command itself — starting the web inspector with the built-in
//!   demo, `keyhole testbed`, and handing `keyhole cli` over. `main.rs` only calls
//!   [`launcher::main`].
//! * [`web`]: the web inspector's backend — the router ([`web::app`], which tests drive
//!   directly), the hub of upstream sessions, the OAuth and store routes, the perimeter.
//! * [`cli`]: `keyhole cli`, the terminal client.
//! * [`native`]: what the web backend and the CLI share on this machine — the MCP client, HTTP
//!   for the OAuth core, the file store, redaction.
//! * [`catalog`]: `mcp.json` catalogs, read by the web backend and the CLI.

pub mod catalog;
pub mod cli;
pub mod entry_secrets;
pub mod launcher;
pub mod native;
pub mod saved_servers;
pub mod tui;
pub mod web;
