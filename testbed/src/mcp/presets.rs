//! The behaviour of each tool preset: its schemas and what a call returns.

use std::time::Duration;

use serde_json::{Value, json};

use super::dispatch::RequestContext;
use crate::config::ToolPreset;

pub fn default_description(preset: ToolPreset) -> &'static str {
    match preset {
        ToolPreset::Echo => "Echoes the message back.",
        ToolPreset::Add => "Adds two numbers.",
        ToolPreset::Weather => "Returns a (made-up) weather report for a city.",
        ToolPreset::LongRunning => {
            "Runs for a while, sending a progress notification after every step; stops when \
             cancelled. May run as a task."
        }
        ToolPreset::Structured => "Returns a (made-up) forecast for a city as structured content.",
        ToolPreset::DeleteNote => {
            "Deletes a note by id. (The testbed stores no notes: nothing is really deleted.)"
        }
        ToolPreset::AskName => super::input_required::description(),
        ToolPreset::AskClient => super::client_requests::description(),
        ToolPreset::Bulk => "Returns that many KiB of numbered lines of text.",
        ToolPreset::WeatherApp => {
            "Returns a (made-up) weather report for a city, shown by an interactive app (MCP Apps)."
        }
        ToolPreset::UnrulyApp => {
            "Opens an app that misbehaves on purpose (MCP Apps containment tests)."
        }
    }
}

/// The annotations each preset is listed with (MCP tool annotations are hints for clients).
pub fn annotations(preset: ToolPreset) -> Value {
    match preset {
        ToolPreset::DeleteNote => json!({
            "readOnlyHint": false,
            "destructiveHint": true,
            "idempotentHint": true,
            "openWorldHint": false,
        }),
        _ => json!({ "readOnlyHint": true, "openWorldHint": false }),
    }
}

pub fn input_schema(preset: ToolPreset) -> Value {
    match preset {
        ToolPreset::AskName => super::input_required::input_schema(),
        ToolPreset::AskClient => super::client_requests::input_schema(),
        ToolPreset::Echo => json!({
            "type": "object",
            "properties": {"message": {"type": "string", "description": "Text to echo"}},
            "required": ["message"],
        }),
        ToolPreset::Add => json!({
            "type": "object",
            "properties": {
                "a": {"type": "number", "description": "First addend"},
                "b": {"type": "number", "description": "Second addend"},
            },
            "required": ["a", "b"],
        }),
        ToolPreset::DeleteNote => json!({
            "type": "object",
            "properties": {"id": {"type": "string", "description": "The note to delete"}},
            "required": ["id"],
        }),
        ToolPreset::Weather | ToolPreset::Structured | ToolPreset::WeatherApp => json!({
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        }),
        ToolPreset::UnrulyApp => json!({"type": "object", "properties": {}}),
        ToolPreset::Bulk => json!({
            "type": "object",
            "properties": {
                "kib": {"type": "integer", "minimum": 0, "maximum": MAX_BULK_KIB, "default": 1024},
            },
        }),
        ToolPreset::LongRunning => json!({
            "type": "object",
            "properties": {
                "steps": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS, "default": 5},
                "delayMs": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS, "default": 200},
            },
        }),
    }
}

pub fn output_schema(preset: ToolPreset) -> Option<Value> {
    (preset == ToolPreset::Structured).then(|| {
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "temperatureCelsius": {"type": "number"},
                "conditions": {"type": "string"},
                "humidityPercent": {"type": "integer"},
            },
            "required": ["city", "temperatureCelsius", "conditions", "humidityPercent"],
        })
    })
}

const MAX_STEPS: u64 = 50;
const MAX_DELAY_MS: u64 = 5_000;
/// 8 MiB: half of the largest reply Keyhole reads.
const MAX_BULK_KIB: u64 = 8 * 1024;

fn text_result(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}]})
}

/// A tool execution error (reported in the result, not as a protocol error).
fn error_result(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}], "isError": true})
}

struct Forecast {
    city: String,
    temperature_celsius: i64,
    conditions: &'static str,
    humidity_percent: u64,
}

/// A deterministic, made-up forecast derived from the city's name.
fn forecast_for(city: &str) -> Forecast {
    let seed = city.to_lowercase().bytes().fold(7u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    const CONDITIONS: [&str; 5] = ["sunny", "partly cloudy", "overcast", "light rain", "windy"];
    Forecast {
        city: city.to_string(),
        temperature_celsius: (seed % 35) as i64 - 5,
        conditions: CONDITIONS[(seed / 35 % 5) as usize],
        humidity_percent: 30 + seed / 175 % 60,
    }
}

fn string_argument<'a>(arguments: &'a Value, name: &str) -> Result<&'a str, Value> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| error_result(format!("argument `{name}` (string) is required")))
}

fn number_argument(arguments: &Value, name: &str) -> Result<f64, Value> {
    let value = arguments.get(name);
    value
        .and_then(Value::as_f64)
        .or_else(|| {
            value
                .and_then(Value::as_str)
                .and_then(|s| s.trim().parse().ok())
        })
        .ok_or_else(|| error_result(format!("argument `{name}` (number) is required")))
}

