//! Absolute URLs as the OAuth client needs them: parse, check the scheme and host, read the origin,
//! path and query, add query parameters.
//!
//! Both builds parse with an implementation of the WHATWG URL Standard: natively the `url` crate,
//! in the browser the browser's own `URL` (through `web-sys`). They agree on the `http` and `https`
//! URLs the OAuth client works with; browsers are known to deviate from the standard elsewhere
//! (Chrome gives `file:` URLs the origin `file://`). The native backend is unit-tested here; the
//! browser one runs in every Chromium end-to-end test that signs in. The browser already
//! ships that parser; linking the crate's into the web app as well cost about 50 KB of gzipped
//! wasm, most of it Unicode tables for internationalised host names. This module is the one place
//! that knows which parser is underneath; the rest of `shared` sees only [`AbsoluteUrl`].

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A parsed absolute URL. [`fmt::Display`] gives its serialization (`href`). Not `Clone`: in the
/// browser a clone would share the one JS object, and changing one would change both.
pub struct AbsoluteUrl(backend::Parsed);

/// A string that is not an absolute URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAbsolute;

impl AbsoluteUrl {
    pub fn parse(input: &str) -> Result<Self, NotAbsolute> {
        backend::parse(input).map(Self).ok_or(NotAbsolute)
    }

    /// The scheme, lowercase and without the `:`.
    pub fn scheme(&self) -> String {
        backend::scheme(&self.0)
    }

    /// The host as serialized in the URL (IPv6 in brackets); empty when there is none.
    pub fn host(&self) -> String {
        backend::host(&self.0)
    }

    /// `localhost`, or an IPv4 or IPv6 loopback address.
    pub fn has_loopback_host(&self) -> bool {
        let host = self.host();
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
        }
        host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// `scheme://host[:port]`, or `None` for a URL whose origin is opaque (no two of those are the
    /// same origin).
    pub fn origin(&self) -> Option<String> {
        let origin = backend::origin(&self.0);
        (origin != "null").then_some(origin)
    }

    /// The path, starting with `/` for `http` and `https`.
    pub fn path(&self) -> String {
        backend::path(&self.0)
    }

    /// The query without its `?`; `None` when it is absent or empty (the browser's `URL` cannot
    /// tell those two apart, so neither backend does).
    pub fn query(&self) -> Option<String> {
        backend::query(&self.0).filter(|q| !q.is_empty())
    }

    /// Appends `pairs`, `application/x-www-form-urlencoded`, after any query already there (which
    /// is kept byte for byte).
    pub fn append_query_pairs<'a>(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut query =
            form_urlencoded::Serializer::for_suffix(self.query().unwrap_or_default(), 0);
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        backend::set_query(&mut self.0, &query.finish());
    }
}

impl fmt::Display for AbsoluteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&backend::href(&self.0))
    }
}

impl fmt::Debug for AbsoluteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbsoluteUrl({self})")
    }
}

