//! An HTTP exchange as a `curl` command to paste into a shell, with every secret replaced by a
//! shell variable (`"$AUTHORIZATION"`, `"$REFRESH_TOKEN"`) that the user sets first.
//!
//! The exchanges Keyhole records are already redacted ([`crate::http`]); this module does not rely
//! on it: a credential-carrying header, form field, JSON field or query parameter never has its
//! value copied, whatever it holds. Names come from the same lists the redaction uses.

use std::fmt::Write as _;

use serde_json::Value;

use crate::http::{is_secret_field, is_secret_header};

/// Headers curl computes itself.
const SKIPPED_HEADERS: &[&str] = &["content-length", "host", "connection", "accept-encoding"];

/// A piece of one shell word: literal text, or a variable standing for a secret.
enum Part {
    Literal(String),
    Secret(String),
}

/// One shell word built from parts; literals are single-quoted, secrets are `"$NAME"`.
#[derive(Default)]
struct Word(Vec<Part>);

impl Word {
    fn literal(mut self, text: &str) -> Self {
        match self.0.last_mut() {
            Some(Part::Literal(last)) => last.push_str(text),
            _ => self.0.push(Part::Literal(text.to_owned())),
        }
        self
    }

    fn secret(mut self, name: &str, variables: &mut Vec<String>) -> Self {
        let name = variable_name(name);
        if !variables.contains(&name) {
            variables.push(name.clone());
        }
        self.0.push(Part::Secret(name));
        self
    }

    fn quoted(&self) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(text) => {
                    out.push('\'');
                    out.push_str(&text.replace('\'', r"'\''"));
                    out.push('\'');
                }
                Part::Secret(name) => {
                    let _ = write!(out, "\"${name}\"");
                }
            }
        }
        out
    }
}

/// `refresh_token` → `REFRESH_TOKEN`, `X-Api-Key` → `X_API_KEY`.
fn variable_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "SECRET_");
    }
    out
}

/// `a=1&code=x` with credential values replaced.
fn form_word(word: Word, encoded: &str, variables: &mut Vec<String>) -> Word {
    let mut word = word;
    for (index, (name, value)) in form_urlencoded::parse(encoded.as_bytes()).enumerate() {
        if index > 0 {
            word = word.literal("&");
        }
        let name_encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
        word = word.literal(&name_encoded).literal("=");
        if is_secret_field(&name) {
            word = word.secret(&name, variables);
        } else {
            let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            word = word.literal(&value);
        }
    }
    word
}

/// Marks the secret fields of a JSON body, so the serialised text can be split around them.
const JSON_MARK: &str = "\u{1}keyhole-secret:";

fn mark_json_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_field(key) && !item.is_null() {
                    *item = Value::String(format!("{JSON_MARK}{key}\u{1}"));
                } else {
                    mark_json_secrets(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_json_secrets),
        _ => {}
    }
}

fn json_word(mut body: Value, variables: &mut Vec<String>) -> Word {
    mark_json_secrets(&mut body);
    let text = body.to_string();
    // serde_json writes the marker's control character as `\u0001`.
    let mark = "\"\\u0001keyhole-secret:";
    let mut word = Word::default();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(mark) {
        word = word.literal(&rest[..start]);
        let after = &rest[start + mark.len()..];
        let Some(end) = after.find("\\u0001\"") else {
            break;
        };
        word = word
            .literal("\"")
            .secret(&after[..end], variables)
            .literal("\"");
        rest = &after[end + "\\u0001\"".len()..];
    }
    word.literal(rest)
}

