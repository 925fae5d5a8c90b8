//! The run-time catalog of one MCP server: its tools, resources, resource templates and prompts,
//! with required scopes that the control API may change while the server runs.

use serde_json::{Map, Value, json};

use super::presets;
use crate::config::{
    PromptConfig, ResourceConfig, ResourceTemplateConfig, ServerConfig, ToolConfig,
};

/// Which kind of catalog item an operation touches (for scope checks and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Tool,
    Resource,
    Prompt,
}

/// The items of one server.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub tools: Vec<ToolConfig>,
    pub resources: Vec<ResourceConfig>,
    pub templates: Vec<(ResourceTemplateConfig, UriTemplate)>,
    pub prompts: Vec<PromptConfig>,
}

impl Catalog {
    pub fn from_config(server: &ServerConfig) -> Self {
        let mut resources = server.resources.clone();
        for tool in &server.tools {
            if let Some(app) = presets::app_resource(tool.preset)
                && !resources.iter().any(|r| r.uri == app.uri)
            {
                resources.push(app);
            }
        }
        Catalog {
            tools: server.tools.clone(),
            resources,
            templates: server
                .resource_templates
                .iter()
                .filter_map(|t| Some((t.clone(), UriTemplate::parse(&t.uri_template).ok()?)))
                .collect(),
            prompts: server.prompts.clone(),
        }
    }

    pub fn tool(&self, name: &str) -> Option<&ToolConfig> {
        self.tools.iter().find(|tool| tool.name() == name)
    }

    pub fn prompt(&self, name: &str) -> Option<&PromptConfig> {
        self.prompts.iter().find(|prompt| prompt.name == name)
    }

    /// The scopes an operation on an item needs; `None` when the item does not exist.
    pub fn required_scopes(&self, kind: ItemKind, name_or_uri: &str) -> Option<Vec<String>> {
        match kind {
            ItemKind::Tool => self.tool(name_or_uri).map(|t| t.required_scopes.clone()),
            ItemKind::Prompt => self.prompt(name_or_uri).map(|p| p.required_scopes.clone()),
            ItemKind::Resource => self.read_resource(name_or_uri).map(|r| r.required_scopes),
        }
    }

    /// Sets the required scopes of an item; returns false when it does not exist.
    pub fn set_required_scopes(
        &mut self,
        kind: ItemKind,
        name_or_uri: &str,
        scopes: Vec<String>,
    ) -> bool {
        let slot = match kind {
            ItemKind::Tool => self
                .tools
                .iter_mut()
                .find(|t| t.name() == name_or_uri)
                .map(|t| &mut t.required_scopes),
            ItemKind::Prompt => self
                .prompts
                .iter_mut()
                .find(|p| p.name == name_or_uri)
                .map(|p| &mut p.required_scopes),
            ItemKind::Resource => self
                .resources
                .iter_mut()
                .find(|r| r.uri == name_or_uri)
                .map(|r| &mut r.required_scopes)
                .or_else(|| {
                    self.templates
                        .iter_mut()
                        .find(|(t, _)| t.uri_template == name_or_uri)
                        .map(|(t, _)| &mut t.required_scopes)
                }),
        };
        match slot {
            Some(slot) => {
                *slot = scopes;
                true
            }
            None => false,
        }
    }

    /// Every scope some item of this catalog requires.
    pub fn all_required_scopes(&self) -> Vec<String> {
        let lists = self
            .tools
            .iter()
            .map(|t| &t.required_scopes)
            .chain(self.resources.iter().map(|r| &r.required_scopes))
            .chain(self.templates.iter().map(|(t, _)| &t.required_scopes))
            .chain(self.prompts.iter().map(|p| &p.required_scopes));
        lists.fold(Vec::new(), |all, scopes| {
            crate::support::union_scopes(&all, scopes)
        })
    }

    pub fn list_tools(&self, protocol_version: &str) -> Value {
        let modern = protocol_version >= "2025-06-18";
        let tools: Vec<Value> = self
            .tools
            .iter()
            .map(|tool| {
                let mut entry = Map::new();
                entry.insert("name".into(), json!(tool.name()));
                if modern && let Some(title) = &tool.title {
                    entry.insert("title".into(), json!(title));
                }
                let description = tool
                    .description
                    .clone()
                    .unwrap_or_else(|| presets::default_description(tool.preset).to_string());
                entry.insert(
                    "description".into(),
                    json!(with_scope_note(description, &tool.required_scopes)),
                );
                entry.insert("inputSchema".into(), presets::input_schema(tool.preset));
                let output_schema = tool
                    .output_schema
                    .clone()
                    .or_else(|| presets::output_schema(tool.preset));
                if modern && let Some(schema) = output_schema {
                    entry.insert("outputSchema".into(), schema);
                }
                let annotations = match &tool.annotations {
                    Some(annotations) => Value::Object(annotations.clone()),
                    None => presets::annotations(tool.preset),
                };
                entry.insert("annotations".into(), annotations);
                if let Some(app) = presets::app_resource(tool.preset) {
                    entry.insert("_meta".into(), json!({"ui": {"resourceUri": app.uri}}));
                }
                let task_support = tool.task_support();
                if protocol_version == "2025-11-25"
                    && task_support != crate::config::TaskSupport::Forbidden
                {
                    entry.insert(
                        "execution".into(),
                        json!({"taskSupport": task_support.as_str()}),
                    );
                }
                Value::Object(entry)
            })
            .collect();
        json!({ "tools": tools })
    }

