//! "Debug sign-in" in Chromium against the built-in demo: the guided sign-in walked one step at
//! a time (each Next adds exactly one step, with its verdict, details and exchanges), through the
//! demo authorization server's login and consent, back to the same panel — the arrival leaves the
//! callback to it — then "Run to end" for the callback, token and first request. The token it
//! obtained is the store's: Connect then needs no sign-in; and no secret reaches the page.

use keyhole_e2e::demo::{answer_consent, demo_server_urls, oauth_store};
use keyhole_e2e::{Browser, KeyholeProcess};

async fn step_text(browser: &Browser, step: &str) -> String {
    browser
        .wait_selector_text(
            &format!("[data-testid=guided-step][data-step={step}]"),
            |_| true,
        )
        .await
}

async fn step_verdict(browser: &Browser, step: &str) -> String {
    browser
        .script(&format!(
            "return document.querySelector('[data-testid=guided-step][data-step={step}]').dataset.verdict;"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_guided_sign_in_walks_the_demo_step_by_step_across_the_redirect() {
    let keyhole = KeyholeProcess::web(&[]);
    let url = demo_server_urls(&keyhole).await[0].clone();
    let browser = Browser::start().await;
    browser.client.goto(&keyhole.open_url).await.unwrap();
    browser.fill("server-url-input", &url).await;
    browser.click("doctor-open").await;
    browser.click("guided-start").await;
    browser
        .wait_attr("guided-status", "data-next", &["challenge"])
        .await;
    assert_eq!(
        browser
            .count("[data-testid=guided-step][data-verdict=pending]")
            .await,
        8
    );

    let walk = [
        ("challenge", "protected-resource"),
        ("protected-resource", "authorization-server"),
        ("authorization-server", "client-identity"),
        ("client-identity", "authorization-request"),
        ("authorization-request", "callback"),
    ];
    for (done, next) in walk {
        browser.click("guided-next").await;
        browser
            .wait_attr("guided-status", "data-next", &[next])
            .await;
        let verdict = step_verdict(&browser, done).await;
        assert!(
            verdict == "pass" || verdict == "warning",
            "{done}: {verdict}"
        );
        assert_eq!(
            browser
                .count("[data-testid=guided-step][data-verdict=pending]")
                .await,
            8 - walk.iter().position(|(d, _)| *d == done).unwrap() - 1,
            "one step per Next"
        );
    }
    let discovery = step_text(&browser, "protected-resource").await;
    assert!(
        discovery.contains("resource_metadata") && discovery.contains("HTTP 200"),
        "{discovery}"
    );
    assert!(discovery.contains("RFC 9728"), "{discovery}");
    let request = step_text(&browser, "authorization-request").await;
    assert!(request.contains("code_challenge_method=S256"), "{request}");
    assert!(request.contains("resource="), "{request}");

    // Next leaves for the demo authorization server; the user signs in there.
    browser.click("guided-next").await;
    answer_consent(&browser, &[], true).await;

    // Back: the Doctor section is open again on the same run, waiting at the callback; the
    // arrival did not take the callback (nothing connected) and the code left the address bar.
    browser
        .wait_attr("guided-status", "data-next", &["callback"])
        .await;
    assert_eq!(
        browser
            .count("[data-testid=guided-step][data-verdict=pending]")
            .await,
        3
    );
    let address = browser.client.current_url().await.unwrap();
    assert!(
        address.query().is_none_or(|q| !q.contains("code=")),
        "{address}"
    );
    assert_eq!(
        browser.value("server-url-input").await,
        url,
        "the form names the server again"
    );
    browser
        .wait_attr("connection-status", "data-status", &["disconnected"])
        .await;

    browser.click("guided-run-all").await;
    browser
        .wait_attr("guided-status", "data-next", &["done"])
        .await;
    for step in ["callback", "token-request", "first-request"] {
        assert_eq!(step_verdict(&browser, step).await, "pass", "{step}");
    }
    let token = step_text(&browser, "token-request").await;
    assert!(token.contains("/token"), "{token}");
    assert!(token.contains("fingerprint"), "{token}");
    // Its exchange unfolds to the request and the response, the token replaced.
    let exchange = browser
        .script(
            "return document.querySelector('[data-testid=guided-step][data-step=token-request] \
             [data-testid=guided-exchange]').textContent;",
        )
        .await;
    let exchange = exchange.as_str().unwrap_or_default();
    assert!(
        exchange.contains("grant_type=authorization_code") && exchange.contains("access_token"),
        "{exchange}"
    );
    assert!(exchange.contains("<redacted>"), "{exchange}");
    // Long URLs and bodies wrap on a phone.
    browser.set_viewport(390, 844).await;
    let overflow = browser.horizontal_overflow().await;
    assert!(
        overflow <= 0.0,
        "the steps overflow by {overflow}px at 390px"
    );
    browser.set_viewport(1280, 900).await;

    // The tokens are in the shared store, and nowhere in the page.
    let store = oauth_store(&keyhole).await;
    let page = browser
        .script("return document.documentElement.outerHTML;")
        .await;
    let page = page.as_str().unwrap_or_default();
    let mut secrets = 0;
    for credential in store["credentials"].as_array().into_iter().flatten() {
        for field in ["access_token", "refresh_token"] {
            if let Some(secret) = credential["tokens"][field].as_str() {
                secrets += 1;
                assert!(!page.contains(secret), "{field} is in the page");
            }
        }
    }
    assert!(secrets >= 1, "the sign-in stored a token: {store}");

    // Connect uses that token: no second trip to the authorization server.
    browser.click("connect-button").await;
    browser
        .wait_attr("connection-status", "data-status", &["connected"])
        .await;
    assert!(browser.path().await.starts_with('/'));
    browser.close().await;
}
