//! The guided sign-in ("Debug sign-in"): the connect-time sign-in of the real OAuth client, one
//! step at a time, each step's outcome judged by the doctor's rules.
//!
//! There is no second implementation of the flow: every step calls what the real sign-in calls
//! ([`OAuthClient::read_protected_resource`] and [`OAuthClient::read_authorization_server`] are
//! discovery's two halves, [`OAuthClient::client_identity`] is its client choice,
//! [`OAuthClient::connect_authorization`] and [`OAuthClient::complete_authorization`] are the
//! sign-in itself), over the client's own HTTP; the doctor's checks then judge the documents and
//! answers those calls produced. The exchanges of a step come from a [`Tape`]: whatever the
//! caller's HTTP observer recorded while the step ran (already redacted).
//!
//! The authorization request leaves the page (the user signs in at the authorization server),
//! so a [`GuidedSignIn`] serialises — reports, the challenge, the `state` — and is read back on
//! the callback. What is secret (the callback URL with its code, the access token) is never
//! serialised.

use serde::{Deserialize, Serialize};

use super::metadata::{Document, check_authorization_server, check_protected_resource};
use super::{DEFAULT_ORIGIN, DoctorOptions, Finding, Findings, Verdict, probe};
use crate::challenge::AuthChallenge;
use crate::http::{HttpClient, HttpExchange, RecordingObserver};
use crate::oauth_client::discovery::{
    Fetched, ProtectedResourceMetadata, authorization_server_urls, protected_resource_urls,
};
use crate::oauth_client::identity::RegistrationSource;
use crate::oauth_client::{OAuthClient, OAuthClientError};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::secret::Secret;
use crate::store::OAuthStore;
use crate::web_url::AbsoluteUrl;

/// The steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Challenge,
    ProtectedResource,
    AuthorizationServer,
    ClientIdentity,
    AuthorizationRequest,
    Callback,
    TokenRequest,
    FirstRequest,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Challenge,
        Step::ProtectedResource,
        Step::AuthorizationServer,
        Step::ClientIdentity,
        Step::AuthorizationRequest,
        Step::Callback,
        Step::TokenRequest,
        Step::FirstRequest,
    ];

    /// A stable name (the page's `data-step`).
    pub fn id(self) -> &'static str {
        match self {
            Step::Challenge => "challenge",
            Step::ProtectedResource => "protected-resource",
            Step::AuthorizationServer => "authorization-server",
            Step::ClientIdentity => "client-identity",
            Step::AuthorizationRequest => "authorization-request",
            Step::Callback => "callback",
            Step::TokenRequest => "token-request",
            Step::FirstRequest => "first-request",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Challenge => "The server's challenge (initialize without a token)",
            Step::ProtectedResource => "Protected-resource metadata (RFC 9728)",
            Step::AuthorizationServer => "Authorization-server metadata (RFC 8414 / OpenID)",
            Step::ClientIdentity => "Client identity",
            Step::AuthorizationRequest => "Authorization request",
            Step::Callback => "Callback (state, iss, error)",
            Step::TokenRequest => "Token request",
            Step::FirstRequest => "First MCP request with the token",
        }
    }
}

/// What one step did and how it fared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub step: Step,
    /// The worst finding's verdict; a failure when the engine stopped the flow.
    pub verdict: Verdict,
    /// What the step did, in a sentence.
    pub summary: String,
    /// What to know about it, as label and explanation (URLs tried and why, parameters sent).
    pub details: Vec<(String, String)>,
    pub findings: Vec<Finding>,
    pub exchanges: Vec<HttpExchange>,
}

/// Everything an observer recorded so far; a step's exchanges are those added while it ran.
pub trait Tape {
    fn exchanges(&self) -> Vec<HttpExchange>;
}

impl Tape for RecordingObserver {
    fn exchanges(&self) -> Vec<HttpExchange> {
        RecordingObserver::exchanges(self)
    }
}

