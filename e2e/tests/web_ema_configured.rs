//! Enterprise-managed authorization (SEP-990) for a server of the user's own — not the built-in
//! demo — configured in the connect form or in a `--config` catalog entry: the IdP sign-in at
//! connect time, then a silent re-mint when the token expires, and never an ordinary
//! authorization-code redirect. The client secrets stay on Keyhole's token-protected API: never in
//! the page's storage.
//!
//! The EMA server here is a separate `keyhole testbed` (its default configuration has one, with
//! its own IdP), and the web inspector runs without the demo, so nothing but the user's settings
//! tells Keyhole how to sign in.

use keyhole_e2e::demo::{TestbedControl, echo_re_mints_after_expiry, sign_in_at_the_idp};
use keyhole_e2e::{Browser, KeyholeProcess, TEST_API_TOKEN};

const IDP_CLIENT_SECRET: &str = "keyhole-idp-secret";
const CLIENT_SECRET: &str = "keyhole-ema-secret";

struct EmaServer {
    _testbed: KeyholeProcess,
    url: String,
    idp: String,
    control: TestbedControl,
}

fn ema_testbed() -> EmaServer {
    let testbed = KeyholeProcess::spawn(&["testbed", "--port", "0"]);
    let url = format!("{}/servers/enterprise/mcp", testbed.base_url);
    let idp = format!("{}/idp", testbed.base_url);
    let control = TestbedControl::for_server(&url);
    EmaServer {
        _testbed: testbed,
        url,
        idp,
        control,
    }
}

/// Signs in at the testbed's IdP, waits until connected, then lets the token expire and checks
/// that a call re-mints silently on the same upstream session.
async fn sign_in_and_re_mint(browser: &Browser, ema: &EmaServer) {
    let session = sign_in_at_the_idp(browser, &ema.control, "enterprise").await;
    assert_eq!(browser.path().await, "/");
    echo_re_mints_after_expiry(browser, &ema.control).await;
    let after = ema.control.sessions("enterprise").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["sessionId"], session["sessionId"]);

    // Tokens came only from the JWT-bearer grant (legs 3), never an authorization code.
    let grants = ema.control.token_grant_types().await;
    assert_eq!(
        grants,
        [
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ]
    );
    // No secret in the page's storage.
    let stored = browser
        .script("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage);")
        .await;
    let stored = stored.as_str().unwrap_or_default();
    for secret in [IDP_CLIENT_SECRET, CLIENT_SECRET] {
        assert!(!stored.contains(secret), "{secret} in browser storage");
    }
}

#[tokio::test]
async fn settings_from_the_connect_form_sign_in_at_the_idp_and_re_mint() {
    let ema = ema_testbed();
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &ema.url).await;
    browser
        .script("document.querySelectorAll('.connect-form details').forEach(d => d.open = true);")
        .await;

    // Half the settings: refused before anything is sent.
    browser.fill("server-ema-idp-issuer-input", &ema.idp).await;
    browser.click("connect-button").await;
    browser
        .wait_text("connection-status", |t| {
            t == "Enterprise-managed authorization needs the client ID at the IdP."
        })
        .await;

    browser
        .fill("server-ema-idp-client-id-input", "keyhole")
        .await;
    browser
        .fill("server-ema-idp-client-secret-input", IDP_CLIENT_SECRET)
        .await;
    browser
        .choose("server-ema-idp-auth-method-select", "client_secret_post")
        .await;
    browser
        .fill("server-ema-client-id-input", "keyhole-ema")
        .await;
    browser
        .fill("server-ema-client-secret-input", CLIENT_SECRET)
        .await;
    browser.click("connect-button").await;
    // Leg 1 goes to the IdP's sign-in page, not the authorization server's.
    browser.wait_testid("login-username").await;
    let page = browser.client.current_url().await.unwrap();
    assert!(page.as_str().starts_with(&ema.idp), "{page}");
    sign_in_and_re_mint(&browser, &ema).await;

    // The backend keeps the settings for this run; only its token-protected API shows them.
    let config = reqwest::Client::new()
        .get(format!("{}/api/config", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        config["addedServers"][0]["url"],
        ema.url.as_str(),
        "{config}"
    );
    let refused = reqwest::get(format!("{}/api/config", keyhole.base_url))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    browser.close().await;
}

