//! The e2e crate's integration tests, one module per behaviour, linked into one test
//! binary (one link instead of one per file). Shared fixtures are the directories.

#[path = "cli_auth_commands.rs"]
mod cli_auth_commands;
#[path = "cli_client_features.rs"]
mod cli_client_features;
#[path = "cli_exit_codes.rs"]
mod cli_exit_codes;
#[path = "cli_parse_challenge.rs"]
mod cli_parse_challenge;
#[path = "common/mod.rs"]
mod common;
#[path = "demo_and_testbed.rs"]
mod demo_and_testbed;
#[path = "doctor.rs"]
mod doctor;
#[path = "harness.rs"]
mod harness;
#[path = "hostile_upstream.rs"]
mod hostile_upstream;
#[path = "http_perimeter.rs"]
mod http_perimeter;
#[path = "interop_python_sdk.rs"]
mod interop_python_sdk;
#[path = "interop_typescript_sdk.rs"]
mod interop_typescript_sdk;
#[path = "startup.rs"]
mod startup;
#[path = "stdio_lifecycle.rs"]
mod stdio_lifecycle;
#[path = "third_party_transports.rs"]
mod third_party_transports;
#[path = "tui.rs"]
mod tui;
#[path = "web_app.rs"]
mod web_app;
#[path = "web_auth_faults.rs"]
mod web_auth_faults;
#[path = "web_auth_forget.rs"]
mod web_auth_forget;
#[path = "web_auth_tab.rs"]
mod web_auth_tab;
#[path = "web_client_features.rs"]
mod web_client_features;
#[path = "web_connect_form.rs"]
mod web_connect_form;
#[path = "web_connect_refresh.rs"]
mod web_connect_refresh;
#[path = "web_doctor.rs"]
mod web_doctor;
#[path = "web_dpop.rs"]
mod web_dpop;
#[path = "web_ema_configured.rs"]
mod web_ema_configured;
#[path = "web_export.rs"]
mod web_export;
#[path = "web_guided_sign_in.rs"]
mod web_guided_sign_in;
#[path = "web_history.rs"]
mod web_history;
#[path = "web_incident_bundle.rs"]
mod web_incident_bundle;
#[path = "web_keyboard.rs"]
mod web_keyboard;
#[path = "web_layout.rs"]
mod web_layout;
#[path = "web_long_logs.rs"]
mod web_long_logs;
#[path = "web_mcp_apps.rs"]
mod web_mcp_apps;
#[path = "web_oauth.rs"]
mod web_oauth;
#[path = "web_paged_lists.rs"]
mod web_paged_lists;
#[path = "web_protocol_2026.rs"]
mod web_protocol_2026;
#[path = "web_recovery_ambient.rs"]
mod web_recovery_ambient;
#[path = "web_recovery_ema.rs"]
mod web_recovery_ema;
#[path = "web_recovery_limits.rs"]
mod web_recovery_limits;
#[path = "web_recovery_relogin.rs"]
mod web_recovery_relogin;
#[path = "web_recovery_silent.rs"]
mod web_recovery_silent;
#[path = "web_recovery_step_up.rs"]
mod web_recovery_step_up;
#[path = "web_recovery_two_tabs.rs"]
mod web_recovery_two_tabs;
#[path = "web_resume_form.rs"]
mod web_resume_form;
#[path = "web_saved_servers.rs"]
mod web_saved_servers;
#[path = "web_screenshots.rs"]
mod web_screenshots;
#[path = "web_servers_view.rs"]
mod web_servers_view;
#[path = "web_stdio.rs"]
mod web_stdio;
#[path = "web_tabs.rs"]
mod web_tabs;
#[path = "web_tasks.rs"]
mod web_tasks;
#[path = "web_theme.rs"]
mod web_theme;
#[path = "web_third_party.rs"]
mod web_third_party;
#[path = "web_token.rs"]
mod web_token;
#[path = "web_tool_panel.rs"]
mod web_tool_panel;
