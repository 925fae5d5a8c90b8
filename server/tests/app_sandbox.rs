//! The MCP Apps sandbox origin in-process: the proxy page with the app's policy as a header (the
//! default, declared origins, a malformed declaration refused), nothing else served there, and the
//! page's own policy allowing that origin as a frame and no other.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app, app_sandbox};
use tower::ServiceExt;

const PAGE: &str = "http://127.0.0.1:6274";

async fn get(router: axum::Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let request = Request::get(uri)
        .header(header::HOST, "127.0.0.1:6274")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let policy = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, policy, String::from_utf8_lossy(&body).into_owned())
}

fn sandbox() -> axum::Router {
    app_sandbox::router(vec![PAGE.to_owned()])
}

#[tokio::test]
async fn the_proxy_page_carries_the_apps_policy_and_only_relays_for_the_page() {
    let (status, policy, page) = get(sandbox(), "/proxy").await;
    assert_eq!(status, StatusCode::OK);
    let policy = policy.expect("a policy header");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'none'"), "{policy}");
    // The page's origins, and the inner frame without same-origin.
    assert!(page.contains(&format!("[\"{PAGE}\"]")), "{page}");
    assert!(page.contains("'allow-scripts allow-forms'"), "{page}");
    assert!(
        page.contains("ui/notifications/sandbox-proxy-ready"),
        "{page}"
    );

    let declared = "%7B%22connectDomains%22%3A%5B%22https%3A%2F%2Fapi.example%22%5D%7D";
    let (_, policy, _) = get(sandbox(), &format!("/proxy?csp={declared}")).await;
    assert!(policy.unwrap().contains("connect-src https://api.example;"));

    let (status, _, body) = get(sandbox(), "/proxy?csp=not-json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("csp"), "{body}");
}

#[tokio::test]
async fn nothing_else_is_served_on_the_sandbox_origin() {
    for uri in ["/", "/api/config", "/assets/app.js", "/oauth/callback"] {
        let (status, _, _) = get(sandbox(), uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn the_page_may_frame_the_sandbox_origin_and_nothing_else() {
    let state = AppState::new(
        ApiToken::pinned("t").unwrap(),
        "127.0.0.1:6274".parse().unwrap(),
    );
    let (_, policy, _) = get(app(state.clone()), "/healthz").await;
    assert!(
        !policy.unwrap().contains("frame-src"),
        "no sandbox, no frames"
    );
    let state = state.with_app_sandbox("http://127.0.0.1:6299".into());
    let (_, policy, _) = get(app(state), "/healthz").await;
    assert!(
        policy
            .unwrap()
            .ends_with("; frame-src http://127.0.0.1:6299"),
        "frames from the sandbox origin only"
    );
}
