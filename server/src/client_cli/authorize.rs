//! The interactive leg of authorization for a terminal: visit the authorization URL and get the
//! redirect back.
//!
//! * Browser mode: a one-shot HTTP listener on `127.0.0.1:<port>` (loopback only, RFC 8252)
//!   receives `/callback?code=…&state=…`; the URL is opened with the browser (or printed), and the
//!   wait is bounded by `--auth-timeout`.
//! * Non-interactive mode: for authorization servers that approve at once, the authorization URL
//!   is fetched without following redirects and the callback is read from `Location`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{CliError, Terminal};

/// How the redirect comes back.
#[derive(Debug, Clone)]
pub(super) struct CallbackOptions {
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
pub(super) fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// Returns the full callback URL (with `code`, `state`, `iss`…) for `authorization_url`.
pub(super) async fn obtain_callback(
    authorization_url: &str,
    options: &CallbackOptions,
    terminal: &mut dyn Terminal,
) -> Result<String, CliError> {
    if options.non_interactive {
        return follow_once(authorization_url).await;
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
        Ok(result) => result,
        Err(_) => Err(CliError::auth(format!(
            "no answer from the browser within {} s (--auth-timeout); authorization was not completed",
            options.timeout.as_secs()
        ))),
    }
}

/// Non-interactive mode: GET without following redirects; the `Location` is the callback.
async fn follow_once(authorization_url: &str) -> Result<String, CliError> {
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
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| status.is_redirection())
        .ok_or_else(|| {
            CliError::auth(format!(
                "the authorization server did not approve at once (HTTP {status}, no redirect); run \
                 without --non-interactive to sign in with a browser"
            ))
        })?;
    let base = url::Url::parse(authorization_url)
        .map_err(|e| CliError::auth(format!("bad authorization URL: {e}")))?;
    base.join(location)
        .map(String::from)
        .map_err(|e| CliError::auth(format!("bad redirect Location: {e}")))
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
