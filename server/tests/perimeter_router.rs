//! The router's perimeter driven in-process with `oneshot`: the corner cases of Host and Origin that
//! the end-to-end tests do not reach (a client cannot easily omit `Host`, nor open the page from
//! another machine, which decides how the app's files are encoded).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app};
use tower::ServiceExt;

const TOKEN: &str = "router-test-token";

fn router() -> axum::Router {
    app(AppState::new(
        ApiToken::pinned(TOKEN).unwrap(),
        "127.0.0.1:6274".parse().unwrap(),
    ))
}

/// Keyhole bound beyond loopback (`--host 192.0.2.10`): its page may be opened from another
/// machine.
fn router_bound_beyond_loopback() -> axum::Router {
    app(AppState::new(
        ApiToken::pinned(TOKEN).unwrap(),
        "192.0.2.10:6274".parse().unwrap(),
    ))
}

async fn status_of(request: Request<Body>) -> StatusCode {
    router().oneshot(request).await.unwrap().status()
}

fn config_request() -> axum::http::request::Builder {
    Request::get("/api/config").header("X-Keyhole-Token", TOKEN)
}

#[tokio::test]
async fn missing_host_is_refused() {
    let request = Request::get("/api/config")
        .header("X-Keyhole-Token", TOKEN)
        .body(Body::empty())
        .unwrap();
    assert_eq!(status_of(request).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_loopback_name_on_the_bound_port_is_accepted() {
    for host in [
        "127.0.0.1:6274",
        "localhost:6274",
        "LOCALHOST:6274",
        "[::1]:6274",
    ] {
        let request = config_request()
            .header("Host", host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(status_of(request).await, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn another_port_or_name_is_refused() {
    for host in [
        "127.0.0.1:6275",
        "localhost",
        "127.0.0.1.nip.io:6274",
        "example.com:6274",
    ] {
        let request = config_request()
            .header("Host", host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(status_of(request).await, StatusCode::FORBIDDEN, "{host}");
    }
}

#[tokio::test]
async fn opaque_and_foreign_origins_are_refused() {
    for origin in [
        "null",
        "http://localhost:9999",
        "https://127.0.0.1:6274",
        "http://127.0.0.1:6274.evil",
    ] {
        let request = config_request()
            .header("Host", "127.0.0.1:6274")
            .header("Origin", origin)
            .body(Body::empty())
            .unwrap();
        assert_eq!(status_of(request).await, StatusCode::FORBIDDEN, "{origin}");
    }
}

#[tokio::test]
async fn healthz_skips_the_token_but_not_the_host_check() {
    let ok = Request::get("/healthz")
        .header("Host", "localhost:6274")
        .body(Body::empty())
        .unwrap();
    assert_eq!(status_of(ok).await, StatusCode::OK);
    let foreign = Request::get("/healthz")
        .header("Host", "evil.example:6274")
        .body(Body::empty())
        .unwrap();
    assert_eq!(status_of(foreign).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_page_without_the_token_never_contains_it() {
    for uri in ["/", "/servers/x", "/API/config", "/?token=wrong"] {
        let request = Request::get(uri)
            .header("Host", "127.0.0.1:6274")
            .header("Cookie", "keyhole_token_7000=router-test-token")
            .body(Body::empty())
            .unwrap();
        let response = router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
        assert!(response.headers().get("set-cookie").is_none(), "{uri}");
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8_lossy(&body);
        assert!(!html.contains(TOKEN), "{uri} leaks the token");
        assert!(html.contains("how-to-open"), "{uri}: {html}");
    }
}

#[tokio::test]
async fn the_api_hands_the_cookie_back_to_a_page_that_lost_it() {
    let request = config_request()
        .header("Host", "127.0.0.1:6274")
        .body(Body::empty())
        .unwrap();
    let response = router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["set-cookie"],
        "keyhole_token_6274=router-test-token; Path=/; SameSite=Strict; HttpOnly"
    );
    let with_cookie = Request::get("/api/config")
        .header("Host", "127.0.0.1:6274")
        .header("Cookie", "keyhole_token_6274=router-test-token")
        .body(Body::empty())
        .unwrap();
    let response = router().oneshot(with_cookie).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").is_none());
}

/// The wasm as served to a request with `host` and `accept_encoding`: its coding and its bytes.
async fn wasm_as_served(
    router: axum::Router,
    host: &str,
    accept_encoding: &str,
) -> (Option<String>, Vec<u8>) {
    let request = Request::get("/assets/keyhole_bg.wasm")
        .header("Host", host)
        .header("Accept-Encoding", accept_encoding)
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{host} {accept_encoding}"
    );
    assert_eq!(response.headers()["vary"], "accept-encoding");
    let coding = response
        .headers()
        .get("content-encoding")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    (coding, body.to_vec())
}

/// The wasm as served to a page opened from another machine (Keyhole bound to `192.0.2.10`).
async fn wasm_served_elsewhere(accept_encoding: &str) -> (Option<String>, Vec<u8>) {
    wasm_as_served(
        router_bound_beyond_loopback(),
        "192.0.2.10:6274",
        accept_encoding,
    )
    .await
}

#[tokio::test]
async fn the_app_goes_compressed_to_another_machine_and_as_it_is_on_loopback() {
    let (coding, plain) = wasm_served_elsewhere("identity").await;
    assert_eq!(coding, None);
    assert!(plain.starts_with(b"\0asm"), "not a wasm module");

    // What Chromium sends: brotli, decoding to exactly the plain bytes.
    let chromium = "gzip, deflate, br, zstd";
    let (coding, brotli) = wasm_served_elsewhere(chromium).await;
    assert_eq!(coding.as_deref(), Some("br"));
    assert!(
        brotli.len() * 2 < plain.len(),
        "{} of {}",
        brotli.len(),
        plain.len()
    );
    let mut unbrotlied = Vec::new();
    brotli_decompressor::BrotliDecompress(&mut &brotli[..], &mut unbrotlied).unwrap();
    assert!(unbrotlied == plain, "the brotli wasm is not the plain one");

    // A client that prefers gzip, or has no brotli, gets gzip.
    let prefers_gzip = "br;q=0.4, gzip;q=0.5";
    let (coding, gzipped) = wasm_served_elsewhere(prefers_gzip).await;
    assert_eq!(coding.as_deref(), Some("gzip"));
    assert!(gzipped.len() > brotli.len(), "brotli is the smaller one");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzipped[..]),
        &mut unzipped,
    )
    .unwrap();
    assert!(unzipped == plain, "the gzipped wasm is not the plain one");

    let refuses_both = "gzip;q=0, br;q=0, deflate";
    let (coding, bytes) = wasm_served_elsewhere(refuses_both).await;
    assert_eq!(coding, None);
    assert!(bytes == plain);

    // The same Keyhole opened on loopback, and one bound to loopback: the file as it is.
    for (router, host) in [
        (router_bound_beyond_loopback(), "127.0.0.1:6274"),
        (router(), "localhost:6274"),
        (router(), "[::1]:6274"),
    ] {
        let (coding, bytes) = wasm_as_served(router, host, chromium).await;
        assert_eq!(coding, None, "{host}");
        assert!(bytes == plain, "{host}");
    }
}

#[tokio::test]
async fn the_api_answers_are_compressed_only_for_another_machine() {
    for (host, expected) in [
        ("192.0.2.10:6274", Some("gzip")),
        ("127.0.0.1:6274", None),
        ("localhost:6274", None),
    ] {
        let request = config_request()
            .header("Host", host)
            .header("Accept-Encoding", "gzip")
            .body(Body::empty())
            .unwrap();
        let response = router_bound_beyond_loopback()
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
        let coding = response.headers().get("content-encoding");
        assert_eq!(coding.map(|v| v.to_str().unwrap()), expected, "{host}");
    }
}
