//! A form generated from a JSON Schema (a tool's `inputSchema`): strings, numbers, integers,
//! booleans, enums, arrays of scalars (one item per line), nested objects as fieldsets, and raw
//! JSON for everything else. Required fields are marked and enforced; defaults prefill.
//!
//! Every input carries `data-testid="<prefix>-<path>"` where `path` is the property name, dotted
//! for nested objects (`tool-arg-message`, `tool-arg-address.city`).

use std::collections::BTreeMap;

use keyhole_shared::schema_choices::choices;
use leptos::prelude::*;
use serde_json::{Map, Value};

/// The kind of a single-line input.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    String,
    Number,
    Integer,
    /// The allowed values, each with the label the schema gives it (its text when none).
    Enum(Vec<(Value, String)>),
}

/// One field of the form, with its live value.
#[derive(Debug, Clone)]
enum Node {
    Scalar {
        kind: Scalar,
        value: RwSignal<String>,
    },
    Bool {
        value: RwSignal<bool>,
        /// Optional booleans are omitted until touched.
        touched: RwSignal<bool>,
    },
    /// An array of scalars, one item per line.
    List {
        item: Scalar,
        value: RwSignal<String>,
    },
    Object {
        fields: Vec<Field>,
    },
    /// Anything else: edited as JSON.
    Raw {
        value: RwSignal<String>,
    },
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    path: String,
    required: bool,
    description: Option<String>,
    node: Node,
}

/// A generated form: render it with [`SchemaFormView`], read it with [`SchemaForm::value`].
#[derive(Debug, Clone)]
pub struct SchemaForm {
    fields: Vec<Field>,
    prefix: String,
}

fn schema_type(schema: &Value) -> Option<&str> {
    match &schema["type"] {
        Value::String(t) => Some(t.as_str()),
        // `["string", "null"]`: the first non-null type.
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

fn scalar_of(schema: &Value) -> Option<Scalar> {
    if let Some(choices) = choices(schema) {
        return Some(Scalar::Enum(choices));
    }
    match schema_type(schema) {
        Some("string") => Some(Scalar::String),
        Some("number") => Some(Scalar::Number),
        Some("integer") => Some(Scalar::Integer),
        _ => None,
    }
}

fn scalar_text(value: &Value) -> String {
    keyhole_shared::schema_choices::text(value)
}

/// An array of scalars as the form shows it: one item per line.
fn list_text(items: &[Value]) -> String {
    items.iter().map(scalar_text).collect::<Vec<_>>().join("\n")
}

fn json_text(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn build_fields(schema: &Value, prefix: &str) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            Field {
                name: name.clone(),
                required: required.contains(&name.as_str()),
                description: property["description"].as_str().map(str::to_owned),
                node: build_node(property, &path),
                path,
            }
        })
        .collect()
}

fn build_node(schema: &Value, path: &str) -> Node {
    let default = schema.get("default");
    if let Some(kind) = scalar_of(schema) {
        return Node::Scalar {
            kind,
            value: RwSignal::new(default.map(scalar_text).unwrap_or_default()),
        };
    }
    match schema_type(schema) {
        Some("boolean") => Node::Bool {
            value: RwSignal::new(default.and_then(Value::as_bool).unwrap_or(false)),
            touched: RwSignal::new(default.is_some()),
        },
        Some("array") if scalar_of(&schema["items"]).is_some() => Node::List {
            item: scalar_of(&schema["items"]).unwrap_or(Scalar::String),
            value: RwSignal::new(
                default
                    .and_then(Value::as_array)
                    .map(|items| list_text(items))
                    .unwrap_or_default(),
            ),
        },
        Some("object") if schema["properties"].is_object() => Node::Object {
            fields: build_fields(schema, path),
        },
        _ => Node::Raw {
            value: RwSignal::new(default.map(json_text).unwrap_or_default()),
        },
    }
}

fn parse_scalar(kind: &Scalar, text: &str, path: &str) -> Result<Value, String> {
    match kind {
        Scalar::String => Ok(Value::String(text.to_owned())),
        Scalar::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{path} must be a whole number")),
        Scalar::Number => crate::platform::text::parse_number(text)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{path} must be a number")),
        Scalar::Enum(values) => values
            .iter()
            .find(|(v, _)| scalar_text(v) == text)
            .map(|(v, _)| v.clone())
            .ok_or_else(|| format!("{path} must be one of the listed values")),
    }
}

