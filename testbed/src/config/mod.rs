//! The testbed configuration: a JSON document describing the MCP servers, the authorization server
//! and the optional enterprise IdP. Parsing reports the path of the offending field.

mod validate;

use serde::{Deserialize, Serialize};

/// The demo configuration shipped with Keyhole (`testbed/demo.json`).
pub const DEMO_CONFIG_JSON: &str = include_str!("../../demo.json");

/// Root of the testbed configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestbedConfig {
    /// The MCP servers, each served at `/servers/<name>/mcp`.
    pub servers: Vec<ServerConfig>,
    /// The OAuth authorization server shared by every protected MCP server.
    #[serde(default)]
    pub oauth: OAuthConfig,
    /// The enterprise IdP; required when a server uses `auth.mode = "ema"`.
    #[serde(default)]
    pub ema: Option<EmaConfig>,
}

/// One MCP server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerConfig {
    /// Path segment and identifier: `[a-z0-9-]+`.
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default = "default_version")]
    pub version: String,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub auth: ServerAuthConfig,
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// Which revisions of MCP the server speaks.
    #[serde(default)]
    pub era: ProtocolEra,
    #[serde(default)]
    pub tools: Vec<ToolConfig>,
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    #[serde(default)]
    pub resource_templates: Vec<ResourceTemplateConfig>,
    #[serde(default)]
    pub prompts: Vec<PromptConfig>,
    /// Items per page of `tools/list`, `resources/list`, `resources/templates/list` and
    /// `prompts/list` (`nextCursor` when more follow); none: every list in one page.
    #[serde(default)]
    pub page_size: Option<usize>,
}

fn default_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// How a server protects itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerAuthConfig {
    #[serde(default)]
    pub mode: AuthMode,
    /// Scopes every request needs (in addition to per-item scopes).
    #[serde(default)]
    pub base_scopes: Vec<String>,
    /// Shape of the 401 challenge.
    #[serde(default)]
    pub challenge_style: ChallengeStyle,
    /// Accept (`oauth` mode) tokens issued without an RFC 8707 `resource`. Off by default: the MCP
    /// authorization spec requires clients to name the resource, and a token bound to no resource
    /// is refused like one bound to another, which is what catches a client that forgets it.
    #[serde(default)]
    pub allow_tokens_without_resource: bool,
    /// Deliberate mistakes, for `keyhole doctor` to find (testbed/README.md, “Flaws”).
    #[serde(default)]
    pub flaws: Vec<ServerFlaw>,
    /// Sender-constrained tokens (RFC 9449): off, DPoP-bound tokens required, or required with
    /// server-supplied nonces at both the authorization server and this server.
    #[serde(default)]
    pub dpop: DpopMode,
}

/// Whether a server takes DPoP-bound tokens only (`testbed::dpop`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DpopMode {
    /// Bearer tokens (a DPoP-bound one is checked like any, with its proof).
    #[default]
    Off,
    /// DPoP-bound tokens only, presented with the `DPoP` scheme and a fresh proof.
    Required,
    /// As `required`, and proofs must carry the servers' nonce (RFC 9449 §8, §9).
    Nonce,
}

/// A deliberate mistake in how a server protects itself.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ServerFlaw {
    /// The protected-resource metadata names another server as its `resource`.
    ResourceElsewhere,
    /// The protected-resource metadata names this server's URL with a trailing slash added.
    ResourceTrailingSlash,
    /// A token that fails validation (unknown, expired, another audience) is answered 500.
    InvalidTokenAnswers500,
    /// 403 `insufficient_scope` challenges leave out `scope`.
    InsufficientScopeWithoutScope,
    /// No CORS headers on the MCP endpoint and its metadata.
    NoCors,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AuthMode {
    /// No authorization at all.
    None,
    /// Bearer tokens from the testbed's authorization server (authorization code + refresh).
    #[default]
    Oauth,
    /// Enterprise-managed authorization: tokens only through the JWT-bearer grant with an ID-JAG.
    Ema,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ChallengeStyle {
    /// `Bearer error="invalid_token", resource_metadata="…"`.
    #[default]
    ResourceMetadata,
    /// `Bearer` with no parameters when no token was sent, `error="invalid_token"` otherwise.
    Bare,
}

/// How POST responses are delivered.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ResponseMode {
    /// SSE for calls of tools that stream progress, JSON otherwise.
    #[default]
    Auto,
    Json,
    Sse,
}

/// The revisions of MCP a server speaks (the specification's “Versioning” terms).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ProtocolEra {
    /// 2025-11-25 and older: the `initialize` handshake and `Mcp-Session-Id`.
    #[default]
    Legacy,
    /// 2026-07-28 only: stateless, no handshake (`server/discover`, `_meta` on every request).
    Modern,
    /// Both: a request with a 2026-07-28 `MCP-Protocol-Version` header is served statelessly,
    /// anything else as a 2025 session.
    Dual,
}

impl ProtocolEra {
    pub fn speaks_legacy(self) -> bool {
        self != ProtocolEra::Modern
    }