    pub fn list_resources(&self) -> Value {
        let resources: Vec<Value> = self
            .resources
            .iter()
            .map(|r| {
                json!({
                    "uri": r.uri,
                    "name": r.name,
                    "title": r.title,
                    "description": r.description.clone().map(|d| with_scope_note(d, &r.required_scopes)),
                    "mimeType": r.mime_type,
                })
            })
            .map(strip_nulls)
            .collect();
        json!({ "resources": resources })
    }

    pub fn list_resource_templates(&self) -> Value {
        let templates: Vec<Value> = self
            .templates
            .iter()
            .map(|(t, _)| {
                json!({
                    "uriTemplate": t.uri_template,
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "mimeType": t.mime_type,
                })
            })
            .map(strip_nulls)
            .collect();
        json!({ "resourceTemplates": templates })
    }

    pub fn list_prompts(&self) -> Value {
        let prompts: Vec<Value> = self
            .prompts
            .iter()
            .map(|p| {
                let arguments: Vec<Value> = p
                    .arguments
                    .iter()
                    .map(|a| strip_nulls(json!({"name": a.name, "description": a.description, "required": a.required})))
                    .collect();
                strip_nulls(json!({
                    "name": p.name,
                    "title": p.title,
                    "description": p.description,
                    "arguments": arguments,
                }))
            })
            .collect();
        json!({ "prompts": prompts })
    }

    /// A static resource or one expanded from a template.
    pub fn read_resource(&self, uri: &str) -> Option<ResourceConfig> {
        if let Some(resource) = self.resources.iter().find(|r| r.uri == uri) {
            return Some(resource.clone());
        }
        self.templates.iter().find_map(|(config, template)| {
            let variables = template.match_uri(uri)?;
            Some(ResourceConfig {
                uri: uri.to_string(),
                name: config.name.clone(),
                title: config.title.clone(),
                description: config.description.clone(),
                mime_type: config.mime_type.clone(),
                text: fill_placeholders(&config.text, &variables),
                required_scopes: config.required_scopes.clone(),
            })
        })
    }
}

fn with_scope_note(description: String, scopes: &[String]) -> String {
    if scopes.is_empty() {
        description
    } else {
        format!("{description} (requires scope: {})", scopes.join(" "))
    }
}

fn strip_nulls(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.is_null());
    }
    value
}

/// Replaces `{name}` placeholders with their values; unknown placeholders become empty.
pub fn fill_placeholders(text: &str, values: &[(String, String)]) -> String {
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        output.push_str(&rest[..start]);
        let name = &rest[start + 1..start + length];
        if let Some((_, value)) = values.iter().find(|(n, _)| n == name) {
            output.push_str(value);
        }
        rest = &rest[start + length + 1..];
    }
    output.push_str(rest);
    output
}

/// A URI template with simple `{variable}` expressions (RFC 6570 level 1), matched against URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    /// Alternating literals and variable names, starting and ending with a literal.
    literals: Vec<String>,
    variables: Vec<String>,
}

impl UriTemplate {
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut literals = Vec::new();
        let mut variables = Vec::new();
        let mut rest = template;
        loop {
            match rest.find('{') {
                None => {
                    if rest.contains('}') {
                        return Err("unbalanced `}`".into());
                    }
                    literals.push(rest.to_string());
                    break;
                }
                Some(start) => {
                    let end = rest[start..]
                        .find('}')
                        .ok_or("unterminated `{` expression")?
                        + start;
                    let name = &rest[start + 1..end];
                    let valid = !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if !valid {
                        return Err(format!("unsupported template expression `{{{name}}}`"));
                    }
                    if start == 0 && !literals.is_empty() {
                        return Err("two adjacent expressions cannot be matched".into());
                    }
                    literals.push(rest[..start].to_string());
                    variables.push(name.to_string());
                    rest = &rest[end + 1..];
                }
            }
        }
        if variables.is_empty() {
            return Err("a template needs at least one `{variable}`".into());
        }
        if url::Url::parse(&literals[0]).is_err() && !literals[0].contains(':') {
            return Err("the template must start with an absolute URI scheme".into());
        }
        Ok(UriTemplate {
            literals,
            variables,
        })
    }

    /// The variable values when `uri` matches; values never contain `/`.
    pub fn match_uri(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut rest = uri.strip_prefix(self.literals[0].as_str())?;
        let mut values = Vec::new();
        for (variable, literal) in self.variables.iter().zip(&self.literals[1..]) {
            let end = if literal.is_empty() {
                rest.len()
            } else {
                rest.find(literal.as_str())?
            };
            let value = &rest[..end];
            if value.is_empty() || value.contains('/') {
                return None;
            }
            values.push((variable.clone(), value.to_string()));
            rest = &rest[end + literal.len()..];
        }
        rest.is_empty().then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_and_fill() {
        let template = UriTemplate::parse("keyhole://notes/{id}/v{version}").unwrap();
        let values = template.match_uri("keyhole://notes/42/v3").unwrap();
        assert_eq!(values[0], ("id".to_string(), "42".to_string()));
        assert_eq!(values[1], ("version".to_string(), "3".to_string()));
        assert!(template.match_uri("keyhole://notes/4/2/v3").is_none());
        assert_eq!(
            fill_placeholders("Note {id} v{version}", &values),
            "Note 42 v3"
        );
        assert!(UriTemplate::parse("keyhole://x/{a}{b}").is_err());
        assert!(UriTemplate::parse("keyhole://x/{a").is_err());
    }
}
