//! The perimeter of Keyhole's HTTP server (see ARCHITECTURE.md, “The perimeter”).
//!
//! Keyhole holds OAuth tokens for the servers it inspects and can send requests on the user's behalf,
//! so its local HTTP port is guarded against the two ways a web page in the same browser could abuse
//! it: cross-site requests (every `/api/*` route needs the per-launch API token, which only our own
//! page can read) and DNS rebinding (a request whose `Host` or `Origin` is not one of our loopback
//! names is refused before any handler runs).
//!
//! The token is also what separates the user from any other local process (on a shared machine, it
//! is what `/api/store/oauth`'s tokens and client secrets are behind). So no response ever carries
//! it: the user brings it, in the address `keyhole` prints (`/?token=…`). [`Guard::page_access`]
//! decides which page a browser gets: the app when the address carries the right token (which then
//! also goes into a `SameSite=Strict`, `HttpOnly` cookie named after the port, so two Keyhole
//! processes on one machine keep apart) or the request has that cookie; otherwise a page that says
//! how to open Keyhole, and nothing more. The one exception is the OAuth callback: an authorization
//! server on another site redirects the browser there, and such a navigation carries no
//! `SameSite=Strict` cookie — the app shell holds no secret, and the page takes its token from the
//! tab's `sessionStorage`, where it was put when the user first opened the address.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keyhole_shared::api::{API_TOKEN_COOKIE, API_TOKEN_HEADER, OAUTH_CALLBACK_PATH};
use rand::RngCore;

use crate::web::error::AppError;

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

/// Who may talk to this server: the token, and the `Host`/`Origin` values that name it. Cloned
/// for every request by the middleware that checks it, so the rules are shared, not copied.
#[derive(Debug, Clone)]
pub struct Guard(Arc<Rules>);

#[derive(Debug)]
struct Rules {
    token: ApiToken,
    cookie_name: String,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
}

/// Which page a browser's request for a client route gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAccess {
    /// The app. `set_cookie` when the address carried the token (the cookie to set comes from
    /// [`Guard::token_cookie`]).
    App { set_cookie: bool },
    /// The page saying how to open Keyhole; `wrong_token` when the address carried another token.
    HowToOpen { wrong_token: bool },
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
        Self(Arc::new(Rules {
            token,
            cookie_name: format!("{API_TOKEN_COOKIE}_{port}"),
            allowed_hosts,
            allowed_origins,
        }))
    }

    /// The `Origin`s of this server's own pages.
    pub fn allowed_origins(&self) -> &[String] {
        &self.0.allowed_origins
    }

    pub fn api_token(&self) -> &str {
        self.0.token.expose()
    }

    /// The name of the cookie that carries the token: `keyhole_token_<port>`.
    pub fn cookie_name(&self) -> &str {
        &self.0.cookie_name
    }

    /// The `Set-Cookie` value handing the token to the browser: the whole origin (pages and API),
    /// never sent cross-site, never readable by scripts; it ends with the browser session.
    pub fn token_cookie(&self) -> String {
        format!(
            "{}={}; Path=/; SameSite=Strict; HttpOnly",
            self.0.cookie_name,
            self.0.token.expose()
        )
    }

    /// Decides what a `GET` of a client route (`path`, with `query`) gets; see the module doc.
    pub fn page_access(&self, path: &str, query: Option<&str>, headers: &HeaderMap) -> PageAccess {
        let offered = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(name, _)| name == "token")
                .map(|(_, value)| value.into_owned())
        });
        if let Some(offered) = offered {
            return match self.0.token.matches(&offered) {
                true => PageAccess::App { set_cookie: true },
                false => PageAccess::HowToOpen { wrong_token: true },
            };
        }
        let cookie_ok = self
            .cookie_token(headers)
            .is_some_and(|candidate| self.0.token.matches(candidate));
        if cookie_ok || path == OAUTH_CALLBACK_PATH {
            return PageAccess::App { set_cookie: false };
        }
        PageAccess::HowToOpen { wrong_token: false }
    }

    fn cookie_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                pair.trim()
                    .strip_prefix(self.0.cookie_name.as_str())?
                    .strip_prefix('=')
            })
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        self.0
            .allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin.to_str().is_ok_and(|o| {
                self.0
                    .allowed_origins
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(o))
            }),
        }
    }

    fn presented_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        if let Some(value) = headers.get(API_TOKEN_HEADER) {
            return value.to_str().ok();
        }
        self.cookie_token(headers)
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

/// Refuses `/api/*` requests without the per-launch token. A page that proves it with the header
/// but lacks the cookie (after a cross-site redirect, or cookies cleared) gets the cookie again, so
/// its `EventSource`, which cannot send headers, keeps working.
pub async fn require_api_token(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let authenticated = guard
        .presented_token(headers)
        .is_some_and(|candidate| guard.0.token.matches(candidate));
    if !authenticated {
        return AppError::MissingToken.into_response();
    }
    let cookie_missing = !guard
        .cookie_token(headers)
        .is_some_and(|candidate| guard.0.token.matches(candidate));
    let mut response = next.run(request).await;
    if cookie_missing && let Ok(cookie) = HeaderValue::from_str(&guard.token_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
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

    fn guard() -> Guard {
        Guard::new(
            ApiToken::pinned("xyz").unwrap(),
            "127.0.0.1:6274".parse().unwrap(),
        )
    }

    #[test]
    fn token_is_read_from_header_or_the_cookie_of_this_port() {
        let guard = guard();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; keyhole_token_7000=other; keyhole_token_6274=xyz; b=2"
                .parse()
                .unwrap(),
        );
        assert_eq!(guard.presented_token(&headers), Some("xyz"));
        headers.insert(API_TOKEN_HEADER, "from-header".parse().unwrap());
        assert_eq!(guard.presented_token(&headers), Some("from-header"));
    }

    #[test]
    fn cookie_with_longer_name_is_not_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "keyhole_token_62740=xyz".parse().unwrap());
        assert_eq!(guard().presented_token(&headers), None);
    }

    #[test]
    fn pages_need_the_token_in_the_address_or_the_cookie() {
        let guard = guard();
        let none = HeaderMap::new();
        let with_cookie = {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, "keyhole_token_6274=xyz".parse().unwrap());
            headers
        };
        assert_eq!(
            guard.page_access("/", Some("token=xyz"), &none),
            PageAccess::App { set_cookie: true }
        );
        assert_eq!(
            guard.page_access("/", Some("a=1&token=nope"), &with_cookie),
            PageAccess::HowToOpen { wrong_token: true }
        );
        assert_eq!(
            guard.page_access("/servers", None, &with_cookie),
            PageAccess::App { set_cookie: false }
        );
        assert_eq!(
            guard.page_access("/", None, &none),
            PageAccess::HowToOpen { wrong_token: false }
        );
        assert_eq!(
            guard.page_access("/oauth/callback", Some("code=c&state=s"), &none),
            PageAccess::App { set_cookie: false },
            "a cross-site redirect back carries no SameSite=Strict cookie"
        );
        assert!(guard.token_cookie().contains("SameSite=Strict; HttpOnly"));
    }

    #[test]
    fn a_clone_for_a_request_shares_the_rules() {
        // The middleware clones the guard for every request (#25: copying its strings was
        // ~40 % of the allocations of a `ping` through /api/mcp/send).
        let guard = guard();
        let copy = guard.clone();
        assert!(std::ptr::eq(
            guard.allowed_origins().as_ptr(),
            copy.allowed_origins().as_ptr()
        ));
        assert!(std::ptr::eq(guard.api_token(), copy.api_token()));
    }
}
