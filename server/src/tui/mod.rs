//! `keyhole tui`: the inspector in a terminal, for SSH sessions, containers and the pane next to
//! an editor. Keyboard first, fast to start, and recovering mid-session like the web app: it is
//! the third user of the shared recovery engine, through the CLI's session ([`worker`]).
//!
//! * [`app`]: the state and what each key does (no drawing, no I/O).
//! * [`view`]: drawing it with ratatui.
//! * [`form`]: argument forms from input schemas, prompt arguments and URI templates.
//! * [`worker`]: the session thread (connection, requests, recovery, server requests).
//!
//! The terminal is put back (raw mode off, main screen) on every way out: quitting, an error, a
//! panic (hook), SIGTERM or SIGHUP (checked by the loop, and by a watchdog thread should the loop
//! be stuck); a terminal that hangs up ends the process.

mod app;
mod form;
mod view;
mod worker;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use clap::Args;
use crossterm::event::{self, Event, KeyEventKind};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal as Screen;
use ratatui::backend::CrosstermBackend;

use crate::catalog::{Catalog, Transport};
use crate::cli::args::{ConnectionArgs, DEFAULT_CALLBACK_PORT, TransportChoice};
use crate::native::oauth_store::FileStore;
use crate::native::secret_vault::SecretsMode;
use app::{App, ServerEntry};
use worker::Worker;

/// `keyhole tui`'s command line.
#[derive(Debug, Args)]
#[command(after_help = "\
Servers: a URL, --command \"LINE\" (stdio), or --config mcp.json (every entry is listed; --server \
NAME connects to one at start). The built-in demo's servers are listed too (--no-demo leaves them out).

Keys: 1-6 or Tab switch tabs (Servers, Tools, Resources, Prompts, Protocol, Auth), ↑/↓ choose, Enter \
types arguments and runs, Esc cancels, / filters, ? shows every key, q quits.

Authorization: tokens are shared with the web app and `keyhole cli` (the same store). A 401 \
mid-session is answered by a silent refresh and one retry; a 403 insufficient_scope shows the new \
scopes in the Auth tab and asks before signing in again; a sign-in opens the browser (or shows the \
URL) and the answer comes back to http://127.0.0.1:6276/callback, while the screen keeps the tab, \
the tool and what was typed.")]
pub struct TuiArgs {
    /// The MCP server's URL (Streamable HTTP or HTTP+SSE), connected to at start.
    #[arg(value_name = "URL")]
    url: Option<String>,
    /// An mcp.json-style catalog whose servers are listed (default: ./mcp.json, else mcp.json in
    /// Keyhole's configuration folder, when there is one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With --config: the entry to connect to at start.
    #[arg(long, value_name = "NAME", requires = "config")]
    server: Option<String>,
    /// A stdio server to start and connect to (a command line, split like a shell does).
    #[arg(long = "command", value_name = "COMMAND LINE", conflicts_with_all = ["url", "config"])]
    stdio_command: Option<String>,
    /// Environment for the --command server (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", requires = "stdio_command")]
    env: Vec<String>,
    /// An HTTP header sent with every MCP request (repeatable).
    #[arg(long = "header", short = 'H', value_name = "'K: V'")]
    headers: Vec<String>,
    /// How to speak to the URL: auto (Streamable HTTP, else HTTP+SSE), streamable-http or sse.
    #[arg(long, value_enum, value_name = "TRANSPORT")]
    transport: Option<TransportChoice>,
    /// Scopes to ask for at the first sign-in (space-separated).
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// A client registered in advance at the authorization server.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Its secret, for a confidential client.
    #[arg(
        long,
        value_name = "SECRET",
        env = "KEYHOLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    client_secret: Option<String>,
    /// The loopback port the browser comes back to after a sign-in.
    #[arg(long, default_value_t = DEFAULT_CALLBACK_PORT, value_name = "PORT")]
    callback_port: u16,
    /// How long to wait for the browser during a sign-in.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    auth_timeout: u64,
    /// How long to wait for the server's answer to one request.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
    /// The MCP version to ask for instead of negotiating.
    #[arg(long, value_name = "VERSION", value_parser = crate::native::mcp_client::known_protocol_version)]
    protocol_version: Option<String>,
    /// Where tokens and client secrets are kept: auto (the OS keychain when one answers, else
    /// the store file), keyring, file or memory.
    #[arg(long, value_enum, env = "KEYHOLE_SECRETS", default_value_t = SecretsMode::Auto, ignore_case = true)]
    secrets: SecretsMode,
    /// Leave the built-in demo's servers out of the list (it is not started).
    #[arg(long)]
    no_demo: bool,
    /// An ID token from your organization's IdP, for an enterprise-managed server (with
    /// --idp-issuer, --idp-client-id and --client-id, or a --config entry's "enterprise").
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KEYHOLE_IDP_ID_TOKEN",
        hide_env_values = true
    )]
    idp_id_token: Option<String>,
    /// The IdP's issuer URL (enterprise-managed authorization).
    #[arg(long, value_name = "URL")]
    idp_issuer: Option<String>,
    /// Keyhole's client id at the IdP (enterprise-managed authorization).
    #[arg(long, value_name = "ID")]
    idp_client_id: Option<String>,
    /// Its secret at the IdP.
    #[arg(
        long,
        value_name = "SECRET",
        env = "KEYHOLE_IDP_CLIENT_SECRET",
        hide_env_values = true
    )]
    idp_client_secret: Option<String>,
    /// The demo's port (0: any free port); a free one is used when it is taken.
    #[arg(long, default_value_t = crate::launcher::demo::DEFAULT_DEMO_PORT, value_name = "PORT")]
    demo_port: u16,
}

