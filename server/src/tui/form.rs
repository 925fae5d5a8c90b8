//! The TUI's argument forms: a tool's input schema, a prompt's arguments, a resource template's
//! variables or an elicitation's requested schema, as fields typed into one at a time. Values
//! are kept as typed text and converted when the form is sent, so what the person typed is never
//! lost to a conversion, and a value that does not fit its type is named before anything is sent.

use serde_json::{Map, Value};

/// What a field holds, from its JSON Schema `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Integer,
    Boolean,
    /// Objects and arrays: typed as JSON.
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub description: String,
    /// `enum` values, chosen with ←/→.
    pub choices: Vec<String>,
    pub value: String,
}

impl Field {
    fn new(name: &str, schema: &Value, required: bool) -> Self {
        let kind = match schema["type"].as_str() {
            Some("number") => Kind::Number,
            Some("integer") => Kind::Integer,
            Some("boolean") => Kind::Boolean,
            Some("object") | Some("array") => Kind::Json,
            _ => Kind::Text,
        };
        let choices: Vec<String> = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        let value = match &schema["default"] {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        Self {
            name: name.to_owned(),
            kind,
            required,
            description: schema["description"]
                .as_str()
                .or(schema["title"].as_str())
                .unwrap_or_default()
                .to_owned(),
            choices,
            value,
        }
    }

    /// The field's type as shown next to it.
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            Kind::Text => "string",
            Kind::Number => "number",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::Json => "JSON",
        }
    }

    /// The typed value as JSON (`None`: left empty).
    fn typed(&self) -> Result<Option<Value>, String> {
        let text = self.value.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let wrong = |what: &str| format!("{}: {text:?} is not {what}", self.name);
        let value = match self.kind {
            Kind::Text => Value::String(self.value.clone()),
            Kind::Integer => text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| wrong("an integer"))?,
            Kind::Number => text
                .parse::<f64>()
                .ok()
                .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                .ok_or_else(|| wrong("a number"))?,
            Kind::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Value::Bool(true),
                "false" | "no" | "n" | "0" => Value::Bool(false),
                _ => return Err(wrong("true or false")),
            },
            Kind::Json => serde_json::from_str(text).map_err(|_| wrong("JSON"))?,
        };
        Ok(Some(value))
    }
}

/// Fields and the one being typed into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
}

impl Form {
    /// From a JSON Schema object (`properties`, `required`).
    pub fn from_schema(schema: &Value) -> Self {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, property)| Field::new(name, property, required.contains(&name.as_str())))
            .collect();
        Self { fields, focus: 0 }
    }

    /// From a prompt's `arguments` (all strings).
    pub fn from_prompt_arguments(arguments: &Value) -> Self {
        let fields = arguments
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|argument| {
                let name = argument["name"].as_str()?;
                let required = argument["required"].as_bool().unwrap_or(false);
                Some(Field::new(name, argument, required))
            })
            .collect();
        Self { fields, focus: 0 }
    }

    /// From the `{variables}` of an RFC 6570 URI template (operators such as `{+path}` are
    /// taken as plain variables).
    pub fn from_template(template: &str) -> Self {
        let mut fields: Vec<Field> = Vec::new();
        for variable in template_variables(template) {
            if !fields.iter().any(|f| f.name == variable) {
                fields.push(Field::new(&variable, &Value::Null, true));
            }
        }
        Self { fields, focus: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn focused(&mut self) -> Option<&mut Field> {
        self.fields.get_mut(self.focus)
    }

    pub fn next(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + 1) % self.fields.len();
        }
    }

    pub fn previous(&mut self) {
        if !self.fields.is_empty() {
            self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
        }
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(field) = self.focused() {
            field.value.push(c);
        }
    }

    pub fn backspace(&mut self) {
        if let Some(field) = self.focused() {
            field.value.pop();
        }
    }

    /// ←/→ on a field with choices (or a boolean): the previous or next choice.
    pub fn cycle(&mut self, forward: bool) {
        let Some(field) = self.focused() else { return };
        let choices: Vec<String> = match field.kind {
            Kind::Boolean if field.choices.is_empty() => vec!["true".into(), "false".into()],
            _ => field.choices.clone(),
        };
        if choices.is_empty() {
            return;
        }
        let at = choices.iter().position(|c| *c == field.value);
        let next = match (at, forward) {
            (None, _) => 0,
            (Some(i), true) => (i + 1) % choices.len(),
            (Some(i), false) => (i + choices.len() - 1) % choices.len(),
        };
        field.value = choices[next].clone();
    }

    /// The values as a JSON object (empty fields left out), or the first problem: a required
    /// field left empty, or a value that is not of its type.
    pub fn values(&self) -> Result<Map<String, Value>, String> {
        let mut values = Map::new();
        for field in &self.fields {
            match field.typed()? {
                Some(value) => {
                    values.insert(field.name.clone(), value);
                }
                None if field.required => return Err(format!("{} is required", field.name)),
                None => {}
            }
        }
        Ok(values)
    }
}

