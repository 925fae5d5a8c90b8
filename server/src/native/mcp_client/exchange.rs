//! Recording one HTTP exchange for the Network view. A recorder is created when the request is sent
//! and reports when finished — or, if the request was abandoned (timeout, the browser went away),
//! when it is dropped, so no exchange ever goes missing from the log.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use keyhole_shared::api::{ExchangeKind, HttpExchange};
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use super::ClientEvents;
use crate::native::redact;

/// The error of an exchange whose request was dropped before it completed.
pub const ABANDONED: &str = "abandoned before it completed (the page went away, the request timed out, \
     or the session ended)";

/// How much of each body the log keeps.
pub const BODY_PREVIEW_LIMIT: usize = 4096;

pub struct ExchangeRecorder {
    events: Arc<dyn ClientEvents>,
    started: Instant,
    record: Option<HttpExchange>,
    response_body: Vec<u8>,
    /// The response's `Content-Type` (all the body preview needs), copied: a `HeaderValue` taken
    /// from the response shares the connection's read buffer, and an event stream's recorder lives
    /// as long as the stream, so that buffer could never be reused (8 KiB more per open stream).
    response_content_type: Option<String>,
}

impl ExchangeRecorder {
    pub fn start(
        events: Arc<dyn ClientEvents>,
        request: &reqwest::Request,
        body: Option<&[u8]>,
        kind: ExchangeKind,
    ) -> Self {
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let record = HttpExchange {
            seq: 0,
            kind,
            started_at_ms,
            duration_ms: 0.0,
            method: request.method().to_string(),
            url: keyhole_shared::http::redact_url(request.url().as_str()),
            status: None,
            request_headers: redact::headers_for_log(request.headers()),
            response_headers: Vec::new(),
            request_body: body
                .and_then(|b| redact::body_preview(request.headers(), b, BODY_PREVIEW_LIMIT)),
            response_body: None,
            sse_events: 0,
            error: None,
        };
        Self {
            events,
            started: Instant::now(),
            record: Some(record),
            response_body: Vec::new(),
            response_content_type: None,
        }
    }

    pub fn response(&mut self, status: u16, headers: &HeaderMap) {
        if let Some(record) = &mut self.record {
            record.status = Some(status);
            record.response_headers = redact::headers_for_log(headers);
        }
        self.response_content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
    }

    /// Keeps the start of the body (or of the SSE events' data) for the preview.
    pub fn body_chunk(&mut self, chunk: &[u8]) {
        const KEPT: usize = BODY_PREVIEW_LIMIT + 1;
        let body = &mut self.response_body;
        let kept = &chunk[..chunk.len().min(KEPT.saturating_sub(body.len()))];
        let needed = body.len() + kept.len();
        if needed > body.capacity() {
            // Grown by doubling, but never past what the preview can use (plain doubling would
            // reach 8 KiB, held for as long as an event stream is open).
            let grown = needed.max((body.capacity() * 2).min(KEPT));
            body.reserve_exact(grown - body.len());
        }
        body.extend_from_slice(kept);
    }

    pub fn sse_event(&mut self) {
        if let Some(record) = &mut self.record {
            record.sse_events += 1;
        }
    }

    pub fn fail(&mut self, error: impl Into<String>) {
        if let Some(record) = &mut self.record {
            record.error = Some(error.into());
        }
    }

    /// Reports the exchange now.
    pub fn finish(mut self) {
        self.report();
    }

    fn report(&mut self) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        record.duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        record.response_body = redact::typed_body_preview(
            self.response_content_type.as_deref(),
            &self.response_body,
            BODY_PREVIEW_LIMIT,
        );
        self.events.exchange(record);
    }
}

impl Drop for ExchangeRecorder {
    /// Not finished: the future that owned the request was dropped (the page went away, the
    /// request timed out, or the session ended) and so was the request itself.
    fn drop(&mut self) {
        if let Some(record) = &mut self.record
            && record.error.is_none()
        {
            record.error = Some(ABANDONED.into());
        }
        self.report();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::Value;

    use super::*;
    use crate::native::mcp_client::UpstreamChallenge;
    use reqwest::header::HeaderValue;

    /// Keeps the exchanges reported to it.
    #[derive(Default)]
    struct Reported(Mutex<Vec<HttpExchange>>);

    impl ClientEvents for Reported {
        fn server_message(&self, _: Value) {}
        fn exchange(&self, exchange: HttpExchange) {
            self.0.lock().unwrap().push(exchange);
        }
        fn ambient_challenge(&self, _: UpstreamChallenge) {}
        fn notice(&self, _: String) {}
    }

    #[test]
    fn an_event_streams_preview_is_shown_by_its_type_and_never_holds_more_than_it_shows() {
        let reported = Arc::new(Reported::default());
        let request = reqwest::Request::new(
            reqwest::Method::GET,
            "http://server.test/mcp".parse().unwrap(),
        );
        let mut recorder =
            ExchangeRecorder::start(reported.clone(), &request, None, ExchangeKind::Mcp);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        recorder.response(200, &headers);
        drop(headers);
        for n in 0..1_000 {
            recorder.body_chunk(format!("{{\"event\":{n}}}\n").as_bytes());
            assert!(
                recorder.response_body.capacity() <= BODY_PREVIEW_LIMIT + 1,
                "{} bytes reserved after event {n}",
                recorder.response_body.capacity()
            );
        }
        recorder.finish();

        let exchange = reported.0.lock().unwrap().pop().unwrap();
        // Shown as text because its content type was kept (an untyped body is not shown).
        let preview = exchange.response_body.unwrap();
        assert!(
            preview.starts_with("{\"event\":0}\n{\"event\":1}\n"),
            "{preview:.80}"
        );
    }
}