/// A guided sign-in in progress.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuidedSignIn {
    pub server_url: String,
    /// Extra headers of the MCP requests (never `Authorization`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub reports: Vec<StepReport>,
    /// The flow cannot go on (a step failed, or the server needs no sign-in).
    #[serde(default)]
    pub stopped: bool,
    /// Set by the authorization request: where the user signs in.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// The user asked to run every step: the page goes on by itself after the redirect.
    #[serde(default)]
    pub run_to_end: bool,
    #[serde(default)]
    challenge: Option<AuthChallenge>,
    #[serde(skip)]
    protected: Option<Fetched<ProtectedResourceMetadata>>,
    /// The authorization response's URL (it holds the code): in memory only.
    #[serde(skip)]
    callback: Option<Secret>,
    /// The access token the sign-in obtained: in memory only.
    #[serde(skip)]
    token: Option<Secret>,
}

/// A step's outcome before its exchanges are attached.
struct Outcome {
    summary: String,
    details: Vec<(String, String)>,
    findings: Findings,
    /// The flow stops here.
    stop: bool,
    /// The engine refused: the step failed whatever the findings say.
    failed: bool,
}

impl Outcome {
    fn new(summary: impl Into<String>, findings: Findings) -> Self {
        Self {
            summary: summary.into(),
            details: Vec::new(),
            findings,
            stop: false,
            failed: false,
        }
    }

    fn detail(mut self, label: impl Into<String>, text: impl Into<String>) -> Self {
        self.details.push((label.into(), text.into()));
        self
    }

    /// The engine refused with `error`: the flow stops.
    fn refused(findings: Findings, error: &OAuthClientError) -> Self {
        Self {
            stop: true,
            failed: true,
            ..Self::new(format!("The OAuth client stopped: {error}"), findings)
        }
    }
}

/// The first JSON object among the 2xx answers from `urls`, as the step received it.
fn document_from(exchanges: &[HttpExchange], urls: &[String]) -> Option<(String, Document)> {
    exchanges.iter().rev().find_map(|exchange| {
        let ok = exchange.status.is_some_and(|s| (200..300).contains(&s));
        if !ok || !urls.contains(&exchange.url) {
            return None;
        }
        let body = exchange.response_body.as_deref()?;
        match serde_json::from_str(body).ok()? {
            serde_json::Value::Object(document) => Some((exchange.url.clone(), document)),
            _ => None,
        }
    })
}

/// A document as the engine decoded it, for when the step's answer body was cut short.
fn typed_document(value: &impl Serialize) -> Document {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(document)) => document,
        _ => Document::new(),
    }
}

/// What each URL a discovery step tries is, `urls` in order.
fn tried(
    exchanges: &[HttpExchange],
    urls: &[String],
    why: impl Fn(usize, &str) -> String,
) -> Vec<(String, String)> {
    urls.iter()
        .enumerate()
        .map(|(index, url)| {
            let answer = exchanges.iter().find(|e| &e.url == url).map_or_else(
                || "not tried (an earlier URL answered)".to_owned(),
                |e| match (e.status, &e.error) {
                    (Some(status), _) => format!("HTTP {status}"),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "no answer".to_owned(),
                },
            );
            (url.clone(), format!("{} — {answer}", why(index, url)))
        })
        .collect()
}

/// What each parameter of the authorization request is for.
fn explain_parameter(name: &str) -> &'static str {
    match name {
        "response_type" => "`code`: the authorization-code grant (OAuth 2.1 §4.1.1)",
        "client_id" => "the client identity of the previous step",
        "redirect_uri" => {
            "where the authorization server sends the user back (must match the registration exactly)"
        }
        "state" => {
            "a one-time value the response must return unchanged (CSRF protection); shortened here"
        }
        "code_challenge" => "PKCE: SHA-256 of a secret verifier only Keyhole holds (RFC 7636 §4.2)",
        "code_challenge_method" => "`S256` — the only PKCE method MCP allows",
        "scope" => {
            "the scopes asked for: the challenge's, else configured, else `scopes_supported`"
        }
        "resource" => "the MCP server the token is for (RFC 8707): the token's audience",
        _ => "an extension parameter",
    }
}

