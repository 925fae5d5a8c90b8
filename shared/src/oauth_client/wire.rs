//! Reading what servers send: JSON documents, token-endpoint answers and OAuth error bodies.
//! Everything here treats the peer as untrusted: wrong types, non-JSON bodies and odd statuses
//! become a clear [`OAuthClientError`], never a panic, and token bodies are never echoed.

use serde::de::DeserializeOwned;

use super::OAuthClientError;
use crate::http::{HttpClient, HttpRequest, HttpResponse};
use crate::tokens::OAuthErrorResponse;
use crate::web_url::AbsoluteUrl;

/// Sends `request`, tagging it with `step` for the observer.
pub(crate) async fn send(
    http: &impl HttpClient,
    request: HttpRequest,
    step: &str,
) -> Result<HttpResponse, OAuthClientError> {
    http.send(request.with_step(step))
        .await
        .map_err(|source| OAuthClientError::Http {
            step: step.to_owned(),
            source,
        })
}

/// An endpoint URL from metadata or configuration must be absolute `https`, or `http` on a
/// loopback host (local development).
pub(crate) fn check_endpoint(url: &str, step: &str) -> Result<AbsoluteUrl, OAuthClientError> {
    let parsed = AbsoluteUrl::parse(url)
        .map_err(|_| OAuthClientError::invalid(step, format!("`{url}` is not an absolute URL")))?;
    match parsed.scheme().as_str() {
        "https" => Ok(parsed),
        "http" if parsed.has_loopback_host() => Ok(parsed),
        _ => Err(OAuthClientError::invalid(
            step,
            format!("`{url}` must use https (plain http is accepted on loopback only)"),
        )),
    }
}

/// A JSON document from a well-known URL, with how long it may be used (seconds, from its
/// caching headers: [`super::freshness`]): `Ok(None)` when the server has none there (any non-2xx
/// status), an error when it answers 2xx with something that is not a JSON object.
pub(crate) async fn fetch_document(
    http: &impl HttpClient,
    url: &str,
    step: &str,
) -> Result<Option<(serde_json::Value, u64)>, OAuthClientError> {
    check_endpoint(url, step)?;
    let response = send(http, HttpRequest::get(url), step).await?;
    if !response.is_success() {
        return Ok(None);
    }
    let value = crate::json::value_from_bytes(&response.body)
        .ok_or_else(|| OAuthClientError::invalid(step, format!("`{url}` did not return JSON")))?;
    if !value.is_object() {
        return Err(OAuthClientError::invalid(
            step,
            format!("`{url}` did not return a JSON object"),
        ));
    }
    Ok(Some((value, super::freshness::lifetime_secs(&response))))
}

/// Decodes a public document (metadata); the decoder's message is safe to show.
pub(crate) fn decode_document<T: DeserializeOwned>(
    value: serde_json::Value,
    step: &str,
) -> Result<T, OAuthClientError> {
    serde_json::from_value(value).map_err(|e| OAuthClientError::invalid(step, e.to_string()))
}

/// Decodes a body that may carry credentials: on failure only the position is reported.
pub(crate) fn decode_secret_body<T: DeserializeOwned>(
    body: &[u8],
    step: &str,
) -> Result<T, OAuthClientError> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => "a field is missing or has the wrong type",
            _ => "the body is not valid JSON",
        };
        OAuthClientError::invalid(
            step,
            format!(
                "unexpected response ({kind}, line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// An OAuth error body (`{"error": …}`) if the response carries one.
pub(crate) fn oauth_error(response: &HttpResponse) -> Option<OAuthErrorResponse> {
    serde_json::from_slice::<OAuthErrorResponse>(&response.body).ok()
}

/// The outcome of a POST to a token or registration endpoint: the decoded success body, the
/// OAuth error, or an unexpected status.
pub(crate) fn read_answer<T: DeserializeOwned>(
    response: &HttpResponse,
    step: &str,
) -> Result<T, OAuthClientError> {
    if response.is_success() {
        return decode_secret_body(&response.body, step);
    }
    match oauth_error(response) {
        Some(error) => Err(OAuthClientError::OAuth {
            step: step.to_owned(),
            error,
        }),
        None => Err(OAuthClientError::Status {
            step: step.to_owned(),
            status: response.status,
        }),
    }
}
