//! `/api/store/oauth`: the web app's view of the OAuth store it shares with the CLI.

use crate::common;

use std::sync::Arc;

use common::hub::{API_TOKEN, quick_options, start_backend};
use keyhole_server::native::oauth_store::FileStore;
use serde_json::Value;

async fn put(base: &str, document: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .put(format!("{base}/api/store/oauth"))
        .header("X-Keyhole-Token", API_TOKEN)
        .json(document)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(base: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/store/oauth"))
        .header("X-Keyhole-Token", API_TOKEN)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn writes_are_compare_and_swap_and_shared_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.json");
    let store = Arc::new(FileStore::new(&path));
    let (base, _hub, _server) = start_backend(quick_options(), Some(store.clone())).await;

    let (status, empty) = get(&base).await;
    assert_eq!((status, &empty["revision"]), (200, &Value::from(0)));

    let (status, written) = put(&base, &empty).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["revision"], 1);

    // A second writer based on the old revision is refused and told the current one.
    let (status, conflict) = put(&base, &empty).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["error"], "conflict");
    assert_eq!(conflict["current"]["revision"], 1);

    // What another process (the CLI) writes to the file is what the page reads.
    store
        .update(|document| {
            document.clients.clear();
            Ok(())
        })
        .unwrap();
    let (_, after) = get(&base).await;
    assert_eq!(after["revision"], 2);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn a_damaged_body_is_400_and_no_store_is_503() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("store.json")));
    let (base, _hub, _server) = start_backend(quick_options(), Some(store)).await;
    let (status, reply) = put(&base, &serde_json::json!({"credentials": "not a list"})).await;
    assert_eq!(status, 400, "{reply}");

    let (base, _hub, _server) = start_backend(quick_options(), None).await;
    let (status, reply) = get(&base).await;
    assert_eq!(status, 503, "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("KEYHOLE_STORE"));
}
