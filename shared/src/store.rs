//! The OAuth store: what a client keeps between runs, shared by the web app and the CLI.
//!
//! One JSON document ([`StoreDocument`]) holds
//! * credentials keyed by MCP server URL **and** issuer (tokens, requested and granted scopes);
//! * client registrations keyed by issuer and redirect URI (a client id belongs to the
//!   authorization server that issued it, so servers sharing one reuse it);
//! * in-flight authorization requests keyed by `state`, with their PKCE verifier — this is the
//!   only place a verifier lives, never a resume snapshot; entries expire after
//!   [`PENDING_LIFETIME_SECS`];
//! * enterprise IdP sessions (the cached ID token) keyed by IdP issuer and client.
//!
//! Persistence is injected through [`OAuthStore`]: the server crate keeps the document in a file
//! (mode 0600, atomic replace, locked against concurrent writers), the browser goes through the
//! backend's `/api/store/oauth`, tests use [`MemoryStore`]. Every secret is a [`Secret`], so a
//! `Debug` of the document shows no token.

use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::oauth_client::identity::ClientRegistration;
use crate::oauth_client::ids::{ClientId, Issuer};
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::tokens::Tokens;

/// The schema version written by this code.
pub const STORE_VERSION: u32 = 1;

/// An authorization request not finished within this time is forgotten.
pub const PENDING_LIFETIME_SECS: u64 = 600;

fn current_version() -> u32 {
    STORE_VERSION
}

/// The whole store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreDocument {
    #[serde(default = "current_version")]
    pub version: u32,
    /// Bumped by every write; lets writers detect that someone else wrote in between.
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub credentials: Vec<CredentialRecord>,
    #[serde(default)]
    pub clients: Vec<ClientRecord>,
    #[serde(default)]
    pub pending: Vec<PendingAuthorization>,
    #[serde(default)]
    pub idp_sessions: Vec<IdpSession>,
}

impl Default for StoreDocument {
    fn default() -> Self {
        Self {
            version: STORE_VERSION,
            revision: 0,
            credentials: Vec::new(),
            clients: Vec::new(),
            pending: Vec::new(),
            idp_sessions: Vec::new(),
        }
    }
}

/// What is held for one MCP server at one authorization server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRecord {
    pub server_url: String,
    pub issuer: Issuer,
    #[serde(default)]
    pub tokens: Option<Tokens>,
    /// The scopes last asked for by a grant that succeeded.
    #[serde(default)]
    pub requested: ScopeSet,
    /// The scopes the current token was granted (the response's `scope` when present).
    #[serde(default)]
    pub granted: ScopeSet,
    /// Seconds since the Unix epoch of the last change.
    #[serde(default)]
    pub updated_at: u64,
    /// The client the tokens were issued to. A refresh token is bound to it, so whoever refreshes
    /// (the web app, or the CLI with another redirect URI) must authenticate as that client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
}

/// A client registration at one issuer, for one redirect URI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    pub issuer: Issuer,
    pub redirect_uri: String,
    pub registration: ClientRegistration,
}

/// Which flow an in-flight request belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PendingKind {
    /// Authorization code at the MCP server's authorization server.
    Authorization,
    /// EMA leg 1: OpenID Connect sign-in at the enterprise IdP.
    IdpSignIn { nonce: String },
}

/// An authorization request waiting for its callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingAuthorization {
    pub state: String,
    pub verifier: Secret,
    pub kind: PendingKind,
    pub server_url: String,
    /// The issuer the request went to; the callback's `iss` must equal it.
    pub issuer: Issuer,
    /// The issuer announces `authorization_response_iss_parameter_supported`: `iss` is mandatory.
    #[serde(default)]
    pub iss_required: bool,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub token_endpoint: String,
    /// The RFC 8707 resource indicator sent with the request.
    #[serde(default)]
    pub resource: Option<String>,
    pub requested: ScopeSet,
    pub created_at: u64,
    /// The client was registered for this very request: if the authorization server refuses it,
    /// it was not forgotten, and registering once more would not help.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh_client: bool,
    /// The key (`dpop::key_id`) the code exchange proves possession of, when the tokens are to
    /// be DPoP-bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<String>,
}

/// A signed-in session at an enterprise IdP (EMA leg 1), reused to mint tokens silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdpSession {
    pub idp_issuer: Issuer,
    pub client_id: ClientId,
    pub id_token: Secret,
    #[serde(default)]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub subject: Option<String>,
}

