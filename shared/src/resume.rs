//! The resume snapshot: what the web app writes to `sessionStorage` right before a full-page OAuth
//! redirect, so that after the callback the user lands on the same server, tab and half-filled form
//! (see ARCHITECTURE.md, “Resume after a redirect”).
//!
//! The type is versioned and holds **no tokens and no secrets**: no field can carry a [`Secret`]
//! (the PKCE verifier stays in the backend's OAuth store, keyed by `state`). Reading is strict about
//! the version and lenient about nothing else, so a snapshot from another Keyhole version is
//! discarded with a reason instead of restoring a half-understood UI.
//!
//! [`Secret`]: crate::Secret

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::challenge::AuthChallenge;

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The `sessionStorage` key.
pub const SNAPSHOT_KEY: &str = "keyhole.resume";

/// How long a snapshot stays meaningful; an older one means the sign-in was abandoned long ago.
pub const SNAPSHOT_MAX_AGE_SECS: u64 = 30 * 60;

/// Everything needed to put the user back where they were.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResumeSnapshot {
    pub version: u32,
    /// When the redirect started (Unix seconds).
    pub created_at: u64,
    /// The MCP server the session talks to.
    pub server_url: String,
    /// The backend session that must still be live after the redirect.
    pub backend_session_id: String,
    /// The OAuth `state` of the redirect this snapshot belongs to.
    pub state: String,
    /// The tab that was active (`tools`, `resources`, `prompts`, …).
    pub active_tab: String,
    /// Per-tab UI state: selected item, every form value, filters.
    #[serde(default)]
    pub tabs: BTreeMap<String, TabState>,
    /// The challenge being answered.
    pub challenge: AuthChallenge,
    /// Which recovery the redirect is part of.
    pub recovery: RecoveryKind,
    /// What caused it.
    pub trigger: Trigger,
    /// This sign-in registered the client anew, the authorization server having forgotten the
    /// previous registration; if it is abandoned too, Keyhole does not register again by itself.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reregistered: bool,
}

/// The UI state of one tab.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TabState {
    /// The selected tool, resource or prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
    /// Form values by field name, as typed (strings, so nothing is lost to parsing).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// The arguments as JSON text, when they were being edited as JSON instead of in the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_json: Option<String>,
    /// Filter or search text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// The kind of recovery that needed the redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryKind {
    /// A 401 that refresh could not answer: sign in again.
    Relogin,
    /// A 403 `insufficient_scope`: sign in with the scope union.
    StepUp,
    /// Enterprise-managed: sign in at the IdP.
    EnterpriseSignIn,
    /// The first authorization of a connection.
    Connect,
}

/// What caused the recovery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// The user ran a command: its JSON-RPC method and, for a tool, its name.
    Command {
        method: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
    },
    /// A challenge arrived on the event stream with no command waiting.
    Ambient,
    /// The user pressed the re-auth banner's button.
    Banner,
}

/// Why a stored snapshot was not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotProblem {
    #[error("the saved sign-in state is not readable ({0}); it was discarded")]
    Unreadable(String),
    #[error(
        "the saved sign-in state comes from another Keyhole version (format {0}); it was discarded"
    )]
    OtherVersion(u32),
    #[error("the saved sign-in state is {age_secs} s old; the sign-in was abandoned")]
    Stale { age_secs: u64 },
    #[error("the sign-in answer does not belong to the saved sign-in state (state mismatch)")]
    StateMismatch,
}

impl ResumeSnapshot {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored snapshot, refusing other versions and stale ones.
    pub fn from_json(text: &str, now: u64) -> Result<Self, SnapshotProblem> {
        let unreadable = |e: serde_json::Error| SnapshotProblem::Unreadable(e.to_string());
        // Through a `Value`, which the web app deserializes its other JSON from too: one
        // deserializer per type in the wasm, not two.
        let value: serde_json::Value = serde_json::from_str(text).map_err(unreadable)?;
        let Some(version) = value.get("version").and_then(serde_json::Value::as_u64) else {
            return Err(SnapshotProblem::Unreadable(
                "the snapshot has no numeric `version`".into(),
            ));
        };
        if version != u64::from(SNAPSHOT_VERSION) {
            return Err(match u32::try_from(version) {
                Ok(version) => SnapshotProblem::OtherVersion(version),
                Err(_) => {
                    SnapshotProblem::Unreadable(format!("`version` {version} is out of range"))
                }
            });
        }
        let snapshot: Self = serde_json::from_value(value).map_err(unreadable)?;
        let age_secs = now.saturating_sub(snapshot.created_at);
        if age_secs > SNAPSHOT_MAX_AGE_SECS {
            return Err(SnapshotProblem::Stale { age_secs });
        }
        Ok(snapshot)
    }

