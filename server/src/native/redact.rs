//! Removing secrets from what the backend records: reqwest's header maps and bodies passed through
//! the shared crate's redaction (`keyhole_shared::http`), so the browser's OAuth exchanges, the
//! backend's MCP exchanges and the CLI's all hide the same things the same way.

use keyhole_shared::http::{redact_body, shown_header_value};
use reqwest::header::{self, HeaderMap};

pub use keyhole_shared::http::REDACTED;

/// The longest header value the network log keeps.
pub const MAX_LOGGED_HEADER_VALUE: usize = 2 * 1024;
/// The most header bytes (names and values) the network log keeps per request or response.
pub const MAX_LOGGED_HEADER_BYTES: usize = 16 * 1024;

/// Header pairs in order, as the network log keeps them: secrets (`Authorization`, cookies, our API
/// token…) replaced, a long value is cut and marked with its full size, and headers
/// past [`MAX_LOGGED_HEADER_BYTES`] are replaced by one `…` entry saying how many were left out.
/// (A server sent 370 KB of headers with every answer; a session's log reached 186 MB.)
///
/// Built in one pass over the map: every MCP request and answer is logged, so this runs twice per
/// exchange on the send path, and copying each header into intermediate lists first cost several
/// allocations per header (#25).
pub fn headers_for_log(map: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(map.len());
    let mut budget = MAX_LOGGED_HEADER_BYTES;
    for (index, (name, value)) in map.iter().enumerate() {
        let name = name.as_str();
        let value = shown_header_value(name, &String::from_utf8_lossy(value.as_bytes()));
        let value = if value.len() > MAX_LOGGED_HEADER_VALUE {
            let shown = truncate(&value, MAX_LOGGED_HEADER_VALUE);
            format!("{shown} [truncated by Keyhole]")
        } else {
            value
        };
        let cost = name.len() + value.len();
        if cost > budget {
            let left: usize = map
                .iter()
                .skip(index)
                .map(|(n, v)| n.as_str().len() + v.len())
                .sum();
            out.push((
                "…".to_owned(),
                format!(
                    "{} more header(s), {left} bytes, not kept by Keyhole [truncated by Keyhole]",
                    map.len() - index
                ),
            ));
            break;
        }
        budget -= cost;
        out.push((name.to_owned(), value));
    }
    out
}

/// A body for display: credential fields removed (JSON or form encoding), cut to `limit` bytes.
pub fn body_preview(headers: &HeaderMap, bytes: &[u8], limit: usize) -> Option<String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    typed_body_preview(content_type, bytes, limit)
}

/// [`body_preview`] for a body whose `Content-Type` is already known.
pub fn typed_body_preview(
    content_type: Option<&str>,
    bytes: &[u8],
    limit: usize,
) -> Option<String> {
    redact_body(content_type, bytes).map(|text| truncated(text, limit))
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

/// [`truncate`] for text already owned: kept as it is (not copied) when it fits.
fn truncated(text: String, limit: usize) -> String {
    if text.len() <= limit {
        text
    } else {
        truncate(&text, limit)
    }
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
        map.insert("dpop", "head.claims.SIGNATURE".parse().unwrap());
        let shown = headers_for_log(&map);
        assert!(shown.contains(&("authorization".into(), REDACTED.into())));
        assert!(shown.contains(&("cookie".into(), REDACTED.into())));
        assert!(shown.contains(&("mcp-session-id".into(), "s1".into())));
        assert!(shown.contains(&("dpop".into(), "head.claims.<signature removed>".into())));
        assert!(!format!("{shown:?}").contains("kh_at_secret"));
        assert!(!format!("{shown:?}").contains("SIGNATURE"));
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
    fn logged_headers_are_bounded_and_marked() {
        let mut map = HeaderMap::new();
        map.insert("x-huge", "a".repeat(100_000).parse().unwrap());
        for i in 0..200 {
            map.append(
                "x-many",
                format!("value-{i:04}-{}", "b".repeat(200)).parse().unwrap(),
            );
        }
        let shown = headers_for_log(&map);
        let bytes: usize = shown.iter().map(|(n, v)| n.len() + v.len()).sum();
        assert!(bytes < MAX_LOGGED_HEADER_BYTES + 200, "{bytes}");
        assert!(
            shown[0].1.ends_with("more bytes) [truncated by Keyhole]"),
            "{}",
            &shown[0].1[2000..]
        );
        let last = shown.last().unwrap();
        assert_eq!(last.0, "…");
        assert!(last.1.contains("more header(s)"), "{}", last.1);
        // Small headers pass unchanged.
        let mut small = HeaderMap::new();
        small.insert("content-type", "application/json".parse().unwrap());
        assert_eq!(
            headers_for_log(&small),
            [("content-type".to_owned(), "application/json".to_owned())]
        );
    }

    #[test]
    fn truncation_respects_utf8_and_says_how_much_is_missing() {
        assert_eq!(truncate("héllo", 2), "h… (5 more bytes)");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(body_preview(&HeaderMap::new(), b"", 10), None);
    }
}
