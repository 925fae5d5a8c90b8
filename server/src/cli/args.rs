//! The `keyhole cli` command line: where the server is, how to authorize, and what to do.
//!
//! Connection and OAuth options are global, so they may come before or after the subcommand.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// The port of the loopback OAuth callback unless `--callback-port` says otherwise.
pub const DEFAULT_CALLBACK_PORT: u16 = 6276;

#[derive(Debug, Args)]
#[command(after_help = "\
Servers: --url URL, --command \"LINE\" (stdio), or --config mcp.json --server NAME (the common \
{\"mcpServers\": {NAME: {\"url\": …, \"headers\": {…}}}} format, stdio entries included). An entry may carry \
\"protocolVersion\" (the MCP version to ask for), \"oauth\": {\"clientId\", \"clientSecret\", \"scopes\", \
\"clientMetadataUrl\"} (a client registered in advance, the scopes to ask for, a client metadata document; \
the command line's flags win), and enterprise-managed authorization settings: \"enterprise\": {\"idpIssuer\", \
\"idpClientId\", \"idpClientSecret\", \"clientId\", \"clientSecret\"}; the ID token then comes from \
--idp-id-token or from a sign-in the web app stored.

Authorization: tokens are shared with the web app through the same store (KEYHOLE_STORE overrides its \
path). When the server asks for authorization, the authorization URL is opened in the browser (or \
printed) and the answer comes back to http://127.0.0.1:6276/callback. A 401 mid-session is answered by \
a silent refresh and one retry; a 403 insufficient_scope asks [y/N] before re-authorizing with the \
union of scopes (--yes accepts without asking; without a terminal and without --yes the command exits \
with 3).

When a server or its authorization server forgot what Keyhole holds (a restart during development), \
`keyhole cli auth status` shows what is stored and `keyhole cli auth forget --url URL --tokens|--client|--all` \
drops it; a client registration the authorization server no longer knows is also dropped and made again \
by itself, once.

Exit codes: 0 success, 1 error, 2 bad usage, 3 authorization required, 4 the tool reported an error.")]
pub struct ClientArgs {
    #[command(subcommand)]
    pub command: ClientCommand,
    /// Boxed: the options are many, and `ClientArgs` sits in the top-level command enum.
    #[command(flatten)]
    pub connection: Box<ConnectionArgs>,
}

