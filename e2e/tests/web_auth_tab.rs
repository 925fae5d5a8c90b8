//! The Auth tab shows what Keyhole holds for the server — token type, expiry, format, the
//! fingerprint of the current access token, whether a refresh token is held, granted scopes —
//! after a sign-in, after a silent refresh and after a step-up, and never a token's value. A JWT
//! access token is decoded.

use keyhole_e2e::demo::{SignedIn, TestbedControl, answer_consent};
use keyhole_e2e::testbed::{TestbedProcess, connect};
use keyhole_e2e::{Browser, KeyholeProcess};

/// The fingerprint of the newest access token the testbed issued.
async fn newest_access_token(control: &TestbedControl) -> String {
    let tokens = control.get("/tokens").await;
    tokens
        .as_array()
        .unwrap()
        .iter()
        .rfind(|t| t["kind"] == "access")
        .and_then(|t| t["fingerprint"].as_str())
        .expect("an access token")
        .to_owned()
}

/// Opens the Auth tab (which reads the store again) and waits for `fingerprint` there.
async fn auth_tab_shows(browser: &Browser, fingerprint: &str) {
    browser.click("tab-tools").await;
    browser.click("tab-auth").await;
    browser
        .wait_text("auth-token-fingerprint", |t| t == fingerprint)
        .await;
}

/// The seconds in "expires in N s (…)".
async fn seconds_left(browser: &Browser) -> i64 {
    let text = browser.wait_text("auth-token-expiry", |_| true).await;
    text.strip_prefix("expires in ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a future expiry: {text:?}"))
}

/// The page's text must not contain a token value (the testbed's tokens start with these).
async fn no_token_values_on_the_page(browser: &Browser) {
    let text = browser
        .script("return document.body.innerText + document.body.innerHTML;")
        .await;
    let text = text.as_str().unwrap();
    for prefix in ["kh_at_", "kh_rt_"] {
        assert!(
            !text.contains(prefix),
            "a token value ({prefix}…) is on the page"
        );
    }
}

#[tokio::test]
async fn sign_in_refresh_and_step_up_each_show_in_the_auth_tab() {
    let demo = SignedIn::start().await;
    let browser = &demo.browser;

    // After the sign-in.
    let first = newest_access_token(&demo.control).await;
    auth_tab_shows(browser, &first).await;
    assert_eq!(
        browser.wait_text("auth-token-type", |_| true).await,
        "Bearer"
    );
    assert_eq!(
        browser.wait_text("auth-token-format", |_| true).await,
        "opaque"
    );
    assert_eq!(
        browser.wait_text("auth-refresh-token", |_| true).await,
        "held (not shown)"
    );
    assert_eq!(
        browser.wait_text("auth-access-token", |_| true).await,
        "held (not shown)"
    );
    assert_eq!(
        browser.wait_text("auth-granted-scopes", |_| true).await,
        "mcp"
    );
    let left = seconds_left(browser).await;
    assert!(
        (60..=120).contains(&left),
        "the demo's tokens live 120 s: {left}"
    );
    browser
        .wait_text("auth-client", |t| t.contains("dynamic registration"))
        .await;
    no_token_values_on_the_page(browser).await;

    // After a silent refresh: the new token, its own expiry, still a refresh token.
    demo.control.expire_access_tokens().await;
    demo.run_tool("echo", &[("message", "after expiry")]).await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    let refreshed = newest_access_token(&demo.control).await;
    assert_ne!(refreshed, first);
    auth_tab_shows(browser, &refreshed).await;
    assert!(seconds_left(browser).await > 60);
    assert_eq!(
        browser.wait_text("auth-refresh-token", |_| true).await,
        "held (not shown)"
    );
    no_token_values_on_the_page(browser).await;

    // After a step-up: the wider grant.
    demo.run_tool("get-weather", &[("city", "Lisbon")]).await;
    browser.click("step-up-authorize").await;
    answer_consent(browser, &[], true).await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let stepped_up = newest_access_token(&demo.control).await;
    auth_tab_shows(browser, &stepped_up).await;
    assert_eq!(
        browser.wait_text("auth-granted-scopes", |_| true).await,
        "mcp weather:read"
    );
    assert!(seconds_left(browser).await > 60);
    no_token_values_on_the_page(browser).await;
    assert_eq!(browser.count("[data-testid=\"auth-jwt\"]").await, 0);
    demo.close().await;
}

const JWT_TESTBED: &str = r#"{
  "servers": [{ "name": "jwt", "auth": { "mode": "oauth", "baseScopes": ["mcp"] },
                "tools": [{ "preset": "echo" }] }],
  "oauth": { "scopesSupported": ["mcp"], "defaultScopes": ["mcp"], "consent": "auto",
             "accessTokenFormat": "jwt", "refreshTokens": { "enabled": false } }
}"#;

#[tokio::test]
async fn a_jwt_access_token_is_decoded_without_showing_the_token() {
    let testbed = TestbedProcess::start(JWT_TESTBED);
    let url = testbed.mcp_url("jwt");
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let browser = Browser::start().await;
    connect(&browser, &keyhole, &url).await;

    browser.click("tab-auth").await;
    assert_eq!(
        browser.wait_text("auth-token-format", |_| true).await,
        "JWT"
    );
    assert_eq!(
        browser.wait_text("auth-refresh-token", |_| true).await,
        "none"
    );
    let decoded = browser
        .wait_text("auth-jwt", |t| t.contains("at+jwt"))
        .await;
    for claim in ["\"scope\": \"mcp\"", "\"client_id\"", "\"exp\"", "\"jti\""] {
        assert!(decoded.contains(claim), "{claim} in {decoded}");
    }
    assert!(
        decoded.contains(&url),
        "the audience is the server: {decoded}"
    );
    // The token itself (three base64url parts joined by dots) is nowhere on the page.
    let token_like = browser
        .script(
            "return /eyJ[\\w-]+\\.eyJ[\\w-]+\\.[\\w-]+/.test(document.body.innerText + document.body.innerHTML);",
        )
        .await;
    assert_eq!(token_like, false, "a JWT's value is on the page");
    browser.close().await;
}