fn optional_integer(arguments: &Value, name: &str, default: u64, max: u64) -> Result<u64, Value> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| *n <= max)
            .ok_or_else(|| error_result(format!("argument `{name}` must be an integer 0..={max}"))),
    }
}

/// Runs a tool; the result is an MCP `CallToolResult`.
pub async fn call(preset: ToolPreset, arguments: &Value, context: &RequestContext) -> Value {
    let outcome = match preset {
        ToolPreset::Echo => echo(arguments, context),
        ToolPreset::Add => add(arguments),
        ToolPreset::Weather | ToolPreset::WeatherApp => weather(arguments),
        ToolPreset::UnrulyApp => Ok(text_result("The unruly app is open.".to_owned())),
        ToolPreset::Structured => structured_forecast(arguments, context),
        ToolPreset::LongRunning => long_running(arguments, context).await,
        ToolPreset::DeleteNote => string_argument(arguments, "id")
            .map(|id| text_result(format!("Deleted note {id} (nothing was stored)."))),
        // Answered by `input_required::call`, which needs the whole request.
        ToolPreset::AskName => Err(error_result("ask-name is answered elsewhere")),
        ToolPreset::AskClient => Ok(super::client_requests::call(arguments, context).await),
        ToolPreset::Bulk => optional_integer(arguments, "kib", 1024, MAX_BULK_KIB)
            .map(|kib| text_result(bulk_text(kib as usize * 1024))),
    };
    outcome.unwrap_or_else(|error| error)
}

/// Exactly `bytes` bytes of numbered lines.
fn bulk_text(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 64);
    let mut line = 1;
    while text.len() < bytes {
        text.push_str(&format!("line {line} of the bulk result\n"));
        line += 1;
    }
    text.truncate(bytes);
    text
}

fn echo(arguments: &Value, context: &RequestContext) -> Result<Value, Value> {
    let message = string_argument(arguments, "message")?;
    context.log(
        "info",
        &format!("echo called with {} characters", message.len()),
    );
    Ok(text_result(message))
}

fn add(arguments: &Value) -> Result<Value, Value> {
    let sum = number_argument(arguments, "a")? + number_argument(arguments, "b")?;
    Ok(text_result(sum.to_string()))
}

fn weather(arguments: &Value) -> Result<Value, Value> {
    let forecast = forecast_for(string_argument(arguments, "city")?);
    Ok(text_result(format!(
        "Weather in {}: {} °C, {}, humidity {}%",
        forecast.city, forecast.temperature_celsius, forecast.conditions, forecast.humidity_percent
    )))
}

fn structured_forecast(arguments: &Value, context: &RequestContext) -> Result<Value, Value> {
    let forecast = forecast_for(string_argument(arguments, "city")?);
    let structured = json!({
        "city": forecast.city,
        "temperatureCelsius": forecast.temperature_celsius,
        "conditions": forecast.conditions,
        "humidityPercent": forecast.humidity_percent,
    });
    let mut result = text_result(structured.to_string());
    if context.protocol_version() >= "2025-06-18" {
        result["structuredContent"] = structured;
    }
    Ok(result)
}

async fn long_running(arguments: &Value, context: &RequestContext) -> Result<Value, Value> {
    let steps = optional_integer(arguments, "steps", 5, MAX_STEPS)?.max(1);
    let delay_ms = optional_integer(arguments, "delayMs", 200, MAX_DELAY_MS)?;
    for step in 1..=steps {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
            () = context.cancellation.cancelled() => {
                context.log("info", &format!("long-running: cancelled after {} of {steps} steps", step - 1));
                return Err(error_result(format!("Cancelled after {} of {steps} steps.", step - 1)));
            }
        }
        context.progress(step, steps, &format!("step {step} of {steps}"));
        context.log(
            "debug",
            &format!("long-running: finished step {step}/{steps}"),
        );
    }
    Ok(text_result(format!(
        "Completed {steps} steps ({delay_ms} ms each)."
    )))
}

/// The UI resource of an app preset (MCP Apps): its `ui://` URI and HTML, written for the testbed
/// (the View side of the bridge).
pub fn app_resource(preset: ToolPreset) -> Option<crate::config::ResourceConfig> {
    let (name, html) = match preset {
        ToolPreset::WeatherApp => ("weather-app", include_str!("weather_app.html")),
        ToolPreset::UnrulyApp => ("unruly-app", include_str!("unruly_app.html")),
        _ => return None,
    };
    Some(crate::config::ResourceConfig {
        uri: format!("ui://testbed/{name}.html"),
        name: name.into(),
        title: None,
        description: Some(format!("The {name} tool's interactive view (MCP Apps).")),
        mime_type: "text/html;profile=mcp-app".into(),
        text: html.into(),
        required_scopes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_text_has_the_size_asked_for() {
        assert_eq!(bulk_text(0), "");
        assert_eq!(bulk_text(5 * 1024 * 1024).len(), 5 * 1024 * 1024);
        assert!(bulk_text(100).starts_with("line 1 of the bulk result\nline 2"));
    }

    #[test]
    fn forecasts_are_deterministic() {
        let a = forecast_for("Paris");
        let b = forecast_for("paris");
        assert_eq!(a.temperature_celsius, b.temperature_celsius);
        assert!((-5..30).contains(&a.temperature_celsius));
    }
}
