//! The front-channel half of the authorization-code flow: building the authorization request
//! (PKCE S256, `state`, RFC 8707 `resource`, `scope`) and checking the response that comes back
//! to the redirect URI.
//!
//! Callback checks, in order: the `state` must name a request this client started (single use;
//! that is also where the PKCE verifier is found); `iss` (RFC 9207), when present, must equal the
//! issuer the request went to by simple string comparison, and must be present when the issuer
//! announces it; an `error` is reported as the server's refusal; finally a `code` must be there.

use crate::oauth_client::OAuthClientError;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use serde::{Deserialize, Serialize};

use crate::messages;
use crate::random::{Entropy, random_token};
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::store::PendingAuthorization;
use crate::tokens::OAuthErrorResponse;
use crate::web_url::{self, AbsoluteUrl};

/// What the caller needs to send the user on their way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationStart {
    pub authorization_url: String,
    /// The request's `state`; the callback is matched on it.
    pub state: String,
}

/// A fresh `state` (128 bits) and PKCE verifier (256 bits).
pub(crate) fn new_state_and_verifier(entropy: &impl Entropy) -> (String, Secret) {
    let state = CsrfToken::new(random_token(entropy, 16));
    let verifier = Secret::new(random_token(entropy, 32));
    (state.secret().clone(), verifier)
}

/// `BASE64URL(SHA-256(verifier))`.
pub fn s256_challenge(verifier: &Secret) -> String {
    let verifier = PkceCodeVerifier::new(verifier.expose().to_owned());
    PkceCodeChallenge::from_code_verifier_sha256(&verifier)
        .as_str()
        .to_owned()
}

/// The authorization URL for `pending` at `endpoint`, asking for `scope` (the request's own
/// scopes, or the OpenID scopes of an IdP sign-in), plus flow-specific `extra` parameters
/// (e.g. the OpenID `nonce`).
pub(crate) fn authorization_url(
    endpoint: &str,
    pending: &PendingAuthorization,
    scope: &ScopeSet,
    extra: &[(&str, &str)],
) -> Result<String, OAuthClientError> {
    let mut url = AbsoluteUrl::parse(endpoint)
        .map_err(|_| OAuthClientError::AuthorizationEndpoint(endpoint.to_owned()))?;
    let challenge = s256_challenge(&pending.verifier);
    let scope = (!scope.is_empty()).then(|| scope.to_scope_string());
    let pairs = [
        ("response_type", "code"),
        ("client_id", pending.client_id.as_str()),
        ("redirect_uri", &pending.redirect_uri),
        ("state", &pending.state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .chain(scope.as_deref().map(|scope| ("scope", scope)))
    .chain(
        pending
            .resource
            .as_deref()
            .map(|resource| ("resource", resource)),
    )
    .chain(extra.iter().copied());
    url.append_query_pairs(pairs);
    Ok(url.to_string())
}

/// Why an authorization response was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the authorization response has no `state`")]
    MissingState,
    /// Unknown, already used or expired `state`.
    #[error("{}", messages::lost_authorization_state())]
    UnknownState,
    #[error("{}", messages::issuer_mismatch(.expected, .received.as_deref()))]
    IssuerMismatch {
        expected: String,
        received: Option<String>,
    },
    /// The authorization server (or the user) refused: `access_denied` and friends.
    #[error("{}", messages::oauth_error(.0))]
    Refused(OAuthErrorResponse),
    #[error("the authorization response has neither a code nor an error")]
    MissingCode,
}

/// The query parameters of an authorization response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<Secret>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
}

impl CallbackParams {
    /// Reads a full callback URL, or just its query string (with or without `?`). Repeated
    /// parameters are ambiguous and make the first one win only if all copies agree.
    pub fn parse(callback: &str) -> Self {
        let query = match AbsoluteUrl::parse(callback) {
            Ok(url) => url.query().unwrap_or_default(),
            Err(_) => callback.trim_start_matches('?').to_owned(),
        };
        let pairs = web_url::parse_form(&query);
        let get = |name: &str| {
            let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
            let first = values.next()?.clone();
            values.all(|v| *v == first).then_some(first)
        };
        Self {
            code: get("code").map(Secret::new),
            state: get("state"),
            iss: get("iss"),
            error: get("error"),
            error_description: get("error_description"),
            error_uri: get("error_uri"),
        }
    }

