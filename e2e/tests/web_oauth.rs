//! Connect-time OAuth in the browser against the built-in demo: the full-page redirect to the
//! demo authorization server, its login and consent pages, `/oauth/callback`, and then the tabs
//! working on the authorized session.

use keyhole_e2e::{Browser, KeyholeProcess, TEST_API_TOKEN};
use serde_json::Value;

async fn demo_url(keyhole: &KeyholeProcess) -> String {
    let config: Value = reqwest::Client::new()
        .get(format!("{}/api/config", keyhole.base_url))
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    config["demoServers"][0]["url"]
        .as_str()
        .expect("the demo server's URL")
        .to_owned()
}

#[tokio::test]
async fn connecting_to_the_demo_signs_in_through_login_and_consent() {
    let keyhole = KeyholeProcess::web(&[]);
    let url = demo_url(&keyhole).await;
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &url).await;
    browser.click("connect-button").await;

    // The demo authorization server's pages.
    browser.fill("login-username", "demo").await;
    browser.fill("login-password", "demo").await;
    browser.click("login-submit").await;
    browser.click("consent-approve").await;

    // Back on /oauth/callback: the code is exchanged and the session connects.
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    let address = browser.client.current_url().await.unwrap();
    assert!(
        address.query().is_none_or(|q| !q.contains("code=")),
        "the callback URL was cleaned: {address}"
    );

    // A tool that needs no extra scope runs.
    browser.click("tool-item-echo").await;
    browser.fill("tool-arg-message", "signed in").await;
    browser.click("tool-run").await;
    browser
        .wait_attr("tool-result", "data-state", &["ok"])
        .await;
    browser
        .wait_text("tool-result", |t| t.contains("signed in"))
        .await;

    // A resource and a prompt.
    browser.click("tab-resources").await;
    browser.click("resource-item-readme").await;
    browser
        .wait_text("resource-result", |t| {
            t.contains("Welcome to the Keyhole demo")
        })
        .await;
    browser.click("tab-prompts").await;
    browser.click("prompt-item-greeting").await;
    browser.fill("prompt-arg-name", "Ada").await;
    browser.click("prompt-get").await;
    browser
        .wait_attr("prompt-result", "data-state", &["ok"])
        .await;

    // The Protocol and Network views show the exchanges; the Auth view what is held.
    browser.click("tab-protocol").await;
    browser
        .wait_count(
            "[data-testid=\"protocol-entry\"][data-method=\"tools/call\"]",
            2,
        )
        .await;
    browser.click("tab-network").await;
    browser
        .wait_count("[data-testid=\"network-entry\"][data-kind=\"mcp\"]", 3)
        .await;
    // The sign-in before the session (discovery, registration, token) is listed too, marked OAuth.
    let signin = browser
        .count("[data-testid=\"network-signin-steps\"] [data-testid=\"network-entry\"][data-kind=\"oauth\"]")
        .await;
    assert!(
        signin >= 3,
        "only {signin} sign-in exchanges in the Network tab"
    );
    // What the Auth tab says the client holds, fact by fact.
    browser.click("tab-auth").await;
    browser.wait_testid("auth-credentials").await;
    let facts = browser
        .script(
            "const dl = document.querySelector('[data-testid=\"auth-credentials\"]'); \
             return Object.fromEntries([...dl.querySelectorAll('dt')] \
               .map(dt => [dt.textContent, dt.nextElementSibling.textContent]));",
        )
        .await;
    let fact = |name: &str| facts[name].as_str().unwrap_or_default().to_owned();
    let origin = url.split("/servers/").next().unwrap();
    assert_eq!(fact("Issuer"), format!("{origin}/oauth"), "{facts}");
    assert!(
        fact("Client").ends_with(" (dynamic registration, none)"),
        "{facts}"
    );
    assert_eq!(fact("Granted scopes"), "mcp", "{facts}");
    assert_eq!(fact("Requested scopes"), "mcp", "{facts}");
    assert_eq!(fact("Access token"), "held (not shown)", "{facts}");
    assert_eq!(fact("Token type"), "Bearer", "{facts}");
    assert_eq!(fact("Format"), "opaque", "{facts}");
    let expiry = fact("Expiry");
    let lifetime = expiry
        .strip_prefix("expires in ")
        .and_then(|rest| rest.split(" s (").next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("the access token's expiry: {expiry:?}"));
    assert!(
        (60..=120).contains(&lifetime),
        "the demo's tokens live 120 s: {expiry:?}"
    );
    assert_eq!(fact("Refresh token"), "held (not shown)", "{facts}");
    // The sign-in's steps, from before and after the redirect: discovery, registration, token.
    let steps = browser.count("[data-testid=\"auth-step\"]").await;
    assert!(steps >= 3, "only {steps} sign-in steps shown");
    browser.wait_testid("auth-signin-steps").await;
    browser.close().await;
}

#[tokio::test]
async fn an_abandoned_sign_in_shows_the_reauth_banner_which_signs_in_again() {
    let keyhole = KeyholeProcess::web(&[]);
    let url = demo_url(&keyhole).await;
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &url).await;
    browser.click("connect-button").await;
    browser.wait_testid("login-username").await;

    // The user walks away from the login page and reopens Keyhole.
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser
        .wait_text("reauth-banner", |t| t.contains("was not completed"))
        .await;
    browser.click("reauth-button").await;
    browser.fill("login-username", "demo").await;
    browser.fill("login-password", "demo").await;
    browser.click("login-submit").await;
    browser.click("consent-approve").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    assert_eq!(browser.count("[data-testid=\"reauth-banner\"]").await, 0);
    browser.close().await;
}
