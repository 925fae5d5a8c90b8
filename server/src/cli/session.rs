//! One CLI session: the upstream MCP client ([`McpClient`]) and the OAuth client over the store
//! shared with the web app (see ARCHITECTURE.md, “Recovery in the CLI”). Connecting starts from
//! the stored token; every message, `initialize` included, goes through the shared recovery
//! [`Engine`] with the terminal as its surface ([`super::surface`]).

use std::sync::Arc;
use std::time::Duration;

use keyhole_shared::http::{ExchangeObserver, Observed};
use keyhole_shared::oauth_client::Fault;
use keyhole_shared::oauth_client::{
    ClientConfig as OAuthConfig, EnterpriseConfig, Issuer, OAuthClient, PreRegisteredClient,
    ServerConfig,
};
use keyhole_shared::recovery::{Engine, Origin, Refused};
use keyhole_shared::store::{IdpSession, OAuthStore};
use keyhole_shared::{ChallengeContext, ScopeSet, Secret};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::args::ConnectionArgs;
use super::authorize::{self, CallbackOptions};
use super::surface::{CliAuthority, CliSurface, SignInState};
use super::{CliError, Terminal};
use crate::catalog::{self, Catalog, Transport};
use crate::native::mcp_client::stateless;
use crate::native::mcp_client::stdio::StdioCommand;
use crate::native::mcp_client::{
    ClientConfig, ClientEvents, Credentials, HttpTransport, McpClient, SendError, UpstreamChallenge,
};
use crate::native::native_http::{NativeHttp, OsEntropy, SystemClock};
use crate::native::oauth_store::FileStore;
use keyhole_shared::api::EntryOAuth;

pub(crate) type OAuth =
    OAuthClient<Observed<NativeHttp, OAuthTap>, FileStore, SystemClock, OsEntropy>;

/// What a session reports besides its results, for a surface that shows it (the TUI's Protocol
/// and Auth tabs); the one-shot commands log it at debug level instead.
#[derive(Debug, Clone)]
pub(crate) enum Tapped {
    /// One exchange with the MCP server (HTTP transports).
    Mcp(keyhole_shared::api::HttpExchange),
    /// One exchange of the OAuth client (discovery, registration, token…), redacted.
    OAuth(keyhole_shared::http::HttpExchange),
    /// A line a stdio server wrote on its stderr.
    Console(String),
    /// A JSON-RPC message sent (`outgoing`), or the response it got.
    Message { outgoing: bool, message: Value },
}

/// Where a session's [`Tapped`] reports go.
pub(crate) type Tap = Arc<dyn Fn(Tapped) + Send + Sync>;

/// The OAuth client's exchanges, to the session's tap when it has one.
#[derive(Clone, Default)]
pub(crate) struct OAuthTap(Option<Tap>);

impl std::fmt::Debug for OAuthTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "OAuthTap(on)"
        } else {
            "OAuthTap(off)"
        })
    }
}

impl ExchangeObserver for OAuthTap {
    fn observe(&self, exchange: keyhole_shared::http::HttpExchange) {
        if let Some(tap) = &self.0 {
            tap(Tapped::OAuth(exchange));
        }
    }
}

/// What the session does with authorization, from the command line.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthOptions {
    pub yes: bool,
    pub client_credentials: bool,
    /// Where the workload's identity token comes from (`--workload-token-file`, else
    /// `KEYHOLE_WORKLOAD_TOKEN`): every challenge is answered with the JWT-bearer grant.
    pub workload_token: Option<WorkloadToken>,
    pub scopes: Option<ScopeSet>,
    pub callback: CallbackOptions,
}

/// The environment variable that gives a workload identity token itself.
pub const WORKLOAD_TOKEN_ENV: &str = "KEYHOLE_WORKLOAD_TOKEN";

/// Where a workload's identity token is read from, at each use.
#[derive(Clone, Debug)]
pub(crate) enum WorkloadToken {
    File(std::path::PathBuf),
    Environment,
}

