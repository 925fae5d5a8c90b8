//! The perimeter of Keyhole's HTTP server (DESIGN.md §2).
//!
//! Keyhole holds OAuth tokens for the servers it inspects and can send requests on the user's behalf,
//! so its local HTTP port is guarded against the two ways a web page in the same browser could abuse
//! it: cross-site requests (every `/api/*` route needs the per-launch API token, which only our own
//! page can read) and DNS rebinding (a request whose `Host` or `Origin` is not one of our loopback
//! names is refused before any handler runs — including `index.html`, which carries the token).

use std::fmt;
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keyhole_shared::api::{API_TOKEN_COOKIE, API_TOKEN_HEADER};
use rand::RngCore;

use crate::error::AppError;

/// The per-launch API token. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// 32 random bytes, hex-encoded.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A token chosen by the user (`KEYHOLE_API_TOKEN`); it must be non-empty and URL-safe.
    pub fn pinned(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("KEYHOLE_API_TOKEN is set but empty".into());
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err("KEYHOLE_API_TOKEN may only contain letters, digits and - . _ ~".into());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares without an early exit, so response timing does not leak a matching prefix.
    fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// Who may talk to this server: the token, and the `Host`/`Origin` values that name it.
#[derive(Debug, Clone)]
pub struct Guard {
    token: ApiToken,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
}

impl Guard {
    /// Allows the loopback names on the bound port, plus the bound address itself (which differs from
    /// them only when the user explicitly bound beyond loopback).
    pub fn new(token: ApiToken, bound: SocketAddr) -> Self {
        let port = bound.port();
        let mut allowed_hosts = vec![
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        let own = bound.to_string();
        if !allowed_hosts.contains(&own) && !bound.ip().is_unspecified() {
            allowed_hosts.push(own);
        }
        let allowed_origins = allowed_hosts
            .iter()
            .map(|h| format!("http://{h}"))
            .collect();
        Self {
            token,
            allowed_hosts,
            allowed_origins,
        }
    }

    pub fn api_token(&self) -> &str {
        self.token.expose()
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin.to_str().is_ok_and(|o| {
                self.allowed_origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(o))
            }),
        }
    }

    fn presented_token(headers: &HeaderMap) -> Option<&str> {
        if let Some(value) = headers.get(API_TOKEN_HEADER) {
            return value.to_str().ok();
        }
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                pair.trim()
                    .strip_prefix(API_TOKEN_COOKIE)?
                    .strip_prefix('=')
            })
    }
}

/// Refuses requests whose `Host` or `Origin` is not ours (DNS rebinding, cross-site pages).
pub async fn require_own_origin(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if !guard.host_allowed(headers) {
        return AppError::Forbidden("the Host header does not name this Keyhole server".into())
            .into_response();
    }
    if !guard.origin_allowed(headers) {
        return AppError::Forbidden("requests from other origins are not accepted".into())
            .into_response();
    }
    next.run(request).await
}

/// Refuses `/api/*` requests without the per-launch token.
pub async fn require_api_token(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    match Guard::presented_token(request.headers()) {
        Some(candidate) if guard.token.matches(candidate) => next.run(request).await,
        _ => AppError::MissingToken.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = ApiToken::pinned("s3cret-value").unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
        assert!(
            !format!("{:?}", Guard::new(token, "127.0.0.1:1".parse().unwrap())).contains("s3cret")
        );
    }

    #[test]
    fn random_tokens_are_64_hex_chars_and_differ() {
        let (a, b) = (ApiToken::random(), ApiToken::random());
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn pinned_tokens_are_validated() {
        assert!(ApiToken::pinned("").is_err());
        assert!(ApiToken::pinned("has space").is_err());
        assert!(ApiToken::pinned("a\"b").is_err());
        assert_eq!(ApiToken::pinned(" ok-token ").unwrap().expose(), "ok-token");
    }

    #[test]
    fn token_match_needs_equal_length_and_bytes() {
        let token = ApiToken::pinned("abc").unwrap();
        assert!(token.matches("abc"));
        assert!(!token.matches("abd"));
        assert!(!token.matches("ab"));
        assert!(!token.matches("abcd"));
    }

    #[test]
    fn token_is_read_from_header_or_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; keyhole_token=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(Guard::presented_token(&headers), Some("xyz"));
        headers.insert(API_TOKEN_HEADER, "from-header".parse().unwrap());
        assert_eq!(Guard::presented_token(&headers), Some("from-header"));
    }

    #[test]
    fn cookie_with_longer_name_is_not_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "keyhole_token2=xyz".parse().unwrap());
        assert_eq!(Guard::presented_token(&headers), None);
    }
}