impl IdpSession {
    /// Whether the ID token can no longer be exchanged: the same rule (and leeway) as
    /// [`Tokens::is_expired`](crate::tokens::Tokens::is_expired).
    pub fn is_expired(&self, now: u64) -> bool {
        crate::tokens::expires_within_leeway(self.expires_at, now)
    }
}

/// What [`StoreDocument::forget`] drops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forget {
    /// The server's tokens (every authorization server) and its in-flight sign-ins.
    pub tokens: bool,
    /// The client registrations at the server's authorization servers.
    pub client: bool,
}

impl Forget {
    pub const TOKENS: Self = Self {
        tokens: true,
        client: false,
    };
    pub const CLIENT: Self = Self {
        tokens: false,
        client: true,
    };
    pub const ALL: Self = Self {
        tokens: true,
        client: true,
    };
}

/// How much [`StoreDocument::forget`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Credential records (tokens at one authorization server each).
    pub credentials: usize,
    /// Client registrations.
    pub clients: usize,
}

/// Why the store could not be read or written. Messages never include the document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the OAuth store could not be accessed: {0}")]
    Io(String),
    #[error("the OAuth store is damaged: {0}")]
    Corrupt(String),
    #[error("the OAuth store was written by a newer Keyhole (schema {0})")]
    TooNew(u32),
    /// A compare-and-swap write found another revision than the one it was based on.
    #[error(
        "the OAuth store changed since it was read (now at revision {current}); reload and retry"
    )]
    Conflict { current: u64 },
}

