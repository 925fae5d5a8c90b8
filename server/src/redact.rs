//! Removing secrets from what Keyhole shows and logs: header values (`Authorization`, cookies, our
//! own API token) and token-bearing fields of JSON and form bodies. Everything that reaches the
//! Network view or a log line passes through here first.

use reqwest::header::HeaderMap;

/// Shown instead of a secret.
pub const REDACTED: &str = "[redacted]";

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-keyhole-token",
];

/// Fields of OAuth requests and responses whose values are credentials.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "password",
    "registration_access_token",
];

/// Header pairs in order, secrets replaced. An `Authorization` value keeps its scheme so the view
/// still says *how* the request was authenticated.
pub fn headers(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                let text = value.to_str().unwrap_or_default();
                match text.split_once(' ') {
                    Some((scheme, _)) if name.ends_with("authorization") => {
                        format!("{scheme} {REDACTED}")
                    }
                    _ => REDACTED.to_owned(),
                }
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// A body for display: secrets removed (JSON or form encoding), then cut to `limit` bytes.
pub fn body_preview(bytes: &[u8], limit: usize) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    Some(truncate(&scrub(&text), limit))
}

/// Replaces the values of secret fields in a JSON or `application/x-www-form-urlencoded` text.
pub fn scrub(text: &str) -> String {
    if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) {
        scrub_json(&mut json);
        return json.to_string();
    }
    if text.contains('=') && !text.contains(char::is_whitespace) {
        return text
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if SECRET_FIELDS.contains(&key) => format!("{key}={REDACTED}"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
    }
    text.to_owned()
}

fn scrub_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && field.is_string() {
                    *field = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    scrub_json(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_json),
        _ => {}
    }
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
    fn authorization_keeps_its_scheme_only() {
        let mut map = HeaderMap::new();
        map.insert("authorization", "Bearer kh_at_secret".parse().unwrap());
        map.insert("cookie", "a=b".parse().unwrap());
        map.insert("mcp-session-id", "s1".parse().unwrap());
        let shown = headers(&map);
        assert!(shown.contains(&("authorization".into(), "Bearer [redacted]".into())));
        assert!(shown.contains(&("cookie".into(), REDACTED.into())));
        assert!(shown.contains(&("mcp-session-id".into(), "s1".into())));
        assert!(!format!("{shown:?}").contains("kh_at_secret"));
    }

    #[test]
    fn token_fields_are_scrubbed_from_json_and_forms() {
        let json = scrub(r#"{"access_token":"A","nested":{"refresh_token":"R"},"scope":"x"}"#);
        assert!(!json.contains("\"A\"") && !json.contains("\"R\"") && json.contains("\"x\""));
        let form = scrub("grant_type=authorization_code&code=C0DE&code_verifier=V&client_id=k");
        assert_eq!(
            form,
            "grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&client_id=k"
        );
    }

    #[test]
    fn truncation_respects_utf8_and_says_how_much_is_missing() {
        assert_eq!(truncate("héllo", 2), "h… (5 more bytes)");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(body_preview(b"", 10), None);
    }
}
