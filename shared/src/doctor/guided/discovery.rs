//! The guided sign-in's first steps: the challenge and discovery (both metadata documents, each
//! URL tried named with why), judged by the doctor's challenge and document checks.

use serde::Serialize;

use super::{GuidedSignIn, Outcome, Tape};
use crate::doctor::metadata::{Document, check_authorization_server, check_protected_resource};
use crate::doctor::{Findings, probe};
use crate::http::{HttpClient, HttpExchange};
use crate::oauth_client::OAuthClient;
use crate::oauth_client::discovery::{authorization_server_urls, protected_resource_urls};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::store::OAuthStore;
use crate::web_url::AbsoluteUrl;

/// The last JSON object among the 2xx answers from `urls` (the one the client went on with), as
/// the step received it.
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

impl GuidedSignIn {
    pub(super) async fn challenge<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
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

    pub(super) async fn protected_resource<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
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

    pub(super) async fn authorization_server<H: HttpClient, S: OAuthStore, C: Clock, E: Entropy>(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;
    use crate::oauth_client::AuthorizationServerMetadata;

    /// The page's step log cuts long bodies: the decoded document must still pass the checks the
    /// whole one passes (no false failure for a field the decoding dropped).
    #[test]
    fn a_decoded_document_is_audited_like_the_whole_one() {
        let issuer = "https://as.example";
        let whole = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": true,
            "a_field_nobody_reads": "x".repeat(5000),
        });
        let decoded: AuthorizationServerMetadata = serde_json::from_value(whole.clone()).unwrap();
        let verdicts = |document: &Document| {
            let mut findings = Findings::default();
            check_authorization_server(
                "https://as.example/.well-known/x",
                document,
                issuer,
                &mut findings,
            );
            findings
                .0
                .into_iter()
                .map(|f| (f.rule, f.verdict))
                .collect::<Vec<_>>()
        };
        let from_whole = verdicts(whole.as_object().unwrap());
        assert!(
            from_whole.iter().all(|(_, v)| *v == Verdict::Pass),
            "{from_whole:?}"
        );
        assert_eq!(verdicts(&typed_document(&decoded)), from_whole);
    }
}
