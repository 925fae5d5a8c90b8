//! `keyhole cli`: one-shot commands for terminals and scripts.
//!
//! Exit codes (documented in `--help`): 0 success, 1 error, 2 bad usage, 3 authorization required,
//! 4 the tool reported an error.

use std::process::ExitCode;

use clap::{Args, Subcommand};

/// Bad usage: wrong arguments or input that cannot be read.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 success, 1 error, 2 bad usage, 3 authorization required, \
4 the tool reported an error."
)]
pub struct ClientArgs {
    #[command(subcommand)]
    command: ClientCommand,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Authorization helpers.
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Print, as JSON, how `WWW-Authenticate` header values parse: every challenge, the diagnostics
    /// (duplicates, unterminated strings, lenient readings…), and the resulting AuthChallenge.
    ///
    /// Each HEADER argument is one header line's value, e.g.
    /// `keyhole cli auth parse-challenge --status 403 'Bearer error="insufficient_scope", scope="a b"'`.
    ParseChallenge {
        /// The HTTP status the header came with (401 or 403); without it no AuthChallenge is derived.
        #[arg(long, value_parser = clap::value_parser!(u16).range(100..=599))]
        status: Option<u16>,
        /// One or more header values, one per header line.
        #[arg(required = true, value_name = "HEADER")]
        headers: Vec<std::ffi::OsString>,
    },
}

pub fn run(args: ClientArgs) -> ExitCode {
    match args.command {
        ClientCommand::Auth(AuthCommand::ParseChallenge { status, headers }) => {
            parse_challenge(status, &headers)
        }
    }
}

fn parse_challenge(status: Option<u16>, headers: &[std::ffi::OsString]) -> ExitCode {
    // Header bytes need not be UTF-8; the parser reports that as a diagnostic, so pass the raw bytes.
    let lines: Vec<Vec<u8>> = headers.iter().map(|h| os_bytes(h)).collect();
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let report = keyhole_shared::parse_challenge_report(status, &lines);
    match serde_json::to_string_pretty(&report) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: could not render the report: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(unix)]
fn os_bytes(value: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    value.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: &std::ffi::OsStr) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}
