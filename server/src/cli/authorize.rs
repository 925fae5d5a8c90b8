//! The interactive leg of authorization for a terminal: visit the authorization URL and get the
//! redirect back.
//!
//! * Browser mode: a one-shot HTTP listener on `127.0.0.1:<port>` (loopback only, RFC 8252)
//!   receives `/callback?code=…&state=…`; the URL is opened with the browser (or printed), and the
//!   wait is bounded by `--auth-timeout`.
//! * Non-interactive mode: for authorization servers that approve at once, the authorization URL
//!   is fetched without following redirects and the callback is read from `Location`. Anything
//!   else is named: a sign-in page (a person is needed), an unknown client (the caller registers
//!   again), or the authorization server's refusal.

use std::time::Duration;

use keyhole_shared::http::HttpResponse;
use keyhole_shared::messages;
use keyhole_shared::oauth_client::forget::unknown_client_answer;
use keyhole_shared::tokens::OAuthErrorResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{CliError, Terminal};

/// Why no callback came back.
#[derive(Debug)]
pub(crate) enum CallbackFailure {
    /// The authorization server does not know the client (it restarted and forgot it).
    ClientUnknown(OAuthErrorResponse),
    Other(CliError),
}

impl From<CliError> for CallbackFailure {
    fn from(error: CliError) -> Self {
        Self::Other(error)
    }
}

/// How the redirect comes back.
#[derive(Debug, Clone)]
pub(crate) struct CallbackOptions {
    pub port: u16,
    pub timeout: Duration,
    pub non_interactive: bool,
}

impl Default for CallbackOptions {
    fn default() -> Self {
        Self {
            port: super::args::DEFAULT_CALLBACK_PORT,
            timeout: Duration::from_secs(300),
            non_interactive: false,
        }
    }
}

/// The redirect URI registered for the loopback callback.
pub(crate) fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// Returns the full callback URL (with `code`, `state`, `iss`…) for `authorization_url`.
pub(crate) async fn obtain_callback(
    authorization_url: &str,
    options: &CallbackOptions,
    terminal: &mut dyn Terminal,
) -> Result<String, CallbackFailure> {
    if options.non_interactive {
        return follow_once(authorization_url, &redirect_uri(options.port)).await;
    }
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| {
            CliError::auth(format!(
                "cannot listen for the OAuth callback on 127.0.0.1:{}: {e} (choose another with --callback-port)",
                options.port
            ))
        })?;
    terminal.err(&format!(
        "Authorize Keyhole in your browser; if it does not open, visit:\n  {authorization_url}"
    ));
    if !terminal.open_browser(authorization_url) {
        terminal.err("(could not start a browser; open the URL above yourself)");
    }
    let port = options.port;
    match tokio::time::timeout(options.timeout, wait_for_callback(listener, port)).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CliError::auth(format!(
            "no answer from the browser within {} s (--auth-timeout); authorization was not completed",
            options.timeout.as_secs()
        ))
        .into()),
    }
}

/// Non-interactive mode: GET without following redirects; a redirect to `redirect_uri` is the
/// callback.
async fn follow_once(
    authorization_url: &str,
    redirect_uri: &str,
) -> Result<String, CallbackFailure> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| CliError::error(format!("could not build the HTTP client: {e}")))?;
    let response = http
        .get(authorization_url)
        .send()
        .await
        .map_err(|e| CliError::auth(format!("the authorization request failed: {e}")))?;
    let status = response.status();
    let base = url::Url::parse(authorization_url)
        .map_err(|e| CliError::auth(format!("bad authorization URL: {e}")))?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| status.is_redirection())
        .map(|location| base.join(location));
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("html"));
    let target = match location {
        Some(Ok(target)) => target,
        Some(Err(e)) => return Err(CliError::auth(format!("bad redirect Location: {e}")).into()),
        None => {
            let body = response.bytes().await.unwrap_or_default();
            let answer = HttpResponse::new(status.as_u16(), body.to_vec());
            if let Some(error) = unknown_client_answer(&answer, redirect_uri) {
                return Err(CallbackFailure::ClientUnknown(error));
            }
            return Err(CliError::auth(refusal(status.as_u16(), html, &answer.body)).into());
        }
    };
    let ours = url::Url::parse(redirect_uri)
        .map_err(|e| CliError::error(format!("bad redirect URI: {e}")))?;
    let back_to_us = target.origin() == ours.origin() && target.path() == ours.path();
    if !back_to_us {
        let mut page = target.clone();
        page.set_query(None);
        let what = format!("sends the browser to a sign-in page ({page})");
        return Err(CliError::auth(messages::non_interactive_needs_a_person(&what)).into());
    }
    let answer =
        HttpResponse::new(status.as_u16(), Vec::new()).with_header("location", target.as_str());
    if let Some(error) = unknown_client_answer(&answer, redirect_uri) {
        return Err(CallbackFailure::ClientUnknown(error));
    }
    Ok(String::from(target))
}

/// What to say when the authorization request was answered without a redirect.
fn refusal(status: u16, html: bool, body: &[u8]) -> String {
    if (200..300).contains(&status) {
        let what = if html {
            format!(
                "shows a page (HTTP {status}, probably a sign-in form) instead of approving at once"
            )
        } else {
            format!("answered HTTP {status} instead of approving at once")
        };
        return messages::non_interactive_needs_a_person(&what);
    }
    let explained = keyhole_shared::json::value_from_bytes(body)
        .and_then(|v| serde_json::from_value::<OAuthErrorResponse>(v).ok())
        .map(|error| format!(": {}", messages::oauth_error(&error)))
        .unwrap_or_default();
    format!("the authorization server refused the authorization request (HTTP {status}){explained}")
}

/// Serves the loopback listener until a `GET /callback…` arrives; other requests get 404.
async fn wait_for_callback(listener: TcpListener, port: u16) -> Result<String, CliError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| CliError::auth(format!("the OAuth callback listener failed: {e}")))?;
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && buffer.len() < 64 * 1024 {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => buffer.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        let head = String::from_utf8_lossy(&buffer);
        let mut parts = head.lines().next().unwrap_or("").split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let is_callback =
            method == "GET" && (target == "/callback" || target.starts_with("/callback?"));
        let (status, body) = if is_callback {
            (
                "200 OK",
                "<!doctype html><title>Keyhole</title><p>Authorization received. You can close this tab \
                 and return to the terminal.</p>",
            )
        } else {
            ("404 Not Found", "not found")
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Connection: close\r\nCache-Control: no-store\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        if is_callback {
            return Ok(format!("http://127.0.0.1:{port}{target}"));
        }
    }
}
