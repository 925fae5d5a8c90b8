//! Checking a tool's `structuredContent` against the `outputSchema` it declared (MCP: a server
//! that declares one must return structured results that conform to it; a client should check).
//!
//! Only the JSON Schema keywords tools actually use are checked: `type` (one or several),
//! `enum`, `const`, `properties`, `required`, `additionalProperties` (`false` or a schema),
//! `items` (one schema for every item), and boolean schemas. Every other keyword (`$ref`,
//! `anyOf`, `pattern`, `minimum`, formats…) is ignored, so "no violations" means "none of the
//! checked keywords is violated". This is written by hand rather than taken from a JSON Schema
//! crate because it runs in the web app, whose download has a strict size budget: the complete
//! validators (with regex engines, format checkers and `$ref` resolution) would each cost more
//! than the budget has room for.

use serde_json::{Map, Value};

/// At most this many violations are reported for one result.
pub const MAX_VIOLATIONS: usize = 20;

/// One place where the result does not match the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) into the checked value; `""` is the value itself.
    pub path: String,
    pub message: String,
}

/// What a tool result says about the tool's output schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputCheck {
    /// The tool declares no output schema, or the result is a tool error (not checked).
    NotApplicable,
    /// `structuredContent` matches the schema.
    Valid,
    /// The tool declares an output schema but the result has no `structuredContent`.
    Missing,
    /// `structuredContent` does not match the schema.
    Invalid(Vec<Violation>),
}

/// Checks the `tools/call` `result` of `tool` (an entry of `tools/list`).
pub fn check_tool_result(tool: &Value, result: &Value) -> OutputCheck {
    let Some(schema) = tool.get("outputSchema").filter(|s| !s.is_null()) else {
        return OutputCheck::NotApplicable;
    };
    if result["isError"] == Value::Bool(true) {
        return OutputCheck::NotApplicable;
    }
    match result.get("structuredContent") {
        None | Some(Value::Null) => OutputCheck::Missing,
        Some(structured) => {
            let violations = check(schema, structured);
            if violations.is_empty() {
                OutputCheck::Valid
            } else {
                OutputCheck::Invalid(violations)
            }
        }
    }
}

/// Every violation of the checked keywords (at most [`MAX_VIOLATIONS`]), in document order.
pub fn check(schema: &Value, instance: &Value) -> Vec<Violation> {
    let mut violations = Vec::new();
    visit(schema, instance, &mut String::new(), &mut violations);
    violations
}

fn report(violations: &mut Vec<Violation>, path: &str, message: String) {
    if violations.len() < MAX_VIOLATIONS {
        violations.push(Violation {
            path: path.to_owned(),
            message,
        });
    }
}

/// The JSON Schema type name of a value (`integer` for whole numbers).
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(value: &Value, wanted: &str) -> bool {
    let actual = type_of(value);
    actual == wanted || (wanted == "number" && actual == "integer")
}

