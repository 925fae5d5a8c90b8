//! The MCP Apps sandbox origin (#27). An app (a tool's `ui://` HTML resource, the
//! `io.modelcontextprotocol/ui` extension, 2026-01-26) must run on an origin other than the host
//! page's, behind a "sandbox proxy" frame (a MUST for web hosts): so Keyhole binds a second
//! loopback listener that serves nothing but that proxy page — no API, no token, no cookie of the
//! page's origin can be reached from it.
//!
//! `GET /proxy?csp=<JSON>` (`csp`: the resource's `_meta.ui.csp`, optional) answers the proxy page
//! with the app's `Content-Security-Policy` as an HTTP header: the specification's default when
//! nothing is declared, declared domains added to their directives, and malformed entries (a
//! quote, a `;`, a space, anything but an http(s)/ws(s) origin) dropped, so a resource cannot
//! widen the policy by injection. The app's HTML is written into the proxy's inner frame
//! (`srcdoc`, sandboxed without `allow-same-origin`: an opaque origin with no storage at all),
//! which inherits that policy. The proxy relays JSON-RPC both ways: from Keyhole's page (only
//! its parent window, only the page's own origins) to the app, and from the app's frame (only that
//! frame) back to the page. It is written here (no SDK), a page of its own rather than wasm.

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

/// What a UI resource may declare (`_meta.ui.csp`): origins per kind of use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeclaredCsp {
    pub connect_domains: Vec<String>,
    pub resource_domains: Vec<String>,
    pub frame_domains: Vec<String>,
    pub base_uri_domains: Vec<String>,
}

/// Whether `source` is an origin a policy may name: `http(s)://` or `ws(s)://`, a host (a leading
/// `*.` allowed), an optional port, nothing else.
fn is_origin(source: &str) -> bool {
    let Some((scheme, rest)) = source.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https" | "ws" | "wss") || rest.is_empty() {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host = host.strip_prefix("*.").unwrap_or(host);
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok =
        port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok());
    host_ok && port_ok
}

/// `base` then the well-formed origins of `declared`, or `empty` when there are none and no base.
fn directive(name: &str, base: &[&str], declared: &[String], empty: &str) -> String {
    let mut sources: Vec<&str> = base.to_vec();
    sources.extend(declared.iter().map(String::as_str).filter(|s| is_origin(s)));
    if sources.is_empty() {
        sources.push(empty);
    }
    format!("{name} {}", sources.join(" "))
}

/// The app's policy (the specification's "Content Security Policy" rules for hosts).
pub fn content_security_policy(declared: &DeclaredCsp) -> String {
    let resources = &declared.resource_domains;
    [
        "default-src 'none'".to_owned(),
        directive("script-src", &["'self'", "'unsafe-inline'"], resources, ""),
        directive("style-src", &["'self'", "'unsafe-inline'"], resources, ""),
        directive("img-src", &["'self'", "data:"], resources, ""),
        directive("font-src", &["'self'"], resources, ""),
        directive("media-src", &["'self'", "data:"], resources, ""),
        directive("connect-src", &[], &declared.connect_domains, "'none'"),
        directive("frame-src", &[], &declared.frame_domains, "'none'"),
        directive("base-uri", &[], &declared.base_uri_domains, "'self'"),
        "object-src 'none'".to_owned(),
    ]
    .join("; ")
}

#[derive(Deserialize)]
struct ProxyQuery {
    #[serde(default)]
    csp: Option<String>,
}

