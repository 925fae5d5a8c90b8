//! Forgetting what the client holds for a server, when the user asks and when the authorization
//! server already has.
//!
//! * The user's way out ([`OAuthClient::forget`]): the tokens, the client registration, or both.
//!   Tokens are revoked first where the authorization server offers RFC 7009 revocation (best
//!   effort: a server that restarted knows them no more anyway).
//! * A registration the authorization server no longer knows (it keeps clients in memory and
//!   restarted, as every MCP SDK example does): `invalid_client` at the token endpoint
//!   ([`OAuthClient::drop_if_rejected`]) drops a dynamic registration, so the next sign-in
//!   registers again. A sign-in abandoned at the authorization server is checked
//!   ([`OAuthClient::check_sign_in`]): the authorization request is sent again without following
//!   redirects, and an unknown-client answer drops the registration the same way.
//!
//! A registration made for the very sign-in that failed (`PendingAuthorization::fresh_client`) is
//! never dropped and registered again: that would loop with an authorization server that refuses
//! every new client.

use super::OAuthClientError;
use super::authorize::authorization_url;
use super::client::OAuthClient;
use super::client_auth::authenticate;
use super::identity::{ClientRegistration, RegistrationSource};
use super::ids::Issuer;
use super::wire::{check_endpoint, send};
use crate::http::{HttpClient, HttpRequest, HttpResponse};
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::scopes::ScopeSet;
use crate::store::{Forget, OAuthStore, PendingKind};
use crate::tokens::{OAuthErrorResponse, says_client_unknown};
use crate::web_url::AbsoluteUrl;

const REVOKE_STEP: &str = "token revocation";
const CHECK_STEP: &str = "authorization request (check)";

/// What [`OAuthClient::forget`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgetReport {
    /// Credential records dropped (tokens at one authorization server each).
    pub credentials: usize,
    /// Client registrations dropped.
    pub clients: usize,
    /// Tokens the authorization server confirmed revoked.
    pub revoked: usize,
    /// Why revocation did not happen or failed (the tokens are forgotten all the same).
    pub revocation_note: Option<String>,
}

