//! The end-to-end harness: starts the real `keyhole` binary and a real headless Chromium (through
//! ChromeDriver), and cleans both up when dropped; runs `keyhole cli`; starts the third-party MCP
//! servers of the interop tests. The tests in `tests/` use it; nothing here is mocked.

mod browser;
pub mod cli;
pub mod demo;
pub mod emulation;
pub mod hostile;
pub mod interop;
mod keyhole;
pub mod open_server;
pub mod peers;
pub mod stdio_server;
pub mod testbed;
pub mod tui;

pub use browser::Browser;
pub use keyhole::{KeyholeProcess, TEST_API_TOKEN, keyhole_binary};
