//! Serving the router over HTTP/1.1 with hyper's own connection builder, in place of `axum::serve`.
//!
//! Why not `axum::serve`: it hands each connection to hyper-util's protocol-sniffing builder, and
//! with it every connection that had served one request and then held a page's event stream kept a
//! read buffer grown to 16 KiB; served by hyper's HTTP/1 builder it stays at 8 KiB (measured with
//! heaptrack and `cargo bench -p keyhole-e2e --bench connections`, #25: a page holds one such
//! connection per session). Browsers speak HTTP/1.1 to a plain-HTTP loopback server, so nothing is
//! lost by not offering HTTP/2 here.
//!
//! What `axum::serve` did that is kept: the router is shared, not rebuilt, per connection; an
//! accept error (out of file descriptors…) is logged and retried after a pause instead of ending
//! the server; after `shutdown` no connection is accepted and each open one finishes its request
//! in flight, then closes. Added:
//! - hyper's header read timeout ([`HEAD_TIMEOUT`]; `axum::serve` gives hyper no timer, so it had
//!   none): a request head must arrive within it, counted from the connection's start or the end
//!   of its previous exchange, so a connection left idle that long is closed and its buffers
//!   (some 20 KiB) freed. A request in flight or an event stream being sent is not affected;
//! - `TCP_NODELAY`, so an event is sent the moment it is written;
//! - [`RepollOnSelfWake`] around each connection, so that reading a request body does not make
//!   the connection yield to the runtime (and wake another worker) once per request.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::self_wake::RepollOnSelfWake;

/// How long to wait before accepting again after the listener failed (e.g. out of descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How long a connection may wait for (the head of) its next request before it is closed
/// (hyper's default, kept).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then until every open connection has
/// finished the request it was serving (an event stream never does: callers bound that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with_head_timeout(listener, app, shutdown, HEAD_TIMEOUT).await
}

/// [`serve`] with another [`HEAD_TIMEOUT`] (tests).
pub async fn serve_with_head_timeout(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
    head_timeout: Duration,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "could not accept a connection; retrying");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        // A `Router` clone shares the routes (an `Arc`): nothing is rebuilt per connection.
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        // A request body wakes its own connection task (see `self_wake`): poll it again here.
        let connection = RepollOnSelfWake::new(graceful.watch(connection));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            // Its buffers are free now: without this glibc keeps their pages.
            crate::native::memory::trim_soon();
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