impl WorkloadToken {
    /// `--workload-token-file`, else `KEYHOLE_WORKLOAD_TOKEN`, else the catalog entry's
    /// `oauth.workloadTokenFile`.
    fn choose(args: &ConnectionArgs, entry: Option<&EntryOAuth>) -> Result<Option<Self>, CliError> {
        let configured = entry.and_then(|e| e.workload_token_file.as_deref());
        let source = match (&args.workload_token_file, configured) {
            (Some(path), _) => Self::File(path.clone()),
            _ if std::env::var_os(WORKLOAD_TOKEN_ENV).is_some() => Self::Environment,
            (None, Some(path)) => Self::File(path.into()),
            (None, None) => return Ok(None),
        };
        if args.client_id.is_none() && entry.and_then(|e| e.client_id.as_ref()).is_none() {
            return Err(CliError::usage(
                "workload identity (--workload-token-file or KEYHOLE_WORKLOAD_TOKEN) needs --client-id",
            ));
        }
        Ok(Some(source))
    }

    /// The token now; the error names the source, never the token.
    pub(crate) fn read(&self) -> Result<Secret, String> {
        let text = match self {
            Self::File(path) => std::fs::read_to_string(path).map_err(|e| {
                format!("cannot read --workload-token-file {}: {e}", path.display())
            })?,
            Self::Environment => std::env::var(WORKLOAD_TOKEN_ENV)
                .map_err(|_| format!("{WORKLOAD_TOKEN_ENV} is not set (or not UTF-8)"))?,
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(match self {
                Self::File(path) => format!("--workload-token-file {} is empty", path.display()),
                Self::Environment => format!("{WORKLOAD_TOKEN_ENV} is empty"),
            });
        }
        Ok(Secret::new(token))
    }
}

/// Reports server messages to the session's channel, exchanges and stderr lines to the tap when
/// there is one; everything else is logged at debug level.
struct CliEvents {
    messages: mpsc::UnboundedSender<Value>,
    tap: Option<Tap>,
}

impl ClientEvents for CliEvents {
    fn server_message(&self, message: Value) {
        let _ = self.messages.send(message);
    }
    fn exchange(&self, exchange: keyhole_shared::api::HttpExchange) {
        tracing::debug!(method = %exchange.method, url = %exchange.url, status = ?exchange.status, "http");
        if let Some(tap) = &self.tap {
            tap(Tapped::Mcp(exchange));
        }
    }
    fn ambient_challenge(&self, challenge: UpstreamChallenge) {
        tracing::debug!(status = challenge.status, "challenge on the GET stream");
    }
    fn notice(&self, message: String) {
        tracing::info!("{message}");
    }
    fn message(&self, outgoing: bool, message: &Value) {
        if let Some(tap) = &self.tap {
            tap(Tapped::Message {
                outgoing,
                message: message.clone(),
            });
        }
    }
    fn console(&self, line: String) {
        match &self.tap {
            Some(tap) => tap(Tapped::Console(line)),
            None => tracing::info!(target: "keyhole::server_stderr", "{line}"),
        }
    }
}

pub(crate) struct Session<'t> {
    pub terminal: &'t mut dyn Terminal,
    pub json: bool,
    pub url: String,
    pub client: McpClient,
    pub oauth: OAuth,
    pub options: AuthOptions,
    engine: Engine,
    sign_ins: SignInState,
    next_id: u64,
    /// Answers a server's input request (2026-07-28 `input_required` results); `None`: this
    /// command cannot give input.
    pub answer_input: Option<super::input_required::Answerer>,
    pub initialize_result: Value,
    pub server_messages: mpsc::UnboundedReceiver<Value>,
}

/// The server a command talks to.
#[derive(Default)]
pub(super) struct Target {
    pub url: String,
    /// The catalog entry's headers, then the `--header`s.
    pub headers: Vec<(String, String)>,
    /// The catalog entry's enterprise-managed authorization settings, if any.
    pub enterprise: Option<EnterpriseConfig>,
    /// `--command`: the server to start and talk to over stdio (`url` then names it).
    pub stdio: Option<StdioCommand>,
    /// How `url` is spoken to: `--transport`, else the catalog entry's `type`.
    pub http_transport: HttpTransport,
    /// The catalog entry's OAuth settings (the command line's win).
    pub oauth: Option<EntryOAuth>,
    /// The catalog entry's `protocolVersion` (`--protocol-version` wins).
    pub protocol_version: Option<String>,
}

