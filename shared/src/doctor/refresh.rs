//! The doctor's refresh check (`keyhole doctor --refresh`): what the authorization server does
//! with the refresh token Keyhole holds for the server (from a sign-in by the CLI, the TUI, or the
//! web app's Connect or Debug sign-in). One refresh through the real OAuth client
//! ([`OAuthClient::refresh`], as recovery runs it): a new access token, whether the refresh token
//! was rotated, and whether the server accepts the new access token. It spends one refresh and
//! keeps the new tokens (the old refresh token is never tried again: an authorization server
//! with reuse detection would revoke the whole grant).

use super::{DoctorOptions, Finding, Findings, probe};
use crate::http::HttpClient;
use crate::oauth_client::{OAuthClient, OAuthClientError};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::store::OAuthStore;

/// The refresh findings for `options.server_url`.
pub async fn check_refresh<H, S, C, E>(
    client: &OAuthClient<H, S, C, E>,
    options: &DoctorOptions,
) -> Vec<Finding>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    let mut findings = Findings::default();
    let server = options.server_url.as_str();
    let held = match client.store().read().await {
        Ok(document) => document
            .credential(server, None)
            .and_then(|c| c.tokens.clone()),
        Err(error) => {
            findings.fail(
                "refresh-grant",
                format!("the store cannot be read: {error}"),
            );
            return findings.0;
        }
    };
    let Some(previous) = held.and_then(|tokens| tokens.refresh_token) else {
        findings.info(
            "refresh-grant",
            "not checked: Keyhole holds no refresh token for this server (sign in first: \
             `keyhole cli --url URL tools list`, or the web app's Connect or Debug sign-in)",
        );
        return findings.0;
    };
    let tokens = match client.refresh(server).await {
        Ok(tokens) => tokens,
        Err(error @ OAuthClientError::OAuth { .. }) => {
            findings.fail(
                "refresh-grant",
                format!("the authorization server refused the refresh token: {error}"),
            );
            return findings.0;
        }
        Err(error) => {
            findings.fail("refresh-grant", error.to_string());
            return findings.0;
        }
    };
    findings.pass(
        "refresh-grant",
        format!(
            "a new access token (fingerprint {})",
            tokens.access_token.fingerprint()
        ),
    );
    match &tokens.refresh_token {
        Some(next) if next.expose() != previous.expose() => {
            findings.pass(
                "refresh-rotation",
                "a new refresh token replaced the one used",
            );
        }
        _ => findings.warn(
            "refresh-rotation",
            "the same refresh token stays valid after use: a stolen one can be used as long as \
             it lives",
        ),
    }
    let bound = tokens
        .token_type
        .eq_ignore_ascii_case(crate::dpop::TOKEN_TYPE);
    probe::with_token(
        client.http(),
        options,
        &tokens.access_token,
        bound,
        &mut findings,
    )
    .await;
    findings.0
}
