//! Removing secrets from what the backend records: reqwest's header maps and bodies passed through
//! the shared crate's redaction (`keyhole_shared::http`), so the browser's OAuth exchanges, the
//! backend's MCP exchanges and the CLI's all hide the same things the same way.

use keyhole_shared::http::{redact_body, redact_headers};
use reqwest::header::{self, HeaderMap};

pub use keyhole_shared::http::REDACTED;

/// Header pairs in order, secrets (`Authorization`, cookies, our API token…) replaced.
pub fn headers(map: &HeaderMap) -> Vec<(String, String)> {
    redact_headers(&pairs(map))
}

/// A body for display: credential fields removed (JSON or form encoding), cut to `limit` bytes.
pub fn body_preview(headers: &HeaderMap, bytes: &[u8], limit: usize) -> Option<String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    redact_body(content_type, bytes).map(|text| truncate(&text, limit))
}

fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Cuts `text` to at most `limit` bytes on a character boundary, saying how much was left out.
pub fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_are_hidden_and_others_kept() {
        let mut map = HeaderMap::new();
        map.insert("authorization", "Bearer kh_at_secret".parse().unwrap());
        map.insert("cookie", "a=b".parse().unwrap());
        map.insert("mcp-session-id", "s1".parse().unwrap());
        let shown = headers(&map);
        assert!(shown.contains(&("authorization".into(), REDACTED.into())));
        assert!(shown.contains(&("cookie".into(), REDACTED.into())));
        assert!(shown.contains(&("mcp-session-id".into(), "s1".into())));
        assert!(!format!("{shown:?}").contains("kh_at_secret"));
    }

    #[test]
    fn form_bodies_lose_their_credentials() {
        let mut map = HeaderMap::new();
        map.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let body = b"grant_type=authorization_code&code=C0DE&code_verifier=V&client_id=k";
        let shown = body_preview(&map, body, 4096).unwrap();
        assert!(
            !shown.contains("C0DE") && shown.contains("client_id=k"),
            "{shown}"
        );
    }

    #[test]
    fn truncation_respects_utf8_and_says_how_much_is_missing() {
        assert_eq!(truncate("héllo", 2), "h… (5 more bytes)");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(body_preview(&HeaderMap::new(), b"", 10), None);
    }
}
