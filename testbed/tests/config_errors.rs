//! Configuration parsing: the demo is valid and complete; invalid files name the offending field.

use crate::common;

use keyhole_testbed::config::{AuthMode, ToolPreset};
use keyhole_testbed::{CONFIG_HELP, ConfigError, Testbed, TestbedConfig};
use serde_json::{Value, json};

fn error_for(config: Value) -> ConfigError {
    TestbedConfig::from_json_str(&config.to_string()).expect_err("the config is invalid")
}

#[test]
fn the_demo_config_has_every_demo_feature() {
    let demo = TestbedConfig::demo();
    let main = &demo.servers[0];
    assert_eq!(main.auth.mode, AuthMode::Oauth);
    assert!(
        main.tools.iter().any(|t| t.required_scopes.is_empty()),
        "a tool needing no extra scope"
    );
    assert!(
        main.tools.iter().any(|t| !t.required_scopes.is_empty()),
        "a tool needing an extra scope"
    );
    assert!(
        main.resources.iter().any(|r| !r.required_scopes.is_empty()),
        "a resource needing an extra scope"
    );
    assert!(
        main.tools
            .iter()
            .any(|t| t.preset == ToolPreset::LongRunning)
    );
    assert!(
        demo.oauth.access_token_lifetime_secs <= 300,
        "a short token lifetime"
    );
    assert!(demo.oauth.refresh_tokens.enabled);
    assert!(
        demo.servers.iter().any(|s| s.auth.mode == AuthMode::Ema),
        "an EMA-protected server"
    );
    assert!(demo.ema.is_some());
    assert!(
        main.tools
            .iter()
            .any(|t| t.preset == ToolPreset::DeleteNote),
        "a destructive tool"
    );
    assert!(
        main.tools.iter().any(|t| t.output_schema.is_some()),
        "a tool whose results break its declared output schema"
    );
}

#[test]
fn the_test_config_is_valid() {
    TestbedConfig::from_json_str(&common::base_config().to_string()).unwrap();
}

#[test]
fn type_errors_name_the_field() {
    let mut config = common::base_config();
    config["servers"][0]["tools"][1]["preset"] = json!("teleport");
    let error = error_for(config);
    assert_eq!(error.path, "servers[0].tools[1].preset");
    assert!(error.message.contains("teleport"), "{error}");

    let mut config = common::base_config();
    config["oauth"]["accessTokenLifetimeSecs"] = json!("soon");
    assert_eq!(error_for(config).path, "oauth.accessTokenLifetimeSecs");

    let mut config = common::base_config();
    config["oauth"]["consentt"] = json!("auto");
    let error = error_for(config);
    assert_eq!(error.path, "oauth.consentt");
    assert!(error.message.contains("consentt"), "{error}");

    let error = TestbedConfig::from_json_str("{\"servers\": [").unwrap_err();
    assert!(
        error.to_string().contains("invalid testbed config"),
        "{error}"
    );
}

#[test]
fn semantic_errors_name_the_field() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|c| c["servers"][0]["tools"][2]["requiredScopes"] = json!(["admin"])),
            "servers[0].tools[2].requiredScopes[0]",
        ),
        (
            Box::new(|c| c["servers"][0]["tools"][1]["name"] = json!("echo")),
            "servers[0].tools[1].name",
        ),
        (
            Box::new(|c| c["servers"][1]["name"] = json!("main")),
            "servers[1].name",
        ),
        (
            Box::new(|c| c["servers"][0]["name"] = json!("Main Server")),
            "servers[0].name",
        ),
        (
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("ema");
            }),
            "servers[1].auth.mode",
        ),
        (
            Box::new(|c| {
                c["servers"][0]["resourceTemplates"][0]["uriTemplate"] = json!("keyhole://x/{id")
            }),
            "servers[0].resourceTemplates[0].uriTemplate",
        ),
        (
            Box::new(|c| c["servers"][0]["resources"][0]["uri"] = json!("not a uri")),
            "servers[0].resources[0].uri",
        ),
        (
            Box::new(|c| c["oauth"]["staticClients"][0]["clientSecret"] = Value::Null),
            "oauth.staticClients[0].clientSecret",
        ),
        (
            Box::new(|c| c["oauth"]["accessTokenLifetimeSecs"] = json!(0)),
            "oauth.accessTokenLifetimeSecs",
        ),
        (Box::new(|c| c["oauth"]["users"] = json!([])), "oauth.users"),
        (
            Box::new(|c| c["servers"][0]["tools"][0]["outputSchema"] = json!({"type": "array"})),
            "servers[0].tools[0].outputSchema",
        ),
        (Box::new(|c| c["servers"] = json!([])), "servers"),
    ];
    for (mutate, path) in cases {
        let mut config = common::base_config();
        mutate(&mut config);
        let error = error_for(config);
        assert_eq!(error.path, path, "{error}");
    }
}

#[tokio::test]
async fn only_loopback_addresses_are_bound() {
    let error = Testbed::start(TestbedConfig::demo(), "0.0.0.0:0".parse().unwrap())
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("loopback"));
}

#[tokio::test]
async fn the_demo_starts_and_exposes_its_urls() {
    let testbed = Testbed::start(TestbedConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = testbed.base_url().to_string();
    assert_eq!(
        testbed.mcp_url("demo").unwrap(),
        format!("{base}/servers/demo/mcp")
    );
    assert_eq!(testbed.issuer_url(), format!("{base}/oauth"));
    assert_eq!(testbed.idp_url().unwrap(), format!("{base}/idp"));
    assert_eq!(testbed.control_url(), format!("{base}/control"));
    let names: Vec<String> = testbed
        .servers()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        ["demo", "modern", "dpop", "enterprise"],
        "one server per era, one that takes DPoP-bound tokens only, and EMA"
    );
    testbed.shutdown().await;
    assert!(
        reqwest::get(format!("{base}/control")).await.is_err(),
        "stopped"
    );
}

#[test]
fn the_help_text_describes_the_schema() {
    for word in [
        "presets",
        "requiredScopes",
        "consent",
        "challengeStyle",
        "allowTokensWithoutResource",
        "ema",
        "refreshTokens",
        "annotations",
        "outputSchema",
        "accessTokenFormat",
    ] {
        assert!(CONFIG_HELP.contains(word), "{word}");
    }
}
