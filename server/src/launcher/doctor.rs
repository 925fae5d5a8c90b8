//! `keyhole doctor URL`: the shared authorization audit ([`keyhole_shared::doctor`]) over native
//! HTTP, printed for a terminal or as JSON. Exit codes: 0 nothing wrong, 1 warnings only,
//! 2 a failure, 3 the audit could not start (an unreadable token file, a bad `--header`, a store
//! that cannot be opened for `--refresh`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};
use keyhole_shared::Secret;
use keyhole_shared::doctor::guided::GuidedSignIn;
use keyhole_shared::doctor::refresh::check_refresh;
use keyhole_shared::doctor::{
    DEFAULT_ORIGIN, DoctorOptions, DoctorReport, Finding, Verdict, diagnose, render,
};
use keyhole_shared::http::{Observed, RecordingObserver};
use keyhole_shared::oauth_client::{ClientConfig, OAuthClient};

use keyhole_shared::recovery::Clock;

use crate::cli::args::DEFAULT_CALLBACK_PORT;
use crate::cli::authorize::{self, CallbackFailure, CallbackOptions};
use crate::cli::{StdTerminal, Terminal};
use crate::native::native_http::{NativeHttp, OsEntropy, SystemClock};
use crate::native::oauth_store::FileStore;
use crate::native::secret_vault::SecretsMode;

/// The OAuth client of `--refresh` and `--sign-in`: native HTTP, its exchanges kept for the
/// guided sign-in's steps, the shared store.
type DoctorClient =
    OAuthClient<Observed<NativeHttp, RecordingObserver>, FileStore, SystemClock, OsEntropy>;

/// Exit code when the audit could not start.
pub const EXIT_NOT_RUN: u8 = 3;

pub const DOCTOR_HELP: &str = "\
Exit codes: 0 nothing wrong, 1 warnings only, 2 at least one failure (an unreachable server is one),
3 the audit could not start (unreadable --token-file, bad --header).

Without a token the doctor checks what every client meets before signing in: the 401 and its
challenge, the protected-resource metadata (RFC 9728), the authorization server's metadata
(RFC 8414), that a made-up token and a token for another audience are refused with 401, HTTPS, and
CORS for browser clients. With --token-file it also checks that the token is accepted and, when it
lacks a scope, that the 403 names the scopes needed. With --refresh it refreshes the token Keyhole
holds for URL (after a sign-in by `keyhole cli`, the TUI or the web app; the same store and
--secrets) and checks the new access token, the rotation of the refresh token, and that the server
accepts the new token: this spends one refresh, and the new tokens are kept. With --sign-in it
signs in first — the steps of the web app's Debug sign-in, each judged — and then checks the refresh.";

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The MCP server's URL (its Streamable HTTP endpoint).
    pub url: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// A file holding an access token for the server (`-` reads standard input). The token is sent
    /// to URL only and never printed.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// An extra header for the MCP requests, 'Name: value' (repeatable; not Authorization).
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,
    /// The Origin the CORS checks claim to come from.
    #[arg(long, default_value = DEFAULT_ORIGIN)]
    pub origin: String,
    /// Also refresh the token Keyhole holds for URL and check the refresh (see below).
    #[arg(long)]
    pub refresh: bool,
    /// Where the stored tokens' secrets are (with --refresh): auto, keyring, file or memory, as
    /// for `keyhole web` and `keyhole cli`.
    #[arg(long, value_enum, env = "KEYHOLE_SECRETS", default_value_t = SecretsMode::Auto, ignore_case = true)]
    pub secrets: SecretsMode,
    /// Sign in as well (the web app's Debug sign-in, step by step, in the terminal: the browser
    /// comes back to --callback-port), judge each step, then check a refresh as --refresh does.
    /// The tokens are kept in the store `keyhole cli` and the web app share.
    #[arg(long)]
    pub sign_in: bool,
    /// Port of the loopback OAuth callback on 127.0.0.1 (with --sign-in).
    #[arg(long, default_value_t = DEFAULT_CALLBACK_PORT, value_name = "PORT")]
    pub callback_port: u16,
    /// With --sign-in: do not open a browser; fetch the authorization URL without following
    /// redirects and take the code from `Location` (authorization servers that approve at once).
    #[arg(long)]
    pub non_interactive: bool,
    /// Seconds to wait for the browser to come back (with --sign-in).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub auth_timeout: u64,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Parser)]
#[command(name = "keyhole doctor")]
struct Standalone {
    #[command(flatten)]
    args: DoctorArgs,
}

/// Parses `keyhole doctor`'s arguments (for tests: `argv` without the program name).
pub fn parse_args(argv: &[&str]) -> Result<DoctorArgs, clap::Error> {
    let all = std::iter::once("keyhole doctor").chain(argv.iter().copied());
    Standalone::try_parse_from(all).map(|standalone| standalone.args)
}

fn read_token(path: &std::path::Path) -> Result<Secret, String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    }
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(format!(
            "the token file {} must hold one token and nothing else",
            path.display()
        ));
    }
    Ok(Secret::new(token))
}

