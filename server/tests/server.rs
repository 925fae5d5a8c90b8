//! The server crate's integration tests, one module per behaviour, linked into one test
//! binary (one link instead of one per file). Shared fixtures are the directories.

#[path = "app_sandbox.rs"]
mod app_sandbox;
#[path = "cli_auth_store.rs"]
mod cli_auth_store;
#[path = "cli_callback_flow.rs"]
mod cli_callback_flow;
#[path = "cli_catalog_settings.rs"]
mod cli_catalog_settings;
#[path = "cli_client_features.rs"]
mod cli_client_features;
#[path = "cli_commands.rs"]
mod cli_commands;
#[path = "cli_dpop.rs"]
mod cli_dpop;
#[path = "cli_enterprise_catalog.rs"]
mod cli_enterprise_catalog;
#[path = "cli_faults.rs"]
mod cli_faults;
#[path = "cli_fixture/mod.rs"]
mod cli_fixture;
#[path = "cli_modern_auth.rs"]
mod cli_modern_auth;
#[path = "cli_non_interactive.rs"]
mod cli_non_interactive;
#[path = "cli_refresh_retry.rs"]
mod cli_refresh_retry;
#[path = "cli_shared_store.rs"]
mod cli_shared_store;
#[path = "cli_stateless.rs"]
mod cli_stateless;
#[path = "cli_stdio.rs"]
mod cli_stdio;
#[path = "cli_step_up.rs"]
mod cli_step_up;
#[path = "cli_workload_identity.rs"]
mod cli_workload_identity;
#[path = "common/mod.rs"]
mod common;
#[path = "doctor_testbed.rs"]
mod doctor_testbed;
#[path = "guided_sign_in.rs"]
mod guided_sign_in;
#[path = "hub_ambient_challenge.rs"]
mod hub_ambient_challenge;
#[path = "hub_auth_challenge.rs"]
mod hub_auth_challenge;
#[path = "hub_cancellation.rs"]
mod hub_cancellation;
#[path = "hub_connect_and_call.rs"]
mod hub_connect_and_call;
#[path = "hub_contract.rs"]
mod hub_contract;
#[path = "hub_dpop_proof.rs"]
mod hub_dpop_proof;
#[path = "hub_legacy_sse.rs"]
mod hub_legacy_sse;
#[path = "hub_network_log.rs"]
mod hub_network_log;
#[path = "hub_oauth_fetch.rs"]
mod hub_oauth_fetch;
#[path = "hub_protocol_eras.rs"]
mod hub_protocol_eras;
#[path = "hub_reaping.rs"]
mod hub_reaping;
#[path = "hub_rmcp_interop.rs"]
mod hub_rmcp_interop;
#[path = "hub_session_attach.rs"]
mod hub_session_attach;
#[path = "hub_session_recovery.rs"]
mod hub_session_recovery;
#[path = "hub_stdio.rs"]
mod hub_stdio;
#[path = "hub_token_not_recognised.rs"]
mod hub_token_not_recognised;
#[path = "hub_transport_errors.rs"]
mod hub_transport_errors;
#[path = "mcp_client_early_server_request.rs"]
mod mcp_client_early_server_request;
#[path = "oauth_as_migration.rs"]
mod oauth_as_migration;
#[path = "oauth_callback.rs"]
mod oauth_callback;
#[path = "oauth_client_credentials.rs"]
mod oauth_client_credentials;
#[path = "oauth_consent.rs"]
mod oauth_consent;
#[path = "oauth_discovery.rs"]
mod oauth_discovery;
#[path = "oauth_discovery_cache.rs"]
mod oauth_discovery_cache;
#[path = "oauth_ema.rs"]
mod oauth_ema;
#[path = "oauth_file_store.rs"]
mod oauth_file_store;
#[path = "oauth_fixture/mod.rs"]
mod oauth_fixture;
#[path = "oauth_forgotten_client.rs"]
mod oauth_forgotten_client;
#[path = "oauth_refresh.rs"]
mod oauth_refresh;
#[path = "oauth_registration.rs"]
mod oauth_registration;
#[path = "oauth_step_up.rs"]
mod oauth_step_up;
#[path = "oauth_store_keychain.rs"]
mod oauth_store_keychain;
#[path = "perimeter_router.rs"]
mod perimeter_router;
#[path = "saved_servers_api.rs"]
mod saved_servers_api;
#[path = "store_route.rs"]
mod store_route;
#[path = "web_http1_server.rs"]
mod web_http1_server;