impl TuiArgs {
    /// The connection options every server of the list shares.
    fn base(&self) -> ConnectionArgs {
        ConnectionArgs {
            extra_headers: self.headers.clone(),
            transport: self.transport,
            scope: self.scope.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            callback_port: self.callback_port,
            auth_timeout: self.auth_timeout,
            timeout: self.timeout,
            protocol_version: self.protocol_version.clone(),
            secrets: self.secrets,
            idp_id_token: self.idp_id_token.clone(),
            idp_issuer: self.idp_issuer.clone(),
            idp_client_id: self.idp_client_id.clone(),
            idp_client_secret: self.idp_client_secret.clone(),
            ..ConnectionArgs::default()
        }
    }

    /// The list's servers from the command line and the catalog, and the one to connect to at
    /// start, if any.
    fn servers(&self) -> Result<(Vec<ServerEntry>, Option<usize>), String> {
        let base = self.base();
        let mut servers = Vec::new();
        let mut first = None;
        if let Some(url) = &self.url {
            let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("{url:?} is not an http(s) URL"));
            }
            first = Some(servers.len());
            servers.push(ServerEntry {
                name: "command line".into(),
                detail: url.clone(),
                connection: ConnectionArgs {
                    url: Some(url.clone()),
                    ..base.clone()
                },
            });
        }
        if let Some(line) = &self.stdio_command {
            first = Some(servers.len());
            servers.push(ServerEntry {
                name: "command line".into(),
                detail: line.clone(),
                connection: ConnectionArgs {
                    stdio_command: Some(line.clone()),
                    env: self.env.clone(),
                    ..base.clone()
                },
            });
        }
        let catalog = match &self.config {
            Some(path) => Some(path.clone()),
            // The default catalog, when there is one and nothing else was asked for.
            None if first.is_none() => std::env::current_dir().ok().and_then(|cwd| {
                let keyhole_dir = crate::native::paths::keyhole_dir();
                Catalog::default_location(&cwd, keyhole_dir.as_deref())
            }),
            None => None,
        };
        if let Some(path) = &catalog {
            let catalog = Catalog::load(path).map_err(|e| e.0)?;
            if let Some(name) = &self.server {
                catalog
                    .server(name)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            for entry in &catalog.servers {
                let detail = match &entry.transport {
                    Transport::Http(server) => server.url.clone(),
                    Transport::Stdio(command) => command.pseudo_url().to_string(),
                    Transport::Unsupported { reason } => reason.clone(),
                };
                if self.server.as_deref() == Some(entry.name.as_str()) {
                    first = Some(servers.len());
                }
                servers.push(ServerEntry {
                    name: entry.name.clone(),
                    detail,
                    connection: ConnectionArgs {
                        config: Some(path.clone()),
                        server: Some(entry.name.clone()),
                        ..base.clone()
                    },
                });
            }
        }
        Ok((servers, first))
    }
}