impl StoreDocument {
    /// Parses a stored document, refusing newer schemas instead of dropping their data.
    pub fn from_json(text: &str) -> Result<Self, StoreError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let document: Self = serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("line {} column {}", e.line(), e.column())))?;
        if document.version > STORE_VERSION {
            return Err(StoreError::TooNew(document.version));
        }
        Ok(document)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// The record for `server_url` at `issuer`; with no issuer, the most recently updated one.
    pub fn credential(
        &self,
        server_url: &str,
        issuer: Option<&Issuer>,
    ) -> Option<&CredentialRecord> {
        self.credentials
            .iter()
            .filter(|r| r.server_url == server_url && issuer.is_none_or(|i| &r.issuer == i))
            .max_by_key(|r| r.updated_at)
    }

    fn credential_mut(&mut self, server_url: &str, issuer: &Issuer) -> &mut CredentialRecord {
        let position = self
            .credentials
            .iter()
            .position(|r| r.server_url == server_url && &r.issuer == issuer);
        let index = position.unwrap_or_else(|| {
            self.credentials.push(CredentialRecord {
                server_url: server_url.to_owned(),
                issuer: issuer.clone(),
                tokens: None,
                requested: ScopeSet::new(),
                granted: ScopeSet::new(),
                client_id: None,
                updated_at: 0,
            });
            self.credentials.len() - 1
        });
        &mut self.credentials[index]
    }

    /// Replaces the tokens (e.g. after a refresh); the granted scopes follow the tokens.
    pub fn save_tokens(&mut self, server_url: &str, issuer: &Issuer, tokens: &Tokens, now: u64) {
        let record = self.credential_mut(server_url, issuer);
        record.granted = tokens.scopes.clone();
        record.tokens = Some(tokens.clone());
        record.updated_at = now;
    }

    /// After a successful grant that asked for `requested`: the only moment the requested set
    /// is persisted.
    pub fn record_grant(
        &mut self,
        server_url: &str,
        issuer: &Issuer,
        requested: &ScopeSet,
        tokens: &Tokens,
        now: u64,
    ) {
        self.save_tokens(server_url, issuer, tokens, now);
        self.credential_mut(server_url, issuer).requested = requested.clone();
    }

    /// Remembers which client obtained the server's current tokens (see
    /// [`CredentialRecord::client_id`]).
    pub fn set_credential_client(
        &mut self,
        server_url: &str,
        issuer: &Issuer,
        client_id: ClientId,
    ) {
        self.credential_mut(server_url, issuer).client_id = Some(client_id);
    }

    /// A stored registration at `issuer` with this `client_id`, whatever its redirect URI.
    pub fn client_with_id(
        &self,
        issuer: &Issuer,
        client_id: &ClientId,
    ) -> Option<&ClientRegistration> {
        self.clients
            .iter()
            .find(|c| &c.issuer == issuer && &c.registration.client_id == client_id)
            .map(|c| &c.registration)
    }

    /// Forgets the tokens of a server (every issuer); registrations stay.
    pub fn forget_server(&mut self, server_url: &str) {
        self.credentials.retain(|r| r.server_url != server_url);
        self.pending.retain(|p| p.server_url != server_url);
    }

    /// The issuers this document associates with `server_url` (its credentials and in-flight
    /// sign-ins).
    pub fn issuers_of(&self, server_url: &str) -> Vec<Issuer> {
        let mut issuers: Vec<Issuer> = Vec::new();
        let found = self
            .credentials
            .iter()
            .filter(|r| r.server_url == server_url)
            .map(|r| &r.issuer)
            .chain(
                self.pending
                    .iter()
                    .filter(|p| p.server_url == server_url)
                    .map(|p| &p.issuer),
            );
        for issuer in found {
            if !issuers.contains(issuer) {
                issuers.push(issuer.clone());
            }
        }
        issuers
    }

    /// The user's way out: forgets a server's tokens, the client registrations at its
    /// authorization servers (`issuers`, plus those its records name), or both. A registration
    /// belongs to an authorization server, so other servers using the same one register again
    /// too. Tokens issued to a forgotten client go with it: nobody can refresh them any more.
    pub fn forget(&mut self, server_url: &str, what: Forget, issuers: &[Issuer]) -> Forgotten {
        let mut at = self.issuers_of(server_url);
        for issuer in issuers {
            if !at.contains(issuer) {
                at.push(issuer.clone());
            }
        }
        let (credentials, clients) = (self.credentials.len(), self.clients.len());
        if what.client {
            let dropped: Vec<(Issuer, ClientId)> = self
                .clients
                .iter()
                .filter(|c| at.contains(&c.issuer))
                .map(|c| (c.issuer.clone(), c.registration.client_id.clone()))
                .collect();
            for (issuer, client_id) in dropped {
                self.forget_client(&issuer, &client_id);
            }
        }
        if what.tokens {
            self.forget_server(server_url);
        }
        Forgotten {
            credentials: credentials - self.credentials.len(),
            clients: clients - self.clients.len(),
        }
    }

    /// Drops the registration `client_id` at `issuer` (the authorization server no longer knows
    /// it), the tokens issued to it, and the sign-ins started with it.
    pub fn forget_client(&mut self, issuer: &Issuer, client_id: &ClientId) {
        self.clients
            .retain(|c| !(&c.issuer == issuer && &c.registration.client_id == client_id));
        self.credentials
            .retain(|r| !(&r.issuer == issuer && r.client_id.as_ref() == Some(client_id)));
        self.pending
            .retain(|p| !(&p.issuer == issuer && &p.client_id == client_id));
    }

    /// A grant at `issuer` succeeded for `server_url`: what was held there at other authorization
    /// servers is stale (the server moved, SEP-2352) and must never be presented again.
    pub fn forget_other_issuers(&mut self, server_url: &str, issuer: &Issuer) {
        self.credentials
            .retain(|r| r.server_url != server_url || &r.issuer == issuer);
    }

    /// The in-flight request for `state`, left in place.
    pub fn pending_for(&self, state: &str) -> Option<&PendingAuthorization> {
        self.pending.iter().find(|p| p.state == state)
    }

    pub fn client(&self, issuer: &Issuer, redirect_uri: &str) -> Option<&ClientRegistration> {
        self.clients
            .iter()
            .find(|c| &c.issuer == issuer && c.redirect_uri == redirect_uri)
            .map(|c| &c.registration)
    }

    pub fn save_client(
        &mut self,
        issuer: &Issuer,
        redirect_uri: &str,
        registration: ClientRegistration,
    ) {
        self.clients
            .retain(|c| !(&c.issuer == issuer && c.redirect_uri == redirect_uri));
        self.clients.push(ClientRecord {
            issuer: issuer.clone(),
            redirect_uri: redirect_uri.to_owned(),
            registration,
        });
    }

    /// Adds an in-flight request, dropping expired ones.
    pub fn add_pending(&mut self, pending: PendingAuthorization, now: u64) {
        self.prune_pending(now);
        self.pending.retain(|p| p.state != pending.state);
        self.pending.push(pending);
    }

    /// Removes and returns the request for `state` (single use); `None` when unknown or expired.
    pub fn take_pending(&mut self, state: &str, now: u64) -> Option<PendingAuthorization> {
        self.prune_pending(now);
        let index = self.pending.iter().position(|p| p.state == state)?;
        Some(self.pending.remove(index))
    }

    pub fn prune_pending(&mut self, now: u64) {
        self.pending
            .retain(|p| now < p.created_at.saturating_add(PENDING_LIFETIME_SECS));
    }

    pub fn idp_session(&self, idp_issuer: &Issuer, client_id: &ClientId) -> Option<&IdpSession> {
        self.idp_sessions
            .iter()
            .find(|s| &s.idp_issuer == idp_issuer && &s.client_id == client_id)
    }

    pub fn save_idp_session(&mut self, session: IdpSession) {
        self.idp_sessions
            .retain(|s| !(s.idp_issuer == session.idp_issuer && s.client_id == session.client_id));
        self.idp_sessions.push(session);
    }

    pub fn forget_idp_session(&mut self, idp_issuer: &Issuer, client_id: &ClientId) {
        self.idp_sessions
            .retain(|s| !(&s.idp_issuer == idp_issuer && &s.client_id == client_id));
    }
}