impl Node {
    /// `Ok(None)`: left empty.
    fn value(&self, path: &str) -> Result<Option<Value>, String> {
        match self {
            Self::Scalar { kind, value } => {
                let text = value.get_untracked();
                if text.is_empty() {
                    return Ok(None);
                }
                parse_scalar(kind, &text, path).map(Some)
            }
            Self::Bool { value, touched } => Ok(touched
                .get_untracked()
                .then(|| Value::Bool(value.get_untracked()))),
            Self::List { item, value } => {
                let text = value.get_untracked();
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                if lines.is_empty() {
                    return Ok(None);
                }
                lines
                    .into_iter()
                    .map(|line| parse_scalar(item, line, path))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|items| Some(Value::Array(items)))
            }
            Self::Object { fields } => {
                let object = collect(fields)?;
                Ok((!object.is_empty()).then_some(Value::Object(object)))
            }
            Self::Raw { value } => {
                let text = value.get_untracked();
                if text.trim().is_empty() {
                    return Ok(None);
                }
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| format!("{path} is not valid JSON: {e}"))
            }
        }
    }
}

fn collect(fields: &[Field]) -> Result<Map<String, Value>, String> {
    let mut object = Map::new();
    for field in fields {
        match field.node.value(&field.path)? {
            Some(value) => {
                object.insert(field.name.clone(), value);
            }
            None if field.required => {
                // A required boolean left alone is an explicit `false`.
                if let Node::Bool { value, .. } = &field.node {
                    object.insert(field.name.clone(), Value::Bool(value.get_untracked()));
                } else {
                    return Err(format!("{} is required", field.path));
                }
            }
            None => {}
        }
    }
    Ok(object)
}

impl SchemaForm {
    /// Builds the form for `schema`; `prefix` names the inputs' test ids (`tool-arg`).
    pub fn new(schema: &Value, prefix: &str) -> Self {
        Self {
            fields: build_fields(schema, ""),
            prefix: prefix.to_owned(),
        }
    }

    /// The arguments object, or the first problem in words.
    pub fn value(&self) -> Result<Value, String> {
        collect(&self.fields).map(Value::Object)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Every value as typed, by field path (booleans only once touched): what a resume snapshot
    /// keeps.
    pub fn texts(&self) -> BTreeMap<String, String> {
        let mut texts = BTreeMap::new();
        visit(&self.fields, &mut |path, node| {
            let text = match node {
                Node::Scalar { value, .. } | Node::List { value, .. } | Node::Raw { value } => {
                    Some(value.get_untracked())
                }
                Node::Bool { value, touched } => touched
                    .get_untracked()
                    .then(|| value.get_untracked().to_string()),
                Node::Object { .. } => None,
            };
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                texts.insert(path.to_owned(), text);
            }
        });
        texts
    }

    /// Fills the form with an arguments object (a call from the history).
    pub fn fill(&self, arguments: &Value) {
        fill_fields(&self.fields, arguments);
    }

    /// Puts back values saved by [`SchemaForm::texts`]; unknown paths are ignored.
    pub fn restore(&self, texts: &BTreeMap<String, String>) {
        visit(&self.fields, &mut |path, node| {
            let Some(text) = texts.get(path) else { return };
            match node {
                Node::Scalar { value, .. } | Node::List { value, .. } | Node::Raw { value } => {
                    value.set(text.clone())
                }
                Node::Bool { value, touched } => {
                    value.set(text == "true");
                    touched.set(true);
                }
                Node::Object { .. } => {}
            }
        });
    }
}

/// Sets every field from `object` (an arguments object); fields it lacks are emptied.
fn fill_fields(fields: &[Field], object: &Value) {
    for field in fields {
        let value = object.get(&field.name).filter(|v| !v.is_null());
        match &field.node {
            Node::Scalar { value: text, .. } => {
                text.set(value.map(scalar_text).unwrap_or_default())
            }
            Node::Bool {
                value: checked,
                touched,
            } => {
                checked.set(value.and_then(Value::as_bool).unwrap_or(false));
                touched.set(value.is_some());
            }
            Node::List { value: text, .. } => text.set(
                value
                    .and_then(Value::as_array)
                    .map(|items| list_text(items))
                    .unwrap_or_default(),
            ),
            Node::Object { fields } => fill_fields(fields, value.unwrap_or(&Value::Null)),
            Node::Raw { value: text } => text.set(value.map(json_text).unwrap_or_default()),
        }
    }
}

