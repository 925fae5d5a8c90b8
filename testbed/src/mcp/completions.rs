//! `completion/complete`: suggestions for a prompt's arguments and a resource template's
//! variables, taken from the server's configuration (`completions`), narrowed to the values that
//! start with what the user has typed so far (ignoring case). A list may depend on another
//! argument, whose value the client sends in `context.arguments` — the way a client fills the
//! context from the other fields of its form is what this lets one test.

use serde_json::{Value, json};

use super::catalog::Catalog;
use super::dispatch::RpcError;
use crate::config::Completions;

/// The most values one answer carries (the specification's limit).
pub const MAX_VALUES: usize = 100;

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::new(RpcError::INVALID_PARAMS, message)
}

/// The result of a `completion/complete` request.
pub fn complete(catalog: &Catalog, params: &Value) -> Result<Value, RpcError> {
    let reference = &params["ref"];
    let argument = params["argument"]["name"]
        .as_str()
        .ok_or_else(|| invalid("`argument.name` is required"))?;
    let typed = params["argument"]["value"].as_str().unwrap_or("");
    let completions = match reference["type"].as_str() {
        Some("ref/prompt") => {
            let name = reference["name"].as_str().unwrap_or("");
            let prompt = catalog
                .prompt(name)
                .ok_or_else(|| invalid(format!("unknown prompt `{name}`")))?;
            let argument = prompt
                .arguments
                .iter()
                .find(|a| a.name == argument)
                .ok_or_else(|| invalid(format!("prompt `{name}` has no argument `{argument}`")))?;
            argument.completions.as_ref()
        }
        Some("ref/resource") => {
            let uri = reference["uri"].as_str().unwrap_or("");
            let (template, _) = catalog
                .templates
                .iter()
                .find(|(t, _)| t.uri_template == uri)
                .ok_or_else(|| invalid(format!("unknown resource template `{uri}`")))?;
            template.completions.get(argument)
        }
        other => {
            return Err(invalid(format!(
                "unknown reference type {}: ref/prompt or ref/resource",
                other.map_or_else(|| "(none)".to_string(), |t| format!("`{t}`"))
            )));
        }
    };
    let candidates = candidates(completions, &params["context"]["arguments"]);
    let typed = typed.to_lowercase();
    let matching: Vec<&String> = candidates
        .iter()
        .filter(|value| value.to_lowercase().starts_with(&typed))
        .collect();
    Ok(json!({"completion": {
        "values": matching.iter().take(MAX_VALUES).collect::<Vec<_>>(),
        "total": matching.len(),
        "hasMore": matching.len() > MAX_VALUES,
    }}))
}

/// Every suggestion for the argument, before narrowing: a dependent list is picked by the other
/// argument's value, and is empty while that argument is not filled.
fn candidates<'a>(completions: Option<&'a Completions>, context: &Value) -> &'a [String] {
    match completions {
        None => &[],
        Some(Completions::Values(values)) => values,
        Some(Completions::DependsOn { depends_on, values }) => context
            .get(depends_on)
            .and_then(Value::as_str)
            .and_then(|chosen| values.get(chosen))
            .map_or(&[], Vec::as_slice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependent_list_needs_the_other_argument() {
        let completions: Completions = serde_json::from_value(json!({
            "dependsOn": "country", "values": {"France": ["Paris", "Lyon"]}
        }))
        .unwrap();
        assert!(candidates(Some(&completions), &json!({})).is_empty());
        assert_eq!(
            candidates(Some(&completions), &json!({"country": "France"})),
            ["Paris", "Lyon"]
        );
        assert!(candidates(Some(&completions), &json!({"country": "Peru"})).is_empty());
    }
}
