//! Small helpers shared by every part of the testbed: the clock, random identifiers, hashing and
//! OAuth scope strings.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A URL-safe random string carrying `bytes` bytes of entropy.
pub fn random_string(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A random string with a readable prefix, e.g. `kh_at_…`.
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", random_string(32))
}

/// base64url(SHA-256(input)) without padding, as PKCE S256 and fingerprints use it.
pub fn sha256_base64url(input: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
}

/// Splits a space-delimited OAuth scope string into distinct scopes, keeping their order.
pub fn parse_scopes(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for item in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == item) {
            scopes.push(item.to_string());
        }
    }
    scopes
}

/// Joins scopes into an OAuth scope string.
pub fn format_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// Appends the items of `extra` missing from `base`, keeping order.
pub fn union_scopes(base: &[String], extra: &[String]) -> Vec<String> {
    let mut all = base.to_vec();
    for scope in extra {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    all
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}
