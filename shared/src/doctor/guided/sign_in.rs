//! The guided sign-in's later steps: the client identity, the authorization request, the callback,
//! the token request and the first MCP request with the token.

use super::{GuidedSignIn, Outcome};
use crate::doctor::{Findings, Verdict, probe};
use crate::http::HttpClient;
use crate::oauth_client::identity::RegistrationSource;
use crate::oauth_client::{CallbackError, OAuthClient, OAuthClientError};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::store::OAuthStore;
use crate::web_url::AbsoluteUrl;

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
    /// The authorization response the user came back with (empty before).
    fn callback_url(&self) -> String {
        self.callback
            .as_ref()
            .map(|c| c.expose().to_owned())
            .unwrap_or_default()
    }

    pub(super) async fn client_identity<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
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

    pub(super) async fn authorization_request<
        H: HttpClient,
        S: OAuthStore,
        C: Clock,
        E: Entropy,
    >(
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

    pub(super) async fn callback<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
    ) -> Outcome {
        let mut findings = Findings::default();
        match client.check_callback(&self.callback_url()).await {
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
                        CallbackError::MissingState | CallbackError::UnknownState,
                    ) => "callback-state",
                    OAuthClientError::Callback(CallbackError::IssuerMismatch { .. }) => {
                        "callback-iss"
                    }
                    _ => "callback-code",
                };
                findings.fail(rule, error.to_string());
                Outcome::refused(findings, &error)
            }
        }
    }

    pub(super) async fn token_request<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
    ) -> Outcome {
        let mut findings = Findings::default();
        let url = self.callback_url();
        // The code is spent whatever the answer: the callback URL is not kept.
        self.callback = None;
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
        let bound = tokens
            .token_type
            .eq_ignore_ascii_case(crate::dpop::TOKEN_TYPE);
        self.token = Some((tokens.access_token.clone(), bound));
        outcome
    }

    pub(super) async fn first_request<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
        &mut self,
        client: &OAuthClient<H, S, C, E>,
        now_secs: u64,
    ) -> Outcome {
        let mut findings = Findings::default();
        let Some((token, bound)) = self.token.take() else {
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
        probe::with_token(client.http(), &options, &token, bound, &mut findings).await;
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
