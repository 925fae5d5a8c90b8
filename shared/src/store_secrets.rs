//! Every secret of the OAuth store in one walk, so a backend that keeps secrets somewhere else
//! (the OS keychain) can take them out of the document before it is written and put them back
//! after it is read, without knowing the document's shape: access and refresh tokens, client
//! secrets, PKCE verifiers of sign-ins under way, and enterprise ID tokens.

use crate::secret::Secret;
use crate::store::StoreDocument;

impl StoreDocument {
    /// Calls `visit` with every secret the document holds.
    pub fn for_each_secret(&mut self, mut visit: impl FnMut(&mut Secret)) {
        for credential in &mut self.credentials {
            if let Some(tokens) = &mut credential.tokens {
                visit(&mut tokens.access_token);
                if let Some(refresh) = &mut tokens.refresh_token {
                    visit(refresh);
                }
            }
        }
        for client in &mut self.clients {
            if let Some(secret) = &mut client.registration.client_secret {
                visit(secret);
            }
        }
        for pending in &mut self.pending {
            visit(&mut pending.verifier);
        }
        for session in &mut self.idp_sessions {
            visit(&mut session.id_token);
        }
    }

    /// Drops whatever holds a secret for which `missing` is true (a secret that could not be
    /// read back): a credential's tokens, a client registration, a sign-in under way, an IdP
    /// session. Returns how many records lost something; the user signs in again for those.
    pub fn drop_missing_secrets(&mut self, missing: impl Fn(&Secret) -> bool) -> usize {
        let mut dropped = 0;
        for credential in &mut self.credentials {
            let lost = credential.tokens.as_ref().is_some_and(|tokens| {
                missing(&tokens.access_token) || tokens.refresh_token.as_ref().is_some_and(&missing)
            });
            if lost {
                credential.tokens = None;
                dropped += 1;
            }
        }
        let before = self.clients.len() + self.pending.len() + self.idp_sessions.len();
        self.clients.retain(|client| {
            !client
                .registration
                .client_secret
                .as_ref()
                .is_some_and(&missing)
        });
        self.pending.retain(|pending| !missing(&pending.verifier));
        self.idp_sessions
            .retain(|session| !missing(&session.id_token));
        dropped + before - (self.clients.len() + self.pending.len() + self.idp_sessions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth_client::Issuer;
    use crate::tokens::Tokens;

    fn document() -> StoreDocument {
        let mut document = StoreDocument::default();
        let tokens = Tokens {
            access_token: Secret::new("at-1"),
            token_type: "Bearer".into(),
            refresh_token: Some(Secret::new("rt-1")),
            scopes: Default::default(),
            expires_at: None,
        };
        document.save_tokens("http://mcp", &Issuer::new("http://as"), &tokens, 0);
        document
    }

    #[test]
    fn every_token_is_visited_and_a_missing_one_drops_the_tokens() {
        let mut document = document();
        let mut seen = Vec::new();
        document.for_each_secret(|secret| seen.push(secret.expose().to_owned()));
        assert_eq!(seen, ["at-1", "rt-1"]);
        assert_eq!(
            document.drop_missing_secrets(|s| s.expose() == "nothing"),
            0
        );
        assert_eq!(document.drop_missing_secrets(|s| s.expose() == "rt-1"), 1);
        assert!(document.credentials[0].tokens.is_none());
        assert_eq!(
            document.credentials.len(),
            1,
            "the record (scopes, client) stays"
        );
    }
}
