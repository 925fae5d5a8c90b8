//! `keyhole cli`: one-shot commands against an MCP server, for terminals and scripts.
//!
//! * [`args`]: the command line (global connection and OAuth options, the subcommands).
//! * [`terminal`]: the user's terminal (output, the `[y/N]` prompt, opening the browser), a trait
//!   so tests can answer prompts and play the browser.
//! * [`session`]: connecting and sending with mid-session recovery (refresh, step-up, retry once).
//! * [`sign_in`]: new credentials (recovery outcomes, sign-in wording, re-registering a client the
//!   authorization server forgot).
//! * [`authorize`]: the interactive legs (loopback callback, non-interactive mode).
//! * [`commands`]: `tools`, `resources`, `prompts` and their human-readable or JSON output.
//! * [`conformance`]: the client command for the official MCP conformance suite.
//! * [`parse_challenge`]: `auth parse-challenge`.
//! * [`auth_store`]: `auth status` and `auth forget`.
//!
//! Exit codes (documented in `--help`): 0 success, 1 error, 2 bad usage, 3 authorization required,
//! 4 the tool reported an error.

pub mod args;
pub(crate) mod auth_store;
pub(crate) mod authorize;
mod client_side;
pub(crate) mod commands;
mod conformance;
mod elicit_prompt;
mod input_required;
mod parse_challenge;
pub(crate) mod session;
mod sign_in;
mod surface;
mod tasks;
pub mod terminal;

use std::process::ExitCode;

use keyhole_shared::store::Forget;

use crate::native::oauth_store::FileStore;
use crate::native::secret_vault::SecretsMode;

pub use args::ClientArgs;
use args::{ClientCommand, PromptsCommand, ResourcesCommand, ToolsCommand};
pub use terminal::{StdTerminal, Terminal};

/// Success.
pub const EXIT_OK: u8 = 0;
/// Any error that is not one of the others (transport, server error, bad response).
pub const EXIT_ERROR: u8 = 1;
/// Bad usage: wrong arguments or input that cannot be read.
pub const EXIT_USAGE: u8 = 2;
/// Authorization is required and could not be obtained (declined, timed out, refused).
pub const EXIT_AUTH: u8 = 3;
/// The tool ran and reported an error (`isError: true`).
pub const EXIT_TOOL_ERROR: u8 = 4;

/// Why a command failed, each kind with its exit code (`keyhole cli --help` lists them). The
/// text is for a person (stderr).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// The command line or a configuration file is wrong: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server, the network or a local resource failed: exit 1.
    #[error("{0}")]
    Failed(String),
    /// Authorization could not be obtained (declined, refused, no terminal to ask): exit 3.
    #[error("{0}")]
    Auth(String),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::Auth(message.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Failed(_) => EXIT_ERROR,
            Self::Auth(_) => EXIT_AUTH,
        }
    }
}

/// The entry point of `keyhole cli`: runs on a single-threaded runtime (the shared OAuth code is
/// not `Send`) with the real terminal.
pub fn run(args: ClientArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut terminal = StdTerminal;
    ExitCode::from(runtime.block_on(execute(args, &mut terminal)))
}

/// Parses `keyhole cli` arguments (without the program and `cli` words); for tests and embedding.
pub fn parse_args<I, T>(argv: I) -> Result<ClientArgs, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{FromArgMatches, Parser};
    #[derive(Parser)]
    #[command(name = "keyhole cli")]
    struct Wrapper {
        #[command(flatten)]
        args: ClientArgs,
    }
    let argv = std::iter::once(std::ffi::OsString::from("keyhole-cli"))
        .chain(argv.into_iter().map(Into::into));
    let matches = <Wrapper as clap::CommandFactory>::command().try_get_matches_from(argv)?;
    Wrapper::from_arg_matches(&matches).map(|w| w.args)
}

/// Runs one `keyhole cli` invocation and returns its exit code; messages go to `terminal`.
/// Credentials live in the store shared with the web app ([`FileStore::from_env`]).
pub async fn execute(args: ClientArgs, terminal: &mut dyn Terminal) -> u8 {
    execute_with_store(args, None, terminal).await
}

/// Same, with an explicit store (tests, embedding); `None` is the shared one.
pub async fn execute_with_store(
    args: ClientArgs,
    store: Option<FileStore>,
    terminal: &mut dyn Terminal,
) -> u8 {
    match dispatch(args, store, terminal).await {
        Ok(code) => code,
        Err(error) => {
            terminal.err(&format!("error: {error}"));
            error.exit_code()
        }
    }
}