/// Calls `f` with every field's path and node, depth first.
fn visit(fields: &[Field], f: &mut impl FnMut(&str, &Node)) {
    for field in fields {
        f(&field.path, &field.node);
        if let Node::Object { fields } = &field.node {
            visit(fields, f);
        }
    }
}

#[component]
pub fn SchemaFormView(form: SchemaForm) -> impl IntoView {
    let prefix = form.prefix.clone();
    view! { <div class="schema-form">{fields_view(form.fields, prefix)}</div> }
}

fn fields_view(fields: Vec<Field>, prefix: String) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| field_view(field, &prefix))
        .collect_view()
}

fn field_view(field: Field, prefix: &str) -> AnyView {
    let testid = format!("{prefix}-{}", field.path);
    let id = format!("field-{testid}");
    let label = view! {
        <span class="field-name">{field.name.clone()}</span>
        {field.required.then(|| view! { <span class="required" title="required">"*"</span> })}
    };
    let help = field
        .description
        .clone()
        .map(|d| view! { <span class="field-help">{d}</span> });
    let required = field.required;
    match field.node {
        Node::Scalar {
            kind: Scalar::Enum(values),
            value,
        } => view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id data-testid=testid prop:value=move || value.get()
                    on:change=move |ev| value.set(event_target_value(&ev))>
                    <option value="">{if required { "(choose)" } else { "(none)" }}</option>
                    {values.iter().map(|(v, label)| {
                        let text = scalar_text(v);
                        view! { <option value=text.clone() selected=value.get_untracked() == text>{label.clone()}</option> }
                    }).collect_view()}
                </select>
                {help}
            </div>
        }
        .into_any(),
        Node::Scalar { kind, value } => {
            let input_type = match kind {
                Scalar::Number | Scalar::Integer => "number",
                _ => "text",
            };
            let step = (kind == Scalar::Number).then_some("any");
            view! {
                <div class="field">
                    <label for=id.clone()>{label}</label>
                    <input id=id type=input_type step=step data-testid=testid aria-required=required.to_string() bind:value=value />
                    {help}
                </div>
            }
            .into_any()
        }
        Node::Bool { value, touched } => view! {
            <div class="field field-inline">
                <input id=id.clone() type="checkbox" data-testid=testid
                    prop:checked=move || value.get()
                    on:change=move |ev| { value.set(event_target_checked(&ev)); touched.set(true); } />
                <label for=id>{label}</label>
                {help}
            </div>
        }
        .into_any(),
        Node::List { value, .. } => view! {
            <div class="field">
                <label for=id.clone()>{label}<span class="muted">" (one item per line)"</span></label>
                <textarea id=id rows="3" data-testid=testid bind:value=value></textarea>
                {help}
            </div>
        }
        .into_any(),
        Node::Object { fields } => view! {
            <fieldset class="field-group" data-testid=testid>
                <legend>{label}</legend>
                {help}
                {fields_view(fields, prefix.to_owned())}
            </fieldset>
        }
        .into_any(),
        Node::Raw { value } => view! {
            <div class="field">
                <label for=id.clone()>{label}<span class="muted">" (JSON)"</span></label>
                <textarea id=id rows="4" class="mono" data-testid=testid bind:value=value></textarea>
                {help}
            </div>
        }
        .into_any(),
    }
}

