//! OAuth wire shapes the recovery logic consumes and produces: the token response (RFC 6749 §5.1),
//! the error response (§5.2), and the tokens a client keeps between requests.

use serde::{Deserialize, Serialize};

use crate::scopes::{GrantResult, ScopeSet, scopes_to_persist};
use crate::secret::Secret;

/// A successful token endpoint response, as sent on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// An OAuth error response (`{error, error_description?, error_uri?}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorResponse {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl OAuthErrorResponse {
    /// Whether the authorization server says it does not know the client (or no longer accepts
    /// its credentials): `invalid_client`, or an error whose description says the client id is
    /// unknown, as the MCP SDKs' `/authorize` endpoints answer for a client registered before
    /// they restarted (TypeScript: `invalid_client` "Invalid client_id"; Python:
    /// `invalid_request` "Client ID '…' not found").
    pub fn names_unknown_client(&self) -> bool {
        if self.error == "invalid_client" {
            return true;
        }
        says_client_unknown(self.error_description.as_deref().unwrap_or_default())
    }
}

/// Whether a text (an error description, an error page) says a client id is unknown.
pub fn says_client_unknown(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let about_client = text.contains("client id") || text.contains("client_id");
    let unknown = [
        "not found",
        "unknown",
        "invalid",
        "not registered",
        "does not exist",
    ]
    .iter()
    .any(|phrase| text.contains(phrase));
    about_client && unknown
}

/// The tokens a client holds for one server and issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: Secret,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Scopes this token was granted (authoritative `scope` of the response, else what was asked).
    #[serde(default)]
    pub scopes: ScopeSet,
    /// Absolute expiry, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// Tokens are treated as expired this many seconds early, so a request does not race the expiry.
pub const EXPIRY_LEEWAY_SECS: u64 = 30;

/// The one expiry rule for anything with an absolute expiry (`expires_at`, seconds since the Unix
/// epoch; `None` = never): past it, or within [`EXPIRY_LEEWAY_SECS`] of it, at `now`. Every
/// surface asks [`Tokens::is_expired`] (or this, for an ID token) rather than comparing itself.
pub fn expires_within_leeway(expires_at: Option<u64>, now: u64) -> bool {
    expires_at.is_some_and(|at| now.saturating_add(EXPIRY_LEEWAY_SECS) >= at)
}

impl Tokens {
    /// Builds the tokens to keep after a successful grant that asked for `requested`.
    ///
    /// A refresh response may omit `refresh_token`; the one used (`previous_refresh`) stays valid
    /// then (RFC 6749 §6).
    pub fn from_grant(
        response: TokenResponse,
        requested: &ScopeSet,
        previous_refresh: Option<&Secret>,
        now: u64,
    ) -> Self {
        let granted = GrantResult::Granted {
            response_scope: response.scope.as_deref(),
        };
        let scopes = scopes_to_persist(requested, granted).unwrap_or_default();
        Self {
            refresh_token: response.refresh_token.or_else(|| previous_refresh.cloned()),
            expires_at: response.expires_in.map(|secs| now.saturating_add(secs)),
            access_token: response.access_token,
            token_type: response.token_type,
            scopes,
        }
    }

    /// Whether the access token is past (or within the leeway of) its expiry.
    pub fn is_expired(&self, now: u64) -> bool {
        expires_within_leeway(self.expires_at, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(scope: Option<&str>, refresh: Option<&str>) -> TokenResponse {
        TokenResponse {
            access_token: Secret::new("at"),
            token_type: "Bearer".into(),
            expires_in: Some(3600),
            refresh_token: refresh.map(Secret::new),
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn response_scope_is_authoritative() {
        let requested = ScopeSet::parse("a b c");
        let t = Tokens::from_grant(response(Some("a"), None), &requested, None, 100);
        assert_eq!(t.scopes, ScopeSet::parse("a"));
        let t = Tokens::from_grant(response(None, None), &requested, None, 100);
        assert_eq!(t.scopes, requested);
        assert_eq!(t.expires_at, Some(3700));
    }

    #[test]
    fn refresh_token_is_kept_when_not_rotated() {
        let old = Secret::new("rt-old");
        let t = Tokens::from_grant(response(None, None), &ScopeSet::new(), Some(&old), 0);
        assert_eq!(t.refresh_token, Some(old.clone()));
        let t = Tokens::from_grant(
            response(None, Some("rt-new")),
            &ScopeSet::new(),
            Some(&old),
            0,
        );
        assert_eq!(t.refresh_token, Some(Secret::new("rt-new")));
    }

    #[test]
    fn expiry_has_leeway() {
        let t = Tokens::from_grant(response(None, None), &ScopeSet::new(), None, 0);
        assert!(!t.is_expired(3000));
        assert!(t.is_expired(3600 - EXPIRY_LEEWAY_SECS));
        // Within the leeway but not yet past: expired all the same (a surface that used a shorter
        // margin would still send it).
        assert!(t.is_expired(3600 - 10));
        assert!(!t.is_expired(3600 - EXPIRY_LEEWAY_SECS - 1));
        let forever = Tokens {
            expires_at: None,
            ..t
        };
        assert!(!forever.is_expired(u64::MAX));
    }

    #[test]
    fn unknown_client_answers_of_the_sdks_are_recognised() {
        let answer = |error: &str, description: Option<&str>| OAuthErrorResponse {
            error: error.into(),
            error_description: description.map(str::to_owned),
            error_uri: None,
        };
        assert!(answer("invalid_client", Some("Invalid client_id")).names_unknown_client());
        assert!(answer("invalid_client", None).names_unknown_client());
        assert!(
            answer("invalid_request", Some("Client ID 'abc' not found")).names_unknown_client()
        );
        assert!(!answer("invalid_request", Some("Missing code_challenge")).names_unknown_client());
        assert!(!answer("invalid_scope", Some("Unknown scope x")).names_unknown_client());
        assert!(!answer("invalid_grant", Some("client_id mismatch")).names_unknown_client());
    }

    #[test]
    fn wire_format() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"x","token_type":"Bearer","scope":"a b","extra":1}"#,
        )
        .unwrap();
        assert_eq!(r.scope.as_deref(), Some("a b"));
        assert!(!format!("{r:?}").contains("\"x\""));
    }
}
