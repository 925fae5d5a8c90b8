//! The HTTP the OAuth flows need, as a small injected trait, plus the observer that lets the UI
//! show every exchange a flow made.
//!
//! The shared crate performs no I/O: the backend and CLI plug in a reqwest client, the browser a
//! `fetch` through the backend's `/api/oauth/fetch`, and tests a fake. The trait uses `async fn`
//! without a `Send` bound because nothing in the browser is `Send`.
//!
//! [`Observed`] wraps any client and reports each exchange to an [`ExchangeObserver`] with secrets
//! removed: the `Authorization`, `Cookie` and `Set-Cookie` headers, the `DPoP` proof's signature
//! (its header and claims are kept, decoded by the views), the credential fields of
//! form bodies (`client_secret`, `code`, `code_verifier`, `refresh_token`, `assertion`, …), the
//! token fields of JSON bodies, and the same names in query strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An HTTP method; only the ones the flows (and the doctor's CORS check) use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Options,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Options => "OPTIONS",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request. Header names are compared case-insensitively.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What the flow was doing (e.g. "authorization-server metadata"); not sent, only observed.
    pub step: Option<String>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the headers or body: they carry credentials.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &redact_url(&self.url))
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: HttpMethod::Get,
            url: url.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
            step: None,
        }
    }

    /// A POST of `application/x-www-form-urlencoded` pairs.
    pub fn post_form(url: impl Into<String>, pairs: &[(&str, &str)]) -> Self {
        let body = serde_urlencoded::to_string(pairs).unwrap_or_default();
        Self {
            method: HttpMethod::Post,
            url: url.into(),
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: body.into_bytes(),
            step: None,
        }
    }

    /// A POST of a JSON document.
    pub fn post_json(url: impl Into<String>, document: &serde_json::Value) -> Self {
        Self {
            method: HttpMethod::Post,
            url: url.into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: document.to_string().into_bytes(),
            step: None,
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// One response, body already read (and capped by the implementation).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Time from sending the request to the end of the body, when the implementation measures it.
    pub elapsed_ms: Option<u64>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            elapsed_ms: None,
        }
    }

    pub fn json(status: u16, document: &serde_json::Value) -> Self {
        Self::new(status, document.to_string()).with_header("content-type", "application/json")
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why no response arrived. Messages never contain request bodies or headers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("refused to request `{url}`: {reason}")]
    Refused { url: String, reason: String },
    #[error("no answer within {secs} s")]
    Timeout { secs: u64 },
    #[error("the response is larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("could not reach the server: {0}")]
    Transport(String),
}

/// Sends one request and reads the whole response. Redirects are never followed.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;

    /// A DPoP proof for `request`, signed by the key of `request.key_id` (created on first use).
    /// Whoever holds the keys signs: the backend and the CLI themselves, the page by asking the
    /// backend (see [`crate::dpop`]). By default a client cannot sign.
    async fn dpop_proof(
        &self,
        request: &crate::dpop::ProofRequest,
    ) -> Result<String, crate::dpop::DpopError> {
        let _ = request;
        Err(crate::dpop::DpopError::Unsupported)
    }
}

impl<T: HttpClient + ?Sized> HttpClient for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        (**self).send(request).await
    }

    async fn dpop_proof(
        &self,
        request: &crate::dpop::ProofRequest,
    ) -> Result<String, crate::dpop::DpopError> {
        (**self).dpop_proof(request).await
    }
}

/// One exchange as the UI shows it: nothing secret in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpExchange {
    #[serde(default)]
    pub step: Option<String>,
    pub method: HttpMethod,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(default)]
    pub request_body: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    #[serde(default)]
    pub response_body: Option<String>,
    #[serde(default)]
    pub elapsed_ms: Option<u64>,
    /// Set when no response arrived.
    #[serde(default)]
    pub error: Option<String>,
}

/// Receives every exchange a flow makes.
pub trait ExchangeObserver {
    fn observe(&self, exchange: HttpExchange);
}

impl<T: ExchangeObserver + ?Sized> ExchangeObserver for &T {
    fn observe(&self, exchange: HttpExchange) {
        (**self).observe(exchange);
    }
}

impl<T: ExchangeObserver + ?Sized> ExchangeObserver for std::sync::Arc<T> {
    fn observe(&self, exchange: HttpExchange) {
        (**self).observe(exchange);
    }
}

/// Observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl ExchangeObserver for NoObserver {
    fn observe(&self, _: HttpExchange) {}
}

/// Collects exchanges in memory (tests, the CLI's `--verbose`).
#[derive(Debug, Default)]
pub struct RecordingObserver {
    exchanges: std::sync::Mutex<Vec<HttpExchange>>,
}

