//! The incident bundle: after a silent renewal, the Auth tab exports the connection's timeline,
//! exchanges and messages as one JSON file that holds no token, refresh token, code or API token;
//! the servers view then opens the file read-only.

use keyhole_e2e::demo::SignedIn;
use keyhole_shared::messages::{self, SilentRecovery};

/// Everything secret the demo issues, by its shape (access and refresh tokens, codes, the IdP's).
const SECRET_SHAPES: [&str; 4] = ["kh_at_", "kh_rt_", "kh_code_", "kh_idp_"];

#[tokio::test]
async fn a_bundle_is_exported_without_secrets_and_opened_read_only() {
    let demo = SignedIn::start().await;
    let browser = &demo.browser;
    let downloads = tempfile::tempdir().unwrap();
    browser.allow_downloads(downloads.path()).await;
    demo.control.expire_access_tokens().await;
    demo.run_tool("echo", &[("message", "bundled")]).await;
    browser
        .wait_toast("success", |t| {
            t == messages::recovered_silently(SilentRecovery::Refresh)
        })
        .await;

    browser.click("tab-auth").await;
    browser
        .wait_count("[data-testid=auth-incident][data-outcome=recovered]", 1)
        .await;
    browser.click("auth-export-bundle").await;
    let file = downloads.path().join("keyhole-incident-bundle.json");
    let (text, bundle) = browser.downloaded_json(&file).await;
    assert_eq!(bundle["format"], "keyhole-incident-bundle/1");
    assert_eq!(
        bundle["timeline"].as_array().unwrap().len(),
        1,
        "{bundle:#}"
    );
    assert!(text.contains("bundled"), "the messages are in it");
    assert!(
        text.contains("refresh_token"),
        "the refresh grant is among the exchanges"
    );
    for shape in SECRET_SHAPES {
        assert!(!text.contains(shape), "{shape:?} is in the bundle:\n{text}");
    }
    assert!(
        !text.contains(keyhole_e2e::TEST_API_TOKEN),
        "the API token is not in the bundle"
    );
    let authorizations: Vec<&serde_json::Value> = bundle["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["requestHeaders"].as_array().unwrap())
        .filter(|h| h[0] == "authorization")
        .map(|h| &h[1])
        .collect();
    assert!(
        !authorizations.is_empty(),
        "the MCP requests carried a token"
    );
    assert!(
        authorizations.iter().all(|v| *v == "<redacted>"),
        "{authorizations:?}"
    );

    // A fresh page opens it read-only.
    browser.client.goto(&demo.keyhole.open_url).await.unwrap();
    browser.click("bundle-section").await;
    browser
        .wait_testid("bundle-open")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_text("bundle-summary", |t| t.contains("1 incident(s)"))
        .await;
    browser
        .wait_count("[data-testid=auth-incident][data-outcome=recovered]", 1)
        .await;
    assert!(browser.count("[data-testid=bundle-exchange]").await >= 2);
    assert!(
        browser
            .count("[data-testid=bundle-message][data-direction=sent]")
            .await
            >= 1
    );

    // Something else is refused with a reason.
    let other = downloads.path().join("not-a-bundle.json");
    std::fs::write(&other, "{\"format\": \"something-else\"}").unwrap();
    browser
        .wait_testid("bundle-open")
        .await
        .send_keys(other.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_text("bundle-problem", |t| {
            t.contains("not a Keyhole incident bundle")
        })
        .await;
    demo.close().await;
}
