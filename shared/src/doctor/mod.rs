//! `keyhole doctor`: audits an MCP server's authorization set-up against the MCP authorization
//! specification and the RFCs it cites, the way a client meets it before anyone signs in — the 401
//! and its challenge, the protected-resource and authorization-server metadata, what the server
//! does with a made-up token and with a token for another audience, HTTPS, and CORS for browser
//! clients. Given a token, it also checks that the token is accepted and, when the token lacks a
//! scope, the 403 challenge. With stored credentials, [`refresh`] checks one refresh; [`guided`]
//! is the sign-in itself, step by step, judged by the same rules.
//!
//! Each finding names its rule ([`rules`]: MUST / SHOULD, document and section) and, unless it
//! passed, the fix. The audit runs over the injected [`HttpClient`] like the OAuth flows (the CLI
//! and the web backend plug in the native client), so it is tested here with no network. It never
//! follows the OAuth flow itself and never sends a real token anywhere but the server under test.

mod cors;
pub mod guided;
mod metadata;
mod probe;
pub mod refresh;
pub mod render;
pub mod rules;

use serde::{Deserialize, Serialize};

use crate::http::HttpClient;
use crate::random::Entropy;
use crate::secret::Secret;
use crate::web_url::AbsoluteUrl;
pub use rules::{Level, RULES, Rule};

/// The Origin the CORS checks claim unless told otherwise: a browser-based client on this
/// machine (the port of Keyhole's own page and of the official inspector). Servers that defend
/// against DNS rebinding refuse origins they do not know; `--origin` picks another.
pub const DEFAULT_ORIGIN: &str = "http://localhost:6274";

/// What to audit.
#[derive(Clone, Debug)]
pub struct DoctorOptions {
    /// The MCP endpoint, as clients connect to it.
    pub server_url: String,
    /// An access token for the server; it goes only to `server_url`.
    pub token: Option<Secret>,
    /// Extra headers for the MCP requests (e.g. an API gateway's), never `Authorization`.
    pub headers: Vec<(String, String)>,
    /// The `Origin` of the CORS checks.
    pub origin: String,
    /// The current time (seconds since the epoch), for the claims of the made-up token.
    pub now_secs: u64,
}

impl DoctorOptions {
    pub fn new(server_url: impl Into<String>, now_secs: u64) -> Self {
        Self {
            server_url: server_url.into(),
            token: None,
            headers: Vec::new(),
            origin: DEFAULT_ORIGIN.to_owned(),
            now_secs,
        }
    }
}

/// How a rule fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// Not checked, or not a requirement: said for information.
    Info,
    Warning,
    Failure,
}

/// One checked rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule's id (see [`rules::RULES`]).
    pub rule: String,
    pub level: Level,
    pub source: String,
    pub statement: String,
    pub verdict: Verdict,
    /// What the doctor saw.
    pub observed: String,
    /// How to fix it; only when the rule did not pass.
    #[serde(default)]
    pub fix: Option<String>,
}

/// The counts of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub passed: usize,
    pub info: usize,
    pub warnings: usize,
    pub failures: usize,
}

/// Everything `keyhole doctor` found about one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub server: String,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl DoctorReport {
    fn new(server: &str, findings: Vec<Finding>) -> Self {
        let mut summary = Summary::default();
        for finding in &findings {
            match finding.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Info => summary.info += 1,
                Verdict::Warning => summary.warnings += 1,
                Verdict::Failure => summary.failures += 1,
            }
        }
        Self {
            server: server.to_owned(),
            findings,
            summary,
        }
    }

    /// 0 when nothing is wrong, 1 with warnings only, 2 with a failure.
    pub fn exit_code(&self) -> u8 {
        if self.summary.failures > 0 {
            2
        } else if self.summary.warnings > 0 {
            1
        } else {
            0
        }
    }

    /// This report with `more` findings (e.g. [`refresh::check_refresh`]'s) after its own, less
    /// those of rules it judged already (the guided sign-in meets the challenge and the metadata
    /// again).
    pub fn with(mut self, more: Vec<Finding>) -> Self {
        let judged: Vec<String> = self.findings.iter().map(|f| f.rule.clone()).collect();
        self.findings
            .extend(more.into_iter().filter(|f| !judged.contains(&f.rule)));
        Self::new(&self.server, self.findings)
    }

    /// The findings of `rule`.
    pub fn of(&self, rule: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }
}

