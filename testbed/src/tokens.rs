//! The in-memory table of access and refresh tokens the authorization server issued: expiry,
//! scopes, resource, client, revocation, and the MCP sessions each token was used on.
//! Token values never leave this table except in the token response that created them.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::support::{now_secs, random_token, sha256_base64url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// What to record about a token being issued.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub client_id: String,
    pub subject: String,
    pub scopes: Vec<String>,
    pub resource: Option<String>,
    /// The grant type that produced the token.
    pub grant: String,
    /// Groups the tokens descended from one authorization (code or refresh chain).
    pub family: String,
    /// The thumbprint of the key a DPoP-bound token is bound to (RFC 9449 `cnf.jkt`).
    pub jkt: Option<String>,
}

/// One MCP session a token was presented on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUse {
    pub server: String,
    pub session_id: String,
}

/// A token as the control API shows it: everything but the value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub id: String,
    /// base64url(SHA-256(token)), to recognise a token without revealing it.
    pub fingerprint: String,
    pub kind: TokenKind,
    pub client_id: String,
    pub subject: String,
    pub scopes: Vec<String>,
    pub resource: Option<String>,
    pub grant: String,
    pub family: String,
    /// The key a DPoP-bound token is bound to (`cnf.jkt`); `None` for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    pub issued_at: u64,
    pub expires_at: u64,
    pub revoked: bool,
    pub sessions: Vec<SessionUse>,
}

impl TokenRecord {
    pub fn is_active(&self, now: u64) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Expired,
    Revoked,
}

impl TokenProblem {
    pub fn describe(self) -> &'static str {
        match self {
            TokenProblem::Unknown => "the token is unknown",
            TokenProblem::Expired => "the token has expired",
            TokenProblem::Revoked => "the token has been revoked",
        }
    }
}

#[derive(Default)]
struct Table {
    by_value: HashMap<String, TokenRecord>,
    next_id: u64,
}

/// Thread-safe token table.
#[derive(Default)]
pub struct TokenStore {
    table: Mutex<Table>,
}

impl TokenStore {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Creates a token and returns its value with its record.
    pub fn issue(
        &self,
        kind: TokenKind,
        grant: &TokenGrant,
        lifetime_secs: u64,
    ) -> (String, TokenRecord) {
        self.issue_with(kind, grant, lifetime_secs, |_, _| {
            random_token(match kind {
                TokenKind::Access => "kh_at_",
                TokenKind::Refresh => "kh_rt_",
            })
        })
    }

    /// Creates a token whose value `make_value` builds from its issue and expiry times (seconds
    /// since the Unix epoch), e.g. a signed JWT.
    pub fn issue_with(
        &self,
        kind: TokenKind,
        grant: &TokenGrant,
        lifetime_secs: u64,
        make_value: impl FnOnce(u64, u64) -> String,
    ) -> (String, TokenRecord) {
        let now = now_secs();
        let value = make_value(now, now.saturating_add(lifetime_secs));
        let mut table = self.table();
        table.next_id += 1;
        let record = TokenRecord {
            id: format!(
                "{}-{}",
                match kind {
                    TokenKind::Access => "at",
                    TokenKind::Refresh => "rt",
                },
                table.next_id
            ),
            fingerprint: sha256_base64url(&value),
            kind,
            client_id: grant.client_id.clone(),
            subject: grant.subject.clone(),
            scopes: grant.scopes.clone(),
            resource: grant.resource.clone(),
            grant: grant.grant.clone(),
            family: grant.family.clone(),
            jkt: grant.jkt.clone(),
            issued_at: now,
            expires_at: now.saturating_add(lifetime_secs),
            revoked: false,
            sessions: Vec::new(),
        };
        table.by_value.insert(value.clone(), record.clone());
        (value, record)
    }

    /// The record of an active token of the given kind.
    pub fn validate(&self, value: &str, kind: TokenKind) -> Result<TokenRecord, TokenProblem> {
        let table = self.table();
        let record = table
            .by_value
            .get(value)
            .filter(|record| record.kind == kind)
            .ok_or(TokenProblem::Unknown)?;
        if record.revoked {
            Err(TokenProblem::Revoked)
        } else if now_secs() >= record.expires_at {
            Err(TokenProblem::Expired)
        } else {
            Ok(record.clone())
        }
    }

    /// Notes that a token was presented on an MCP session.
    pub fn record_session_use(&self, value: &str, server: &str, session_id: &str) {
        let mut table = self.table();
        if let Some(record) = table.by_value.get_mut(value) {
            let session_use = SessionUse {
                server: server.to_string(),
                session_id: session_id.to_string(),
            };
            if !record.sessions.contains(&session_use) {
                record.sessions.push(session_use);
            }
        }
    }

    /// Revokes a token given by value, id or fingerprint; returns whether one matched.
    pub fn revoke(&self, value_or_id: &str) -> bool {
        let mut table = self.table();
        let mut matched = false;
        for (value, record) in table.by_value.iter_mut() {
            if value == value_or_id || record.id == value_or_id || record.fingerprint == value_or_id
            {
                record.revoked = true;
                matched = true;
            }
        }
        matched
    }

    /// Revokes the token with this value if it is still usable, under one lock: `true` only for
    /// the caller that retired it (so of two concurrent rotations, exactly one wins).
    pub fn retire(&self, value: &str) -> bool {
        match self.table().by_value.get_mut(value) {
            Some(record) if !record.revoked => {
                record.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// Revokes every token of an authorization family (e.g. after a code was replayed).
    pub fn revoke_family(&self, family: &str) {
        for record in self.table().by_value.values_mut() {
            if record.family == family {
                record.revoked = true;
            }
        }
    }

    /// Makes every active token of the chosen kinds expire now; returns how many changed.
    pub fn expire_all(&self, include_refresh_tokens: bool) -> usize {
        let now = now_secs();
        let mut count = 0;
        for record in self.table().by_value.values_mut() {
            let wanted = record.kind == TokenKind::Access || include_refresh_tokens;
            if wanted && record.is_active(now) {
                record.expires_at = now;
                count += 1;
            }
        }
        count
    }

    /// Every token ever issued, oldest first.
    pub fn list(&self) -> Vec<TokenRecord> {
        let mut records: Vec<TokenRecord> = self.table().by_value.values().cloned().collect();
        records.sort_by_key(|record| {
            let number: u64 = record
                .id
                .split('-')
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            number
        });
        records
    }
}
