//! The `keyhole` binary's library: the web inspector's backend, the CLI and the launcher of the
//! built-in demo. `main.rs` only calls [`cli::main`]; tests drive [`web::app`] directly.

pub mod assets;
pub mod cli;
pub mod error;
pub mod security;
pub mod web;
