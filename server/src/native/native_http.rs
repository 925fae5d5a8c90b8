//! The native implementations of the effects the shared OAuth flows are written against: HTTP on
//! reqwest ([`NativeHttp`]), the system clock ([`SystemClock`]) and the OS random source
//! ([`OsEntropy`]). The web backend (`/api/oauth/fetch`) and the CLI use these.
//!
//! [`NativeHttp`] never follows redirects (an OAuth client must see a 302, not its target),
//! bounds each exchange in time and the response body in size, and accepts only `http` and
//! `https` URLs. Wrap it in [`Observed`] (see [`NativeHttp::observed`]) to report every exchange,
//! with `Authorization`, cookies and credential form and JSON fields redacted.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyhole_shared::dpop::{DpopError, ProofRequest};

use keyhole_shared::http::{
    ExchangeObserver, HttpClient, HttpError, HttpExchange, HttpMethod, HttpRequest, HttpResponse,
    Observed,
};
use keyhole_shared::random::Entropy;
use keyhole_shared::recovery::Clock;
use rand::RngCore;

use super::dpop_keys::DpopKeys;

/// Default bound on one exchange, connection to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default cap on a response body: metadata and token responses are small.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// An [`HttpClient`] on reqwest.
#[derive(Clone, Debug)]
pub struct NativeHttp {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    /// The keys DPoP proofs are signed with; without them, no proofs.
    dpop_keys: Option<Arc<DpopKeys>>,
}

impl Default for NativeHttp {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeHttp {
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_TIMEOUT, DEFAULT_MAX_BODY)
    }

    pub fn with_limits(timeout: Duration, max_body: usize) -> Self {
        let client = crate::native::upstream_http::client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("keyhole/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            client,
            timeout,
            max_body,
            dpop_keys: None,
        }
    }

    /// The keys it signs DPoP proofs with.
    pub fn dpop_keys(&self) -> Option<&Arc<DpopKeys>> {
        self.dpop_keys.as_ref()
    }

    /// This client, signing DPoP proofs with `keys`.
    pub fn with_dpop_keys(mut self, keys: Arc<DpopKeys>) -> Self {
        self.dpop_keys = Some(keys);
        self
    }

    /// This client, reporting every exchange to `observer`.
    pub fn observed<O: ExchangeObserver>(self, observer: O) -> Observed<Self, O> {
        Observed::new(self, observer)
    }

    /// Names the failure (which limit, what broke) without the URL's secrets.
    fn transport_error(&self, error: reqwest::Error) -> HttpError {
        if error.is_timeout() {
            return HttpError::Timeout {
                secs: self.timeout.as_secs(),
            };
        }
        let shown = error
            .url()
            .map(|url| keyhole_shared::http::redact_url(url.as_str()))
            .unwrap_or_else(|| "the server".into());
        HttpError::Transport(crate::native::upstream_http::describe(&shown, &error))
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, HttpError> {
        let too_large = HttpError::TooLarge {
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body as u64)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl HttpClient for NativeHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let refused = |reason: &str| HttpError::Refused {
            url: keyhole_shared::http::redact_url(&request.url),
            reason: reason.to_owned(),
        };
        let url = reqwest::Url::parse(&request.url).map_err(|_| refused("not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused("only http and https are allowed"));
        }
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Options => reqwest::Method::OPTIONS,
        };
        let mut builder = self.client.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let started = Instant::now();
        let response = builder.send().await.map_err(|e| self.transport_error(e))?;
        crate::native::upstream_http::check_head(&response).map_err(HttpError::Transport)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let body = self.read_body(response).await?;
        Ok(HttpResponse {
            status,
            headers,
            body,
            elapsed_ms: Some(started.elapsed().as_millis().try_into().unwrap_or(u64::MAX)),
        })
    }

    async fn dpop_proof(&self, request: &ProofRequest) -> Result<String, DpopError> {
        match &self.dpop_keys {
            Some(keys) => keys.prove(request),
            None => Err(DpopError::Unsupported),
        }
    }
}

/// Logs each exchange (already redacted) at debug level; for the CLI's `--verbose`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingObserver;

impl ExchangeObserver for TracingObserver {
    fn observe(&self, exchange: HttpExchange) {
        tracing::debug!(
            step = exchange.step.as_deref().unwrap_or(""),
            method = %exchange.method,
            url = %exchange.url,
            status = exchange.status,
            elapsed_ms = exchange.elapsed_ms,
            error = exchange.error.as_deref(),
            "oauth exchange"
        );
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The operating system's random source (through `rand`'s thread generator, seeded from it).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, bytes: &mut [u8]) {
        rand::rng().fill_bytes(bytes);
    }
}