/// Where the document lives. `modify` is an atomic read-modify-write: implementations make sure
/// two writers (a browser tab and the CLI) cannot lose each other's changes, and bump
/// [`StoreDocument::revision`]. `change` may run more than once: a store that finds the document
/// was changed by someone else before its write landed applies it again to the current one.
#[allow(async_fn_in_trait)]
pub trait OAuthStore {
    async fn read(&self) -> Result<StoreDocument, StoreError>;
    async fn modify<R>(&self, change: impl FnMut(&mut StoreDocument) -> R)
    -> Result<R, StoreError>;
}

impl<T: OAuthStore + ?Sized> OAuthStore for &T {
    async fn read(&self) -> Result<StoreDocument, StoreError> {
        (**self).read().await
    }
    async fn modify<R>(
        &self,
        change: impl FnMut(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        (**self).modify(change).await
    }
}

/// A store in memory (tests, and sessions that must not persist anything).
#[derive(Debug, Default)]
pub struct MemoryStore {
    document: Mutex<StoreDocument>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn snapshot(&self) -> StoreDocument {
        self.document
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl OAuthStore for MemoryStore {
    async fn read(&self) -> Result<StoreDocument, StoreError> {
        Ok(self.snapshot())
    }

    async fn modify<R>(
        &self,
        mut change: impl FnMut(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        let mut document = self.document.lock().unwrap_or_else(PoisonError::into_inner);
        let result = change(&mut document);
        document.revision += 1;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(state: &str, created_at: u64) -> PendingAuthorization {
        PendingAuthorization {
            state: state.into(),
            verifier: Secret::new("verifier-secret"),
            kind: PendingKind::Authorization,
            server_url: "https://rs/mcp".into(),
            issuer: Issuer::new("https://as"),
            iss_required: true,
            client_id: ClientId::new("c"),
            redirect_uri: "http://127.0.0.1/cb".into(),
            token_endpoint: "https://as/token".into(),
            resource: Some("https://rs/mcp".into()),
            requested: ScopeSet::parse("a"),
            created_at,
            fresh_client: false,
            dpop_key: None,
        }
    }

    #[test]
    fn pending_requests_are_single_use_and_expire() {
        let mut doc = StoreDocument::default();
        doc.add_pending(pending("s1", 100), 100);
        doc.add_pending(pending("s2", 100), 100);
        assert!(doc.take_pending("s1", 200).is_some());
        assert!(doc.take_pending("s1", 200).is_none());
        assert!(
            doc.take_pending("s2", 100 + PENDING_LIFETIME_SECS)
                .is_none()
        );
        assert!(!format!("{doc:?}").contains("verifier-secret"));
    }

    #[test]
    fn credentials_are_keyed_by_server_and_issuer() {
        let mut doc = StoreDocument::default();
        let tokens = |at: &str| Tokens {
            access_token: Secret::new(at),
            token_type: "Bearer".into(),
            refresh_token: None,
            scopes: ScopeSet::parse("a b"),
            expires_at: None,
        };
        let (a, b) = (Issuer::new("https://a"), Issuer::new("https://b"));
        doc.save_tokens("https://rs", &a, &tokens("t-a"), 1);
        doc.record_grant(
            "https://rs",
            &b,
            &ScopeSet::parse("a b c"),
            &tokens("t-b"),
            2,
        );
        let latest = doc.credential("https://rs", None).unwrap();
        assert_eq!(latest.issuer, b);
        assert_eq!(latest.requested, ScopeSet::parse("a b c"));
        assert_eq!(latest.granted, ScopeSet::parse("a b"));
        let at_a = doc.credential("https://rs", Some(&a)).unwrap();
        assert_eq!(at_a.tokens.as_ref().unwrap().access_token.expose(), "t-a");
        assert!(at_a.requested.is_empty());
        let json = doc.to_json();
        let back = StoreDocument::from_json(&json).unwrap();
        assert_eq!(back, doc);
        assert!(!format!("{back:?}").contains("t-a"));
    }

    fn registration(id: &str) -> ClientRegistration {
        ClientRegistration {
            client_id: ClientId::new(id),
            client_secret: None,
            auth_method: crate::oauth_client::TokenEndpointAuthMethod::None,
            source: crate::oauth_client::RegistrationSource::Dynamic,
            client_secret_expires_at: None,
            registered_at: Some(1),
        }
    }

    fn tokens(at: &str) -> Tokens {
        Tokens {
            access_token: Secret::new(at),
            token_type: "Bearer".into(),
            refresh_token: None,
            scopes: ScopeSet::parse("a"),
            expires_at: None,
        }
    }

    /// Two servers on one authorization server, one on another.
    fn three_servers() -> StoreDocument {
        let mut doc = StoreDocument::default();
        let (a, b) = (Issuer::new("https://a"), Issuer::new("https://b"));
        doc.save_client(&a, "cb", registration("ca"));
        doc.save_client(&b, "cb", registration("cb"));
        for (server, issuer, client) in [("s1", &a, "ca"), ("s2", &a, "ca"), ("s3", &b, "cb")] {
            doc.save_tokens(server, issuer, &tokens(server), 1);
            doc.set_credential_client(server, issuer, ClientId::new(client));
        }
        doc.add_pending(pending("st", 1), 1);
        doc
    }

    #[test]
    fn forgetting_tokens_keeps_the_registration() {
        let mut doc = three_servers();
        let gone = doc.forget("s1", Forget::TOKENS, &[]);
        assert_eq!(
            gone,
            Forgotten {
                credentials: 1,
                clients: 0
            }
        );
        assert!(doc.credential("s1", None).is_none());
        assert!(doc.credential("s2", None).is_some());
        assert_eq!(doc.clients.len(), 2);
    }

    #[test]
    fn forgetting_the_client_drops_the_tokens_issued_to_it() {
        let mut doc = three_servers();
        let gone = doc.forget("s1", Forget::CLIENT, &[]);
        assert_eq!(
            gone,
            Forgotten {
                credentials: 2,
                clients: 1
            }
        );
        assert!(doc.client(&Issuer::new("https://a"), "cb").is_none());
        assert!(
            doc.credential("s2", None).is_none(),
            "issued to the same client"
        );
        assert!(
            doc.credential("s3", None).is_some(),
            "another authorization server"
        );
        let all = three_servers().forget("s3", Forget::ALL, &[]);
        assert_eq!(
            all,
            Forgotten {
                credentials: 1,
                clients: 1
            }
        );
    }

    #[test]
    fn a_server_without_records_forgets_at_the_issuers_it_is_given() {
        let mut doc = three_servers();
        let gone = doc.forget("new", Forget::CLIENT, &[Issuer::new("https://b")]);
        assert_eq!(gone.clients, 1);
        let mut doc = three_servers();
        assert_eq!(doc.forget("new", Forget::ALL, &[]), Forgotten::default());
    }

    #[test]
    fn a_rejected_client_takes_its_sign_ins_and_tokens_along() {
        let mut doc = three_servers();
        let mut started = pending("st2", 1);
        started.issuer = Issuer::new("https://a");
        started.client_id = ClientId::new("ca");
        doc.add_pending(started, 1);
        doc.forget_client(&Issuer::new("https://a"), &ClientId::new("ca"));
        assert!(doc.pending_for("st2").is_none());
        assert!(doc.pending_for("st").is_some(), "issued elsewhere");
        assert_eq!(doc.credentials.len(), 1);
        doc.forget_other_issuers("s3", &Issuer::new("https://c"));
        assert!(doc.credentials.is_empty());
    }

    #[test]
    fn damaged_and_newer_documents_are_refused() {
        assert!(matches!(
            StoreDocument::from_json("{\"credentials\": 5"),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(
            StoreDocument::from_json("{\"version\": 99}"),
            Err(StoreError::TooNew(99))
        );
        assert_eq!(
            StoreDocument::from_json("").unwrap(),
            StoreDocument::default()
        );
    }
}