/// Where the server is and how to authorize there.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// The MCP server's URL: a Streamable HTTP endpoint, or the event stream of an HTTP+SSE
    /// (2024-11-05) server, found when the server refuses the Streamable HTTP POST.
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// How to speak to --url (or the --config entry): `auto` tries Streamable HTTP and falls back
    /// to HTTP+SSE on a 4xx; `streamable-http` and `sse` use only that.
    #[arg(long, global = true, value_enum, value_name = "TRANSPORT")]
    pub transport: Option<TransportChoice>,
    /// An `mcp.json` catalog; pick the server with --server.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The server's name in the --config catalog.
    #[arg(long, global = true, value_name = "NAME")]
    pub server: Option<String>,
    /// Start this command and talk to it over stdio instead of --url, e.g. `--command "npx -y
    /// @modelcontextprotocol/server-everything"`. Split into words as a POSIX shell would; no
    /// shell runs it. The server and what it starts end when the command is done.
    #[arg(
        long = "command",
        id = "stdio_command",
        global = true,
        value_name = "COMMAND LINE"
    )]
    pub stdio_command: Option<String>,
    /// An environment variable for the --command server, `NAME=value` (repeatable; values are
    /// never printed).
    #[arg(long = "env", global = true, value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// An extra header for every MCP request, `'Name: value'` (repeatable).
    #[arg(long = "header", short = 'H', global = true, value_name = "'K: V'")]
    pub extra_headers: Vec<String>,
    /// Print JSON (the raw MCP results) instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Accept step-up prompts without asking (for scripts).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Seconds an MCP request may take.
    #[arg(long, global = true, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Scopes to ask for when the server names none (space-separated).
    #[arg(long, global = true, value_name = "SCOPES")]
    pub scope: Option<String>,
    /// Port of the loopback OAuth callback on 127.0.0.1.
    #[arg(long, global = true, default_value_t = DEFAULT_CALLBACK_PORT, value_name = "PORT")]
    pub callback_port: u16,
    /// Seconds to wait for the browser to come back to the callback.
    #[arg(long, global = true, default_value_t = 300, value_name = "SECONDS")]
    pub auth_timeout: u64,
    /// Do not open a browser: fetch the authorization URL without following redirects and take the
    /// code from `Location` (for authorization servers that approve at once).
    #[arg(long, global = true)]
    pub non_interactive: bool,
    /// A client registered in advance at the authorization server.
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,
    /// The secret of --client-id.
    #[arg(
        long,
        global = true,
        value_name = "SECRET",
        env = "KEYHOLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// A PKCS#8 PEM P-256 key for `private_key_jwt` client authentication of --client-id.
    #[arg(long, global = true, value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// The HTTPS URL of this client's metadata document (used when the server supports it).
    #[arg(long, global = true, value_name = "URL")]
    pub client_metadata_url: Option<String>,
    /// Use the client-credentials grant with --client-id and --client-secret or --private-key.
    #[arg(long, global = true)]
    pub client_credentials: bool,
    /// Workload identity federation: a file holding the workload's identity token (a JWT, e.g. a
    /// Kubernetes projected service-account token), exchanged with the JWT-bearer grant (RFC 7523)
    /// for --client-id whenever the server asks for authorization. Read at each use (such tokens
    /// rotate). KEYHOLE_WORKLOAD_TOKEN gives the token itself instead.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "client_credentials"
    )]
    pub workload_token_file: Option<PathBuf>,
    /// The MCP protocol version to speak: 2026-07-28 is the stateless revision (no initialize,
    /// `server/discover` instead); 2025-11-25, 2025-06-18, 2025-03-26 or 2024-11-05 ask for
    /// exactly that in the initialize handshake. Default: negotiate — `server/discover` at 2026-07-28 first, and
    /// the handshake when the server does not speak it.
    #[arg(long, global = true, value_name = "VERSION", value_parser = crate::native::mcp_client::known_protocol_version)]
    pub protocol_version: Option<String>,
    /// Where tokens and client secrets are kept, as for `keyhole web`: auto (the OS keychain when
    /// one answers, else the store file), keyring, file or memory (nothing kept after this run).
    #[arg(long, global = true, value_enum, env = "KEYHOLE_SECRETS", default_value_t = crate::native::secret_vault::SecretsMode::Auto, ignore_case = true)]
    pub secrets: crate::native::secret_vault::SecretsMode,
    /// Answer the server's sampling requests with this text (and announce sampling).
    #[arg(long, global = true, value_name = "TEXT")]
    pub sample_reply: Option<String>,
    /// Accept the server's elicitation requests with this content, a JSON object (and announce
    /// elicitation).
    #[arg(
        long,
        global = true,
        value_name = "JSON",
        conflicts_with = "elicit_prompt"
    )]
    pub elicit_json: Option<String>,
    /// Answer the server's elicitation requests by asking here, one prompt per field (on stderr,
    /// answers read from stdin), and announce elicitation (form and URL).
    #[arg(long, global = true)]
    pub elicit_prompt: bool,
    /// A root to offer the server (`roots/list`), a file:// URI (repeatable; announces roots).
    #[arg(long, global = true, value_name = "URI")]
    pub root: Vec<String>,
    /// Ask the server for its log from this level up (`logging/setLevel`); its messages are
    /// printed on stderr.
    #[arg(long, global = true, value_name = "LEVEL",
          value_parser = clap::builder::PossibleValuesParser::new(keyhole_shared::logging::LOG_LEVELS))]
    pub log_level: Option<String>,
    /// Enterprise-managed authorization: an ID token from the enterprise IdP (needs --idp-issuer,
    /// --idp-client-id and --client-id for the resource's authorization server).
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "KEYHOLE_IDP_ID_TOKEN",
        hide_env_values = true
    )]
    pub idp_id_token: Option<String>,
    /// The enterprise IdP's issuer URL (with --idp-id-token).
    #[arg(long, global = true, value_name = "URL")]
    pub idp_issuer: Option<String>,
    /// This client's id at the enterprise IdP (with --idp-id-token).
    #[arg(long, global = true, value_name = "ID")]
    pub idp_client_id: Option<String>,
    /// This client's secret at the enterprise IdP.
    #[arg(
        long,
        global = true,
        value_name = "SECRET",
        env = "KEYHOLE_IDP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub idp_client_secret: Option<String>,
    /// Break something on purpose once connected, before the command runs (repeatable, applied in
    /// order), to watch the server's answer and the recovery: forget-access-token (send none),
    /// corrupt-token, refresh-now, revoke-token (RFC 7009, at the authorization server),
    /// drop-refresh-token, expire-locally.
    #[arg(long = "fault", global = true, value_name = "FAULT", value_parser = parse_fault)]
    pub faults: Vec<keyhole_shared::oauth_client::Fault>,
}