/// Findings as they are made, in order.
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Finding {
    /// `rule` (an id of [`rules::RULES`]) judged `verdict`, having seen `observed`.
    pub fn of(rule: &str, verdict: Verdict, observed: impl Into<String>) -> Self {
        let rule = rules::rule(rule);
        Self {
            rule: rule.id.to_owned(),
            level: rule.level,
            source: rule.source.to_owned(),
            statement: rule.statement.to_owned(),
            verdict,
            observed: observed.into(),
            fix: (verdict != Verdict::Pass && !rule.fix.is_empty()).then(|| rule.fix.to_owned()),
        }
    }
}

impl Findings {
    fn add(&mut self, rule: &str, verdict: Verdict, observed: impl Into<String>) {
        self.0.push(Finding::of(rule, verdict, observed));
    }

    fn pass(&mut self, rule: &str, observed: impl Into<String>) {
        self.add(rule, Verdict::Pass, observed);
    }

    fn info(&mut self, rule: &str, observed: impl Into<String>) {
        self.add(rule, Verdict::Info, observed);
    }

    fn warn(&mut self, rule: &str, observed: impl Into<String>) {
        self.add(rule, Verdict::Warning, observed);
    }

    fn fail(&mut self, rule: &str, observed: impl Into<String>) {
        self.add(rule, Verdict::Failure, observed);
    }
}

/// Whether `url` may be used without TLS: `https`, or `http` on a loopback host.
fn secure_transport(url: &str) -> bool {
    AbsoluteUrl::parse(url).is_ok_and(|parsed| match parsed.scheme().as_str() {
        "https" => true,
        "http" => parsed.has_loopback_host(),
        _ => false,
    })
}

/// Checks `urls` (what each is, and the URL) for [`rules`]' `transport-https`.
fn check_transport(findings: &mut Findings, urls: &[(&str, &str)]) {
    let plain: Vec<String> = urls
        .iter()
        .filter(|(_, url)| !secure_transport(url))
        .map(|(what, url)| format!("{what} `{url}`"))
        .collect();
    if plain.is_empty() {
        let names: Vec<&str> = urls.iter().map(|(what, _)| *what).collect();
        findings.pass(
            "transport-https",
            format!("HTTPS or loopback: {}", names.join(", ")),
        );
    } else {
        findings.fail(
            "transport-https",
            format!("plain HTTP beyond loopback: {}", plain.join(", ")),
        );
    }
}

/// Audits the server `options` names. Never fails: what could not be reached is a finding.
pub async fn diagnose(
    http: &impl HttpClient,
    entropy: &impl Entropy,
    options: &DoctorOptions,
) -> DoctorReport {
    let mut findings = Findings::default();
    let server = options.server_url.as_str();
    let is_web_url = AbsoluteUrl::parse(server)
        .is_ok_and(|url| matches!(url.scheme().as_str(), "http" | "https"));
    if !is_web_url {
        findings.fail(
            "transport-https",
            format!("`{server}` is not an absolute http or https URL"),
        );
        return DoctorReport::new(server, findings.0);
    }
    check_transport(&mut findings, &[("the MCP server", server)]);
    let challenge = match probe::without_token(http, options, &mut findings).await {
        probe::Unauthenticated::Challenged(challenge) => challenge,
        probe::Unauthenticated::Open => {
            cors::preflight(http, options, &mut findings).await;
            return DoctorReport::new(server, findings.0);
        }
        probe::Unauthenticated::Unusable => return DoctorReport::new(server, findings.0),
    };
    let discovered = metadata::protected_resource(http, options, &challenge, &mut findings).await;
    let issuer = match &discovered {
        Some(issuer) => metadata::authorization_server(http, options, issuer, &mut findings).await,
        None => None,
    };
    probe::made_up_tokens(http, entropy, options, issuer.as_deref(), &mut findings).await;
    if let Some(token) = &options.token {
        probe::with_token(http, options, token, false, &mut findings).await;
    }
    cors::preflight(http, options, &mut findings).await;
    DoctorReport::new(server, findings.0)
}

#[cfg(test)]
mod tests;