    /// The snapshot for the callback carrying `state`; any other state is refused (a tampered or
    /// foreign callback must not restore, let alone exchange a code).
    pub fn for_callback(self, state: &str) -> Result<Self, SnapshotProblem> {
        if constant_time_eq(self.state.as_bytes(), state.as_bytes()) {
            Ok(self)
        } else {
            Err(SnapshotProblem::StateMismatch)
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::ChallengeContext;

    fn snapshot(now: u64) -> ResumeSnapshot {
        let header: &[u8] = br#"Bearer error="insufficient_scope", scope="mcp weather:read""#;
        let challenge = AuthChallenge::from_response(
            403,
            &[header],
            ChallengeContext {
                method: Some("tools/call".into()),
                tool_name: Some("get-weather".into()),
            },
        )
        .unwrap();
        let mut form = BTreeMap::new();
        form.insert("city".to_owned(), "Oslo".to_owned());
        let mut tabs = BTreeMap::new();
        tabs.insert(
            "tools".to_owned(),
            TabState {
                selected: Some("get-weather".into()),
                form,
                arguments_json: Some("{\"city\": \"Oslo\", \"days\": 3}".into()),
                filter: Some("wea".into()),
            },
        );
        ResumeSnapshot {
            version: SNAPSHOT_VERSION,
            created_at: now,
            server_url: "http://127.0.0.1:6275/servers/demo/mcp".into(),
            backend_session_id: "b1".into(),
            state: "s-123".into(),
            active_tab: "tools".into(),
            tabs,
            challenge,
            recovery: RecoveryKind::StepUp,
            trigger: Trigger::Command {
                method: "tools/call".into(),
                target: Some("get-weather".into()),
            },
            reregistered: false,
        }
    }

    #[test]
    fn round_trips_with_the_form_intact() {
        let original = snapshot(1_000);
        let read = ResumeSnapshot::from_json(&original.to_json(), 1_010).unwrap();
        assert_eq!(read, original);
        assert_eq!(read.tabs["tools"].form["city"], "Oslo");
        assert_eq!(
            read.tabs["tools"].arguments_json.as_deref(),
            Some("{\"city\": \"Oslo\", \"days\": 3}")
        );
    }

    #[test]
    fn a_snapshot_written_before_json_arguments_existed_still_reads() {
        let mut older = serde_json::to_value(snapshot(0)).unwrap();
        older["tabs"]["tools"]
            .as_object_mut()
            .unwrap()
            .remove("argumentsJson");
        let read = ResumeSnapshot::from_json(&older.to_string(), 0).unwrap();
        assert_eq!(read.tabs["tools"].arguments_json, None);
        assert_eq!(read.tabs["tools"].form["city"], "Oslo");
    }

    #[test]
    fn carries_no_token_shaped_field() {
        let json = snapshot(0).to_json();
        for field in [
            "access_token",
            "refresh_token",
            "code_verifier",
            "id_token",
            "client_secret",
            "verifier",
        ] {
            assert!(!json.contains(field), "{field} in {json}");
        }
    }

    #[test]
    fn other_versions_stale_and_garbage_are_refused_with_a_reason() {
        let mut other = serde_json::to_value(snapshot(0)).unwrap();
        other["version"] = 99.into();
        assert_eq!(
            ResumeSnapshot::from_json(&other.to_string(), 0),
            Err(SnapshotProblem::OtherVersion(99))
        );
        let stale = ResumeSnapshot::from_json(&snapshot(0).to_json(), SNAPSHOT_MAX_AGE_SECS + 1);
        assert!(matches!(stale, Err(SnapshotProblem::Stale { .. })));
        assert!(matches!(
            ResumeSnapshot::from_json("{", 0),
            Err(SnapshotProblem::Unreadable(_))
        ));
        let mut extra = serde_json::to_value(snapshot(0)).unwrap();
        extra["accessToken"] = "sneaked".into();
        assert!(matches!(
            ResumeSnapshot::from_json(&extra.to_string(), 0),
            Err(SnapshotProblem::Unreadable(_))
        ));
    }

    #[test]
    fn only_the_matching_state_restores() {
        assert!(snapshot(0).for_callback("s-123").is_ok());
        assert_eq!(
            snapshot(0).for_callback("s-124"),
            Err(SnapshotProblem::StateMismatch)
        );
        assert_eq!(
            snapshot(0).for_callback(""),
            Err(SnapshotProblem::StateMismatch)
        );
    }
}
