//! `completion/complete` against the configured suggestions: a prompt argument's list narrowed
//! by what was typed, and a template variable whose list depends on another variable's value
//! (`context.arguments`).

use crate::common;

use common::Fixture;
use serde_json::{Value, json};

fn config() -> Value {
    let mut config = common::base_config();
    config["servers"][2]["prompts"] = json!([{
        "name": "greeting", "template": "Write a {style} greeting.",
        "arguments": [{"name": "style", "completions": ["formal", "friendly", "pirate"]}]
    }]);
    config["servers"][2]["resourceTemplates"] = json!([{
        "uriTemplate": "demo://cities/{country}/{city}", "name": "city",
        "text": "{city}, {country}",
        "completions": {
            "country": ["France", "Peru"],
            "city": {"dependsOn": "country", "values": {"France": ["Paris", "Lyon"], "Peru": ["Lima"]}}
        }
    }]);
    config
}

async fn complete(params: Value) -> Value {
    let fixture = Fixture::start(config()).await;
    let mut mcp = fixture.mcp("open", None);
    let init = mcp.initialize().await;
    assert_eq!(
        init.response()["result"]["capabilities"]["completions"],
        json!({})
    );
    mcp.request("completion/complete", params)
        .await
        .response()
        .clone()
}

#[tokio::test]
async fn a_prompt_argument_is_completed_from_what_was_typed() {
    let reply = complete(json!({"ref": {"type": "ref/prompt", "name": "greeting"},
                                "argument": {"name": "style", "value": "F"}}))
    .await;
    assert_eq!(
        reply["result"]["completion"],
        json!({"values": ["formal", "friendly"], "total": 2, "hasMore": false})
    );
}

#[tokio::test]
async fn a_template_variable_depends_on_the_other_variables_value() {
    let reference = json!({"type": "ref/resource", "uri": "demo://cities/{country}/{city}"});
    let reply = complete(
        json!({"ref": reference, "argument": {"name": "city", "value": ""},
                                "context": {"arguments": {"country": "France"}}}),
    )
    .await;
    assert_eq!(
        reply["result"]["completion"]["values"],
        json!(["Paris", "Lyon"])
    );
    let reply =
        complete(json!({"ref": reference, "argument": {"name": "city", "value": ""}})).await;
    assert_eq!(reply["result"]["completion"]["values"], json!([]));
}

#[tokio::test]
async fn an_unknown_reference_is_invalid_params() {
    let reply = complete(json!({"ref": {"type": "ref/prompt", "name": "nope"},
                                "argument": {"name": "style", "value": ""}}))
    .await;
    assert_eq!(reply["error"]["code"], -32602);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown prompt")
    );
}