/// The proxy page; `HOSTS` becomes the JSON list of the page's origins.
const PROXY_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Keyhole app sandbox</title>
<style>html,body{margin:0;height:100%;overflow:hidden}iframe{border:0;width:100%;height:100%;display:block}</style>
</head><body><script>
(() => {
  const hosts = HOSTS;
  let host = null;
  let app = null;
  window.addEventListener('message', (event) => {
    if (event.source === window.parent && hosts.includes(event.origin)) {
      const message = event.data;
      if (message && message.method === 'ui/notifications/sandbox-resource-ready') {
        if (app) return;
        host = event.origin;
        app = document.createElement('iframe');
        app.setAttribute('sandbox', 'allow-scripts allow-forms');
        app.setAttribute('title', 'MCP app');
        app.srcdoc = String((message.params && message.params.html) || '');
        document.body.appendChild(app);
      } else if (app && app.contentWindow) {
        app.contentWindow.postMessage(message, '*');
      }
    } else if (app && host && event.source === app.contentWindow) {
      window.parent.postMessage(event.data, host);
    }
  });
  const ready = { jsonrpc: '2.0', method: 'ui/notifications/sandbox-proxy-ready', params: {} };
  for (const origin of hosts) window.parent.postMessage(ready, origin);
})();
</script></body></html>"#;

/// The sandbox origin's whole surface: `/proxy` for the page's `origins`, 404 for the rest.
pub fn router(origins: Vec<String>) -> Router {
    let hosts = serde_json::to_string(&origins).unwrap_or_else(|_| "[]".into());
    let page = PROXY_PAGE.replace("HOSTS", &hosts);
    Router::new()
        .route(
            "/proxy",
            get(move |Query(query): Query<ProxyQuery>| {
                let page = page.clone();
                async move { proxy(page, query) }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
}

fn proxy(page: String, query: ProxyQuery) -> Response {
    let declared = match query.csp.as_deref().filter(|c| !c.trim().is_empty()) {
        None => DeclaredCsp::default(),
        Some(text) => match serde_json::from_str(text) {
            Ok(declared) => declared,
            Err(error) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("`csp` is not a UI resource's csp object: {error}"),
                )
                    .into_response();
            }
        },
    };
    let policy = content_security_policy(&declared);
    let Ok(policy) = HeaderValue::from_str(&policy) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_declared_is_the_specifications_default() {
        assert_eq!(
            content_security_policy(&DeclaredCsp::default()),
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self'; media-src 'self' data:; connect-src 'none'; \
             frame-src 'none'; base-uri 'self'; object-src 'none'"
        );
    }

    #[test]
    fn declared_origins_go_to_their_directives() {
        let declared = DeclaredCsp {
            connect_domains: vec![
                "https://api.example.com".into(),
                "wss://live.example.com:8443".into(),
            ],
            resource_domains: vec!["https://*.cdn.example".into()],
            frame_domains: vec!["https://player.example".into()],
            base_uri_domains: vec![],
        };
        let policy = content_security_policy(&declared);
        assert!(
            policy.contains("script-src 'self' 'unsafe-inline' https://*.cdn.example;"),
            "{policy}"
        );
        assert!(
            policy.contains("img-src 'self' data: https://*.cdn.example;"),
            "{policy}"
        );
        assert!(
            policy.contains("connect-src https://api.example.com wss://live.example.com:8443;"),
            "{policy}"
        );
        assert!(
            policy.contains("frame-src https://player.example;"),
            "{policy}"
        );
        assert!(policy.contains("base-uri 'self';"), "{policy}");
    }

    #[test]
    fn malformed_entries_cannot_widen_the_policy() {
        let declared = DeclaredCsp {
            connect_domains: vec![
                "https://ok.example".into(),
                "https://a.example; script-src *".into(),
                "'unsafe-eval'".into(),
                "*".into(),
                "https://x.example/path".into(),
                "javascript://x".into(),
                "https://x.example:99999".into(),
                "https://\"q\"".into(),
            ],
            ..DeclaredCsp::default()
        };
        let policy = content_security_policy(&declared);
        assert!(
            policy.contains("connect-src https://ok.example;"),
            "{policy}"
        );
        assert_eq!(policy.matches("script-src").count(), 1, "{policy}");
        assert!(!policy.contains("unsafe-eval"), "{policy}");
    }
}