/// The name/value pairs of an `application/x-www-form-urlencoded` string (a query without `?`).
pub fn parse_form(encoded: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

/// One `application/x-www-form-urlencoded` component (space as `+`).
pub fn form_component(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
mod backend {
    pub type Parsed = url::Url;

    pub fn parse(input: &str) -> Option<Parsed> {
        url::Url::parse(input).ok()
    }
    pub fn scheme(url: &Parsed) -> String {
        url.scheme().to_owned()
    }
    pub fn host(url: &Parsed) -> String {
        url.host_str().unwrap_or_default().to_owned()
    }
    pub fn origin(url: &Parsed) -> String {
        url.origin().ascii_serialization()
    }
    pub fn path(url: &Parsed) -> String {
        url.path().to_owned()
    }
    pub fn query(url: &Parsed) -> Option<String> {
        url.query().map(str::to_owned)
    }
    pub fn set_query(url: &mut Parsed, query: &str) {
        url.set_query(Some(query));
    }
    pub fn href(url: &Parsed) -> String {
        url.as_str().to_owned()
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod backend {
    pub type Parsed = web_sys::Url;

    pub fn parse(input: &str) -> Option<Parsed> {
        web_sys::Url::new(input).ok()
    }
    pub fn scheme(url: &Parsed) -> String {
        let protocol = url.protocol();
        protocol.strip_suffix(':').unwrap_or(&protocol).to_owned()
    }
    pub fn host(url: &Parsed) -> String {
        url.hostname()
    }
    pub fn origin(url: &Parsed) -> String {
        url.origin()
    }
    pub fn path(url: &Parsed) -> String {
        url.pathname()
    }
    pub fn query(url: &Parsed) -> Option<String> {
        let search = url.search();
        search.strip_prefix('?').map(str::to_owned)
    }
    pub fn set_query(url: &mut Parsed, query: &str) {
        url.set_search(query);
    }
    pub fn href(url: &Parsed) -> String {
        url.href()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_of_an_url() {
        let url = AbsoluteUrl::parse("HTTPS://Example.COM:443/a/b/?x=1#f").unwrap();
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host(), "example.com");
        assert_eq!(url.origin().as_deref(), Some("https://example.com"));
        assert_eq!(url.path(), "/a/b/");
        assert_eq!(url.query().as_deref(), Some("x=1"));
        assert_eq!(url.to_string(), "https://example.com/a/b/?x=1#f");
    }

    #[test]
    fn refuses_what_is_not_absolute() {
        for input in [
            "",
            "/relative",
            "example.com/x",
            "http://",
            "https://exa mple.com/",
        ] {
            assert_eq!(
                AbsoluteUrl::parse(input).unwrap_err(),
                NotAbsolute,
                "{input:?}"
            );
        }
    }

    #[test]
    fn knows_loopback_hosts() {
        for loopback in [
            "http://localhost:1/",
            "http://LOCALHOST/",
            "http://127.0.0.1/",
            "http://127.4.5.6:8/",
            "http://[::1]:9/",
        ] {
            assert!(
                AbsoluteUrl::parse(loopback).unwrap().has_loopback_host(),
                "{loopback}"
            );
        }
        for remote in [
            "http://example.com/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example.com/",
            "file:///tmp/x",
        ] {
            assert!(
                !AbsoluteUrl::parse(remote).unwrap().has_loopback_host(),
                "{remote}"
            );
        }
    }

    #[test]
    fn an_empty_query_is_no_query_and_opaque_origins_are_none() {
        assert_eq!(AbsoluteUrl::parse("https://a/?").unwrap().query(), None);
        assert_eq!(AbsoluteUrl::parse("https://a/").unwrap().query(), None);
        assert_eq!(AbsoluteUrl::parse("urn:example:x").unwrap().origin(), None);
    }

    #[test]
    fn appends_query_pairs_after_the_existing_query() {
        let mut url = AbsoluteUrl::parse("https://as/authorize?a=b%20c#frag").unwrap();
        url.append_query_pairs([("client_id", "c 1"), ("redirect_uri", "http://x/?y=&z")]);
        assert_eq!(
            url.to_string(),
            "https://as/authorize?a=b%20c&client_id=c+1&redirect_uri=http%3A%2F%2Fx%2F%3Fy%3D%26z#frag"
        );
        let mut bare = AbsoluteUrl::parse("https://as/authorize").unwrap();
        bare.append_query_pairs([("k", "v")]);
        assert_eq!(bare.to_string(), "https://as/authorize?k=v");
    }

    #[test]
    fn form_helpers_round_trip() {
        assert_eq!(form_component("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            parse_form("a=1&b=x+y&c=%C3%A9&a=2"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y".to_owned()),
                ("c".to_owned(), "é".to_owned()),
                ("a".to_owned(), "2".to_owned()),
            ]
        );
    }
}