/// What checking an unfinished sign-in found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInCheck {
    /// The authorization server still accepts the request (it shows its sign-in page, or
    /// approves): the user left on purpose.
    Accepted,
    /// It no longer knows the client: the registration was dropped, so signing in again (for
    /// the scopes the abandoned request asked for) registers anew.
    ClientForgotten { requested: ScopeSet },
    /// It refuses a client registered for this very sign-in; registering again would not help.
    ClientRefused(String),
    /// Nothing to check: no stored dynamic registration behind the request, the request is no
    /// longer known, or the answer says nothing either way.
    Unknown,
}

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// After a token-endpoint failure: `invalid_client` means the authorization server does not
    /// know (or accept) this client any more; a dynamic registration is dropped so that the next
    /// sign-in registers again. Configured clients stay: the user has to fix those.
    pub(crate) async fn drop_if_rejected(
        &self,
        error: &OAuthClientError,
        issuer: &Issuer,
        registration: &ClientRegistration,
    ) {
        let rejected = error
            .oauth_error()
            .is_some_and(|e| e.error == "invalid_client");
        if rejected && registration.source == RegistrationSource::Dynamic {
            self.drop_client(issuer, registration).await;
        }
    }

    async fn drop_client(&self, issuer: &Issuer, registration: &ClientRegistration) {
        let (issuer, client_id) = (issuer.clone(), registration.client_id.clone());
        let _ = self
            .store
            .modify(move |d| d.forget_client(&issuer, &client_id))
            .await;
    }

    /// Forgets `what` for `server_url`, revoking the tokens first where possible.
    pub async fn forget(
        &self,
        server_url: &str,
        what: Forget,
    ) -> Result<ForgetReport, OAuthClientError> {
        let discovery = self.discover(server_url, None).await;
        let mut report = ForgetReport::default();
        match &discovery {
            Ok(discovery) => {
                let revoke = what.tokens || what.client;
                if revoke {
                    self.revoke_held(discovery, &["refresh_token", "access_token"], &mut report)
                        .await;
                }
            }
            Err(error) => {
                report.revocation_note = Some(format!("nothing was revoked: {error}"));
            }
        }
        let issuers: Vec<Issuer> = discovery.iter().map(|d| d.issuer.clone()).collect();
        let url = server_url.to_owned();
        let gone = self
            .store
            .modify(move |d| d.forget(&url, what, &issuers))
            .await?;
        report.credentials = gone.credentials;
        report.clients = gone.clients;
        Ok(report)
    }

    /// RFC 7009 for the server's held tokens of the kinds named (`refresh_token`, `access_token`:
    /// the refresh token first, since revoking it usually ends the access token too).
    pub(super) async fn revoke_held(
        &self,
        discovery: &super::Discovery,
        kinds: &[&str],
        report: &mut ForgetReport,
    ) {
        let Some(endpoint) = discovery.authorization_server.revocation_endpoint.clone() else {
            report.revocation_note =
                Some("the authorization server offers no revocation endpoint".into());
            return;
        };
        let Ok(document) = self.store.read().await else {
            return;
        };
        let Some(tokens) = document
            .credential(&discovery.server_url, Some(&discovery.issuer))
            .and_then(|c| c.tokens.clone())
        else {
            return;
        };
        let client = match self.credential_client(discovery).await {
            Ok(Some(client)) => client,
            _ => match self.known_client_at(discovery).await {
                Some(client) => client,
                None => {
                    report.revocation_note =
                        Some("no client registration is held to revoke the tokens with".into());
                    return;
                }
            },
        };
        let held = [
            (tokens.refresh_token.as_ref(), "refresh_token"),
            (Some(&tokens.access_token), "access_token"),
        ];
        for (token, hint) in held {
            let Some(token) = token.filter(|_| kinds.contains(&hint)) else {
                continue;
            };
            let mut form = vec![
                ("token".to_owned(), token.expose().to_owned()),
                ("token_type_hint".to_owned(), hint.to_owned()),
            ];
            let mut headers = Vec::new();
            let authenticated = authenticate(
                client.credentials(),
                discovery.issuer.as_str(),
                self.now(),
                &self.entropy,
                &mut form,
                &mut headers,
            );
            if let Err(error) = authenticated.and(check_endpoint(&endpoint, REVOKE_STEP)) {
                report.revocation_note = Some(error.to_string());
                return;
            }
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut request = HttpRequest::post_form(&endpoint, &pairs);
            request.headers.extend(headers);
            match send(&self.http, request, REVOKE_STEP).await {
                Ok(response) if response.is_success() => report.revoked += 1,
                Ok(response) => {
                    report.revocation_note = Some(format!(
                        "the authorization server answered HTTP {} to the revocation",
                        response.status
                    ));
                }
                Err(error) => report.revocation_note = Some(error.to_string()),
            }
        }
    }

    /// Checks the sign-in started with `state` (still in the store) at its authorization server;
    /// see [`SignInCheck`]. With `only_if_stale`, a registration made for this sign-in is not
    /// checked (it cannot have been forgotten yet).
    pub async fn check_sign_in(
        &self,
        state: &str,
        only_if_stale: bool,
    ) -> Result<SignInCheck, OAuthClientError> {
        let document = self.store.read().await?;
        let Some(pending) = document.pending_for(state).cloned() else {
            return Ok(SignInCheck::Unknown);
        };
        let registration = document
            .client_with_id(&pending.issuer, &pending.client_id)
            .cloned();
        let Some(registration) = registration.filter(|r| {
            r.source == RegistrationSource::Dynamic && pending.kind == PendingKind::Authorization
        }) else {
            return Ok(SignInCheck::Unknown);
        };
        let fresh = pending.fresh_client;
        if fresh && only_if_stale {
            return Ok(SignInCheck::Unknown);
        }
        let discovery = self.discover(&pending.server_url, None).await?;
        if discovery.issuer != pending.issuer {
            return Ok(SignInCheck::Unknown);
        }
        let endpoint = discovery.authorization_server.authorization_endpoint()?;
        let url = authorization_url(endpoint, &pending, &pending.requested, &[])?;
        let response = send(&self.http, HttpRequest::get(url), CHECK_STEP).await?;
        let Some(refusal) = unknown_client_answer(&response, &pending.redirect_uri) else {
            return Ok(if response.status < 400 {
                SignInCheck::Accepted
            } else {
                SignInCheck::Unknown
            });
        };
        if fresh {
            return Ok(SignInCheck::ClientRefused(crate::messages::oauth_error(
                &refusal,
            )));
        }
        self.drop_client(&pending.issuer, &registration).await;
        Ok(SignInCheck::ClientForgotten {
            requested: pending.requested,
        })
    }

    /// The authorization server said it does not know the client of the sign-in started with
    /// `state` (an unknown-client answer to the authorization request): drops that dynamic
    /// registration, unless it was made for this very sign-in. Returns whether it was dropped
    /// (the caller may then register again, once).
    pub async fn drop_client_of(&self, state: &str) -> Result<bool, OAuthClientError> {
        let document = self.store.read().await?;
        let Some(pending) = document.pending_for(state).cloned() else {
            return Ok(false);
        };
        let registration = document
            .client_with_id(&pending.issuer, &pending.client_id)
            .cloned();
        let Some(registration) = registration
            .filter(|r| r.source == RegistrationSource::Dynamic && !pending.fresh_client)
        else {
            return Ok(false);
        };
        self.drop_client(&pending.issuer, &registration).await;
        Ok(true)
    }

    /// A configured or stored client for the discovered authorization server.
    async fn known_client_at(
        &self,
        discovery: &super::Discovery,
    ) -> Option<super::client::ResolvedClient> {
        let advertised = discovery
            .authorization_server
            .token_endpoint_auth_methods_supported
            .as_deref();
        self.known_client(&discovery.server_url, &discovery.issuer, advertised)
            .await
            .ok()
            .flatten()
    }
}

