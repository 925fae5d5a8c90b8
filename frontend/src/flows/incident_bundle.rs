//! The incident bundle: one JSON file of a connection's auth timeline, HTTP exchanges and JSON-RPC
//! messages, to attach to a bug report or look at later (the servers view opens one, read-only).
//! Nothing secret goes in: the exchanges come from the backend already redacted (credential
//! headers, form fields and JSON token fields), the timeline holds fingerprints only, and as a
//! last guard every token the page or the store holds for the server is replaced wherever it still
//! appears in the text.

use keyhole_shared::api::HttpExchange;
use keyhole_shared::store::OAuthStore;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::oauth::WebStore;
use super::session::{Direction, Session, now_ms};
use super::timeline::Incident;

/// The format this Keyhole writes and reads.
pub const FORMAT: &str = "keyhole-incident-bundle/1";

/// What replaces a secret found in the text.
const REDACTED: &str = "[redacted]";

/// One JSON-RPC message as the bundle keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `sent` or `received`.
    pub direction: String,
    pub method: String,
    pub at_ms: f64,
    pub message: Value,
}

/// The file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub format: String,
    pub keyhole_version: String,
    pub server_url: String,
    pub exported_at_ms: f64,
    pub timeline: Vec<Incident>,
    pub exchanges: Vec<HttpExchange>,
    pub messages: Vec<Message>,
}

/// The tokens the page and the store hold for `session`'s server.
async fn held_secrets(session: &Session) -> Vec<String> {
    let mut secrets: Vec<String> = session
        .bearer()
        .map(|b| b.expose().to_owned())
        .into_iter()
        .collect();
    if let Ok(document) = WebStore.read().await {
        let url = session.url();
        for record in document.credentials.iter().filter(|r| r.server_url == url) {
            if let Some(tokens) = &record.tokens {
                secrets.push(tokens.access_token.expose().to_owned());
                secrets.extend(tokens.refresh_token.iter().map(|t| t.expose().to_owned()));
            }
        }
    }
    secrets
}

/// Replaces each of `secrets` (of a length no word could be mistaken for) in `text`.
pub fn scrub(mut text: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        text = text.replace(secret.as_str(), REDACTED);
    }
    text
}

/// The bundle of `session`, as the file's text.
pub async fn export_text(session: Session) -> String {
    let messages = session.protocol.with(|log| {
        log.iter()
            .map(|entry| Message {
                direction: match entry.direction {
                    Direction::Sent => "sent",
                    Direction::Received => "received",
                    Direction::FromApp => "from-app",
                    Direction::ToApp => "to-app",
                }
                .into(),
                method: entry.method.clone(),
                at_ms: entry.at_ms,
                message: entry.message.clone(),
            })
            .collect()
    });
    let bundle = Bundle {
        format: FORMAT.into(),
        keyhole_version: keyhole_shared::VERSION.into(),
        server_url: session.url(),
        exported_at_ms: now_ms(),
        timeline: session.timeline.get_untracked(),
        exchanges: session.network.get_untracked(),
        messages,
    };
    let text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
    scrub(text, &held_secrets(&session).await)
}

/// Reads a bundle file, or says why it is not one.
pub fn parse(text: &str) -> Result<Bundle, String> {
    let bundle: Bundle = serde_json::from_str(text)
        .map_err(|e| format!("This is not a Keyhole incident bundle: {e}"))?;
    if bundle.format != FORMAT {
        return Err(format!(
            "This bundle's format is {:?}; this Keyhole reads {FORMAT}.",
            bundle.format
        ));
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_and_other_files_refused() {
        let text = "{\"a\": \"kh_at_secret-value\", \"b\": \"short\"}".to_owned();
        let scrubbed = scrub(text, &["kh_at_secret-value".into(), "short".into()]);
        assert_eq!(scrubbed, "{\"a\": \"[redacted]\", \"b\": \"short\"}");
        assert!(
            parse("{}")
                .unwrap_err()
                .contains("not a Keyhole incident bundle")
        );
        let other = serde_json::json!({"format": "other/9", "keyholeVersion": "0", "serverUrl": "u",
            "exportedAtMs": 0.0, "timeline": [], "exchanges": [], "messages": []});
        assert!(parse(&other.to_string()).unwrap_err().contains("other/9"));
        let ours = serde_json::json!({"format": FORMAT, "keyholeVersion": "0", "serverUrl": "u",
            "exportedAtMs": 0.0, "timeline": [], "exchanges": [], "messages": []});
        assert_eq!(parse(&ours.to_string()).unwrap().server_url, "u");
    }
}