/// The variable names of a URI template, in order.
fn template_variables(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inside = &rest[open + 1..open + close];
        let inside = inside.trim_start_matches(['+', '#', '.', '/', ';', '?', '&']);
        for name in inside.split(',') {
            let name = name.trim_end_matches('*');
            let name = name.split(':').next().unwrap_or(name).trim();
            if !name.is_empty() {
                names.push(name.to_owned());
            }
        }
        rest = &rest[open + close + 1..];
    }
    names
}

/// `template` with its variables replaced by `values` (percent-encoded, except with `{+var}`).
pub fn expand(template: &str, values: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let inside = &rest[open + 1..open + close];
        let reserved = inside.starts_with('+');
        let name = inside.trim_start_matches(['+', '#', '.', '/', ';', '?', '&']);
        let name = name.trim_end_matches('*');
        let text = match values.get(name) {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        if reserved {
            out.push_str(&text);
        } else {
            out.push_str(&percent_encode(&text));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// RFC 3986 percent-encoding of everything but the unreserved characters (what a template's
/// simple `{var}` expansion does).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_becomes_typed_fields_and_values_are_checked_before_sending() {
        let mut form = Form::from_schema(&json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "Where"},
                "days": {"type": "integer"},
                "metric": {"type": "boolean"},
                "unit": {"type": "string", "enum": ["C", "F"]}
            },
            "required": ["city"]
        }));
        assert_eq!(form.fields.len(), 4);
        assert_eq!(form.values(), Err("city is required".into()));
        let field = |form: &mut Form, name: &str| {
            form.focus = form.fields.iter().position(|f| f.name == name).unwrap();
        };
        field(&mut form, "city");
        "Paris".chars().for_each(|c| form.type_char(c));
        field(&mut form, "days");
        form.type_char('x');
        assert_eq!(form.values(), Err("days: \"x\" is not an integer".into()));
        form.backspace();
        form.type_char('3');
        field(&mut form, "unit");
        form.cycle(true);
        form.cycle(true);
        field(&mut form, "metric");
        form.cycle(true);
        assert_eq!(
            Value::Object(form.values().unwrap()),
            json!({"city": "Paris", "days": 3, "metric": true, "unit": "F"})
        );
    }

    #[test]
    fn template_variables_are_fields_and_expand_encoded() {
        let form = Form::from_template("weather://{country}/{city}{?unit*}");
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["country", "city", "unit"]);
        let values = json!({"country": "Japan", "city": "Kyo to"});
        let values = values.as_object().unwrap();
        assert_eq!(
            expand("weather://{country}/{city}", values),
            "weather://Japan/Kyo%20to"
        );
        assert_eq!(expand("file:///{+path}", &Map::new()), "file:///");
    }

    #[test]
    fn prompt_arguments_are_text_fields() {
        let form = Form::from_prompt_arguments(&json!([
            {"name": "style", "required": true}, {"name": "name"}
        ]));
        assert!(form.fields[0].required && !form.fields[1].required);
        assert_eq!(form.values(), Err("style is required".into()));
    }
}