/// `--command` with its `--env`s, when given.
fn stdio_target(args: &ConnectionArgs) -> Result<Option<Target>, CliError> {
    let Some(line) = &args.stdio_command else {
        if !args.env.is_empty() {
            return Err(CliError::usage("--env goes with --command"));
        }
        return Ok(None);
    };
    if args.url.is_some() || args.config.is_some() {
        return Err(CliError::usage(
            "give one of --url, --command or --config/--server",
        ));
    }
    if !args.extra_headers.is_empty() {
        return Err(CliError::usage(
            "--header is for HTTP servers; a --command server gets --env",
        ));
    }
    let words = shlex::split(line)
        .filter(|words| !words.is_empty())
        .ok_or_else(|| {
            CliError::usage(format!(
                "--command {line:?} is not a command line (empty, or a quote is not closed)"
            ))
        })?;
    let mut env = Vec::new();
    for pair in &args.env {
        match pair.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                env.push((name.to_owned(), value.to_owned()))
            }
            _ => {
                return Err(CliError::usage(format!(
                    "--env needs NAME=value; got {:?}",
                    pair.split('=').next().unwrap_or_default()
                )));
            }
        }
    }
    let command = StdioCommand {
        command: words[0].clone(),
        args: words[1..].to_vec(),
        env,
        cwd: None,
    };
    Ok(Some(Target {
        url: command.pseudo_url().to_string(),
        stdio: Some(command),
        ..Target::default()
    }))
}

/// Where the server is: `--url`, or `--config` + `--server`; plus `--header`s.
pub(super) fn resolve_target(args: &ConnectionArgs) -> Result<Target, CliError> {
    if let Some(target) = stdio_target(args)? {
        return Ok(target);
    }
    let mut target = match (&args.url, &args.config, &args.server) {
        (Some(url), None, None) => Target {
            url: url.clone(),
            ..Target::default()
        },
        (None, Some(config), Some(name)) => {
            let catalog = Catalog::load(config).map_err(|e| CliError::usage(e.0))?;
            let in_file =
                |message: String| CliError::usage(format!("{}: {message}", config.display()));
            match &catalog.server(name).map_err(in_file)?.transport {
                Transport::Http(server) => Target {
                    url: server.url.clone(),
                    headers: server.headers.clone(),
                    enterprise: server.enterprise.clone(),
                    http_transport: server.transport,
                    oauth: server.oauth.clone(),
                    protocol_version: server.protocol_version.clone(),
                    ..Target::default()
                },
                Transport::Stdio(command) => Target {
                    url: command.pseudo_url().to_string(),
                    stdio: Some(command.clone()),
                    ..Target::default()
                },
                Transport::Unsupported { reason } => return Err(in_file(reason.clone())),
            }
        }
        (None, Some(_), None) => {
            return Err(CliError::usage("--config needs --server NAME"));
        }
        (None, None, Some(_)) => return Err(CliError::usage("--server needs --config FILE")),
        (Some(_), _, _) => {
            return Err(CliError::usage(
                "give either --url or --config/--server, not both",
            ));
        }
        (None, None, None) => {
            return Err(CliError::usage(
                "which server? give --url URL, --command \"…\" or --config mcp.json --server NAME",
            ));
        }
    };
    if let Some(chosen) = args.transport {
        target.http_transport = chosen.into();
    }
    for header in &args.extra_headers {
        target
            .headers
            .push(catalog::parse_header(header).map_err(CliError::usage)?);
    }
    Ok(target)
}

/// The enterprise-managed authorization settings: from `--idp-issuer`, `--idp-client-id` and
/// `--client-id` when an `--idp-id-token` comes with them, else from the catalog entry.
fn enterprise_config(
    args: &ConnectionArgs,
    target: &Target,
    resource_client: Option<&PreRegisteredClient>,
) -> Result<Option<EnterpriseConfig>, CliError> {
    if args.idp_id_token.is_some()
        && let (Some(issuer), Some(idp_client), Some(resource_client)) =
            (&args.idp_issuer, &args.idp_client_id, resource_client)
    {
        let mut idp = PreRegisteredClient::public(idp_client.clone());
        idp.client_secret = args.idp_client_secret.clone().map(Secret::new);
        return Ok(Some(EnterpriseConfig {
            idp_issuer: Issuer::new(issuer.clone()),
            idp_client: idp,
            idp_scope: ScopeSet::parse("openid email"),
            resource_client: resource_client.clone(),
        }));
    }
    if target.enterprise.is_none() && args.idp_id_token.is_some() {
        return Err(CliError::usage(
            "--idp-id-token needs --idp-issuer, --idp-client-id and --client-id (the client at the \
             resource's authorization server), or a --config entry with \"enterprise\" settings",
        ));
    }
    Ok(target.enterprise.clone())
}