/// The first characters of a one-time value, enough to recognise it.
fn shortened(value: &str) -> String {
    let short: String = value.chars().take(8).collect();
    if short.len() < value.len() {
        format!("{short}…")
    } else {
        short
    }
}

impl GuidedSignIn {
    pub fn new(server_url: impl Into<String>, headers: Vec<(String, String)>) -> Self {
        Self {
            server_url: server_url.into(),
            headers,
            ..Self::default()
        }
    }

    /// The step to run next; `None` when the flow ended or stopped.
    pub fn next_step(&self) -> Option<Step> {
        if self.stopped {
            return None;
        }
        Step::ALL.get(self.reports.len()).copied()
    }

    /// The next step is the callback and the user has not come back from signing in yet: the
    /// page leaves for [`Self::authorization_url`].
    pub fn awaiting_callback(&self) -> bool {
        self.next_step() == Some(Step::Callback) && self.callback.is_none()
    }

    /// The user came back: `callback_url` is the authorization response.
    pub fn arrive(&mut self, callback_url: String) {
        self.callback = Some(Secret::new(callback_url));
    }

    /// The worst verdict so far.
    pub fn verdict(&self) -> Verdict {
        self.reports
            .iter()
            .map(|r| r.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    fn options(&self, now_secs: u64) -> DoctorOptions {
        DoctorOptions {
            headers: self.headers.clone(),
            origin: DEFAULT_ORIGIN.to_owned(),
            ..DoctorOptions::new(self.server_url.clone(), now_secs)
        }
    }

    /// Runs the next step with `client` (its exchanges read from `tape`) and records its report.
    /// `None` when there is nothing to run (ended, stopped, or waiting for the callback).
    pub async fn run_next<H, S, C, E>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        tape: &impl Tape,
        now_secs: u64,
    ) -> Option<&StepReport>
    where
        H: HttpClient,
        S: OAuthStore,
        C: Clock,
        E: Entropy,
    {
        let step = self.next_step()?;
        if self.awaiting_callback() {
            return None;
        }
        let before = tape.exchanges().len();
        let outcome = match step {
            Step::Challenge => self.challenge(client, now_secs).await,
            Step::ProtectedResource => self.protected_resource(client, tape, before).await,
            Step::AuthorizationServer => self.authorization_server(client, tape, before).await,
            Step::ClientIdentity => Self::client_identity(client, &self.server_url).await,
            Step::AuthorizationRequest => self.authorization_request(client).await,
            Step::Callback => self.callback(client).await,
            Step::TokenRequest => self.token_request(client).await,
            Step::FirstRequest => self.first_request(client, now_secs).await,
        };
        let mut all = tape.exchanges();
        let exchanges = all.split_off(before.min(all.len()));
        let findings = outcome.findings.0;
        let worst = findings
            .iter()
            .map(|f| match f.verdict {
                Verdict::Info => Verdict::Pass,
                other => other,
            })
            .max()
            .unwrap_or(Verdict::Pass);
        let verdict = if outcome.failed {
            Verdict::Failure
        } else {
            worst
        };
        self.stopped |= outcome.stop;
        self.reports.push(StepReport {
            step,
            verdict,
            summary: outcome.summary,
            details: outcome.details,
            findings,
            exchanges,
        });
        self.reports.last()
    }

    async fn challenge<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        now_secs: u64,
    ) -> Outcome {
        let mut findings = Findings::default();
        let options = self.options(now_secs);
        match probe::without_token(client.http(), &options, &mut findings).await {
            probe::Unauthenticated::Challenged(challenge) => {
                let scopes = challenge
                    .auth
                    .as_ref()
                    .map(|c| c.required_scopes.to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "none named".into());
                let hint = challenge
                    .resource_metadata
                    .clone()
                    .unwrap_or_else(|| "not given: the well-known URLs are tried".into());
                self.challenge = challenge.auth.map(|c| *c);
                Outcome::new(
                    "HTTP 401 with a Bearer challenge: a sign-in is needed.",
                    findings,
                )
                .detail("resource_metadata", hint)
                .detail("scope", scopes)
            }
            probe::Unauthenticated::Open => Outcome {
                stop: true,
                ..Outcome::new(
                    "The server answered without a token: it does not use authorization, there is nothing to sign in to.",
                    findings,
                )
            },
            probe::Unauthenticated::Unusable => Outcome {
                stop: true,
                failed: true,
                ..Outcome::new(
                    "No usable challenge: a client cannot learn where to sign in.",
                    findings,
                )
            },
        }
    }

