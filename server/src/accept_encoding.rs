//! Whether a request's `Accept-Encoding` lets us answer with gzip (RFC 9110 §12.5.3).
//!
//! The web app's files are gzip-compressed once, at build time, with a slower and better encoder
//! than a per-request one can afford; [`crate::assets`] serves those bytes as they are when the
//! client accepts gzip. tower-http's compression layer parses this header too, but keeps its
//! parser private, so the few lines it takes are here.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;

/// `true` when `gzip` (or its alias `x-gzip`, or `*` when gzip is not named) is listed with a
/// non-zero weight. A missing or unreadable header means identity only.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut named = None;
    let mut wildcard = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let weight = parts.find_map(weight_of).unwrap_or(Some(1.0));
            let acceptable = weight.is_some_and(|q| q > 0.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                named = Some(named.unwrap_or(false) || acceptable);
            } else if coding == "*" {
                wildcard = Some(acceptable);
            }
        }
    }
    named.or(wildcard).unwrap_or(false)
}

/// `Some(Some(q))` for a `q=` parameter; `Some(None)` when it is malformed (treated as refusing);
/// `None` for any other parameter.
fn weight_of(param: &str) -> Option<Option<f32>> {
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

    fn accepts(values: &[&[u8]]) -> bool {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_bytes(value).unwrap());
        }
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_listed_with_a_weight_above_zero_is_accepted() {
        for value in [
            "gzip",
            "GZip",
            "x-gzip",
            "gzip, deflate, br, zstd",
            "br;q=1.0, gzip;q=0.8, *;q=0.1",
            "gzip ; q=0.001",
            "identity;q=0, gzip",
            "*",
            "br, *;q=0.5",
        ] {
            assert!(accepts(&[value.as_bytes()]), "{value}");
        }
        assert!(accepts(&[b"br", b"gzip"]), "split over two header lines");
    }

    #[test]
    fn gzip_absent_refused_or_unreadable_is_not_accepted() {
        for value in [
            "",
            "identity",
            "br, deflate",
            "gzip;q=0",
            "gzip;q=0.000",
            "gzip;q=2",
            "gzip;q=-1",
            "gzip;q=abc",
            "gzip;q=",
            "*;q=0",
            "gzip;q=0, *",
            "gzipx",
            ",,,;;;===",
        ] {
            assert!(!accepts(&[value.as_bytes()]), "{value}");
        }
        assert!(!accepts(&[]));
        assert!(!accepts(&[b"gz\xffip"]), "not visible ASCII");
    }
}
