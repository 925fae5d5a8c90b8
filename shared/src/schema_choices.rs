//! The choices a JSON Schema property offers, each with the label to show: an `enum` (labelled
//! by `enumNames`, an older form, when present), or a `oneOf` / `anyOf` whose every entry is a
//! `const` with a `title` (MCP elicitation's titled enums). The web app's forms and the CLI's
//! elicitation prompts offer the same choices.

use serde_json::Value;

/// `(value, label)` for each choice of `property`; `None` when it is not a choice.
pub fn choices(property: &Value) -> Option<Vec<(Value, String)>> {
    if let Some(values) = property["enum"].as_array() {
        let names = property["enumNames"].as_array();
        let labelled = values.iter().enumerate().map(|(i, value)| {
            let name = names.and_then(|n| n.get(i)).and_then(Value::as_str);
            (
                value.clone(),
                name.map_or_else(|| text(value), str::to_owned),
            )
        });
        return Some(labelled.collect());
    }
    let entries = property["oneOf"]
        .as_array()
        .or(property["anyOf"].as_array())?;
    entries
        .iter()
        .map(|entry| {
            let value = entry.get("const")?.clone();
            let label = entry["title"]
                .as_str()
                .map_or_else(|| text(&value), str::to_owned);
            Some((value, label))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|choices| !choices.is_empty())
}

/// A value as the user types it: a string as it is, anything else as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enums_titled_enums_and_unions_of_types() {
        let titled = json!({ "type": "string", "oneOf": [
            { "const": "snake", "title": "Python snake species" }, { "const": "lang" } ] });
        assert_eq!(
            choices(&titled),
            Some(vec![
                (json!("snake"), "Python snake species".into()),
                (json!("lang"), "lang".into())
            ])
        );
        let named = json!({ "enum": [1, 2], "enumNames": ["Small"] });
        assert_eq!(
            choices(&named),
            Some(vec![(json!(1), "Small".into()), (json!(2), "2".into())])
        );
        assert_eq!(choices(&json!({ "anyOf": [{ "type": "string" }] })), None);
        assert_eq!(choices(&json!({ "oneOf": [] })), None);
        assert_eq!(choices(&json!({ "type": "string" })), None);
    }
}