fn parse_fault(name: &str) -> Result<keyhole_shared::oauth_client::Fault, String> {
    use keyhole_shared::oauth_client::Fault;
    Fault::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        format!("{name:?} is not a fault; one of: {}", names.join(", "))
    })
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List or call tools.
    #[command(subcommand)]
    Tools(ToolsCommand),
    /// List or read resources.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// List or get prompts.
    #[command(subcommand)]
    Prompts(PromptsCommand),
    /// Authorization helpers.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// The client command of the MCP conformance suite: reads MCP_CONFORMANCE_SCENARIO and
    /// MCP_CONFORMANCE_CONTEXT and does what the scenario asks against URL.
    Conformance {
        /// The scenario server's MCP endpoint (the suite appends it).
        url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// List the server's tools.
    List,
    /// Call a tool; exits with 4 when the tool reports an error.
    Call {
        /// The tool's name.
        name: String,
        /// An argument `key=value` (repeatable); the value is read as JSON when it parses, else
        /// as a string.
        #[arg(long, value_name = "K=V")]
        arg: Vec<String>,
        /// All arguments as one JSON object.
        #[arg(long, value_name = "JSON", conflicts_with = "arg")]
        args_json: Option<String>,
        /// Run the call as a task (MCP 2025-11-25, for a tool whose `execution.taskSupport` is
        /// `optional` or `required`): the status is printed on stderr as it changes, then the
        /// result as for a plain call. Ctrl+C cancels the task.
        #[arg(long)]
        task: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResourcesCommand {
    /// List the server's resources (and resource templates).
    List,
    /// Read one resource.
    Read {
        /// The resource's URI.
        uri: String,
    },
    /// Subscribe to a resource and print each update until interrupted (Ctrl+C).
    Subscribe {
        /// The resource's URI.
        uri: String,
        /// Stop after this many updates.
        #[arg(long, value_name = "N")]
        count: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// List the server's prompts.
    List,
    /// Get a prompt with arguments.
    Get {
        /// The prompt's name.
        name: String,
        /// An argument `key=value` (repeatable; prompt arguments are strings).
        #[arg(long, value_name = "K=V")]
        arg: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Show what the OAuth store holds (shared with the web app): per server, its authorization
    /// server, the client registration and the tokens (scopes, expiry — never their values).
    /// With --url (or --config/--server), that server only.
    Status,
    /// Forget what the OAuth store holds for the server given with --url (or --config/--server):
    /// its tokens, the client registration at its authorization server, or both. Tokens are
    /// revoked at the authorization server first when it offers revocation. The next command signs
    /// in again (and registers again, after --client or --all).
    #[command(group(clap::ArgGroup::new("what").required(true).args(["tokens", "client", "all"])))]
    Forget {
        /// The access and refresh tokens.
        #[arg(long)]
        tokens: bool,
        /// The client registration (a dynamic registration the authorization server may have
        /// forgotten); tokens issued to it go too.
        #[arg(long)]
        client: bool,
        /// Both.
        #[arg(long)]
        all: bool,
    },
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

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportChoice {
    Auto,
    StreamableHttp,
    Sse,
}

impl From<TransportChoice> for crate::native::mcp_client::HttpTransport {
    fn from(choice: TransportChoice) -> Self {
        match choice {
            TransportChoice::Auto => Self::Detect,
            TransportChoice::StreamableHttp => Self::StreamableHttp,
            TransportChoice::Sse => Self::LegacySse,
        }
    }
}
