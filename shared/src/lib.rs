//! Keyhole's shared core: the logic that must behave identically in the backend, the CLI and the
//! browser (compiled to WebAssembly). Nothing here performs I/O; HTTP, storage, clocks and randomness
//! are injected through small traits by the callers.
//!
//! * [`www_authenticate`] parses the header, with diagnostics; [`challenge`] normalises a 401/403
//!   into an [`challenge::AuthChallenge`]; [`report`] combines both for the CLI.
//! * [`scopes`] holds the scope-set rules; [`recovery`] decides how to answer a challenge.
//! * [`messages`] is every user-facing sentence about authorization.
//! * [`oauth_client`] runs the OAuth flows (discovery, registration, authorization code, refresh,
//!   enterprise-managed authorization) over the injected [`http`] client, [`random`] source and
//!   [`store`] of credentials.
//! * [`api`] holds the JSON shapes of the backend's own `/api/*` routes.
//! * [`resume`] is what the web app carries across a sign-in redirect; [`sign_in_guard`] keeps
//!   automatic sign-ins from looping.
//! * [`web_url`] parses URLs (the `url` crate natively, the browser's `URL` in wasm); [`json`] reads
//!   JSON values from bytes.
//! * [`doctor`] audits a server's authorization set-up against the rules of the MCP authorization
//!   specification and the RFCs it cites (`keyhole doctor`).
//! * [`markdown`] reads the Markdown subset servers write, [`output_schema`] checks a tool's
//!   structured result against its declared schema, and [`curl`] turns a recorded exchange into a
//!   `curl` command without its secrets: what the web app shows and exports.

pub mod api;
pub mod challenge;
pub mod curl;
pub mod doctor;
pub mod dpop;
pub mod http;
pub mod json;
pub mod logging;
pub mod markdown;
pub mod messages;
pub mod oauth_client;
pub mod output_schema;
pub mod random;
pub mod recovery;
pub mod report;
pub mod resume;
pub mod schema_choices;
pub mod scopes;
pub mod secret;
pub mod sign_in_guard;
pub mod store;
pub mod store_secrets;
pub mod tasks;
pub mod tokens;
pub mod web_url;
pub mod www_authenticate;

pub use challenge::{AuthChallenge, ChallengeContext, ChallengeReason};
pub use report::{ChallengeReport, parse_challenge_report};
pub use scopes::{Scope, ScopeSet};
pub use secret::Secret;

/// The Keyhole version, shown by the web app and printed by the CLI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