/// The authorization server's answer to an authorization request, when it says the client is
/// unknown: an error page or JSON (`4xx`), or a redirect back to the client with the error.
pub fn unknown_client_answer(
    response: &HttpResponse,
    redirect_uri: &str,
) -> Option<OAuthErrorResponse> {
    if (300..400).contains(&response.status) {
        let location = response.header("location")?;
        let back = AbsoluteUrl::parse(location).ok()?;
        let ours = AbsoluteUrl::parse(redirect_uri).ok()?;
        let same_target = back.origin() == ours.origin() && back.path() == ours.path();
        if !same_target {
            return None;
        }
        let params = super::CallbackParams::parse(location);
        let error = OAuthErrorResponse {
            error: params.error?,
            error_description: params.error_description,
            error_uri: None,
        };
        return error.names_unknown_client().then_some(error);
    }
    if response.status < 400 {
        return None;
    }
    if let Some(error) = crate::json::value_from_bytes(&response.body)
        .and_then(|value| serde_json::from_value::<OAuthErrorResponse>(value).ok())
    {
        return error.names_unknown_client().then_some(error);
    }
    // An HTML or text error page: look for the words, in the first kilobytes only.
    let head = &response.body[..response.body.len().min(4096)];
    let page = String::from_utf8_lossy(head);
    says_client_unknown(&page).then(|| OAuthErrorResponse {
        error: "invalid_client".into(),
        error_description: Some(
            "the authorization server's error page says the client is unknown".into(),
        ),
        error_uri: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLBACK: &str = "http://127.0.0.1:6276/callback";

    #[test]
    fn unknown_client_answers_of_the_sdks() {
        let typescript = HttpResponse::json(
            400,
            &serde_json::json!({"error": "invalid_client", "error_description": "Invalid client_id"}),
        );
        assert!(unknown_client_answer(&typescript, CALLBACK).is_some());
        let python = HttpResponse::json(
            400,
            &serde_json::json!({"error": "invalid_request",
                                "error_description": "Client ID 'x' not found", "state": "s"}),
        );
        assert!(unknown_client_answer(&python, CALLBACK).is_some());
        let page = HttpResponse::new(400, "<h1>Error</h1><p>Unknown client_id.</p>");
        assert!(unknown_client_answer(&page, CALLBACK).is_some());
        let redirected = HttpResponse::new(302, "").with_header(
            "location",
            "http://127.0.0.1:6276/callback?error=invalid_client&state=s",
        );
        assert!(unknown_client_answer(&redirected, CALLBACK).is_some());
    }

    #[test]
    fn other_answers_are_not_an_unknown_client() {
        let login = HttpResponse::new(200, "<form>client_id unknown to you?</form>");
        assert!(unknown_client_answer(&login, CALLBACK).is_none());
        let approved = HttpResponse::new(302, "")
            .with_header("location", "http://127.0.0.1:6276/callback?code=c&state=s");
        assert!(unknown_client_answer(&approved, CALLBACK).is_none());
        let elsewhere = HttpResponse::new(302, "")
            .with_header("location", "https://as.example/login?error=invalid_client");
        assert!(unknown_client_answer(&elsewhere, CALLBACK).is_none());
        let scope = HttpResponse::json(400, &serde_json::json!({"error": "invalid_scope"}));
        assert!(unknown_client_answer(&scope, CALLBACK).is_none());
        let broken = HttpResponse::new(500, "Internal Server Error");
        assert!(unknown_client_answer(&broken, CALLBACK).is_none());
    }
}
