//! Discovery results kept per MCP server for as long as their documents are fresh
//! ([`super::freshness`]), so a 401 mid-session is answered with one token request instead of
//! reading both metadata documents again first. The protected-resource metadata and the
//! authorization server's are fresh for their own lifetimes: when only the first is stale, it is
//! read again and the second reused if the server still names the same issuer.
//!
//! A cache is shared by cloning it: the web app makes an OAuth client for each use and gives them
//! all the page's cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::discovery::Discovery;

#[derive(Clone, Debug, Default)]
pub struct DiscoveryCache(Arc<Mutex<HashMap<String, Entry>>>);

#[derive(Clone, Debug)]
struct Entry {
    discovery: Arc<Discovery>,
    /// Unix seconds until which each document may be used.
    protected_resource_until: u64,
    authorization_server_until: u64,
}

/// What the cache has for a server.
pub(crate) enum Cached {
    /// Everything fresh, and the challenge names no other metadata.
    Fresh(Arc<Discovery>),
    /// Known, but the protected-resource metadata is to be read again; the authorization
    /// server's may be reused until `authorization_server_until` (Unix seconds).
    Stale {
        previous: Arc<Discovery>,
        authorization_server_until: u64,
    },
    Missing,
}

impl DiscoveryCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What is known about `server_url` at `now`; `hint` is a challenge's `resource_metadata`
    /// (metadata at another URL than the one cached is read again).
    pub(crate) fn lookup(&self, server_url: &str, hint: Option<&str>, now: u64) -> Cached {
        let Some(entry) = self.entries().get(server_url).cloned() else {
            return Cached::Missing;
        };
        let same_document =
            hint.is_none_or(|hint| entry.discovery.protected_resource_url.as_deref() == Some(hint));
        if same_document
            && entry.protected_resource_until > now
            && entry.authorization_server_until > now
        {
            return Cached::Fresh(entry.discovery);
        }
        Cached::Stale {
            previous: entry.discovery,
            authorization_server_until: entry.authorization_server_until,
        }
    }

    /// What is known about `server_url`, fresh or not, unless `hint` names another document.
    pub(crate) fn known(&self, server_url: &str, hint: Option<&str>) -> Option<Arc<Discovery>> {
        let entries = self.entries();
        let entry = entries.get(server_url)?;
        hint.is_none_or(|hint| entry.discovery.protected_resource_url.as_deref() == Some(hint))
            .then(|| Arc::clone(&entry.discovery))
    }

    /// Keeps `discovery`, fresh until the given Unix seconds.
    pub(crate) fn keep(
        &self,
        discovery: Arc<Discovery>,
        protected_resource_until: u64,
        authorization_server_until: u64,
    ) {
        let entry = Entry {
            protected_resource_until,
            authorization_server_until,
            discovery,
        };
        self.entries()
            .insert(entry.discovery.server_url.clone(), entry);
    }

    /// Forgets what is known about `server_url` (it turned out wrong).
    pub fn forget(&self, server_url: &str) {
        self.entries().remove(server_url);
    }
}