/// The OAuth client for `target` as configured on the command line, over `store`, and the
/// enterprise-managed authorization settings it uses, if any.
pub(super) fn oauth_client(
    args: &ConnectionArgs,
    target: &Target,
    store: FileStore,
) -> Result<(OAuth, Option<EnterpriseConfig>), CliError> {
    oauth_client_tapped(args, target, store, None)
}

/// Same, reporting the OAuth client's exchanges to `tap`.
fn oauth_client_tapped(
    args: &ConnectionArgs,
    target: &Target,
    store: FileStore,
    tap: Option<Tap>,
) -> Result<(OAuth, Option<EnterpriseConfig>), CliError> {
    let redirect = authorize::redirect_uri(args.callback_port);
    let mut config = OAuthConfig::new(redirect);
    config.metadata_document_url = args.client_metadata_url.clone();
    // The catalog entry's settings, then what the command line says instead.
    let mut server = match &target.oauth {
        Some(settings) => settings.server_config(&target.url),
        None => ServerConfig::new(&target.url),
    };
    if args.client_metadata_url.is_some() {
        server.metadata_document_url = None;
    }
    if let Some(scopes) = &args.scope {
        server.scopes = Some(ScopeSet::parse(scopes));
    }
    if let Some(id) = &args.client_id {
        let mut client = PreRegisteredClient::public(id.clone());
        client.client_secret = args.client_secret.clone().map(Secret::new);
        if let Some(path) = &args.private_key {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("cannot read --private-key {}: {e}", path.display()))
            })?;
            client.private_key_pem = Some(Secret::new(pem));
        }
        server.client = Some(client);
    } else if args.client_secret.is_some() || args.private_key.is_some() {
        return Err(CliError::usage(
            "--client-secret and --private-key need --client-id",
        ));
    }
    if args.client_credentials && server.client.is_none() {
        return Err(CliError::usage(
            "--client-credentials needs --client-id with --client-secret or --private-key",
        ));
    }
    server.enterprise = enterprise_config(args, target, server.client.as_ref())?;
    let enterprise = server.enterprise.clone();
    let keys = Arc::new(crate::native::dpop_keys::DpopKeys::beside(&store));
    let http = NativeHttp::new()
        .with_dpop_keys(keys)
        .observed(OAuthTap(tap));
    let oauth = OAuthClient::new(http, store, SystemClock, OsEntropy, config);
    oauth.add_server(server);
    Ok((oauth, enterprise))
}

