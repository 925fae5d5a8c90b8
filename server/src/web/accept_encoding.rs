//! Which content coding to answer a request with, from its `Accept-Encoding` (RFC 9110 §12.5.3)
//! and from where the page was opened.
//!
//! The web app's files are compressed once, at build time, with slower and better encoders than a
//! per-request one can afford; [`crate::web::assets`] serves those bytes as they are, in the coding this
//! module picks. tower-http's compression layer parses this header too, but keeps its parser private,
//! so the few lines it takes are here. That layer compresses the rest (the page, the API's answers).
//!
//! Nothing is compressed for a page opened on a loopback address ([`identity_on_loopback`]): over
//! loopback the bytes cost nothing to move, while compressing and decoding them cost on every
//! request — and for the app's files on every load, even from the browser's cache (measured in
//! headless Chromium on two cores: reading the 1.1 MB wasm from the cache took ~45 ms as brotli,
//! ~30 ms as gzip and ~12 ms as it is, and its compilation waits for the last byte). A page opened
//! from another machine (Keyhole bound beyond loopback) gets brotli or gzip, the smaller download.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_ENCODING, HOST};
use axum::middleware::Next;
use axum::response::Response;

/// A content coding the build stores the assets in, besides identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    fn is_named_by(self, coding: &str) -> bool {
        match self {
            Self::Brotli => coding.eq_ignore_ascii_case("br"),
            Self::Gzip => {
                coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip")
            }
        }
    }
}

/// The coding to answer with: of the codings the client accepts with a non-zero weight, the one it
/// weighs highest; on a tie, brotli (smaller). `None` means identity: a missing or unreadable header,
/// or neither coding acceptable.
pub fn preferred_coding(headers: &HeaderMap) -> Option<Coding> {
    let weight_of = |coding| weight(headers, coding).filter(|q| *q > 0.0);
    match (weight_of(Coding::Brotli), weight_of(Coding::Gzip)) {
        (Some(br), Some(gz)) if gz > br => Some(Coding::Gzip),
        (Some(_), _) => Some(Coding::Brotli),
        (None, Some(_)) => Some(Coding::Gzip),
        (None, None) => None,
    }
}

/// Middleware, outside the compression layer: a request from a page opened on loopback is
/// answered as one that accepts no coding (see the module doc).
pub async fn identity_on_loopback(mut request: Request, next: Next) -> Response {
    if opened_on_loopback(request.headers()) {
        request.headers_mut().remove(ACCEPT_ENCODING);
    }
    next.run(request).await
}

/// Whether the request's `Host` names a loopback address or `localhost`. (A client elsewhere that
/// names a loopback host while Keyhole is bound beyond loopback only gets larger answers.)
fn opened_on_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((address, _port)) => address,
            None => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The weight the header gives `coding`: its own entry's (the highest, if listed twice), else the
/// `*` entry's, else none. A malformed weight counts as 0 (refusing).
fn weight(headers: &HeaderMap, coding: Coding) -> Option<f32> {
    let mut named: Option<f32> = None;
    let mut wildcard: Option<f32> = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .find_map(weight_param)
                .unwrap_or(Some(1.0))
                .unwrap_or(0.0);
            if coding.is_named_by(name) {
                named = Some(named.map_or(q, |seen| seen.max(q)));
            } else if name == "*" {
                wildcard = Some(q);
            }
        }
    }
    named.or(wildcard)
}

/// `Some(Some(q))` for a `q=` parameter; `Some(None)` when it is malformed (treated as refusing);
/// `None` for any other parameter.
fn weight_param(param: &str) -> Option<Option<f32>> {
    let (name, value) = param.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    let value = value.trim();
    let well_formed = !value.is_empty()
        && value.len() <= 5
        && value.chars().all(|c| c.is_ascii_digit() || c == '.');
    Some(
        well_formed
            .then(|| value.parse::<f32>().ok())
            .flatten()
            .filter(|q| (0.0..=1.0).contains(q)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn pick(values: &[&[u8]]) -> Option<Coding> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_bytes(value).unwrap());
        }
        preferred_coding(&headers)
    }

    #[test]
    fn brotli_is_chosen_when_it_weighs_at_least_as_much_as_gzip() {
        for value in [
            "br",
            "BR",
            "gzip, deflate, br, zstd",
            "br;q=1.0, gzip;q=0.8, *;q=0.1",
            "gzip;q=0.5, br;q=0.5",
            "*",
            "gzip;q=0.5, *",
        ] {
            assert_eq!(pick(&[value.as_bytes()]), Some(Coding::Brotli), "{value}");
        }
        assert_eq!(
            pick(&[b"gzip", b"br"]),
            Some(Coding::Brotli),
            "over two lines"
        );
    }

    #[test]
    fn gzip_is_chosen_when_brotli_is_absent_refused_or_weighs_less() {
        for value in [
            "gzip",
            "GZip",
            "x-gzip",
            "gzip ; q=0.001",
            "identity;q=0, gzip",
            "br;q=0.4, gzip;q=0.5",
            "br;q=0, *",
            "br;q=abc, gzip",
            "deflate, gzip",
        ] {
            assert_eq!(pick(&[value.as_bytes()]), Some(Coding::Gzip), "{value}");
        }
    }

    fn on_loopback(host: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        opened_on_loopback(&headers)
    }

    #[test]
    fn loopback_names_and_addresses_are_loopback() {
        for host in [
            "127.0.0.1:6274",
            "127.0.0.1",
            "127.1.2.3:80",
            "localhost:6274",
            "LocalHost:6274",
            "[::1]:6274",
            "[::1]",
        ] {
            assert!(on_loopback(host), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_not_loopback() {
        for host in [
            "192.168.1.20:6274",
            "10.0.0.5",
            "[2001:db8::1]:6274",
            "keyhole.example:6274",
            "localhost.example:6274",
            "127.0.0.1.nip.io:6274",
            "[::1",
            "",
        ] {
            assert!(!on_loopback(host), "{host:?}");
        }
        assert!(!opened_on_loopback(&HeaderMap::new()), "no Host");
    }

    #[test]
    fn identity_when_neither_coding_is_acceptable_or_the_header_is_unreadable() {
        for value in [
            "",
            "identity",
            "deflate, zstd",
            "gzip;q=0",
            "gzip;q=0.000, br;q=0",
            "gzip;q=2",
            "gzip;q=-1",
            "gzip;q=",
            "*;q=0",
            "gzip;q=0, br;q=0, *",
            "gzipx, brotli",
            ",,,;;;===",
        ] {
            assert_eq!(pick(&[value.as_bytes()]), None, "{value}");
        }
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[b"gz\xffip, b\xffr"]), None, "not visible ASCII");
    }
}