#[tokio::test]
async fn settings_from_a_catalog_entry_sign_in_at_the_idp_and_re_mint() {
    let ema = ema_testbed();
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("mcp.json");
    let document = serde_json::json!({"mcpServers": {"corp": {
        "type": "http",
        "url": ema.url,
        "enterprise": {
            "idpIssuer": ema.idp,
            "idpClientId": "keyhole",
            "idpClientSecret": IDP_CLIENT_SECRET,
            "idpClientAuthMethod": "client_secret_post",
            "clientId": "keyhole-ema",
            "clientSecret": CLIENT_SECRET
        }
    }}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    let keyhole = KeyholeProcess::web(&["--no-demo", "--config", catalog.to_str().unwrap()]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    browser
        .wait_text("server-item-corp", |t| t.contains("enterprise-managed"))
        .await;
    browser.click("server-connect-corp").await;
    browser.wait_testid("login-username").await;
    let page = browser.client.current_url().await.unwrap();
    assert!(page.as_str().starts_with(&ema.idp), "{page}");
    sign_in_and_re_mint(&browser, &ema).await;
    browser.close().await;
}

#[tokio::test]
async fn settings_of_a_saved_server_sign_in_at_the_idp_and_its_secrets_stay_out_of_the_file() {
    let ema = ema_testbed();
    // Secrets in a vault (this process's memory): the files keep references only.
    let keyhole = KeyholeProcess::web(&["--no-demo", "--secrets", "memory"]);
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();

    browser.click("saved-add").await;
    browser.fill("saved-name-input", "corp").await;
    browser.fill("saved-url-input", &ema.url).await;
    browser.click("saved-more").await;
    browser.fill("saved-ema-idp-issuer-input", &ema.idp).await;
    browser
        .fill("saved-ema-idp-client-id-input", "keyhole")
        .await;
    browser
        .fill("saved-ema-idp-client-secret-input", IDP_CLIENT_SECRET)
        .await;
    browser
        .choose("saved-ema-idp-auth-method-select", "client_secret_post")
        .await;
    browser
        .fill("saved-ema-client-id-input", "keyhole-ema")
        .await;
    browser
        .fill("saved-ema-client-secret-input", CLIENT_SECRET)
        .await;
    browser.click("saved-save").await;
    browser.wait_testid("saved-item-corp").await;

    let config_dir = keyhole.store_path().parent().unwrap().join("keyhole");
    let saved = std::fs::read_to_string(config_dir.join("servers.json")).unwrap();
    assert!(saved.contains("keyhole-secret:"), "{saved}");
    for secret in [IDP_CLIENT_SECRET, CLIENT_SECRET] {
        assert!(!saved.contains(secret), "{secret} in servers.json: {saved}");
    }

    browser.click("saved-connect-corp").await;
    browser.wait_testid("login-username").await;
    let page = browser.client.current_url().await.unwrap();
    assert!(page.as_str().starts_with(&ema.idp), "{page}");
    sign_in_and_re_mint(&browser, &ema).await;
    let store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(keyhole.store_path()).unwrap()).unwrap();
    let written = [
        &store["credentials"][0]["tokens"]["access_token"],
        &store["idpSessions"][0]["idToken"],
    ];
    for value in written {
        let value = value.as_str().unwrap_or_else(|| panic!("in {store}"));
        assert!(
            value.starts_with("keyhole-secret:"),
            "the OAuth store holds references, not tokens: {store}"
        );
    }
    browser.close().await;
}
