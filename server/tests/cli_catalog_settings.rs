//! An `mcp.json` entry's own `oauth` and `protocolVersion` settings, used by the CLI: the
//! authorization server registers nobody, so only the entry's client registered in advance
//! signs in; its challenges name no scope, so the entry's scopes are asked for; the session
//! speaks the entry's protocol version. The command line's own flags win over the entry.

use crate::cli_fixture;

use cli_fixture::{Bed, FakeTerminal};
use keyhole_testbed::TestbedConfig;
use serde_json::json;

async fn bed_and_catalog(protocol_version: &str) -> (Bed, String) {
    let mut config = cli_fixture::config();
    config["servers"][0]["auth"]["challengeStyle"] = json!("bare");
    // Listed with an output schema from 2025-06-18 on only.
    config["servers"][0]["tools"] = json!([{"preset": "structured"}]);
    config["oauth"]["dynamicRegistration"] = json!(false);
    config["oauth"]["scopesSupported"] = json!(["mcp", "weather:read", "extra"]);
    config["oauth"]["users"] = json!([{"username": "u", "password": "p"}]);
    config["oauth"]["staticClients"] = json!([{"clientId": "registered-in-advance",
        "tokenEndpointAuthMethod": "none", "redirectUris": ["http://127.0.0.1:1/callback"]}]);
    let bed = Bed::with_config(TestbedConfig::from_json_str(&config.to_string()).unwrap()).await;
    let catalog = bed.dir.path().join("mcp.json");
    let document = json!({"mcpServers": {"main": {
        "url": bed.mcp_url("main"),
        "protocolVersion": protocol_version,
        "oauth": {"clientId": "registered-in-advance", "scopes": "mcp extra"}
    }}});
    std::fs::write(&catalog, document.to_string()).unwrap();
    (bed, catalog.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_entrys_client_scopes_and_protocol_version_are_used() {
    let (bed, catalog) = bed_and_catalog("2025-03-26").await;
    let mut t = FakeTerminal::new();
    let argv = [
        "--config",
        &catalog,
        "--server",
        "main",
        "--non-interactive",
        "--json",
        "tools",
        "list",
    ];
    assert_eq!(bed.run(&argv, &mut t).await, 0, "{}", t.stderr());
    let tokens = bed.control_get("tokens").await;
    let access = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "access")
        .unwrap_or_else(|| panic!("an access token: {tokens}"));
    assert_eq!(access["clientId"], "registered-in-advance");
    assert_eq!(access["scopes"], json!(["mcp", "extra"]));
    let listed = t.json();
    let tool = &listed["tools"][0];
    assert_eq!(tool["name"], "get-forecast", "{listed}");
    assert!(
        tool.get("outputSchema").is_none(),
        "a 2025-03-26 session lists no output schema: {listed}"
    );
}

#[tokio::test]
async fn a_catalog_entry_with_a_bad_setting_is_refused_naming_the_field() {
    let (bed, catalog) = bed_and_catalog("2019-01-01").await;
    let mut t = FakeTerminal::new();
    let code = bed
        .run(
            &["--config", &catalog, "--server", "main", "tools", "list"],
            &mut t,
        )
        .await;
    assert_eq!(code, 2, "{}", t.stderr());
    assert!(
        t.stderr().contains("mcpServers.main.protocolVersion"),
        "{}",
        t.stderr()
    );
}