    pub fn speaks_modern(self) -> bool {
        self != ProtocolEra::Legacy
    }
}

/// A tool built from a preset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolConfig {
    pub preset: ToolPreset,
    /// Defaults to the preset's name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Tool annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`,
    /// `title`) listed instead of the preset's.
    #[serde(default)]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
    /// An `outputSchema` declared instead of the preset's: e.g. one the preset's results do not
    /// match, to see how a client reports a server that breaks its own contract.
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    /// Whether the tool runs as a task (2025-11-25 `execution.taskSupport`); defaults to
    /// `optional` for `longRunning` and `forbidden` for the others.
    #[serde(default)]
    pub task_support: Option<TaskSupport>,
}

/// A tool's `execution.taskSupport`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum TaskSupport {
    Forbidden,
    Optional,
    Required,
}

impl TaskSupport {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSupport::Forbidden => "forbidden",
            TaskSupport::Optional => "optional",
            TaskSupport::Required => "required",
        }
    }
}

/// What `completion/complete` suggests for one argument: a list of values, or lists that depend
/// on the value of another argument (`context.arguments`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Completions {
    Values(Vec<String>),
    #[serde(rename_all = "camelCase")]
    DependsOn {
        /// The other argument whose value picks the list.
        depends_on: String,
        /// Its value → the suggestions.
        values: std::collections::BTreeMap<String, Vec<String>>,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ToolPreset {
    /// `{message}` → the message.
    Echo,
    /// `{a, b}` → their sum.
    Add,
    /// `{city}` → a made-up forecast as text.
    Weather,
    /// `{steps?, delayMs?}` → progress notifications, then a summary.
    LongRunning,
    /// `{city}` → the forecast as `structuredContent` with an `outputSchema`.
    Structured,
    /// `{id}` → claims to have deleted a note (nothing is stored); annotated `destructiveHint`.
    DeleteNote,
    /// `{}` → asks for the user's name (2026-07-28 input required), then greets them.
    AskName,
    /// `{kind, prompt?}` → asks the client (sampling, elicitation or roots over a 2025 session)
    /// and returns its answer.
    AskClient,
    /// `{kib}` → that many KiB of numbered lines of text (a large result, for the web app's
    /// large-views benchmark).
    Bulk,
    /// `{city}` → the forecast as text, with an MCP App (`_meta.ui.resourceUri`, the resource
    /// `ui://testbed/weather-app.html` added to the server) that shows it, asks again, and asks
    /// `get-weather` for a detailed forecast (scope-gated in the demo).
    WeatherApp,
    /// `{}` → a text result, with an MCP App that misbehaves on purpose (asks for sampling, then
    /// floods the host): the host's containment tests.
    UnrulyApp,
}

impl ToolPreset {
    pub fn default_name(self) -> &'static str {
        match self {
            ToolPreset::Echo => "echo",
            ToolPreset::Add => "add",
            ToolPreset::Weather => "get-weather",
            ToolPreset::LongRunning => "long-running",
            ToolPreset::Structured => "get-forecast",
            ToolPreset::DeleteNote => "delete-note",
            ToolPreset::AskName => "ask-name",
            ToolPreset::AskClient => "ask-client",
            ToolPreset::Bulk => "bulk",
            ToolPreset::WeatherApp => "weather-app",
            ToolPreset::UnrulyApp => "unruly-app",
        }
    }
}

/// A static text resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceConfig {
    pub uri: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_mime_type")]
    pub mime_type: String,
    pub text: String,
    #[serde(default)]
    pub required_scopes: Vec<String>,
}

/// A resource template (RFC 6570 level-1 variables); `text` may use the same `{variables}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceTemplateConfig {
    pub uri_template: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_mime_type")]
    pub mime_type: String,
    pub text: String,
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Suggestions `completion/complete` gives for the template's variables, by variable.
    #[serde(default)]
    pub completions: std::collections::BTreeMap<String, Completions>,
}

fn default_mime_type() -> String {
    "text/plain".to_string()
}

/// A prompt whose `template` is filled with its `{arguments}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptConfig {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: Vec<PromptArgumentConfig>,
    pub template: String,
    #[serde(default)]
    pub required_scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptArgumentConfig {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Suggestions `completion/complete` gives for this argument.
    #[serde(default)]
    pub completions: Option<Completions>,
}

/// The authorization server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthConfig {
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Granted when a client asks for no scope.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    #[serde(default = "default_access_token_lifetime")]
    pub access_token_lifetime_secs: u64,
    #[serde(default)]
    pub refresh_tokens: RefreshTokenConfig,
    #[serde(default = "default_true")]
    pub dynamic_registration: bool,
    #[serde(default)]
    pub static_clients: Vec<StaticClientConfig>,
    #[serde(default)]
    pub consent: ConsentMode,
    #[serde(default = "default_users")]
    pub users: Vec<UserConfig>,
    #[serde(default = "default_code_lifetime")]
    pub code_lifetime_secs: u64,
    /// Print the demo credentials on the login page.
    #[serde(default = "default_true")]
    pub show_credentials: bool,
    /// Whether access tokens are opaque strings or signed JWTs.
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// Deliberate mistakes in the metadata, for `keyhole doctor` to find.
    #[serde(default)]
    pub flaws: Vec<AuthorizationServerFlaw>,
}

