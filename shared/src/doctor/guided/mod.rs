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
//!
//! The steps themselves: [`discovery`] (the challenge and both metadata documents) and
//! [`sign_in`] (identity, authorization request, callback, token request, first request).

use serde::{Deserialize, Serialize};

use super::{DoctorOptions, Finding, Findings, Verdict};
use crate::challenge::AuthChallenge;
use crate::http::{HttpClient, HttpExchange, RecordingObserver};
use crate::oauth_client::discovery::{Fetched, ProtectedResourceMetadata};
use crate::oauth_client::{OAuthClient, OAuthClientError};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::secret::Secret;
use crate::store::OAuthStore;

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
    /// The access token the sign-in obtained, and whether it is DPoP-bound: in memory only.
    #[serde(skip)]
    token: Option<(Secret, bool)>,
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
}

mod discovery;
mod sign_in;
