//! The real binary's HTTP perimeter (see ARCHITECTURE.md, “The perimeter”): the API token (never
//! in a served page; the store's secrets behind it), the Host/Origin allow-lists, the
//! unauthenticated health check, the SPA fallback and its pre-compressed assets.

use keyhole_e2e::{KeyholeProcess, TEST_API_TOKEN};
use reqwest::StatusCode;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn api_needs_the_token_and_an_own_origin_and_host() {
    let keyhole = KeyholeProcess::web(&[]);
    let config = format!("{}/api/config", keyhole.base_url);
    let http = client();

    let no_token = http.get(&config).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = no_token.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let wrong = http
        .get(&config)
        .header("X-Keyhole-Token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let good = http
        .get(&config)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let body: serde_json::Value = good.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    let by_cookie = http
        .get(&config)
        .header(
            "Cookie",
            format!("keyhole_token_{}={TEST_API_TOKEN}", keyhole.port()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);

    let foreign_origin = http
        .get(&config)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_origin.status(), StatusCode::FORBIDDEN);

    let same_origin = http
        .get(&config)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .header("Origin", keyhole.base_url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);

    let rebinding = http
        .get(&config)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .header("Host", format!("attacker.example:{}", keyhole.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), StatusCode::FORBIDDEN);

    // The page that carries the token is guarded against rebinding too.
    let page_by_foreign_host = http
        .get(format!("{}/", keyhole.base_url))
        .header("Host", format!("attacker.example:{}", keyhole.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(page_by_foreign_host.status(), StatusCode::FORBIDDEN);
    assert!(
        !page_by_foreign_host
            .text()
            .await
            .unwrap()
            .contains(TEST_API_TOKEN)
    );
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let keyhole = KeyholeProcess::web(&["web"]);
    let response = client()
        .get(format!("{}/healthz", keyhole.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_page_requested_without_the_token_says_how_to_open_keyhole_and_nothing_more() {
    let keyhole = KeyholeProcess::web(&[]);
    for path in [
        "/",
        "/some/client/route",
        "/API/config",
        "/?token=wrong-token",
    ] {
        let response = client()
            .get(format!("{}{path}", keyhole.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(response.headers().get("set-cookie").is_none(), "{path}");
        let html = response.text().await.unwrap();
        assert!(!html.contains(TEST_API_TOKEN), "{path} leaks the token");
        assert!(!html.contains("/assets/"), "{path} serves the app");
        assert!(
            html.contains("data-testid=\"how-to-open\""),
            "{path}: {html}"
        );
        assert!(
            html.contains("/?token="),
            "{path} says where the address comes from"
        );
        assert_eq!(
            html.contains("not the one of the Keyhole that is running"),
            path.contains("wrong-token"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_store_secrets_are_not_readable_without_the_token() {
    let keyhole = KeyholeProcess::web(&["--no-demo"]);
    let store = format!("{}/api/store/oauth", keyhole.base_url);
    let document = serde_json::json!({
        "revision": 0,
        "credentials": [{
            "serverUrl": "https://rs.example/mcp", "issuer": "https://as.example",
            "tokens": { "access_token": "SECRET-ACCESS", "token_type": "Bearer",
                        "refresh_token": "SECRET-REFRESH" }
        }]
    });
    let written = client()
        .put(&store)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), StatusCode::OK);
    let page = client()
        .get(format!("{}/", keyhole.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(TEST_API_TOKEN));
    for attempt in [
        client().get(&store),
        client().get(&store).header("X-Keyhole-Token", "guess"),
        client()
            .get(&store)
            .header("Cookie", format!("keyhole_token_{}=guess", keyhole.port())),
        // The cookie of another port is not this server's.
        client()
            .get(&store)
            .header("Cookie", format!("keyhole_token_1={TEST_API_TOKEN}")),
    ] {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = response.text().await.unwrap();
        assert!(!body.contains("SECRET"), "{body}");
    }
}

#[tokio::test]
async fn the_start_address_opens_the_app_and_leaves_a_strict_cookie() {
    let keyhole = KeyholeProcess::web(&[]);
    let opened = client().get(&keyhole.open_url).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(
        cookie,
        format!(
            "keyhole_token_{}={TEST_API_TOKEN}; Path=/; SameSite=Strict; HttpOnly",
            keyhole.port()
        )
    );
    let csp = opened.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = opened.text().await.unwrap();
    assert!(html.contains("/boot.js"), "the app is served");
    assert!(
        !html.contains(TEST_API_TOKEN),
        "the page itself never carries the token"
    );

    let cookie_pair = cookie.split(';').next().unwrap().to_owned();
    for path in ["/", "/some/client/route"] {
        let response = client()
            .get(format!("{}{path}", keyhole.base_url))
            .header("Cookie", &cookie_pair)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path} with the cookie");
        assert!(response.headers().get("set-cookie").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("/boot.js") && !html.contains(TEST_API_TOKEN));
    }
    // An authorization server on another site redirects back without our SameSite=Strict cookie:
    // the callback loads the app (which holds no secret); the tab brings its token itself.
    let callback = client()
        .get(format!(
            "{}/oauth/callback?code=x&state=y",
            keyhole.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::OK);
    let html = callback.text().await.unwrap();
    assert!(html.contains("/boot.js") && !html.contains(TEST_API_TOKEN));

    // The page loads its files from a versioned folder, which browsers may keep for good; the
    // same files without the version are checked on every use; another version is gone.
    let versioned = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's boot script");
    let version = versioned
        .strip_prefix("/assets/")
        .and_then(|rest| rest.strip_suffix("/boot.js"))
        .unwrap_or_else(|| panic!("a versioned boot script: {versioned}"));
    assert!(version.starts_with('v') && version.len() == 17, "{version}");
    let wasm_url = format!("{}/assets/{version}/keyhole_bg.wasm", keyhole.base_url);
    let cached = client().get(&wasm_url).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::OK);
    assert_eq!(
        cached.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let unversioned = client()
        .get(format!("{}/assets/keyhole_bg.wasm", keyhole.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unversioned.headers()["cache-control"], "no-cache");
    let earlier = client()
        .get(format!(
            "{}/assets/v0000000000000000/keyhole_bg.wasm",
            keyhole.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(earlier.status(), StatusCode::NOT_FOUND);
    assert!(earlier.text().await.unwrap().contains("reload the page"));

    let fetch_wasm = |accept_encoding: Option<&'static str>| {
        let mut request = client().get(&wasm_url);
        if let Some(accept_encoding) = accept_encoding {
            request = request.header("Accept-Encoding", accept_encoding);
        }
        request.send()
    };
    let plain = fetch_wasm(None).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.headers()["content-type"], "application/wasm");
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"\0asm"), "not a wasm module");

    // On loopback the files go as they are, even to a client that takes brotli (decoding costs the
    // page on every load; moving bytes over loopback does not). Other machines get them
    // compressed: `server/tests/perimeter_router.rs`.
    let chromium = fetch_wasm(Some("gzip, deflate, br, zstd")).await.unwrap();
    assert_eq!(chromium.status(), StatusCode::OK);
    assert!(chromium.headers().get("content-encoding").is_none());
    assert!(chromium.bytes().await.unwrap() == plain);
    let missing = client()
        .get(format!("{}/assets/nope.js", keyhole.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404_behind_the_token() {
    let keyhole = KeyholeProcess::web(&[]);
    let url = format!("{}/api/nope", keyhole.base_url);
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let response = client()
        .get(&url)
        .header("X-Keyhole-Token", TEST_API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}
