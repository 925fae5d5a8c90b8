//! Talking HTTP to the servers under inspection: the limits Keyhole puts on what they send back, and
//! failures named for people.
//!
//! A server under development can be broken or hostile. reqwest (hyper underneath) already refuses a
//! response head over about 400 KiB; on top of that a response may carry at most
//! [`MAX_RESPONSE_HEADERS`] header fields and a body at most the caller's limit ([`read_capped`]).
//!
//! reqwest's own error text for such failures is `error sending request` or `client error
//! (SendRequest)`: the cause is several `source()` levels down, in a hyper or I/O error.
//! [`describe`] walks that chain and says which limit was hit or what broke (the head was too large,
//! the status line was not HTTP, the connection was reset or closed early, the time ran out), never
//! with the URL's secrets (reqwest's messages embed the URL verbatim).

use std::error::Error as _;
use std::time::Duration;

/// The most header fields a response may carry. (hyper is told to parse up to
/// [`PARSED_HEADER_FIELDS`], so a response just over this limit is named precisely instead of
/// failing inside hyper as a "message head is too large".)
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// How many header fields hyper parses before giving up on a response.
pub const PARSED_HEADER_FIELDS: usize = 1_000;
/// hyper's limit on a response head (its default read buffer), for messages.
pub const HEAD_LIMIT_KIB: usize = 400;

/// A client builder with Keyhole's limits for upstream servers (callers add redirects, agent…).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .http1_max_headers(PARSED_HEADER_FIELDS)
}

/// Refuses a response with more header fields than [`MAX_RESPONSE_HEADERS`].
pub fn check_head(response: &reqwest::Response) -> Result<(), String> {
    let count = response.headers().len();
    if count > MAX_RESPONSE_HEADERS {
        return Err(format!(
            "the server sent {count} response headers; Keyhole accepts at most {MAX_RESPONSE_HEADERS} \
             (too many headers)"
        ));
    }
    Ok(())
}

/// Why a request to `shown` (a URL already redacted for display) failed, in words.
pub fn describe(shown: &str, error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("{shown} did not answer in time (timeout)");
    }
    if error.is_connect() {
        let why = io_cause(error)
            .map(|e| format!(" ({})", io_words(e)))
            .unwrap_or_default();
        return format!("cannot connect to {shown}{why}: is the server running?");
    }
    if let Some(hyper) = cause::<hyper::Error>(error) {
        if hyper.is_parse_too_large() {
            return format!(
                "the response from {shown} was refused: its header section is larger than about \
                 {HEAD_LIMIT_KIB} KiB or has more than {PARSED_HEADER_FIELDS} fields (header too large)"
            );
        }
        if hyper.is_parse_status() {
            return format!(
                "the response from {shown} has an invalid status line (the status code is not a number from 100 to 999)"
            );
        }
        if hyper.is_parse() {
            return format!(
                "the response from {shown} is not valid HTTP ({hyper}); an invalid status line or header"
            );
        }
        if let Some(io) = io_cause(error) {
            return format!("the connection to {shown} failed: {}", io_words(io));
        }
        if hyper.is_incomplete_message() {
            return format!(
                "{shown} closed the connection before its response was complete (connection closed early)"
            );
        }
        if hyper.is_timeout() {
            return format!("{shown} did not answer in time (timeout)");
        }
        return format!("the exchange with {shown} failed: {hyper}");
    }
    if let Some(io) = io_cause(error) {
        return format!("the connection to {shown} failed: {}", io_words(io));
    }
    if error.is_body() || error.is_decode() {
        return format!("reading the response from {shown} failed: {}", chain(error));
    }
    format!("the request to {shown} failed: {}", chain(error))
}

/// The first cause of type `T` in `error`'s source chain.
fn cause<T: std::error::Error + 'static>(error: &reqwest::Error) -> Option<&T> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        next = current.source();
    }
    None
}

fn io_cause(error: &reqwest::Error) -> Option<&std::io::Error> {
    cause::<std::io::Error>(error)
}

fn io_words(error: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match error.kind() {
        ConnectionReset => "the connection was reset by the server (connection reset)".into(),
        ConnectionAborted => "the connection was aborted".into(),
        ConnectionRefused => "connection refused".into(),
        BrokenPipe => {
            "the server closed the connection while Keyhole was sending (broken pipe)".into()
        }
        UnexpectedEof => "the server closed the connection early (unexpected end of stream)".into(),
        TimedOut => "the connection timed out".into(),
        _ => error.to_string(),
    }
}

/// Every distinct message of the source chain, without reqwest's URL.
fn chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    if parts.is_empty() {
        "no detail".into()
    } else {
        parts.join(": ")
    }
}

/// Reads a whole body, refusing one larger than `limit` bytes (and saying so).
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let too_large = |seen: u64| {
        format!(
            "the response body is larger than {} (at least {}); Keyhole refuses it (body over the limit)",
            size(limit as u64),
            size(seen)
        )
    };
    if let Some(declared) = response.content_length().filter(|l| *l > limit as u64) {
        return Err(too_large(declared));
    }
    let mut body = Vec::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(body),
            Err(error) => {
                let shown = keyhole_shared::http::redact_url(response.url().as_str());
                return Err(describe(&shown, &error));
            }
        };
        if body.len() + chunk.len() > limit {
            return Err(too_large((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
}

/// `16 MiB`, `380 KiB`, `12 bytes`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes >= KIB * KIB && bytes.is_multiple_of(KIB * KIB) {
        format!("{} MiB", bytes / (KIB * KIB))
    } else if bytes >= KIB * KIB {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(size(17_000_000), "16.2 MiB");
        assert_eq!(size(380 * 1024 + 5), "380 KiB");
        assert_eq!(size(12), "12 bytes");
    }
}