    async fn protected_resource<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        tape: &impl Tape,
        before: usize,
    ) -> Outcome {
        let mut findings = Findings::default();
        let server = self.server_url.clone();
        let hint = self
            .challenge
            .as_ref()
            .and_then(|c| c.resource_metadata.clone());
        let urls = protected_resource_urls(&server, hint.as_deref()).unwrap_or_default();
        let found = client
            .read_protected_resource(&server, hint.as_deref())
            .await;
        let exchanges = tape.exchanges().split_off(before);
        let named = hint.is_some();
        let why = |index: usize, url: &str| match index {
            0 if named => "named by the challenge's `resource_metadata` (RFC 9728 §5.1)".to_owned(),
            _ if url.ends_with("/.well-known/oauth-protected-resource") => {
                "the well-known URL at the server's root (RFC 9728 §3.1)".to_owned()
            }
            _ => "the path-aware well-known URL: the server's path appended (RFC 9728 §3.1)"
                .to_owned(),
        };
        let details = tried(&exchanges, &urls, why);
        let raw = document_from(&exchanges, &urls);
        let outcome = match found {
            Ok(Some(fetched)) => {
                let (url, document) =
                    raw.unwrap_or_else(|| (fetched.url.clone(), typed_document(&fetched.document)));
                check_protected_resource(&url, &document, &server, &mut findings);
                findings.pass("prm-published", format!("found at `{}`", fetched.url));
                let summary = format!(
                    "Found at {}; it names the authorization server {}.",
                    fetched.url,
                    fetched.document.authorization_servers.join(", ")
                );
                self.protected = Some(fetched);
                Outcome::new(summary, findings)
            }
            Ok(None) => {
                findings.warn(
                    "prm-published",
                    "none of the URLs answered: the OAuth client falls back to the 2025-03-26 rules (the server's origin is its authorization server)",
                );
                Outcome::new("No protected-resource metadata: falling back.", findings)
            }
            Err(error) => {
                if let Some((url, document)) = raw {
                    check_protected_resource(&url, &document, &server, &mut findings);
                }
                Outcome::refused(findings, &error)
            }
        };
        Outcome { details, ..outcome }
    }

    async fn authorization_server<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        tape: &impl Tape,
        before: usize,
    ) -> Outcome {
        let mut findings = Findings::default();
        let server = self.server_url.clone();
        let issuer = match &self.protected {
            Some(found) => found.document.authorization_servers.first().cloned(),
            None => AbsoluteUrl::parse(&server).ok().and_then(|u| u.origin()),
        };
        let found = client
            .read_authorization_server(&server, self.protected.take())
            .await;
        let exchanges = tape.exchanges().split_off(before);
        let urls = issuer
            .as_deref()
            .and_then(|i| authorization_server_urls(i).ok())
            .unwrap_or_default();
        // Without a path in the issuer the list is RFC 8414's URL then OpenID's; with one, the
        // MCP order adds OpenID's name inserted before the path.
        let with_path = urls.len() > 2;
        let why = move |index: usize, _: &str| {
            match (index, with_path) {
                (0, _) => "RFC 8414 §3.1: the well-known name inserted before the issuer's path",
                (1, true) => {
                    "OpenID Connect Discovery, the name inserted before the path (MCP order)"
                }
                _ => "OpenID Connect Discovery 1.0 §4: the configuration appended to the issuer",
            }
            .to_owned()
        };
        let details = tried(&exchanges, &urls, why);
        let raw = document_from(&exchanges, &urls);
        let outcome = match found {
            Ok(discovery) => {
                let issuer = discovery.issuer.to_string();
                let (url, document) = raw.unwrap_or_else(|| {
                    (
                        discovery
                            .authorization_server_url
                            .clone()
                            .unwrap_or_default(),
                        typed_document(&discovery.authorization_server),
                    )
                });
                if discovery.authorization_server_url.is_some() {
                    check_authorization_server(&url, &document, &issuer, &mut findings);
                } else {
                    findings.warn(
                        "as-published",
                        "no metadata: the OAuth client uses /authorize, /token and /register at the server's origin (2025-03-26)",
                    );
                }
                Outcome::new(format!("The authorization server is {issuer}."), findings)
            }
            Err(error) => {
                if let (Some((url, document)), Some(issuer)) = (raw, issuer) {
                    check_authorization_server(&url, &document, &issuer, &mut findings);
                }
                Outcome::refused(findings, &error)
            }
        };
        Outcome { details, ..outcome }
    }

    async fn client_identity<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        client: &OAuthClient<H, S, C, E>,
        server_url: &str,
    ) -> Outcome {
        let mut findings = Findings::default();
        match client.client_identity(server_url).await {
            Ok(identity) => {
                let registration = &identity.registration;
                let how = match (registration.source, identity.registered_now) {
                    (RegistrationSource::PreRegistered, _) => {
                        "a client registered in advance (configured)"
                    }
                    (RegistrationSource::MetadataDocument, _) => {
                        "a Client ID Metadata Document: the client id is the URL of Keyhole's metadata"
                    }
                    (RegistrationSource::Dynamic, true) => {
                        "registered just now (RFC 7591 dynamic registration)"
                    }
                    (RegistrationSource::Dynamic, false) => {
                        "an earlier dynamic registration, kept in the store"
                    }
                };
                findings.pass("client-identity", how);
                let secret = if registration.client_secret.is_some() {
                    "held (not shown)"
                } else {
                    "none (a public client)"
                };
                Outcome::new(
                    format!("Client id {}: {how}.", registration.client_id),
                    findings,
                )
                .detail("client_id", registration.client_id.to_string())
                .detail(
                    "token endpoint authentication",
                    registration.auth_method.as_str(),
                )
                .detail("client secret", secret)
            }
            Err(error) => {
                findings.fail("client-identity", error.to_string());
                Outcome::refused(findings, &error)
            }
        }
    }

    async fn authorization_request<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
    ) -> Outcome {
        let mut findings = Findings::default();
        let started = client
            .connect_authorization(&self.server_url, self.challenge.as_ref())
            .await;
        let start = match started {
            Ok(start) => start,
            Err(error) => return Outcome::refused(findings, &error),
        };
        let parameters: Vec<(String, String)> = AbsoluteUrl::parse(&start.authorization_url)
            .ok()
            .and_then(|url| url.query())
            .map(|query| crate::web_url::parse_form(&query))
            .unwrap_or_default();
        let mut outcome_details = Vec::new();
        for (name, value) in &parameters {
            let shown = match name.as_str() {
                "state" => shortened(value),
                _ => value.clone(),
            };
            outcome_details.push((
                format!("{name}={shown}"),
                explain_parameter(name).to_owned(),
            ));
        }
        let has = |name: &str| parameters.iter().any(|(n, _)| n == name);
        let missing: Vec<&str> = [
            "response_type",
            "client_id",
            "redirect_uri",
            "state",
            "code_challenge",
            "code_challenge_method",
            "resource",
        ]
        .into_iter()
        .filter(|name| !has(name))
        .collect();
        if missing.is_empty() {
            findings.pass("authorization-request", "every required parameter is sent");
        } else {
            findings.warn(
                "authorization-request",
                format!("not sent: {}", missing.join(", ")),
            );
        }
        let endpoint = start
            .authorization_url
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        self.authorization_url = Some(start.authorization_url);
        Outcome {
            details: outcome_details,
            ..Outcome::new(
                format!(
                    "Ready to send the user to {endpoint}; the answer comes back to Keyhole's callback."
                ),
                findings,
            )
        }
    }

    async fn callback<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
    ) -> Outcome {
        let mut findings = Findings::default();
        let url = self
            .callback
            .as_ref()
            .map(|c| c.expose().to_owned())
            .unwrap_or_default();
        match client.check_callback(&url).await {
            Ok(check) => {
                findings.pass("callback-state", "`state` matches the request");
                match (&check.iss, check.iss_required) {
                    (Some(iss), _) => findings.pass("callback-iss", format!("iss=`{iss}`")),
                    (None, false) => findings.info(
                        "callback-iss",
                        "no `iss`, and the authorization server does not announce it",
                    ),
                    (None, true) => findings.fail("callback-iss", "announced but missing"),
                }
                findings.pass("callback-code", "a code came back");
                Outcome::new(
                    format!(
                        "The authorization server {} sent the user back with a code.",
                        check.issuer
                    ),
                    findings,
                )
            }
            Err(error) => {
                let rule = match &error {
                    OAuthClientError::Callback(
                        crate::oauth_client::CallbackError::MissingState
                        | crate::oauth_client::CallbackError::UnknownState,
                    ) => "callback-state",
                    OAuthClientError::Callback(
                        crate::oauth_client::CallbackError::IssuerMismatch { .. },
                    ) => "callback-iss",
                    _ => "callback-code",
                };
                findings.fail(rule, error.to_string());
                Outcome::refused(findings, &error)
            }
        }
    }

    async fn token_request<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
    ) -> Outcome {
        let mut findings = Findings::default();
        let url = self
            .callback
            .take()
            .map(|c| c.expose().to_owned())
            .unwrap_or_default();
        let grant = match client.complete_authorization(&url).await {
            Ok(grant) => grant,
            Err(error) => {
                findings.fail("token-response", error.to_string());
                return Outcome::refused(findings, &error);
            }
        };
        let tokens = &grant.tokens;
        findings.pass(
            "token-response",
            format!("an access token of type `{}`", tokens.token_type),
        );
        match &tokens.refresh_token {
            Some(_) => findings.pass("token-refresh-issued", "a refresh token came with it"),
            None => findings.info(
                "token-refresh-issued",
                "no refresh token: when the access token expires the user signs in again",
            ),
        }
        if grant.missing.is_empty() {
            findings.pass(
                "token-scopes-granted",
                format!("granted: {}", tokens.scopes),
            );
        } else {
            findings.warn(
                "token-scopes-granted",
                format!("not granted: {}", grant.missing),
            );
        }
        let expiry = tokens.expires_at.map_or_else(
            || "no expiry given".to_owned(),
            |at| format!("expires at {at} (Unix time)"),
        );
        let outcome = Outcome::new(grant.message.clone(), findings)
            .detail(
                "token",
                format!(
                    "fingerprint {} (the token is never shown)",
                    tokens.access_token.fingerprint()
                ),
            )
            .detail("expiry", expiry)
            .detail("scopes granted", tokens.scopes.to_string());
        self.token = Some(tokens.access_token.clone());
        outcome
    }

    async fn first_request<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        now_secs: u64,
    ) -> Outcome {
        let mut findings = Findings::default();
        let Some(token) = self.token.take() else {
            findings.fail(
                "token-accepted",
                "no token in memory (the page was reloaded)",
            );
            return Outcome {
                stop: true,
                failed: true,
                ..Outcome::new("Nothing to send.", findings)
            };
        };
        let options = self.options(now_secs);
        probe::with_token(client.http(), &options, &token, &mut findings).await;
        let accepted = findings
            .0
            .iter()
            .any(|f| f.rule == "token-accepted" && f.verdict == Verdict::Pass);
        if accepted {
            Outcome::new(
                "The server accepted the token: signed in. Connect uses it.",
                findings,
            )
        } else {
            Outcome {
                failed: true,
                ..Outcome::new("The server refused the token it asked for.", findings)
            }
        }
    }
}