impl RecordingObserver {
    pub fn exchanges(&self) -> Vec<HttpExchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl ExchangeObserver for RecordingObserver {
    fn observe(&self, exchange: HttpExchange) {
        self.exchanges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(exchange);
    }
}

/// An [`HttpClient`] that reports every exchange of `inner` to `observer`, redacted.
#[derive(Clone, Debug)]
pub struct Observed<H, O> {
    pub inner: H,
    pub observer: O,
}

impl<H, O> Observed<H, O> {
    pub fn new(inner: H, observer: O) -> Self {
        Self { inner, observer }
    }
}

impl<H: HttpClient, O: ExchangeObserver> HttpClient for Observed<H, O> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut exchange = HttpExchange {
            step: request.step.clone(),
            method: request.method,
            url: redact_url(&request.url),
            request_headers: redact_headers(&request.headers),
            request_body: redact_body(request.header("content-type"), &request.body),
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            elapsed_ms: None,
            error: None,
        };
        let result = self.inner.send(request).await;
        match &result {
            Ok(response) => {
                exchange.status = Some(response.status);
                exchange.response_headers = redact_headers(&response.headers);
                exchange.response_body =
                    redact_body(response.header("content-type"), &response.body);
                exchange.elapsed_ms = response.elapsed_ms;
            }
            Err(error) => exchange.error = Some(error.to_string()),
        }
        self.observer.observe(exchange);
        result
    }

    async fn dpop_proof(
        &self,
        request: &crate::dpop::ProofRequest,
    ) -> Result<String, crate::dpop::DpopError> {
        self.inner.dpop_proof(request).await
    }
}

/// Shown in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Bodies longer than this are cut in observed exchanges.
pub const OBSERVED_BODY_LIMIT: usize = 16 * 1024;

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
    "x-keyhole-token",
    "x-api-key",
    "api-key",
];

/// Form, query and JSON field names whose values are credentials.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "password",
    "token",
    "registration_access_token",
];

pub(crate) fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Whether a header carries a credential (its value is never logged, and kept in the keychain).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| (name.clone(), shown_header_value(name, value)))
        .collect()
}

/// What a log shows of one header's value: a secret replaced, a DPoP proof without its signature,
/// anything else as it is.
pub fn shown_header_value(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case(crate::dpop::PROOF_HEADER) {
        crate::dpop::without_signature(value)
    } else if is_secret_header(name) {
        REDACTED.into()
    } else {
        value.to_owned()
    }
}

fn redact_pairs(encoded: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(encoded).unwrap_or_default();
    let shown: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            let v = if is_secret_field(&k) {
                REDACTED.into()
            } else {
                v
            };
            (k, v)
        })
        .collect();
    serde_urlencoded::to_string(shown).unwrap_or_default()
}

/// The URL with credential-named query parameters replaced.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let mut out = format!("{base}?{}", redact_pairs(query));
            if fragment.is_some() {
                out.push_str("#<fragment>");
            }
            out
        }
        None => url.to_owned(),
    }
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_field(key) && !v.is_null() {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// A displayable, redacted body: forms and JSON field by field; anything else only when it is
/// neither of those, as lossy text, cut at [`OBSERVED_BODY_LIMIT`].
pub fn redact_body(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let kind = content_type.unwrap_or("").to_ascii_lowercase();
    let text = String::from_utf8_lossy(body);
    let shown = if kind.starts_with("application/x-www-form-urlencoded") {
        redact_pairs(&text)
    } else if let Some(mut json) = crate::json::value_from_bytes(body) {
        redact_json(&mut json);
        json.to_string()
    } else if kind.contains("json") || kind.is_empty() {
        // Unparseable "JSON" may still hold a token: do not show it.
        format!("<{} bytes, not shown>", body.len())
    } else {
        text.into_owned()
    };
    Some(cut(shown))
}

fn cut(mut text: String) -> String {
    if text.len() > OBSERVED_BODY_LIMIT {
        let mut end = OBSERVED_BODY_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    struct Canned;
    impl HttpClient for Canned {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
            Ok(HttpResponse::json(
                200,
                &serde_json::json!({"access_token":"AT-1","nested":{"refresh_token":"RT-1"},"scope":"a"}),
            )
            .with_header("Set-Cookie", "sid=1"))
        }
    }

    #[test]
    fn observed_exchanges_hold_no_secrets() {
        let observer = RecordingObserver::default();
        let http = Observed::new(Canned, &observer);
        let request = HttpRequest::post_form(
            "https://as/token?code=C-1&x=1",
            &[
                ("grant_type", "authorization_code"),
                ("code", "C-1"),
                ("client_secret", "S-1"),
                ("code_verifier", "V-1"),
            ],
        )
        .with_header("Authorization", "Basic QQ==")
        .with_step("token");
        assert!(!format!("{request:?}").contains("C-1"));
        block_on(http.send(request)).unwrap();
        let seen = serde_json::to_string(&observer.exchanges()).unwrap();
        for secret in ["AT-1", "RT-1", "C-1", "S-1", "V-1", "QQ==", "sid=1"] {
            assert!(!seen.contains(secret), "{secret} leaked: {seen}");
        }
        assert!(seen.contains("authorization_code"));
        let body = observer.exchanges()[0].response_body.clone().unwrap();
        assert!(body.contains("\"scope\":\"a\""), "{body}");
        assert_eq!(observer.exchanges()[0].status, Some(200));
    }

    #[test]
    fn bodies_that_are_not_json_or_forms() {
        assert_eq!(
            redact_body(Some("application/json"), b"{not json access_token"),
            Some("<22 bytes, not shown>".into())
        );
        assert_eq!(
            redact_body(Some("text/html"), b"<p>hi</p>"),
            Some("<p>hi</p>".into())
        );
        assert_eq!(redact_body(None, b""), None);
        let long = "x".repeat(OBSERVED_BODY_LIMIT + 10);
        assert!(
            redact_body(Some("text/plain"), long.as_bytes())
                .unwrap()
                .len()
                < long.len()
        );
    }
}
