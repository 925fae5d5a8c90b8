//! The limits on an upstream event stream, applied to its bytes before the SSE parser sees them.
//!
//! The SSE parser (`sse-stream`) buffers a line until it ends and an event's data until the blank
//! line that ends the event; it has no limits of its own. A server that sends `data:` lines forever
//! without ending the event, or nothing at all for hours, would hold memory or a task forever. So the
//! response body passes through [`LimitedBody`], which cuts the stream when
//! * one event (the bytes of its field lines, comments excluded) grows past [`MAX_EVENT_BYTES`], or
//!   one line of any kind grows past it;
//! * no byte at all arrives for the idle limit (a live stream sends at least keep-alive comments, or
//!   is simply reopened).
//!
//! The cut is an error item whose [`StreamCut`] says which limit was hit; the reader turns it into a
//! notice and a failed exchange in the Network view.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::native::upstream_http;

/// The largest event (or line) of an event stream; the same as the largest JSON body.
pub const MAX_EVENT_BYTES: usize = super::post::MAX_BODY_BYTES;
/// How long a stream may send nothing at all before it is closed (and, for the GET stream, reopened).
pub const IDLE_LIMIT: Duration = Duration::from_secs(5 * 60);

/// Why Keyhole stopped reading an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamCut {
    /// One event (or one line) was larger than the limit.
    EventTooLarge { limit: usize },
    /// Nothing arrived for this long.
    Idle { limit: Duration },
    /// The connection failed; the words say how.
    Broken(String),
}

impl fmt::Display for StreamCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTooLarge { limit } => write!(
                f,
                "the server sent an event larger than {} without ending it; Keyhole closed the stream \
                 (event over the limit)",
                upstream_http::size(*limit as u64)
            ),
            Self::Idle { limit } => write!(
                f,
                "the stream sent nothing for {} s; Keyhole closed it (idle stream)",
                limit.as_secs()
            ),
            Self::Broken(why) => write!(f, "the event stream broke: {why}"),
        }
    }
}

impl std::error::Error for StreamCut {}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A response body read within the limits above.
pub struct LimitedBody {
    inner: ByteStream,
    idle: Pin<Box<Sleep>>,
    idle_limit: Duration,
    sizes: EventSizes,
    shown_url: String,
    ended: bool,
}

impl LimitedBody {
    pub fn new(response: reqwest::Response, max_event: usize, idle_limit: Duration) -> Self {
        Self {
            shown_url: keyhole_shared::http::redact_url(response.url().as_str()),
            inner: Box::pin(response.bytes_stream()),
            idle: Box::pin(tokio::time::sleep(idle_limit)),
            idle_limit,
            sizes: EventSizes::new(max_event),
            ended: false,
        }
    }

    fn cut(&mut self, why: StreamCut) -> Poll<Option<Result<Bytes, StreamCut>>> {
        self.ended = true;
        Poll::Ready(Some(Err(why)))
    }
}