/// The form's logic without a page: schema → inputs → arguments, and back. Run natively
/// (`cargo test -p keyhole-frontend --lib`); signals work without a DOM.
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn weather_schema() -> Value {
        json!({
            "type": "object",
            "required": ["city", "days"],
            "properties": {
                "city": { "type": "string", "description": "Where" },
                "days": { "type": "integer", "default": 3 },
                "units": { "enum": ["metric", "imperial"] },
                "ratio": { "type": ["number", "null"] },
                "tags": { "type": "array", "items": { "type": "string" } },
                "verbose": { "type": "boolean" },
                "strict": { "type": "boolean" },
                "place": {
                    "type": "object",
                    "properties": { "lat": { "type": "number" }, "lon": { "type": "number" } }
                },
                "extra": { "type": "object" }
            }
        })
    }

    #[test]
    fn typed_inputs_become_the_arguments_object_with_defaults_and_types() {
        let form = SchemaForm::new(&weather_schema(), "tool-arg");
        form.restore(&texts(&[
            ("city", "Lisbon"),
            ("units", "metric"),
            ("ratio", "0.5"),
            ("tags", "sea\n\nsun\n"),
            ("verbose", "true"),
            ("place.lat", "38.7"),
            ("extra", r#"{"any": [1, 2]}"#),
        ]));
        assert_eq!(
            form.value().unwrap(),
            json!({
                "city": "Lisbon", "days": 3, "units": "metric", "ratio": 0.5,
                "tags": ["sea", "sun"], "verbose": true, "place": { "lat": 38.7 },
                "extra": { "any": [1, 2] }
            }),
            "untouched optional fields (strict, place.lon) are left out"
        );
    }

    #[test]
    fn each_problem_is_named_by_its_field_path() {
        let cases = [
            (vec![("days", "3")], "city is required"),
            (
                vec![("city", "x"), ("days", "3.5")],
                "days must be a whole number",
            ),
            (
                vec![("city", "x"), ("units", "kelvin")],
                "units must be one of the listed values",
            ),
            (
                vec![("city", "x"), ("place.lat", "north")],
                "place.lat must be a number",
            ),
            (
                vec![("city", "x"), ("extra", "{oops")],
                "extra is not valid JSON",
            ),
        ];
        for (typed, problem) in cases {
            let form = SchemaForm::new(&weather_schema(), "tool-arg");
            form.restore(&texts(&typed));
            let error = form.value().expect_err(problem);
            assert!(error.starts_with(problem), "{typed:?}: {error}");
        }
    }

    #[test]
    fn a_required_boolean_left_alone_is_false() {
        let schema = json!({
            "type": "object", "required": ["confirm"],
            "properties": { "confirm": { "type": "boolean" } }
        });
        let form = SchemaForm::new(&schema, "tool-arg");
        assert_eq!(form.value().unwrap(), json!({ "confirm": false }));
    }

    #[test]
    fn what_was_typed_survives_a_snapshot_round_trip() {
        let typed = texts(&[
            ("city", "Porto"),
            ("days", "7"),
            ("tags", "a\nb"),
            ("verbose", "false"),
            ("place.lon", "-8.6"),
        ]);
        let before = SchemaForm::new(&weather_schema(), "tool-arg");
        before.restore(&typed);
        let saved = before.texts();
        assert_eq!(saved, typed, "what the snapshot keeps is what was typed");
        let after = SchemaForm::new(&weather_schema(), "tool-arg");
        after.restore(&saved);
        assert_eq!(after.value().unwrap(), before.value().unwrap());
    }

    #[test]
    fn filling_from_a_past_call_shows_its_arguments_and_empties_the_rest() {
        let form = SchemaForm::new(&weather_schema(), "tool-arg");
        form.restore(&texts(&[("units", "imperial"), ("verbose", "true")]));
        let call =
            json!({ "city": "Faro", "days": 2, "tags": ["x", "y"], "place": { "lat": 37.5 } });
        form.fill(&call);
        assert_eq!(form.value().unwrap(), call);
        assert_eq!(form.texts().get("tags").map(String::as_str), Some("x\ny"));
    }

    #[test]
    fn a_schema_without_properties_makes_an_empty_form() {
        for schema in [json!({ "type": "object" }), json!({}), json!(null)] {
            let form = SchemaForm::new(&schema, "tool-arg");
            assert!(form.is_empty());
            assert_eq!(form.value().unwrap(), json!({}));
        }
    }

    #[test]
    fn titled_enums_keep_their_values_and_labels() {
        let schema = json!({ "type": "object", "properties": {
            "pick": { "type": "string", "oneOf": [
                { "const": "snake", "title": "Python snake species" },
                { "const": "programming", "title": "Python programming language" }
            ] },
            "size": { "type": "integer", "enum": [1, 2], "enumNames": ["Small", "Large"] },
            "free": { "anyOf": [{ "type": "string" }, { "type": "number" }] }
        } });
        assert_eq!(
            scalar_of(&schema["properties"]["pick"]),
            Some(Scalar::Enum(vec![
                (json!("snake"), "Python snake species".into()),
                (json!("programming"), "Python programming language".into()),
            ]))
        );
        assert_eq!(
            scalar_of(&schema["properties"]["size"]),
            Some(Scalar::Enum(vec![
                (json!(1), "Small".into()),
                (json!(2), "Large".into())
            ]))
        );
        // A union of types is not a choice.
        assert_eq!(scalar_of(&schema["properties"]["free"]), None);
        let form = SchemaForm::new(&schema, "f");
        form.restore(&texts(&[("pick", "snake"), ("size", "2")]));
        assert_eq!(form.value().unwrap(), json!({ "pick": "snake", "size": 2 }));
    }
}
