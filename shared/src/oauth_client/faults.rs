//! Fault injection on a live connection: breaking, on purpose, what Keyhole holds for a server, so
//! a server's author can watch their server's answers and Keyhole's recovery (the web app's Auth
//! tab, `keyhole cli --fault`).
//!
//! Two kinds. The connection's own copy of the access token is the surface's to break (the web
//! backend's session, the CLI's session): [`Fault::ForgetAccessToken`] and
//! [`Fault::CorruptToken`] change only that, so the next request goes out without a token or with
//! a wrong one while the store still holds the good one. The others act on the store, and at the
//! authorization server, here ([`OAuthClient::inject`]): a refresh now, RFC 7009 revocation of the
//! access token, dropping the refresh token, or marking the token expired.

use serde::{Deserialize, Serialize};

use super::OAuthClientError;
use super::client::OAuthClient;
use crate::http::HttpClient;
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::store::OAuthStore;
use crate::tokens::Tokens;

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The connection sends its next requests without an access token.
    ForgetAccessToken,
    /// The connection sends a corrupted copy of its access token.
    CorruptToken,
    /// The token is refreshed now (the refresh grant), and the connection uses the new one.
    RefreshNow,
    /// The access token is revoked at the authorization server (RFC 7009); the store keeps it.
    RevokeToken,
    /// The refresh token is dropped from the store: the next renewal needs a sign-in.
    DropRefreshToken,
    /// The stored token is marked expired: the next connection renews it before use (a live
    /// connection keeps the token it sends until the server refuses it).
    ExpireLocally,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::ForgetAccessToken,
        Fault::CorruptToken,
        Fault::RefreshNow,
        Fault::RevokeToken,
        Fault::DropRefreshToken,
        Fault::ExpireLocally,
    ];

    /// The name used on the command line and in the page (`corrupt-token`…).
    pub fn name(self) -> &'static str {
        match self {
            Fault::ForgetAccessToken => "forget-access-token",
            Fault::CorruptToken => "corrupt-token",
            Fault::RefreshNow => "refresh-now",
            Fault::RevokeToken => "revoke-token",
            Fault::DropRefreshToken => "drop-refresh-token",
            Fault::ExpireLocally => "expire-locally",
        }
    }

    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|fault| fault.name() == name)
    }

    /// What it does, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::ForgetAccessToken => "the next requests go out without an access token",
            Fault::CorruptToken => "the next requests carry a corrupted access token",
            Fault::RefreshNow => "the token is refreshed now",
            Fault::RevokeToken => "the access token is revoked at the authorization server",
            Fault::DropRefreshToken => "the refresh token is dropped: renewing needs a sign-in",
            Fault::ExpireLocally => {
                "the stored token is marked expired (renewed at the next connection)"
            }
        }
    }

    /// Whether only the connection's copy of the token changes (the surface does it).
    pub fn is_connection_only(self) -> bool {
        matches!(self, Fault::ForgetAccessToken | Fault::CorruptToken)
    }

    /// The corrupted copy [`Fault::CorruptToken`] sends: the same length, its last characters
    /// changed, so a server that only checks the shape is caught too.
    pub fn corrupt(token: &str) -> String {
        let keep = token.len().saturating_sub(6);
        let keep = (0..=keep)
            .rev()
            .find(|&i| token.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}XXXXXX", &token[..keep])
    }
}

/// What a store fault did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultOutcome {
    /// For people.
    pub message: String,
    /// Tokens the connection should use from now on ([`Fault::RefreshNow`]).
    pub tokens: Option<Tokens>,
}

impl FaultOutcome {
    fn said(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            tokens: None,
        }
    }
}

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// Applies a store fault for `server_url`. A connection-only fault is refused: the surface
    /// that holds the connection applies it.
    pub async fn inject(
        &self,
        server_url: &str,
        fault: Fault,
    ) -> Result<FaultOutcome, OAuthClientError> {
        match fault {
            Fault::ForgetAccessToken | Fault::CorruptToken => Err(OAuthClientError::invalid(
                "fault injection",
                format!("`{}` changes the connection, not the store", fault.name()),
            )),
            Fault::RefreshNow => {
                let tokens = self.refresh(server_url).await?;
                Ok(FaultOutcome {
                    message: "Refreshed: the connection uses the new token.".into(),
                    tokens: Some(tokens),
                })
            }
            Fault::RevokeToken => self.revoke_access_token(server_url).await,
            Fault::DropRefreshToken => {
                let dropped = self
                    .change_stored(server_url, |tokens, _| {
                        tokens.refresh_token.take().is_some()
                    })
                    .await?;
                Ok(FaultOutcome::said(if dropped {
                    "Dropped the refresh token: the next renewal needs a sign-in."
                } else {
                    "There was no refresh token to drop."
                }))
            }
            Fault::ExpireLocally => {
                self.change_stored(server_url, |tokens, now| {
                    tokens.expires_at = Some(now.saturating_sub(1));
                    true
                })
                .await?;
                Ok(FaultOutcome::said(
                    "Marked the stored token expired: the next connection renews it before use; \
                     this one keeps sending the token it has until the server refuses it.",
                ))
            }
        }
    }

    /// Changes the stored tokens of `server_url` with `change` (given the time); whether it did.
    async fn change_stored(
        &self,
        server_url: &str,
        change: impl Fn(&mut Tokens, u64) -> bool,
    ) -> Result<bool, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let (issuer, now) = (discovery.issuer.clone(), self.now());
        let changed = self
            .store
            .modify(|document| {
                let mut tokens = document
                    .credential(server_url, Some(&issuer))
                    .and_then(|record| record.tokens.clone())?;
                let changed = change(&mut tokens, now);
                document.save_tokens(server_url, &issuer, &tokens, now);
                Some(changed)
            })
            .await?;
        changed.ok_or(OAuthClientError::NoStoredTokens)
    }

    async fn revoke_access_token(
        &self,
        server_url: &str,
    ) -> Result<FaultOutcome, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let mut report = super::ForgetReport::default();
        self.revoke_held(&discovery, &["access_token"], &mut report)
            .await;
        match (report.revoked, report.revocation_note) {
            (1.., _) => Ok(FaultOutcome::said(
                "Revoked the access token at the authorization server; the store keeps it, so the next request meets the server's refusal.",
            )),
            (0, Some(why)) => Err(OAuthClientError::invalid("token revocation", why)),
            (0, None) => Err(OAuthClientError::NoStoredTokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fault;

    #[test]
    fn names_round_trip_and_corruption_keeps_the_length() {
        for fault in Fault::ALL {
            assert_eq!(Fault::parse(fault.name()), Some(fault));
            let json = serde_json::to_value(fault).unwrap();
            assert_eq!(json, fault.name());
        }
        assert_eq!(Fault::parse("nonsense"), None);
        let token = "kh_at_0123456789abcdef";
        let corrupted = Fault::corrupt(token);
        assert_eq!(corrupted.len(), token.len());
        assert_ne!(corrupted, token);
        assert_eq!(Fault::corrupt("ab"), "XXXXXX");
        assert!(Fault::corrupt("éééé").ends_with("XXXXXX"));
    }
}
