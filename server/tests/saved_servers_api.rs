//! The saved servers' routes driven in-process with `oneshot`: the list written through
//! `PUT /api/config/saved` comes back from `GET /api/config` and the export in its order; a bad
//! entry is refused with its field named; without a configuration folder nothing is saved.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use keyhole_server::saved_servers::SavedServersFile;
use keyhole_server::web::security::ApiToken;
use keyhole_server::web::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "saved-test-token";

fn state() -> AppState {
    AppState::new(
        ApiToken::pinned(TOKEN).unwrap(),
        "127.0.0.1:6274".parse().unwrap(),
    )
}

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", "127.0.0.1:6274")
        .header("X-Keyhole-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_saved_list_is_written_read_back_and_exported_in_order() {
    let folder = tempfile::tempdir().unwrap();
    let router = app(state().with_saved_servers(SavedServersFile::in_dir(Some(folder.path()))));
    let servers = json!({ "servers": [
        { "name": "b", "entry": { "url": "http://127.0.0.1:2/mcp" } },
        { "name": "a", "entry": { "command": "server-everything", "args": ["stdio"] } }
    ] });
    let (status, body) = call(&router, "PUT", "/api/config/saved", Some(servers)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, config) = call(&router, "GET", "/api/config", None).await;
    let config: Value = serde_json::from_str(&config).unwrap();
    let saved = &config["saved"];
    assert_eq!(saved["servers"][0]["name"], "b");
    assert_eq!(saved["entries"][1]["stdio"]["command"], "server-everything");
    assert!(saved["path"].as_str().unwrap().ends_with("servers.json"));

    let (status, exported) = call(&router, "GET", "/api/config/saved/export", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        exported.find("\"b\"").unwrap() < exported.find("\"a\"").unwrap(),
        "{exported}"
    );

    let bad = json!({ "servers": [{ "name": "x", "entry": { "url": 5 } }] });
    let (status, body) = call(&router, "PUT", "/api/config/saved", Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("mcpServers.x"), "{body}");
}

#[tokio::test]
async fn without_a_configuration_folder_nothing_is_saved() {
    let router = app(state());
    let one = json!({ "servers": [{ "name": "x", "entry": { "url": "http://127.0.0.1:1/mcp" } }] });
    let (status, body) = call(&router, "PUT", "/api/config/saved", Some(one)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("configuration folder"), "{body}");
}