/// Runs `keyhole tui` to the end; exit 0, 1 (the terminal failed) or 2 (bad usage).
pub fn run(args: TuiArgs) -> ExitCode {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!(
            "error: keyhole tui needs a terminal (stdin and stdout); for scripts use `keyhole cli`"
        );
        return ExitCode::from(2);
    }
    let (servers, first) = match args.servers() {
        Ok(found) => found,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let (store, place) = match FileStore::open(args.secrets) {
        Ok(opened) => opened,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    if let Err(error) = store.tidy() {
        eprintln!("warning: could not tidy the OAuth store: {error}");
    }
    let worker = match Worker::spawn(store) {
        Ok(worker) => worker,
        Err(error) => {
            eprintln!("error: could not start the session thread: {error}");
            return ExitCode::from(1);
        }
    };
    let demo = (!args.no_demo).then(|| start_demo(args.demo_port, args.callback_port, args.base()));
    let mut app = App::new(servers, worker.requests.clone());
    app.note(place);
    if let Some(index) = first {
        app.connect(index);
    }
    let outcome = interact(&mut app, &worker, demo.as_ref());
    worker.stop();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: the terminal failed: {error}");
            ExitCode::from(1)
        }
    }
}

/// Raw mode and the alternate screen while it lives; the terminal as it was after.
struct ScreenGuard;

impl ScreenGuard {
    fn enter() -> std::io::Result<Self> {
        terminal::enable_raw_mode()?;
        let guard = Self;
        crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
        Ok(guard)
    }
}

impl Drop for ScreenGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// The loop: apply the session thread's updates, draw, read a key (at most 50 ms of waiting),
/// until the person quits or a signal asks to stop.
fn interact(
    app: &mut App,
    worker: &Worker,
    demo: Option<&std_mpsc::Receiver<DemoServers>>,
) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    watch_for_the_end(Arc::clone(&stop));
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    let _guard = ScreenGuard::enter()?;
    let mut screen = Screen::new(CrosstermBackend::new(std::io::stdout()))?;
    screen.clear()?;
    while !app.quit && !stop.load(Ordering::Relaxed) {
        while let Ok(update) = worker.updates.try_recv() {
            app.apply(update);
        }
        if let Some(Ok(found)) = demo.map(std_mpsc::Receiver::try_recv) {
            match found {
                Ok(servers) => app.servers.extend(servers),
                Err(error) => app.note(format!("The demo did not start: {error}")),
            }
        }
        screen.draw(|frame| view::draw(frame, app))?;
        if event::poll(Duration::from_millis(50))? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => app.key(key),
                Event::Resize(_, _) => screen.autoresize()?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// How long the loop has to end by itself after SIGTERM or SIGHUP before the process is ended.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// Ends the process when the loop cannot: after SIGTERM or SIGHUP, once [`STOP_GRACE`] has passed
/// (the loop may be inside crossterm, which keeps reading a terminal that has gone), and when
/// the terminal has hung up (its window or SSH connection closed: nothing can be shown any more,
/// and crossterm would read its end of file forever).
fn watch_for_the_end(stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("keyhole-tui-watch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                if terminal_hung_up() {
                    std::process::exit(1);
                }
                if stop.load(Ordering::Relaxed) {
                    std::thread::sleep(STOP_GRACE);
                    restore_terminal();
                    std::process::exit(0);
                }
            }
        });
}

/// Whether standard input's terminal has hung up (`POLLHUP` without waiting).
#[cfg(unix)]
fn terminal_hung_up() -> bool {
    let mut watched = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid `pollfd` for the length given, a zero timeout.
    let ready = unsafe { libc::poll(&mut watched, 1, 0) };
    ready > 0 && watched.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

#[cfg(not(unix))]
fn terminal_hung_up() -> bool {
    false
}

/// The demo's servers once it runs, or why it did not start.
type DemoServers = Result<Vec<ServerEntry>, String>;

/// Starts the built-in demo on a thread of its own (its own runtime, so a question waiting on
/// the session thread never stalls it); its servers arrive on the returned channel.
fn start_demo(
    port: u16,
    callback_port: u16,
    base: ConnectionArgs,
) -> std_mpsc::Receiver<DemoServers> {
    let (sender, receiver) = std_mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("keyhole-tui-demo".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => return drop(sender.send(Err(error.to_string()))),
            };
            runtime.block_on(async move {
                let demo = match crate::launcher::demo::start(port, callback_port).await {
                    Ok(demo) => demo,
                    Err(error) => return drop(sender.send(Err(error.to_string()))),
                };
                let servers = demo
                    .servers()
                    .into_iter()
                    .map(|(name, url)| ServerEntry {
                        name: format!("demo: {name}"),
                        detail: url.clone(),
                        connection: ConnectionArgs {
                            url: Some(url),
                            ..base.clone()
                        },
                    })
                    .collect();
                let _ = sender.send(Ok(servers));
                // The demo serves until the process ends.
                std::future::pending::<()>().await;
            });
        });
    if let Err(error) = spawned {
        let (sender, failed) = std_mpsc::channel();
        let _ = sender.send(Err(error.to_string()));
        return failed;
    }
    receiver
}
