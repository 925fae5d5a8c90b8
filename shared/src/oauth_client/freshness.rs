//! How long a metadata document may be used before it is fetched again: its freshness lifetime
//! from the response's caching headers (RFC 9111 §4.2.1: `Cache-Control: max-age`, else `Expires`
//! minus `Date`, less `Age`; `no-store` and `no-cache` mean "ask again every time"), or, for a
//! response that gives none, a short heuristic lifetime (§4.2.2 lets a cache choose one).
//!
//! Recovery uses it: a 401 mid-session is answered from metadata still fresh, so a silent refresh
//! costs one token request instead of three requests. Metadata that turned out wrong is fetched
//! again by the caller (the OAuth client re-discovers when a recovery from cached metadata does
//! not succeed). Written here because the HTTP caching crates model a whole cache, not this one
//! number.

use crate::http::HttpResponse;

/// The lifetime given to a document whose response has no caching headers.
pub const HEURISTIC_LIFETIME_SECS: u64 = 300;

/// The longest lifetime honoured (a day), whatever the headers say.
pub const MAX_LIFETIME_SECS: u64 = 24 * 3600;

/// Seconds `response` may be used from now.
pub fn lifetime_secs(response: &HttpResponse) -> u64 {
    let age = response
        .header("age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let explicit = match cache_control(response) {
        Directive::Revalidate => return 0,
        Directive::MaxAge(secs) => Some(secs),
        Directive::None => expires_minus_date(response),
    };
    explicit
        .map(|secs| secs.saturating_sub(age))
        .unwrap_or(HEURISTIC_LIFETIME_SECS)
        .min(MAX_LIFETIME_SECS)
}

enum Directive {
    /// `no-store`, `no-cache`, or a `max-age` that cannot be read.
    Revalidate,
    MaxAge(u64),
    None,
}

fn cache_control(response: &HttpResponse) -> Directive {
    let Some(value) = response.header("cache-control") else {
        return Directive::None;
    };
    let mut found = Directive::None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Directive::Revalidate;
        }
        if name.eq_ignore_ascii_case("max-age") {
            found = match argument.and_then(|a| a.parse::<u64>().ok()) {
                Some(secs) => Directive::MaxAge(secs),
                None => return Directive::Revalidate,
            };
        }
    }
    found
}

/// `Expires` minus `Date` (RFC 9111 §4.2.1); an `Expires` that cannot be read is in the past.
fn expires_minus_date(response: &HttpResponse) -> Option<u64> {
    let expires = response.header("expires")?;
    let Ok(expires) = httpdate::parse_http_date(expires.trim()) else {
        return Some(0);
    };
    let date = response
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())?;
    Some(
        expires
            .duration_since(date)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(headers: &[(&str, &str)]) -> HttpResponse {
        headers
            .iter()
            .fold(HttpResponse::new(200, b"{}".to_vec()), |r, (k, v)| {
                r.with_header(*k, *v)
            })
    }

    #[test]
    fn caching_headers_give_the_lifetime() {
        assert_eq!(lifetime_secs(&with(&[])), HEURISTIC_LIFETIME_SECS);
        assert_eq!(
            lifetime_secs(&with(&[("cache-control", "public, max-age=60")])),
            60
        );
        assert_eq!(
            lifetime_secs(&with(&[("Cache-Control", "max-age=60"), ("age", "15")])),
            45
        );
        assert_eq!(
            lifetime_secs(&with(&[("cache-control", "max-age=5"), ("age", "15")])),
            0
        );
        assert_eq!(lifetime_secs(&with(&[("cache-control", "no-store")])), 0);
        assert_eq!(
            lifetime_secs(&with(&[("cache-control", "max-age=60, no-cache")])),
            0
        );
        assert_eq!(
            lifetime_secs(&with(&[("cache-control", "max-age=soon")])),
            0
        );
        assert_eq!(
            lifetime_secs(&with(&[("cache-control", "max-age=99999999")])),
            MAX_LIFETIME_SECS
        );
        let dated = [
            ("date", "Mon, 30 Nov 2026 20:00:00 GMT"),
            ("expires", "Mon, 30 Nov 2026 20:10:00 GMT"),
        ];
        assert_eq!(lifetime_secs(&with(&dated)), 600);
        assert_eq!(lifetime_secs(&with(&[("expires", "0")])), 0);
        // max-age wins over Expires.
        let both = [dated[0], dated[1], ("cache-control", "max-age=30")];
        assert_eq!(lifetime_secs(&with(&both)), 30);
    }
}
