//! The web app's HTTP/1.1 server (`web::http1_server`): a connection left idle is closed after
//! the head timeout while an event stream being sent outlives it, and a shutdown lets the request
//! in flight finish, and reading a request body does not wake the other worker.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use keyhole_server::web::http1_server::{serve, serve_with_head_timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The head timeout the first test serves with.
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// `/hello` answers at once; `/slow` after 300 ms; `/stream` sends a chunk now and one after
/// [`IDLE_TIMEOUT`] has passed.
fn router() -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "slow"
            }),
        )
        .route(
            "/stream",
            get(|| async {
                let chunks = futures_util::stream::unfold(0, |sent| async move {
                    match sent {
                        0 => Some((Ok::<_, Infallible>(Bytes::from_static(b"first")), 1)),
                        1 => {
                            tokio::time::sleep(IDLE_TIMEOUT + Duration::from_secs(1)).await;
                            Some((Ok(Bytes::from_static(b"later")), 2))
                        }
                        _ => None,
                    }
                });
                Body::from_stream(chunks)
            }),
        )
}

async fn get_over(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
}

/// Reads until `needle` has arrived, or fails after `within`.
async fn read_until(stream: &mut TcpStream, needle: &str, within: Duration) -> String {
    let mut seen = Vec::new();
    let deadline = Instant::now() + within;
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let mut buffer = [0u8; 1024];
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut buffer))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{needle:?} did not arrive: {:?}",
                    String::from_utf8_lossy(&seen)
                )
            })
            .unwrap();
        assert!(
            read > 0,
            "closed before {needle:?}: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_an_event_stream_being_sent_is_not() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_with_head_timeout(
        listener,
        router(),
        std::future::pending(),
        IDLE_TIMEOUT,
    ));

    let mut idle = TcpStream::connect(address).await.unwrap();
    get_over(&mut idle, "/hello").await;
    read_until(&mut idle, "hello", Duration::from_secs(5)).await;
    let mut streaming = TcpStream::connect(address).await.unwrap();
    get_over(&mut streaming, "/stream").await;
    read_until(&mut streaming, "first", Duration::from_secs(5)).await;
    let answered = Instant::now();

    // The idle connection is closed by the server (end of stream, nothing more sent)…
    let mut rest = Vec::new();
    tokio::time::timeout(IDLE_TIMEOUT * 3, idle.read_to_end(&mut rest))
        .await
        .expect("the idle connection was not closed")
        .unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    assert!(
        answered.elapsed() >= IDLE_TIMEOUT - Duration::from_millis(200),
        "closed after {:?}, before the idle timeout",
        answered.elapsed()
    );
    // …while the stream goes on past the idle timeout.
    read_until(&mut streaming, "later", IDLE_TIMEOUT * 3).await;
}

#[tokio::test]
async fn after_shutdown_the_request_in_flight_is_answered_and_no_connection_is_accepted() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router(), async {
        let _ = stopped.await;
    }));

    let mut slow = TcpStream::connect(address).await.unwrap();
    get_over(&mut slow, "/slow").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let answer = read_until(&mut slow, "slow", Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server did not stop once its connections had finished")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still accepting"
    );
}

/// Requests with a body the test sends one after another on one connection.
const BODY_REQUESTS: u64 = 200;

#[test]
fn reading_a_request_body_does_not_wake_the_other_worker() {
    // Reading a body used to wake the connection task during its own poll, which tokio treats as
    // a yield: the other worker was woken for every request (#25), so the two workers parked
    // about twice per request instead of once.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    let echo = Router::new().route("/echo", axum::routing::post(|body: String| async { body }));
    runtime.spawn(serve(listener, echo, std::future::pending()));
    // The client has a runtime of its own: only the server's work runs on the measured one.
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut client = client_runtime
        .block_on(TcpStream::connect(address))
        .unwrap();
    client.set_nodelay(true).unwrap();
    let parks = || -> u64 {
        let metrics = runtime.metrics();
        (0..metrics.num_workers())
            .map(|worker| metrics.worker_park_count(worker))
            .sum()
    };
    for n in 0..20 {
        client_runtime.block_on(post_and_read_echo(&mut client, n));
    }

    let before = parks();
    for n in 0..BODY_REQUESTS {
        client_runtime.block_on(post_and_read_echo(&mut client, n));
    }
    let parked = parks() - before;
    assert!(
        parked < BODY_REQUESTS * 5 / 4,
        "the workers parked {parked} times for {BODY_REQUESTS} requests (about once each is right; the yield made it 1.6 times each)"
    );
}

/// Sends `{"n":n}` to `/echo` and reads the answer to its end.
async fn post_and_read_echo(client: &mut TcpStream, n: u64) {
    let body = format!("{{\"n\":{n}}}");
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    read_until(client, &body, Duration::from_secs(10)).await;
}
