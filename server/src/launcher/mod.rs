//! The `keyhole` command line: argument definitions and dispatch to the web server, the testbed and
//! the CLI client. Exit codes: 0 success, 1 runtime error, 2 bad usage.

pub mod demo;
pub mod doctor;
pub mod testbed;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::catalog::Catalog;
use crate::cli::{self, ClientArgs};
use crate::native::mcp_client::stdio_guard;
use crate::native::secret_vault::SecretsMode;
use crate::web::hub::HubOptions;
use crate::web::security::ApiToken;
use crate::web::{self, ServeOptions};
use demo::DEFAULT_DEMO_PORT;

/// The port the web inspector listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 6274;

#[derive(Debug, Parser)]
#[command(
    name = "keyhole",
    version,
    about = "An inspector for MCP servers, built for mid-session authorization.",
    long_about = "Keyhole connects to MCP servers over Streamable HTTP, HTTP+SSE or stdio, lets you browse and call their tools, \
resources and prompts, and shows every JSON-RPC message and HTTP exchange. When a token expires, is revoked \
or lacks a scope mid-session, Keyhole recovers without tearing the session down.\n\n\
Run without a subcommand to start the web inspector with the built-in demo (same as `keyhole web`).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    web: WebArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the web inspector (the default), with the built-in demo unless --no-demo.
    Web(WebArgs),
    /// Run the testbed alone: MCP servers with an OAuth authorization server and an enterprise IdP.
    #[command(after_help = keyhole_testbed::CONFIG_HELP)]
    Testbed(TestbedArgs),
    /// One-shot commands against an MCP server, for terminals and scripts.
    Cli(ClientArgs),
    /// Audit a server's authorization set-up against the MCP authorization spec and the RFCs it
    /// cites: each finding names its rule (MUST / SHOULD, document and section) and the fix.
    #[command(after_help = doctor::DOCTOR_HELP)]
    Doctor(doctor::DoctorArgs),
    /// The inspector in the terminal: servers, tools, resources, prompts, protocol and auth tabs,
    /// recovering mid-session like the web app.
    Tui(Box<crate::tui::TuiArgs>),
    /// Runs a stdio server and ends its process group when Keyhole dies (started by Keyhole).
    #[command(name = "stdio-guard", hide = true)]
    StdioGuard(GuardArgs),
}

#[derive(Debug, Args)]
struct GuardArgs {
    /// The Keyhole process that started the guard.
    #[arg(long)]
    parent: u32,
    /// The server's program and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
struct TestbedArgs {
    /// The testbed's JSON configuration (see below); without it, the built-in demo's.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = DEFAULT_DEMO_PORT)]
    port: u16,
}

#[derive(Debug, Args)]
struct WebArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = DEFAULT_PORT, env = "KEYHOLE_PORT")]
    port: u16,
    /// Address to listen on. Anything but loopback also needs --dangerously-allow-remote.
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_host)]
    host: IpAddr,
    /// Allow --host to be a non-loopback address. Anyone who can reach it and learns the API token can
    /// act with your MCP credentials.
    #[arg(long)]
    dangerously_allow_remote: bool,
    /// Seconds an upstream MCP request may take before Keyhole gives up on it.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// Do not start the built-in demo servers.
    #[arg(long)]
    no_demo: bool,
    /// Port for the built-in demo (0 picks a free one; a free one is also used if this one is taken).
    #[arg(long, default_value_t = DEFAULT_DEMO_PORT)]
    demo_port: u16,
    /// An `mcp.json` catalog ({"mcpServers": {NAME: {"url": …, "headers": {…}}}}) whose servers
    /// the servers view lists. Without it, `./mcp.json` is read if there is one, else
    /// `mcp.json` in Keyhole's configuration folder (`~/.config/keyhole` on Linux). Stdio entries
    /// ("command", "args", "env", "cwd") are started on this machine when you connect them;
    /// "type": "sse" entries use the HTTP+SSE transport of 2024-11-05.
    /// An entry may carry "protocolVersion", "oauth": {"clientId", "clientSecret", "scopes",
    /// "clientMetadataUrl"} and enterprise-managed authorization settings: "enterprise":
    /// {"idpIssuer", "idpClientId", "idpClientSecret", "clientId", "clientSecret"}.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where tokens, refresh tokens and client secrets are kept: `auto` (the OS keychain — Secret
    /// Service, Keychain or Credential Manager — when one answers, else the store file), `keyring`
    /// (the keychain or an error), `file` (the 0600 store file) or `memory` (gone when Keyhole
    /// stops); `keyhole cli` takes the same option. Secrets found in the file are moved to the
    /// keychain at start.
    #[arg(long, value_enum, env = "KEYHOLE_SECRETS", default_value_t = SecretsMode::Auto, ignore_case = true)]
    secrets: SecretsMode,
}