/// The given store, else the shared one with its secrets where `mode` says.
pub(crate) fn open_store(
    store: Option<FileStore>,
    mode: SecretsMode,
) -> Result<FileStore, CliError> {
    match store {
        Some(store) => Ok(store),
        None => {
            let (store, _) = FileStore::open(mode).map_err(|e| CliError::error(e.to_string()))?;
            if let Err(error) = store.tidy() {
                tracing::warn!(%error, "could not tidy the OAuth store");
            }
            Ok(store)
        }
    }
}

/// Connects, announcing what the command line lets the CLI answer, and answers the server's
/// requests from then on; its notifications come out of the receiver.
async fn connect<'t>(
    connection: &args::ConnectionArgs,
    store: Option<FileStore>,
    terminal: &'t mut dyn Terminal,
) -> Result<(session::Session<'t>, Notes), CliError> {
    let answers = client_side::Answers::from_args(connection)?;
    let store = open_store(store, connection.secrets)?;
    let capabilities = answers.capabilities();
    let mut session =
        session::Session::open_with_store(connection, store, capabilities, terminal).await?;
    let messages = session.take_server_messages();
    let (sender, notes) = tokio::sync::mpsc::unbounded_channel();
    let log_level = answers.log_level.clone();
    // MCP 2026-07-28 asks for input in results: the same answers serve.
    let for_inputs = answers.clone();
    session.answer_input = Some(std::sync::Arc::new(
        move |method: &str, params: &serde_json::Value| for_inputs.answer(method, params).ok(),
    ));
    answers.spawn(session.client.clone(), messages, sender);
    for fault in &connection.faults {
        let said = session.inject(*fault).await?;
        session
            .terminal
            .err(&format!("fault {}: {said}", fault.name()));
    }
    if let Some(level) = log_level {
        session
            .request("logging/setLevel", serde_json::json!({ "level": level }))
            .await?;
    }
    Ok((session, notes))
}

type Notes = tokio::sync::mpsc::UnboundedReceiver<client_side::Note>;

/// Ends the session, then prints the server's log messages it sent meanwhile.
async fn finish(session: session::Session<'_>, mut notes: Notes) -> Vec<String> {
    session.close().await;
    let mut lines = Vec::new();
    while let Ok(note) = notes.try_recv() {
        if let client_side::Note::Log(line) = note {
            lines.push(line);
        }
    }
    lines
}

async fn dispatch(
    args: ClientArgs,
    store: Option<FileStore>,
    terminal: &mut dyn Terminal,
) -> Result<u8, CliError> {
    let ClientArgs {
        command,
        connection,
    } = args;
    match command {
        ClientCommand::Auth(args::AuthCommand::ParseChallenge { status, headers }) => {
            parse_challenge::run(status, &headers, terminal)
        }
        ClientCommand::Auth(args::AuthCommand::Status) => {
            auth_store::status(
                &connection,
                open_store(store, connection.secrets)?,
                terminal,
            )
            .await
        }
        ClientCommand::Auth(args::AuthCommand::Forget {
            tokens,
            client,
            all,
        }) => {
            let what = Forget {
                tokens: tokens || all,
                client: client || all,
            };
            auth_store::forget(
                &connection,
                open_store(store, connection.secrets)?,
                what,
                terminal,
            )
            .await
        }
        ClientCommand::Conformance { url } => conformance::run(&url, terminal).await,
        command => {
            let (mut session, mut notes) = connect(&connection, store, &mut *terminal).await?;
            let outcome = run_command(&mut session, &mut notes, command).await;
            for line in finish(session, notes).await {
                terminal.err(&line);
            }
            outcome
        }
    }
}

/// One of the commands that talk to the server, on `session`.
async fn run_command(
    session: &mut session::Session<'_>,
    notes: &mut Notes,
    command: ClientCommand,
) -> Result<u8, CliError> {
    match command {
        ClientCommand::Tools(ToolsCommand::List) => commands::tools_list(session).await,
        ClientCommand::Tools(ToolsCommand::Call {
            name,
            arg,
            args_json,
            task,
        }) => commands::tools_call(session, &name, &arg, args_json.as_deref(), task).await,
        ClientCommand::Resources(ResourcesCommand::List) => commands::resources_list(session).await,
        ClientCommand::Resources(ResourcesCommand::Read { uri }) => {
            commands::resources_read(session, &uri).await
        }
        ClientCommand::Resources(ResourcesCommand::Subscribe { uri, count }) => {
            commands::resources_subscribe(session, notes, &uri, count).await
        }
        ClientCommand::Prompts(PromptsCommand::List) => commands::prompts_list(session).await,
        ClientCommand::Prompts(PromptsCommand::Get { name, arg }) => {
            commands::prompts_get(session, &name, &arg).await
        }
        ClientCommand::Auth(_) | ClientCommand::Conformance { .. } => {
            Err(CliError::usage("this command does not talk to a server"))
        }
    }
}