fn url_word(url: &str, variables: &mut Vec<String>) -> Word {
    let (without_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    match without_fragment.split_once('?') {
        Some((base, query)) => {
            form_word(Word::default().literal(base).literal("?"), query, variables)
        }
        None => Word::default().literal(without_fragment),
    }
}

/// The `curl` command for one request. `headers` and `body` are the request's, as recorded.
pub fn curl_command(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> String {
    let mut variables = Vec::new();
    let mut lines = Vec::new();
    let mut first = String::from("curl");
    if !method.eq_ignore_ascii_case("GET") || body.is_some() {
        let _ = write!(first, " -X {}", Word::default().literal(method).quoted());
    }
    first.push(' ');
    first.push_str(&url_word(url, &mut variables).quoted());
    lines.push(first);
    let mut content_type = "";
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if SKIPPED_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        if lower == "content-type" {
            content_type = value;
        }
        let word = Word::default().literal(name).literal(": ");
        let word = if is_secret_header(name) {
            word.secret(name, &mut variables)
        } else {
            word.literal(value)
        };
        lines.push(format!("-H {}", word.quoted()));
    }
    if let Some(body) = body {
        let word = if content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            form_word(Word::default(), body, &mut variables)
        } else {
            match serde_json::from_str::<Value>(body) {
                Ok(json) => json_word(json, &mut variables),
                Err(_) => Word::default().literal(body),
            }
        };
        lines.push(format!("--data-raw {}", word.quoted()));
    }
    let command = lines.join(" \\\n  ");
    if variables.is_empty() {
        return command;
    }
    let names: Vec<String> = variables.iter().map(|v| format!("${v}")).collect();
    format!(
        "# Secrets are left out: set {} before running this.\n{command}",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_mcp_post_keeps_its_headers_and_body_but_not_its_bearer() {
        let command = curl_command(
            "POST",
            "http://127.0.0.1:6275/servers/demo/mcp",
            &pairs(&[
                ("authorization", "Bearer kh_at_SECRET"),
                ("content-type", "application/json"),
                ("mcp-session-id", "s-1"),
                ("content-length", "42"),
            ]),
            // Keys in sorted order: the same whether or not serde_json preserves order.
            Some(r#"{"id":1,"jsonrpc":"2.0","method":"tools/call","params":{"name":"it's"}}"#),
        );
        assert_eq!(
            command,
            "# Secrets are left out: set $AUTHORIZATION before running this.\n\
             curl -X 'POST' 'http://127.0.0.1:6275/servers/demo/mcp' \\\n  \
             -H 'authorization: '\"$AUTHORIZATION\" \\\n  \
             -H 'content-type: application/json' \\\n  \
             -H 'mcp-session-id: s-1' \\\n  \
             --data-raw '{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"it'\\''s\"}}'"
        );
        assert!(!command.contains("SECRET"));
    }

    #[test]
    fn form_bodies_and_queries_lose_every_credential() {
        let command = curl_command(
            "POST",
            "https://as.example/token?code=QUERYCODE&x=1#frag",
            &pairs(&[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", "Basic Y2xpZW50OnNlY3JldA=="),
                ("Cookie", "sid=abc"),
            ]),
            Some(
                "grant_type=refresh_token&refresh_token=kh_rt_SECRET&client_secret=S3CRET&scope=a+b",
            ),
        );
        for secret in [
            "QUERYCODE",
            "Y2xpZW50",
            "sid=abc",
            "kh_rt_SECRET",
            "S3CRET",
            "frag",
        ] {
            assert!(!command.contains(secret), "{secret} leaked: {command}");
        }
        assert!(command.starts_with(
            "# Secrets are left out: set $CODE, $AUTHORIZATION, $COOKIE, $REFRESH_TOKEN, $CLIENT_SECRET before"
        ), "{command}");
        assert!(command.contains("'grant_type=refresh_token&refresh_token='\"$REFRESH_TOKEN\"'&client_secret='\"$CLIENT_SECRET\"'&scope=a+b'"), "{command}");
        assert!(
            command.contains("'https://as.example/token?code='\"$CODE\"'&x=1'"),
            "{command}"
        );
    }

    #[test]
    fn json_secrets_anywhere_in_the_body_become_variables() {
        let command = curl_command(
            "POST",
            "https://as.example/register",
            &pairs(&[("content-type", "application/json")]),
            Some(r#"{"client_name":"k","nested":[{"access_token":"AT-SECRET"}],"password":null}"#),
        );
        assert!(!command.contains("AT-SECRET"), "{command}");
        assert!(
            command.contains(r#""access_token":"'"$ACCESS_TOKEN"'""#),
            "{command}"
        );
        assert!(command.contains(r#""password":null"#), "{command}");
    }

    #[test]
    fn a_get_without_secrets_is_a_plain_command() {
        assert_eq!(
            curl_command(
                "GET",
                "https://as.example/.well-known/oauth-authorization-server",
                &pairs(&[("accept", "application/json")]),
                None
            ),
            "curl 'https://as.example/.well-known/oauth-authorization-server' \\\n  -H 'accept: application/json'"
        );
        assert_eq!(variable_name("x-api-key"), "X_API_KEY");
        assert_eq!(variable_name("1st"), "SECRET_1ST");
    }
}
