//! A wrapper for credentials (access and refresh tokens) that never shows up in logs.
//!
//! `Debug` prints a placeholder, so a `{:?}` of any struct holding tokens — in a panic message, a
//! tracing event or a test failure — cannot leak them. Serialisation is transparent because tokens
//! do have to be stored and sent; reading the value requires an explicit [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself; call sites are easy to audit with a search for `expose`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// base64url(SHA-256(value)), unpadded: names a token without revealing it (the testbed's
    /// control API lists tokens by the same fingerprint).
    pub fn fingerprint(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_json_is_plain() {
        let s = Secret::new("tok-123");
        assert!(!format!("{s:?}").contains("tok-123"));
        assert!(!format!("{:?}", Some(s.clone())).contains("tok-123"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"tok-123\"");
        assert_eq!(s.expose(), "tok-123");
    }

    #[test]
    fn fingerprints_are_unpadded_base64url_sha256() {
        // SHA-256("abc"), a published test vector.
        assert_eq!(
            Secret::new("abc").fingerprint(),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