/// A deliberate mistake in the authorization server's metadata.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AuthorizationServerFlaw {
    /// `code_challenge_methods_supported` is left out (PKCE looks unsupported).
    NoS256,
    /// `authorization_response_iss_parameter_supported` is left out (RFC 9207).
    NoIssParameter,
    /// `issuer` differs from the issuer the metadata is served for.
    IssuerMismatch,
}

/// The shape of issued access tokens. Either way the testbed recognises a token by looking it up,
/// so expiry and revocation work the same.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AccessTokenFormat {
    /// Random strings (`kh_at_…`).
    #[default]
    Opaque,
    /// ES256-signed JWTs (RFC 9068 `at+jwt`) carrying `iss`, `sub`, `aud`, `client_id`, `scope`,
    /// `iat`, `exp` and `jti`, signed with a key made at start.
    Jwt,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            scopes_supported: Vec::new(),
            default_scopes: Vec::new(),
            access_token_lifetime_secs: default_access_token_lifetime(),
            refresh_tokens: RefreshTokenConfig::default(),
            dynamic_registration: true,
            static_clients: Vec::new(),
            consent: ConsentMode::default(),
            users: default_users(),
            code_lifetime_secs: default_code_lifetime(),
            show_credentials: true,
            access_token_format: AccessTokenFormat::default(),
            flaws: Vec::new(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_access_token_lifetime() -> u64 {
    3600
}
fn default_code_lifetime() -> u64 {
    60
}
fn default_users() -> Vec<UserConfig> {
    vec![UserConfig {
        username: "demo".into(),
        password: "demo".into(),
        email: None,
        name: None,
    }]
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshTokenConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Issue a new refresh token on every refresh and invalidate the old one.
    #[serde(default)]
    pub rotate: bool,
    #[serde(default = "default_refresh_lifetime")]
    pub lifetime_secs: u64,
}

impl Default for RefreshTokenConfig {
    fn default() -> Self {
        RefreshTokenConfig {
            enabled: true,
            rotate: false,
            lifetime_secs: default_refresh_lifetime(),
        }
    }
}

fn default_refresh_lifetime() -> u64 {
    86_400
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ConsentMode {
    /// Login form, then a consent page with one checkbox per scope.
    #[default]
    Page,
    /// Approve immediately as the first configured user (headless tests).
    Auto,
}

/// A pre-registered client (at the authorization server or at the IdP).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaticClientConfig {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`; defaults to `none` without a secret,
    /// `client_secret_basic` with one.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// IdP clients only: the `client_id` put into ID-JAGs, i.e. this client's identifier at the
    /// resource authorization server. Defaults to `clientId`.
    #[serde(default)]
    pub resource_client_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::None => "none",
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The enterprise IdP (SEP-990 enterprise-managed authorization).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmaConfig {
    #[serde(default = "default_users")]
    pub users: Vec<UserConfig>,
    /// Clients registered at the IdP.
    pub clients: Vec<StaticClientConfig>,
    #[serde(default = "default_id_token_lifetime")]
    pub id_token_lifetime_secs: u64,
    #[serde(default = "default_id_jag_lifetime")]
    pub id_jag_lifetime_secs: u64,
    #[serde(default = "default_true")]
    pub show_credentials: bool,
}

fn default_id_token_lifetime() -> u64 {
    3600
}
fn default_id_jag_lifetime() -> u64 {
    300
}

/// Why a configuration was rejected; `path` names the offending field (e.g. `servers[0].tools[1]`).
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("invalid testbed config at `{path}`: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl TestbedConfig {
    /// Parses and validates a configuration document.
    pub fn from_json_str(json: &str) -> Result<Self, ConfigError> {
        let deserializer = &mut serde_json::Deserializer::from_str(json);
        let config: TestbedConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let path = error.path().to_string();
                ConfigError {
                    path: if path == "." { "(root)".into() } else { path },
                    message: error.into_inner().to_string(),
                }
            })?;
        config.validate()?;
        Ok(config)
    }

    /// The demo configuration used by plain `keyhole`.
    pub fn demo() -> Self {
        Self::from_json_str(DEMO_CONFIG_JSON).expect("the shipped demo.json is valid")
    }

    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|server| server.name == name)
    }
}

impl ToolConfig {
    pub fn name(&self) -> &str {
        self.name
            .as_deref()
            .unwrap_or_else(|| self.preset.default_name())
    }

    pub fn task_support(&self) -> TaskSupport {
        self.task_support.unwrap_or(match self.preset {
            ToolPreset::LongRunning => TaskSupport::Optional,
            _ => TaskSupport::Forbidden,
        })
    }
}

impl StaticClientConfig {
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.token_endpoint_auth_method
            .unwrap_or(match self.client_secret {
                Some(_) => ClientAuthMethod::ClientSecretBasic,
                None => ClientAuthMethod::None,
            })
    }
}
