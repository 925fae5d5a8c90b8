//! Recording one HTTP exchange for the Network view. A recorder is created when the request is sent
//! and reports when finished — or, if the request was abandoned (timeout, the browser went away),
//! when it is dropped, so no exchange ever goes missing from the log.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use keyhole_shared::api::{ExchangeKind, HttpExchange};
use reqwest::header::HeaderMap;

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
    response_headers: HeaderMap,
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
            response_headers: HeaderMap::new(),
        }
    }

    pub fn response(&mut self, status: u16, headers: &HeaderMap) {
        if let Some(record) = &mut self.record {
            record.status = Some(status);
            record.response_headers = redact::headers_for_log(headers);
        }
        // Only what the body preview needs (its content type), not a copy of every header.
        self.response_headers = headers
            .get(reqwest::header::CONTENT_TYPE)
            .map(|value| HeaderMap::from_iter([(reqwest::header::CONTENT_TYPE, value.clone())]))
            .unwrap_or_default();
    }

    /// Keeps the start of the body (or of the SSE events' data) for the preview.
    pub fn body_chunk(&mut self, chunk: &[u8]) {
        let room = (BODY_PREVIEW_LIMIT + 1).saturating_sub(self.response_body.len());
        self.response_body
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
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
        record.response_body = redact::body_preview(
            &self.response_headers,
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
