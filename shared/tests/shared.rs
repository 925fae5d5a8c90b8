//! The shared crate's integration tests, one module per behaviour, linked into one test
//! binary (one link instead of one per file). Shared fixtures are the directories.

#[path = "www_authenticate_fuzz.rs"]
mod www_authenticate_fuzz;
#[path = "www_authenticate_limits.rs"]
mod www_authenticate_limits;
#[path = "www_authenticate_table.rs"]
mod www_authenticate_table;