    /// Checks `iss`, then reads the error or the code. `pending` is the request found by state.
    pub fn into_code(self, pending: &PendingAuthorization) -> Result<Secret, CallbackError> {
        let expected = pending.issuer.as_str();
        match &self.iss {
            Some(iss) if iss != expected => {
                return Err(CallbackError::IssuerMismatch {
                    expected: expected.to_owned(),
                    received: Some(iss.clone()),
                });
            }
            None if pending.iss_required => {
                return Err(CallbackError::IssuerMismatch {
                    expected: expected.to_owned(),
                    received: None,
                });
            }
            _ => {}
        }
        if let Some(error) = self.error {
            return Err(CallbackError::Refused(OAuthErrorResponse {
                error,
                error_description: self.error_description,
                error_uri: self.error_uri,
            }));
        }
        self.code.ok_or(CallbackError::MissingCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth_client::ids::{ClientId, Issuer};
    use crate::store::PendingKind;

    fn pending(iss_required: bool) -> PendingAuthorization {
        PendingAuthorization {
            state: "st".into(),
            verifier: Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            kind: PendingKind::Authorization,
            server_url: "https://rs/mcp".into(),
            issuer: Issuer::new("https://as"),
            iss_required,
            client_id: ClientId::new("c 1"),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            token_endpoint: "https://as/token".into(),
            resource: Some("https://rs/mcp".into()),
            requested: ScopeSet::parse("a b"),
            created_at: 0,
            fresh_client: false,
            dpop_key: None,
        }
    }

    #[test]
    fn rfc7636_example_challenge() {
        let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            s256_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn authorization_url_carries_every_parameter() {
        let url = authorization_url(
            "https://as/authorize?x=1",
            &pending(true),
            &ScopeSet::parse("a b"),
            &[("nonce", "n")],
        )
        .unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let params: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(params["x"], "1");
        assert_eq!(params["client_id"], "c 1");
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(
            params["code_challenge"],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(params["scope"], "a b");
        assert_eq!(params["resource"], "https://rs/mcp");
        assert_eq!(params["state"], "st");
        assert_eq!(params["nonce"], "n");
        assert!(
            !url.contains("dBjftJeZ"),
            "the verifier never leaves the client"
        );
    }

    #[test]
    fn callback_checks() {
        let ok =
            CallbackParams::parse("http://127.0.0.1:1/cb?code=c1&state=st&iss=https%3A%2F%2Fas");
        assert_eq!(ok.clone().into_code(&pending(true)).unwrap().expose(), "c1");
        let wrong = CallbackParams::parse("?code=c1&state=st&iss=https%3A%2F%2Fevil");
        assert!(matches!(
            wrong.into_code(&pending(false)),
            Err(CallbackError::IssuerMismatch {
                received: Some(_),
                ..
            })
        ));
        let absent = CallbackParams::parse("code=c1&state=st");
        assert!(matches!(
            absent.clone().into_code(&pending(true)),
            Err(CallbackError::IssuerMismatch { received: None, .. })
        ));
        assert!(absent.into_code(&pending(false)).is_ok());
        let denied = CallbackParams::parse(
            "?error=access_denied&error_description=no&state=st&iss=https%3A%2F%2Fas",
        );
        match denied.into_code(&pending(true)) {
            Err(CallbackError::Refused(e)) => assert_eq!(e.error, "access_denied"),
            other => panic!("{other:?}"),
        }
        let neither = CallbackParams::parse("?state=st&iss=https%3A%2F%2Fas");
        assert_eq!(
            neither.into_code(&pending(true)),
            Err(CallbackError::MissingCode)
        );
        let twice = CallbackParams::parse("?state=a&state=b");
        assert_eq!(twice.state, None);
    }
}