impl<'t> Session<'t> {
    /// Connects with `store` and announcing `capabilities` (the conformance driver answers
    /// elicitation; the one-shot commands announce none).
    pub async fn open_with_store(
        args: &ConnectionArgs,
        store: FileStore,
        capabilities: Value,
        terminal: &'t mut dyn Terminal,
    ) -> Result<Session<'t>, CliError> {
        Self::open_tapped(args, store, capabilities, terminal, None).await
    }

    /// Same, reporting exchanges (MCP and OAuth) and a stdio server's stderr to `tap`.
    pub(crate) async fn open_tapped(
        args: &ConnectionArgs,
        store: FileStore,
        capabilities: Value,
        terminal: &'t mut dyn Terminal,
        tap: Option<Tap>,
    ) -> Result<Session<'t>, CliError> {
        let target = resolve_target(args)?;
        let url = target.url.clone();
        let endpoint = url::Url::parse(&url)
            .map_err(|e| CliError::usage(format!("--url {url:?} is not a URL: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") && target.stdio.is_none() {
            return Err(CliError::usage(format!("--url {url:?} is not http(s)")));
        }
        let (oauth, enterprise) = oauth_client_tapped(args, &target, store, tap.clone())?;
        if let (Some(token), Some(enterprise)) = (&args.idp_id_token, enterprise) {
            let session = IdpSession {
                idp_issuer: enterprise.idp_issuer.clone(),
                client_id: enterprise.idp_client.client_id.clone(),
                id_token: Secret::new(token.clone()),
                expires_at: None,
                subject: None,
            };
            oauth
                .store()
                .modify(move |d| d.save_idp_session(session.clone()))
                .await
                .map_err(|e| CliError::error(e.to_string()))?;
        }
        let stored = stored_tokens(&oauth, &url).await;
        let mut config = ClientConfig::new(endpoint);
        config.headers = target.headers;
        config.timeout = Duration::from_secs(args.timeout.max(1));
        config.capabilities = Arc::new(capabilities);
        config.protocol_version = args
            .protocol_version
            .clone()
            .or_else(|| target.protocol_version.clone());
        config.stdio = target.stdio.clone();
        config.http_transport = target.http_transport;
        let (sender, receiver) = mpsc::unbounded_channel();
        let events: Arc<dyn ClientEvents> = Arc::new(CliEvents {
            messages: sender,
            tap,
        });
        let http = crate::native::upstream_http::client_builder()
            .user_agent(concat!("keyhole-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::error(format!("could not build the HTTP client: {e}")))?;
        let client = McpClient::new(http, config, Arc::new(Credentials::default()), events);
        install_tokens(&client, &oauth, &url, stored.as_ref())?;
        let options = AuthOptions {
            yes: args.yes,
            client_credentials: args.client_credentials,
            workload_token: WorkloadToken::choose(args, target.oauth.as_ref())?,
            scopes: args.scope.as_deref().map(ScopeSet::parse),
            callback: CallbackOptions {
                port: args.callback_port,
                timeout: Duration::from_secs(args.auth_timeout.max(1)),
                non_interactive: args.non_interactive,
            },
        };
        let mut session = Session {
            terminal,
            json: args.json,
            url,
            client,
            oauth,
            options,
            engine: Engine::new(),
            sign_ins: SignInState::default(),
            next_id: 1,
            answer_input: None,
            initialize_result: Value::Null,
            server_messages: receiver,
        };
        if let Err(error) = session.initialize().await {
            // A stdio server that started must not outlive the failed connection.
            session.client.close().await;
            return Err(error);
        }
        if session.terminal.is_interactive() {
            let line = session.connected_line();
            session.terminal.err(&line);
        }
        Ok(session)
    }

    /// Applies `fault` ([`Fault`]): the connection's token directly, the others through the OAuth
    /// client; what happened, for people.
    pub async fn inject(&mut self, fault: Fault) -> Result<String, CliError> {
        let credentials = self.client.credentials();
        match fault {
            Fault::ForgetAccessToken => {
                credentials.set_bearer(None);
                Ok("the next requests go out without an access token".into())
            }
            Fault::CorruptToken => {
                let held = credentials
                    .bearer()
                    .ok_or_else(|| CliError::error("no access token to corrupt"))?;
                credentials.set_bearer(Some(Secret::new(Fault::corrupt(held.expose()))));
                Ok("the next requests carry a corrupted access token".into())
            }
            _ => {
                let outcome = self
                    .oauth
                    .inject(&self.url, fault)
                    .await
                    .map_err(|e| CliError::error(format!("fault {}: {e}", fault.name())))?;
                if let Some(tokens) = &outcome.tokens {
                    install_tokens(&self.client, &self.oauth, &self.url, Some(tokens))?;
                }
                Ok(outcome.message)
            }
        }
    }

    /// What a person at a terminal is told once connected: the server and the protocol version
    /// and era negotiated (2026-07-28 and later are stateless).
    pub(crate) fn connected_line(&self) -> String {
        let info = &self.initialize_result["serverInfo"];
        let name = info["title"]
            .as_str()
            .or(info["name"].as_str())
            .unwrap_or("the MCP server");
        let version = self.client.protocol_version().unwrap_or_default();
        let era = if stateless::is_stateless(&version) {
            "stateless"
        } else {
            "session"
        };
        format!("Connected to {name}: MCP {version} ({era})")
    }

    /// The session's parts as the recovery engine's surface and authority.
    fn recovery(&mut self) -> (&Engine, CliSurface<'_>, CliAuthority<'_>) {
        let surface = CliSurface {
            terminal: &mut *self.terminal,
            client: &self.client,
            oauth: &self.oauth,
            url: &self.url,
            options: &self.options,
            state: &mut self.sign_ins,
        };
        let authority = CliAuthority {
            oauth: &self.oauth,
            options: &self.options,
        };
        (&self.engine, surface, authority)
    }

    /// `initialize`, recovering like any message. A stored token refused without a challenge is
    /// dropped and the connection tried once more without it (connecting has no side effects).
    async fn initialize(&mut self) -> Result<(), CliError> {
        let context = ChallengeContext {
            method: Some("initialize".into()),
            tool_name: None,
        };
        self.sign_ins.authorizations = 0;
        let url = self.url.clone();
        let (engine, mut surface, authority) = self.recovery();
        let client = surface.client;
        let connect = || async {
            let bearer = client.credentials().bearer();
            match client.initialize().await {
                Ok(result) => {
                    client.credentials().accept(bearer);
                    Ok(result)
                }
                Err(error) => Err(as_cli_refusal(
                    error.into_refusal(context.clone(), bearer.is_some()),
                )),
            }
        };
        let origin = Origin::connect();
        self.initialize_result = engine
            .run(&authority, &mut surface, &url, &context, &origin, connect)
            .await?;
        Ok(())
    }

    /// Sends a request and returns its `result`; a JSON-RPC error is an error (exit 1).
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, CliError> {
        let response = self.request_raw(method, params).await?;
        if let Some(error) = response.get("error") {
            let message = error["message"].as_str().unwrap_or("no message");
            return Err(CliError::error(format!(
                "the server answered {method} with error {}: {message}",
                error["code"]
            )));
        }
        Ok(response.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Sends one request (recovering from challenges) with a new id and returns the whole
    /// JSON-RPC response.
    pub(crate) async fn send_request(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Value, CliError> {
        let id = self.next_id;
        self.next_id += 1;
        let context = ChallengeContext::of_request(method, &params);
        let origin = Origin::of_request(method, &params);
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.sign_ins.authorizations = 0;
        let url = self.url.clone();
        let (engine, mut surface, authority) = self.recovery();
        let client = surface.client;
        let send = || async {
            let bearer = client.credentials().bearer();
            match client.send(&message).await {
                Ok(Some(response)) => {
                    client.credentials().accept(bearer);
                    Ok(response)
                }
                Ok(None) => Err(Refused::Other(CliError::error(format!(
                    "the server sent no response to {method}"
                )))),
                Err(error) => {
                    let worked_before = client.credentials().was_accepted(bearer.as_ref());
                    Err(as_cli_refusal(
                        error.into_refusal(context.clone(), worked_before),
                    ))
                }
            }
        };
        engine
            .run(&authority, &mut surface, &url, &context, &origin, send)
            .await
    }

    /// The JSON-RPC id the next request will carry.
    pub fn next_request_id(&self) -> u64 {
        self.next_id
    }

    /// The server's notifications and requests, for a caller that answers them.
    pub fn take_server_messages(&mut self) -> mpsc::UnboundedReceiver<Value> {
        let (_, closed) = mpsc::unbounded_channel();
        std::mem::replace(&mut self.server_messages, closed)
    }

    pub async fn close(self) {
        self.client.close().await;
    }
}

/// The stored access token for `url`, if it has not expired.
async fn stored_tokens(oauth: &OAuth, url: &str) -> Option<keyhole_shared::tokens::Tokens> {
    let document = oauth.store().read().await.ok()?;
    let tokens = document.credential(url, None)?.tokens.clone()?;
    let now = keyhole_shared::recovery::Clock::now_unix(&SystemClock);
    (!tokens.is_expired(now)).then_some(tokens)
}

/// Hands `tokens` to the connection: with the server's DPoP key for a DPoP-bound token.
pub(crate) fn install_tokens(
    client: &McpClient,
    oauth: &OAuth,
    url: &str,
    tokens: Option<&keyhole_shared::tokens::Tokens>,
) -> Result<(), CliError> {
    let keys = oauth.http().inner.dpop_keys().map(|keys| &**keys);
    client
        .credentials()
        .install_tokens(tokens, keys, url)
        .map_err(|e| CliError::error(e.to_string()))
}

/// A refusal with the CLI's errors: an upstream failure exits 1, except a 401/403 that carries
/// no challenge, which is about authorization (exit 3).
fn as_cli_refusal(refused: Refused<SendError>) -> Refused<CliError> {
    let upstream = |error: SendError| match error {
        SendError::Status {
            status: status @ (401 | 403),
            ..
        } => CliError::auth(format!("the server refused the request with HTTP {status}")),
        other => CliError::error(other.to_string()),
    };
    match refused {
        Refused::Challenge(challenge) => Refused::Challenge(challenge),
        Refused::NotRecognised { status, error } => Refused::NotRecognised {
            status,
            error: upstream(error),
        },
        Refused::Other(error) => Refused::Other(upstream(error)),
    }
}

pub(super) async fn stored_scopes(oauth: &OAuth, url: &str) -> Option<ScopeSet> {
    let document = oauth.store().read().await.ok()?;
    Some(document.credential(url, None)?.tokens.clone()?.scopes)
}