fn visit(schema: &Value, instance: &Value, path: &mut String, violations: &mut Vec<Violation>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            return report(violations, path, "no value is allowed here".into());
        }
        Value::Object(schema) => schema,
        _ => return,
    };
    if let Some(wanted) = schema.get("type") {
        let names: Vec<&str> = match wanted {
            Value::String(name) => vec![name.as_str()],
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.is_empty() && !names.iter().any(|name| has_type(instance, name)) {
            let message = format!(
                "expected {}, found {}",
                names.join(" or "),
                type_of(instance)
            );
            return report(violations, path, message);
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(instance)
    {
        report(
            violations,
            path,
            format!("{instance} is not one of the allowed values"),
        );
    }
    if let Some(expected) = schema.get("const")
        && expected != instance
    {
        report(
            violations,
            path,
            format!("expected the constant {expected}"),
        );
    }
    match instance {
        Value::Object(object) => visit_object(schema, object, path, violations),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| !s.is_array()) {
                for (index, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&index.to_string());
                    visit(item_schema, item, path, violations);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

fn visit_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &mut String,
    violations: &mut Vec<Violation>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(name) {
            let len = path.len();
            push_segment(path, name);
            report(violations, path, "required, but missing".into());
            path.truncate(len);
        }
    }
    let additional = schema.get("additionalProperties");
    for (name, value) in object {
        let len = path.len();
        push_segment(path, name);
        match (properties.and_then(|p| p.get(name)), additional) {
            (Some(property), _) => visit(property, value, path, violations),
            (None, Some(Value::Bool(false))) => report(
                violations,
                path,
                "not allowed (the schema has additionalProperties: false)".into(),
            ),
            (None, Some(extra)) => visit(extra, value, path, violations),
            (None, None) => {}
        }
        path.truncate(len);
    }
}

/// Appends `/name` with JSON Pointer escaping (`~` → `~0`, `/` → `~1`).
fn push_segment(path: &mut String, name: &str) {
    path.push('/');
    path.push_str(&name.replace('~', "~0").replace('/', "~1"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn forecast_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "temperatureCelsius": {"type": "number"},
                "humidityPercent": {"type": "integer"},
                "conditions": {"enum": ["sunny", "rain"]},
                "hours": {"type": "array", "items": {"type": "object",
                    "properties": {"at": {"type": "string"}}, "required": ["at"]}},
            },
            "required": ["city", "temperatureCelsius"],
            "additionalProperties": false,
        })
    }

    /// The violations' paths, sorted (the object order depends on serde_json's features).
    fn paths(violations: &[Violation]) -> Vec<&str> {
        let mut paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        paths.sort_unstable();
        paths
    }

    fn message_at<'a>(violations: &'a [Violation], path: &str) -> &'a str {
        &violations.iter().find(|v| v.path == path).unwrap().message
    }

    #[test]
    fn a_matching_value_has_no_violations() {
        let value = json!({"city": "Oslo", "temperatureCelsius": 3, "humidityPercent": 40.0,
            "conditions": "rain", "hours": [{"at": "09:00"}]});
        assert_eq!(check(&forecast_schema(), &value), vec![]);
    }

    #[test]
    fn each_violation_names_its_path() {
        let value = json!({"temperatureCelsius": "warm", "humidityPercent": 40.5,
            "conditions": "hail", "hours": [{"at": "09:00"}, {}], "wind/speed": 3});
        let violations = check(&forecast_schema(), &value);
        assert_eq!(
            paths(&violations),
            vec![
                "/city",
                "/conditions",
                "/hours/1/at",
                "/humidityPercent",
                "/temperatureCelsius",
                "/wind~1speed",
            ],
            "{violations:?}"
        );
        assert_eq!(message_at(&violations, "/city"), "required, but missing");
        assert_eq!(
            message_at(&violations, "/humidityPercent"),
            "expected integer, found number"
        );
        assert_eq!(
            message_at(&violations, "/temperatureCelsius"),
            "expected number, found string"
        );
        assert!(message_at(&violations, "/wind~1speed").contains("additionalProperties"));
    }

    #[test]
    fn type_lists_booleans_const_and_additional_schemas() {
        let schema = json!({"type": ["string", "null"]});
        assert!(check(&schema, &json!(null)).is_empty());
        assert_eq!(
            check(&schema, &json!(1))[0].message,
            "expected string or null, found integer"
        );
        assert!(check(&json!(true), &json!({"anything": 1})).is_empty());
        assert_eq!(check(&json!(false), &json!(1)).len(), 1);
        assert_eq!(check(&json!({"const": "v1"}), &json!("v2")).len(), 1);
        let map = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        assert_eq!(paths(&check(&map, &json!({"a": 1, "b": "x"}))), vec!["/b"]);
    }

    #[test]
    fn unknown_keywords_are_ignored_and_reports_are_capped() {
        let schema = json!({"$ref": "#/defs/x", "minimum": 10, "pattern": "^a"});
        assert!(check(&schema, &json!(1)).is_empty());
        let strict = json!({"type": "object", "additionalProperties": false});
        let many: Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(check(&strict, &Value::Object(many)).len(), MAX_VIOLATIONS);
    }

    #[test]
    fn tool_results_are_checked_only_when_a_schema_is_declared() {
        let tool = json!({"name": "t", "outputSchema": {"type": "object", "required": ["a"]}});
        assert_eq!(
            check_tool_result(&json!({"name": "t"}), &json!({})),
            OutputCheck::NotApplicable
        );
        assert_eq!(
            check_tool_result(&tool, &json!({"content": [], "isError": true})),
            OutputCheck::NotApplicable
        );
        assert_eq!(
            check_tool_result(&tool, &json!({"content": []})),
            OutputCheck::Missing
        );
        assert_eq!(
            check_tool_result(&tool, &json!({"structuredContent": {"a": 1}})),
            OutputCheck::Valid
        );
        assert!(matches!(
            check_tool_result(&tool, &json!({"structuredContent": {}})),
            OutputCheck::Invalid(v) if v[0].path == "/a"
        ));
    }
}