impl Stream for LimitedBody {
    type Item = Result<Bytes, StreamCut>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let deadline = Instant::now() + this.idle_limit;
                this.idle.as_mut().reset(deadline);
                match this.sizes.feed(&chunk) {
                    Ok(()) => Poll::Ready(Some(Ok(chunk))),
                    Err(cut) => this.cut(cut),
                }
            }
            Poll::Ready(Some(Err(error))) => {
                let why = upstream_http::describe(&this.shown_url, &error);
                this.cut(StreamCut::Broken(why))
            }
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.idle.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let limit = this.idle_limit;
                    this.cut(StreamCut::Idle { limit })
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Follows the SSE line structure byte by byte (lines end at CRLF, LF or CR; a blank line ends an
/// event) and counts the bytes of the current event and line.
struct EventSizes {
    limit: usize,
    event: usize,
    line: usize,
    line_is_comment: bool,
    after_cr: bool,
}

impl EventSizes {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            event: 0,
            line: 0,
            line_is_comment: false,
            after_cr: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), StreamCut> {
        for &byte in bytes {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue; // the LF of a CRLF
            }
            match byte {
                b'\r' | b'\n' => {
                    if self.line == 0 {
                        self.event = 0; // a blank line: the event is complete
                    }
                    self.line = 0;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    if self.line == 0 {
                        self.line_is_comment = byte == b':';
                    }
                    self.line += 1;
                    if !self.line_is_comment {
                        self.event += 1;
                    }
                    if self.line > self.limit || self.event > self.limit {
                        return Err(StreamCut::EventTooLarge { limit: self.limit });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes() -> EventSizes {
        EventSizes::new(16)
    }

    #[test]
    fn events_end_at_a_blank_line_in_any_line_ending() {
        for ending in ["\n", "\r\n", "\r"] {
            let mut guard = sizes();
            for _ in 0..100 {
                let event = format!("data:12345{ending}{ending}");
                assert!(guard.feed(event.as_bytes()).is_ok(), "{ending:?}");
            }
        }
    }

    #[test]
    fn an_event_of_many_lines_is_counted_as_a_whole() {
        let mut guard = sizes();
        assert!(guard.feed(b"data:1\ndata:2\n").is_ok());
        assert_eq!(
            guard.feed(b"data:3\n"),
            Err(StreamCut::EventTooLarge { limit: 16 })
        );
    }

    #[test]
    fn a_crlf_split_across_chunks_is_not_a_blank_line() {
        let mut guard = sizes();
        assert!(guard.feed(b"data:12\r").is_ok());
        assert!(guard.feed(b"\ndata:3").is_ok());
        assert!(
            guard.feed(b"4567\r\n").is_err(),
            "both lines belong to one event"
        );
    }

    /// A body that sends `first` and then nothing, ever.
    fn silent_after(first: &'static [u8]) -> reqwest::Response {
        use futures_util::StreamExt;
        let chunks =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(first))])
                .chain(futures_util::stream::pending());
        let body = reqwest::Body::wrap_stream(chunks);
        reqwest::Response::from(axum::http::Response::new(body))
    }

    #[tokio::test]
    async fn a_stream_silent_for_the_idle_limit_is_cut() {
        use futures_util::StreamExt;
        let idle = Duration::from_millis(200);
        let mut body = LimitedBody::new(silent_after(b": hello\n\n"), 1024, idle);
        assert!(body.next().await.unwrap().is_ok());
        let started = tokio::time::Instant::now();
        let cut = body.next().await.unwrap().unwrap_err();
        assert_eq!(cut, StreamCut::Idle { limit: idle });
        assert!(started.elapsed() >= idle);
        assert!(cut.to_string().contains("idle stream"), "{cut}");
        assert!(body.next().await.is_none(), "the stream ends after the cut");
    }

    #[tokio::test]
    async fn an_endless_event_is_cut_with_the_limit_named() {
        use futures_util::StreamExt;
        let lines = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from_static(b"data: xxxxxxxxxxxxxxxx\n"))
        });
        let body =
            reqwest::Response::from(axum::http::Response::new(reqwest::Body::wrap_stream(lines)));
        let mut body = LimitedBody::new(body, 1000, Duration::from_secs(60));
        let mut delivered = 0;
        let cut = loop {
            match body.next().await.unwrap() {
                Ok(chunk) => delivered += chunk.len(),
                Err(cut) => break cut,
            }
        };
        assert!(
            delivered < 1_100,
            "about the limit, newlines included: {delivered}"
        );
        assert_eq!(cut, StreamCut::EventTooLarge { limit: 1000 });
        assert!(cut.to_string().contains("event over the limit"), "{cut}");
    }

    #[test]
    fn comments_do_not_grow_the_event_but_a_long_line_is_cut() {
        let mut guard = sizes();
        for _ in 0..100 {
            assert!(guard.feed(b":keepalive\n").is_ok());
        }
        assert!(guard.feed(b":a very long comment line").is_err());
    }
}
