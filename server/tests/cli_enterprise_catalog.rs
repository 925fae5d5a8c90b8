//! Enterprise-managed authorization from an `mcp.json` entry's `enterprise` settings: with an ID
//! token from the IdP (`--idp-id-token`), the CLI exchanges it for the server's token (legs 2–3);
//! later runs re-mint from the IdP sign-in kept in the shared store, with no ID token given.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_shared::messages::{self, SilentRecovery};
use keyhole_testbed::TestbedConfig;
use serde_json::json;

/// The demo testbed (it has an EMA server and an IdP) and a catalog naming its EMA server `corp`.
async fn bed_and_catalog() -> (Bed, String) {
    let bed = Bed::with_config(TestbedConfig::demo()).await;
    let catalog = bed.dir.path().join("mcp.json");
    let document = json!({"mcpServers": {"corp": {
        "url": bed.mcp_url("enterprise"),
        "enterprise": {
            "idpIssuer": bed.testbed.idp_url().unwrap(),
            "idpClientId": "keyhole",
            "idpClientSecret": "keyhole-idp-secret",
            "idpClientAuthMethod": "client_secret_post",
            "clientId": "keyhole-ema",
            "clientSecret": "keyhole-ema-secret"
        }
    }}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    (bed, catalog.to_str().unwrap().to_owned())
}

fn echo<'a>(catalog: &'a str, extra: &[&'a str], message: &'a str) -> Vec<&'a str> {
    let mut argv = vec!["--config", catalog, "--server", "corp"];
    argv.extend_from_slice(extra);
    argv.extend_from_slice(&["tools", "call", "echo", "--arg", message]);
    argv
}

#[tokio::test]
async fn catalog_enterprise_settings_exchange_the_id_token_then_re_mint_from_the_store() {
    let (bed, catalog) = bed_and_catalog().await;
    let id_token = bed.testbed.mint_id_token("alice", "keyhole").unwrap();

    let mut t = FakeTerminal::new();
    let argv = echo(&catalog, &["--idp-id-token", &id_token], "message=first");
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("first"), "{}", t.stdout());
    let remint = messages::recovered_silently(SilentRecovery::EmaRemint);
    assert!(t.stderr().contains(&remint), "{}", t.stderr());
    let store = bed.store().read_document().unwrap();
    assert_eq!(store.idp_sessions.len(), 1, "the IdP sign-in is kept");

    // Later, with the token expired and no ID token given: re-minted from the kept sign-in.
    bed.control("tokens/expire", json!({})).await;
    let mut t = FakeTerminal::new();
    let argv = echo(&catalog, &[], "message=second");
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    assert!(t.stdout().contains("second"), "{}", t.stdout());
    assert!(t.stderr().contains(&remint), "{}", t.stderr());
    assert!(t.opened.lock().unwrap().is_empty(), "no browser sign-in");

    assert_eq!(
        bed.token_grant_types().await,
        [
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ],
        "never an authorization code"
    );
}

#[tokio::test]
async fn an_id_token_without_enterprise_settings_is_a_usage_error() {
    let (bed, _) = bed_and_catalog().await;
    let url = bed.mcp_url("enterprise");
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--url", &url, "--idp-id-token", "x", "tools", "list"],
            &mut t,
        )
        .await;
    assert_eq!(code, 2, "{}", t.stderr());
    assert!(
        t.stderr()
            .contains("or a --config entry with \"enterprise\" settings"),
        "{}",
        t.stderr()
    );
}
