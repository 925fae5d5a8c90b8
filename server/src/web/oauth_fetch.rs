//! `POST /api/oauth/fetch`: the browser's OAuth legs (metadata, registration, token requests) cannot
//! call authorization servers directly because of CORS, so they go through here. Only http(s), no
//! redirects followed, capped in size and time, and every exchange recorded — with secrets redacted —
//! in the session's network log when the page names its session.
//!
//! `POST /api/oauth/dpop-proof`: the DPoP proof of such a request (a token request for a
//! DPoP-bound token), signed here with the server's key, which never leaves the backend
//! (`keyhole_shared::dpop`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use keyhole_shared::api::{DpopProofReply, ExchangeKind, FetchReply};
use keyhole_shared::dpop::ProofRequest;
use serde::Deserialize;
use serde_json::Value;

use crate::native::mcp_client::ClientEvents;
use crate::native::mcp_client::exchange::ExchangeRecorder;
use crate::native::mcp_client::{describe_request_error, read_capped};
use crate::web::error::{ApiJson, AppError};
use crate::web::hub::{Failure, Hub, Reply};

/// The largest response body passed back to the page.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// How long one OAuth request may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FetchRequest {
    url: String,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    /// The backend session whose network log records the exchange.
    #[serde(default)]
    session_id: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

/// Events of an exchange that belongs to no session: only the log line survives.
struct Unattached;

impl ClientEvents for Unattached {
    fn server_message(&self, _: Value) {}
    fn exchange(&self, exchange: keyhole_shared::api::HttpExchange) {
        tracing::debug!(method = %exchange.method, url = %exchange.url, status = ?exchange.status, "oauth fetch");
    }
    fn ambient_challenge(&self, _: crate::native::mcp_client::UpstreamChallenge) {}
    fn notice(&self, _: String) {}
}

pub async fn fetch(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<FetchRequest>,
) -> Result<Reply<FetchReply>, AppError> {
    let url = url::Url::parse(&request.url)
        .map_err(|e| AppError::BadRequest(format!("{:?} is not a URL: {e}", request.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::BadRequest(format!(
            "only http(s) URLs can be fetched, not {:?}",
            url.scheme()
        )));
    }
    let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| AppError::BadRequest(format!("{:?} is not an HTTP method", request.method)))?;
    let events: Arc<dyn ClientEvents> = match &request.session_id {
        Some(id) => hub
            .get(id)
            .ok_or_else(|| AppError::NotFound(format!("no Keyhole session {id:?}")))?
            .events
            .clone(),
        None => Arc::new(Unattached),
    };
    let mut builder = hub.http().request(method, url.clone()).timeout(TIMEOUT);
    for (name, value) in &request.headers {
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AppError::BadRequest(format!("{name:?} is not a valid header name")))?;
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let outgoing = builder
        .build()
        .map_err(|e| AppError::BadRequest(format!("cannot build the request: {e}")))?;
    let body_bytes = request.body.as_deref().map(str::as_bytes);
    let mut recorder = ExchangeRecorder::start(events, &outgoing, body_bytes, ExchangeKind::Oauth);
    let response = match hub.http().execute(outgoing).await {
        Ok(response) => response,
        Err(error) => {
            let message = describe_request_error(&url, &error);
            recorder.fail(message.clone());
            return Ok(Reply::failed(Failure::transport(message)));
        }
    };
    let status = response.status().as_u16();
    recorder.response(status, response.headers());
    if let Err(message) = crate::native::upstream_http::check_head(&response) {
        recorder.fail(message.clone());
        return Ok(Reply::failed(Failure::transport(message)));
    }
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match read_capped(response, MAX_RESPONSE_BYTES).await {
        Ok(body) => body,
        Err(message) => {
            recorder.fail(message.clone());
            return Ok(Reply::failed(Failure::transport(message)));
        }
    };
    recorder.body_chunk(&body);
    recorder.finish();
    Ok(Reply::ok(FetchReply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

/// The longest key id (a server URL) a proof may be asked for.
const MAX_KEY_ID: usize = 2048;

/// `POST /api/oauth/dpop-proof`: a proof for the page's request to `url` with `htm`.
pub async fn dpop_proof(
    State(hub): State<Arc<Hub>>,
    ApiJson(request): ApiJson<ProofRequest>,
) -> Result<Reply<DpopProofReply>, AppError> {
    if request.key_id.is_empty() || request.key_id.len() > MAX_KEY_ID {
        return Err(AppError::BadRequest(
            "keyId must name the server (at most 2048 bytes)".into(),
        ));
    }
    if !matches!(request.htm.as_str(), "GET" | "POST") {
        return Err(AppError::BadRequest(format!(
            "htm must be GET or POST, not {:?}",
            request.htm
        )));
    }
    match url::Url::parse(&request.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        _ => {
            return Err(AppError::BadRequest(format!(
                "{:?} is not an http(s) URL",
                request.url
            )));
        }
    }
    Ok(match hub.dpop_keys().prove(&request) {
        Ok(proof) => Reply::ok(DpopProofReply { proof }),
        Err(error) => Reply::failed(Failure::transport(error.to_string())),
    })
}