/// The catalog found where MCP users keep one (see [`Catalog::default_location`]); one that
/// cannot be used is skipped with a warning, since it may belong to another tool.
fn default_catalog() -> Option<Catalog> {
    let cwd = std::env::current_dir().ok()?;
    let keyhole_dir = crate::native::paths::keyhole_dir();
    let path = Catalog::default_location(&cwd, keyhole_dir.as_deref())?;
    match Catalog::load(&path) {
        Ok(catalog) => Some(catalog),
        Err(error) => {
            eprintln!(
                "warning: not listing the servers of {}: {error} (pass --config FILE to choose a catalog)",
                path.display()
            );
            None
        }
    }
}

fn parse_host(value: &str) -> Result<IpAddr, String> {
    if value.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    value
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("{value:?} is not an IP address (try 127.0.0.1)"))
}

/// Parses the arguments, runs the command, and turns failures into a message and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI's screen is the terminal: nothing may be logged on it.
    if !matches!(cli.command, Some(Command::StdioGuard(_) | Command::Tui(_))) {
        init_tracing();
        stdio_guard::enable();
    }
    match cli.command {
        Some(Command::Web(args)) => run_web(args),
        Some(Command::Testbed(args)) => run_testbed(args),
        Some(Command::Cli(args)) => cli::run(args),
        Some(Command::Doctor(args)) => run_doctor(args),
        Some(Command::Tui(args)) => {
            stdio_guard::enable();
            crate::tui::run(*args)
        }
        Some(Command::StdioGuard(guard)) => stdio_guard::run(guard.parent, guard.command),
        None => run_web(cli.web),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run_web(args: WebArgs) -> ExitCode {
    if !args.host.is_loopback() && !args.dangerously_allow_remote {
        eprintln!(
            "error: refusing to listen on {} without --dangerously-allow-remote: Keyhole acts with your MCP \
             credentials, so it only listens on loopback unless you say otherwise.",
            args.host
        );
        return ExitCode::from(2);
    }
    let token = match std::env::var("KEYHOLE_API_TOKEN") {
        Ok(pinned) => match ApiToken::pinned(&pinned) {
            Ok(token) => token,
            Err(why) => {
                eprintln!("error: {why}");
                return ExitCode::from(2);
            }
        },
        Err(_) => ApiToken::random(),
    };
    if !args.host.is_loopback() {
        eprintln!(
            "WARNING: listening beyond loopback on {}; protect the API token.",
            args.host
        );
    }
    let catalog = match args.config.as_deref() {
        Some(path) => match Catalog::load(path) {
            Ok(catalog) => Some(catalog),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
        None => default_catalog(),
    };
    let demo_port = (!args.no_demo).then_some(args.demo_port);
    let hub = HubOptions {
        request_timeout: Duration::from_secs(args.request_timeout),
        ..HubOptions::default()
    };
    let options = ServeOptions {
        host: args.host,
        port: args.port,
        token,
        demo_port,
        catalog,
        hub,
        secrets: args.secrets,
    };
    report(runtime().and_then(|rt| rt.block_on(web::serve(options)).map_err(|e| e.to_string())))
}

fn run_testbed(args: TestbedArgs) -> ExitCode {
    let config = match testbed::load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    report(runtime().and_then(|rt| rt.block_on(testbed::run(config, args.port))))
}

fn run_doctor(args: doctor::DoctorArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(doctor::EXIT_NOT_RUN);
        }
    };
    let code = runtime.block_on(doctor::run(
        args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ));
    ExitCode::from(code)
}

fn report(outcome: Result<(), String>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}
