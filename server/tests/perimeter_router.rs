//! The router's perimeter driven in-process with `oneshot`: the corner cases of Host and Origin that
//! the end-to-end tests do not reach (a client cannot easily omit `Host`).

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
