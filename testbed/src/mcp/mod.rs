//! The MCP servers of the testbed (Streamable HTTP, protocol 2025-11-25 with 2025-06-18 and
//! 2025-03-26 clients answered too, and the stateless 2026-07-28 per the server's `era`:
//! [`stateless`]). Each configured server lives at `/servers/<name>/mcp`, and speaks the
//! HTTP+SSE transport of 2024-11-05 at `/servers/<name>/mcp/sse` too ([`legacy_sse`]).

pub mod cancellation;
pub mod catalog;
pub mod client_requests;
pub mod completions;
pub mod dispatch;
pub mod input_required;
pub mod legacy_sse;
pub mod presets;
pub mod resource_auth;
pub mod session;
pub mod stateless;
pub mod tasks;
pub mod transport;

use std::sync::{Mutex, RwLock, RwLockReadGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::ServerConfig;
use crate::urls::TestbedUrls;
use catalog::{Catalog, ItemKind};
use dispatch::notification_message;
use session::{GET_STREAM, SessionTable};

/// A challenge the control API forces on upcoming requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForcedChallenge {
    /// 401 (`invalid_token`) or 403 (`insufficient_scope`).
    pub status: u16,
    /// Scopes named in a 403 challenge; defaults to the server's base scopes.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Answer with the status alone, without a `WWW-Authenticate` header (as some servers do).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_header: bool,
}

#[derive(Debug, Default)]
struct ForcedChallenges {
    /// Applied to the next POST requests.
    post: Option<ForcedPosts>,
    /// Applied to the next GET (stream) request.
    get: Option<ForcedChallenge>,
}

/// A challenge for the next `remaining` POST requests (of one JSON-RPC method, when `method`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForcedPosts {
    pub challenge: ForcedChallenge,
    pub remaining: u32,
    pub method: Option<String>,
}

/// One running MCP server.
pub struct McpServer {
    pub config: ServerConfig,
    pub mcp_url: String,
    pub resource_metadata_url: String,
    catalog: RwLock<Catalog>,
    pub sessions: SessionTable,
    forced: Mutex<ForcedChallenges>,
}

impl McpServer {
    pub fn new(config: &ServerConfig, urls: &TestbedUrls) -> Self {
        McpServer {
            config: config.clone(),
            mcp_url: urls.mcp_url(&config.name),
            resource_metadata_url: urls.resource_metadata_url(&config.name),
            catalog: RwLock::new(Catalog::from_config(config)),
            sessions: SessionTable::default(),
            forced: Mutex::new(ForcedChallenges::default()),
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Changes an item's required scopes and tells every session the list changed.
    pub fn set_required_scopes(&self, kind: ItemKind, name: &str, scopes: Vec<String>) -> bool {
        let changed = self
            .catalog
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .set_required_scopes(kind, name, scopes);
        if changed {
            let method = match kind {
                ItemKind::Tool => "notifications/tools/list_changed",
                ItemKind::Resource => "notifications/resources/list_changed",
                ItemKind::Prompt => "notifications/prompts/list_changed",
            };
            self.broadcast(notification_message(method, json!({})), None);
        }
        changed
    }

    /// Sends a message on the GET stream of one session, or of every session; returns how many.
    pub fn broadcast(&self, message: Value, session_id: Option<&str>) -> usize {
        let sessions = self.sessions.all();
        let targets = sessions
            .iter()
            .filter(|s| session_id.is_none_or(|id| s.id == id));
        let mut count = 0;
        for session in targets {
            match session.listening() {
                Some(listen) => {
                    if let Some(carried) = listen.carry(&message) {
                        session.publish(listen.stream, carried, false);
                        count += 1;
                    }
                }
                None => {
                    session.publish(GET_STREAM, message.clone(), false);
                    count += 1;
                }
            }
        }
        count
    }

    /// The scopes every request needs.
    pub fn base_scopes(&self) -> &[String] {
        &self.config.auth.base_scopes
    }

    /// Whether the configuration gives this server `flaw` (for `keyhole doctor` to find).
    pub fn has_flaw(&self, flaw: crate::config::ServerFlaw) -> bool {
        self.config.auth.flaws.contains(&flaw)
    }

    /// Makes the next `count` POST requests (those of the JSON-RPC `method`, when given) answer
    /// with `challenge`.
    pub fn force_post_challenges(
        &self,
        challenge: ForcedChallenge,
        count: u32,
        method: Option<String>,
    ) {
        self.forced_challenges().post = (count > 0).then_some(ForcedPosts {
            challenge,
            remaining: count,
            method,
        });
    }

    /// Makes the next GET stream request answer with `challenge` and ends the open GET streams,
    /// so that the client's reconnect meets it.
    pub fn force_get_challenge(&self, challenge: ForcedChallenge) {
        self.forced_challenges().get = Some(challenge);
        for session in self.sessions.all() {
            session.end_get_streams();
        }
    }

    /// The forced challenge for a POST carrying the JSON-RPC `method`, if one applies (counting
    /// it down).
    pub fn take_post_challenge(&self, method: Option<&str>) -> Option<ForcedChallenge> {
        let mut forced = self.forced_challenges();
        let posts = forced.post.as_mut()?;
        if posts
            .method
            .as_deref()
            .is_some_and(|wanted| Some(wanted) != method)
        {
            return None;
        }
        let challenge = posts.challenge.clone();
        posts.remaining -= 1;
        if posts.remaining == 0 {
            forced.post = None;
        }
        Some(challenge)
    }

    pub fn take_get_challenge(&self) -> Option<ForcedChallenge> {
        self.forced_challenges().get.take()
    }

    /// Pending forced challenges: (POST challenges, GET challenge).
    pub fn pending_challenges(&self) -> (Option<ForcedPosts>, Option<ForcedChallenge>) {
        let forced = self.forced_challenges();
        (forced.post.clone(), forced.get.clone())
    }

    fn forced_challenges(&self) -> std::sync::MutexGuard<'_, ForcedChallenges> {
        self.forced
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}