/// The audit of `url` with extra `headers`, as the CLI and `POST /api/doctor` both build it: no
/// `Authorization` among the headers (the token has its own way in), every name a valid one.
pub fn doctor_options(
    url: &str,
    headers: impl IntoIterator<Item = (String, String)>,
) -> Result<DoctorOptions, String> {
    let mut options = DoctorOptions::new(url.trim(), SystemClock.now_unix());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("authorization") {
            return Err("the audit sends no Authorization header of yours: give \
                        `keyhole doctor` a token with --token-file"
                .into());
        }
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a valid header name"))?;
        options.headers.push((name, value));
    }
    Ok(options)
}

/// The options the arguments describe, or why they cannot be used.
fn options(args: &DoctorArgs) -> Result<DoctorOptions, String> {
    let headers = args
        .headers
        .iter()
        .map(|header| crate::catalog::parse_header(header))
        .collect::<Result<Vec<_>, _>>()?;
    let mut options = doctor_options(&args.url, headers)?;
    options.origin = args.origin.clone();
    options.token = args.token_file.as_deref().map(read_token).transpose()?;
    Ok(options)
}

/// Runs the audit.
pub async fn audit(args: &DoctorArgs) -> Result<DoctorReport, String> {
    let options = options(args)?;
    let http = NativeHttp::with_limits(
        Duration::from_secs(args.timeout),
        crate::native::native_http::DEFAULT_MAX_BODY,
    );
    let report = diagnose(&http, &OsEntropy, &options).await;
    if !args.refresh && !args.sign_in {
        return Ok(report);
    }
    let (store, _) = FileStore::open(args.secrets).map_err(|e| e.to_string())?;
    // A refresh uses the client the tokens were issued to, whatever the redirect URI.
    let config = ClientConfig::new(authorize::redirect_uri(args.callback_port));
    // DPoP-bound tokens are proven with the same keys as the web app's and the CLI's.
    let keys = std::sync::Arc::new(crate::native::dpop_keys::DpopKeys::beside(&store));
    let client = OAuthClient::new(
        http.with_dpop_keys(keys)
            .observed(RecordingObserver::default()),
        store,
        SystemClock,
        OsEntropy,
        config,
    );
    let mut report = report;
    if args.sign_in {
        let (findings, signed_in) = sign_in(args, &options, &client).await;
        report = report.with(findings);
        if !signed_in {
            return Ok(report);
        }
    }
    Ok(report.with(check_refresh(&client, &options).await))
}

/// `--sign-in`: the guided sign-in, its progress on stderr; every step's findings, and whether
/// it signed in.
async fn sign_in(
    args: &DoctorArgs,
    options: &DoctorOptions,
    client: &DoctorClient,
) -> (Vec<Finding>, bool) {
    let callback = CallbackOptions {
        port: args.callback_port,
        timeout: Duration::from_secs(args.auth_timeout.max(1)),
        non_interactive: args.non_interactive,
    };
    let mut terminal = StdTerminal;
    let mut guided = GuidedSignIn::new(options.server_url.clone(), options.headers.clone());
    let mut lost = None;
    while guided.next_step().is_some() {
        if guided.awaiting_callback() {
            let url = guided.authorization_url.clone().unwrap_or_default();
            match authorize::obtain_callback(&url, &callback, &mut terminal).await {
                Ok(back) => guided.arrive(back),
                Err(CallbackFailure::ClientUnknown(error)) => {
                    lost = Some(format!(
                        "the authorization server does not know the client: {}",
                        error.error
                    ));
                    break;
                }
                Err(CallbackFailure::Other(error)) => {
                    lost = Some(error.to_string());
                    break;
                }
            }
        }
        let tape = &client.http().observer;
        let Some(report) = guided.run_next(client, tape, SystemClock.now_unix()).await else {
            break;
        };
        terminal.err(&format!(
            "keyhole doctor: sign-in step {} — {:?}",
            report.step.title(),
            report.verdict
        ));
    }
    let signed_in = guided.next_step().is_none() && !guided.stopped;
    let mut findings: Vec<Finding> = guided
        .reports
        .into_iter()
        .flat_map(|r| r.findings)
        .collect();
    if let Some(why) = lost {
        findings.push(Finding::of("callback-code", Verdict::Failure, why));
    }
    (findings, signed_in)
}

/// Runs the audit and prints the report on `out` (errors on `err`); the exit code.
pub async fn run(args: DoctorArgs, out: &mut impl Write, err: &mut impl Write) -> u8 {
    if !args.json {
        let _ = writeln!(err, "keyhole doctor: auditing {} …", args.url.trim());
    }
    let report = match audit(&args).await {
        Ok(report) => report,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return EXIT_NOT_RUN;
        }
    };
    let printed = if args.json {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        render::text(&report)
    };
    let _ = out.write_all(printed.as_bytes());
    report.exit_code()
}
