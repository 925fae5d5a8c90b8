//! The testbed crate's integration tests, one module per behaviour, linked into one test
//! binary (one link instead of one per file). Shared fixtures are the directories.

#[path = "authorization_code_flow.rs"]
mod authorization_code_flow;
#[path = "cancellation.rs"]
mod cancellation;
#[path = "client_authentication.rs"]
mod client_authentication;
#[path = "client_requests.rs"]
mod client_requests;
#[path = "common/mod.rs"]
mod common;
#[path = "completions.rs"]
mod completions;
#[path = "config_errors.rs"]
mod config_errors;
#[path = "control_api.rs"]
mod control_api;
#[path = "enterprise_managed.rs"]
mod enterprise_managed;
#[path = "insufficient_scope.rs"]
mod insufficient_scope;
#[path = "jwt_access_tokens.rs"]
mod jwt_access_tokens;
#[path = "legacy_sse.rs"]
mod legacy_sse;
#[path = "partial_consent.rs"]
mod partial_consent;
#[path = "pkce_and_codes.rs"]
mod pkce_and_codes;
#[path = "protocol.rs"]
mod protocol;
#[path = "refresh.rs"]
mod refresh;
#[path = "resource_binding.rs"]
mod resource_binding;
#[path = "sse_stream.rs"]
mod sse_stream;
#[path = "stateless_era.rs"]
mod stateless_era;
#[path = "tasks.rs"]
mod tasks;
#[path = "token_expiry.rs"]
mod token_expiry;
