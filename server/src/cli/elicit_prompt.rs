//! `--elicit-prompt`: the CLI answers a server's elicitation by asking the person at the
//! terminal, one prompt per field of `requestedSchema` (its title or name, type, description,
//! default, and the choices of an enum, titled or not), checking each answer as the schema
//! says; a URL-mode elicitation shows the URL and asks whether to go on. Prompts go to stderr
//! and answers come from stdin (a terminal, or a pipe in scripts and tests); the end of input
//! cancels.
//!
//! Generic over the reader and writer so the conversation is tested without a terminal.

use std::io::{BufRead, Write};

use keyhole_shared::schema_choices::{choices, text};
use serde_json::{Map, Value, json};

/// Times one field is asked again after an answer the schema refuses.
const ATTEMPTS: usize = 3;

/// Asks the user to answer the elicitation `params`; returns the `ElicitResult`.
pub fn ask(params: &Value, input: &mut impl BufRead, output: &mut impl Write) -> Value {
    let message = params["message"].as_str().unwrap_or("(no message)");
    let _ = writeln!(output, "The server asks: {message}");
    if params["mode"] == "url" {
        let url = params["url"].as_str().unwrap_or_default();
        let _ = writeln!(output, "It asks you to open: {url}");
        return match read_line(
            input,
            output,
            "Go on and open it? [y]es / [n]o (decline) / [c]ancel: ",
        ) {
            Some(answer) => json!({ "action": action_of(&answer, "decline") }),
            None => json!({ "action": "cancel" }),
        };
    }
    let Some(answer) = read_line(
        input,
        output,
        "Answer? [a]ccept / [d]ecline / [c]ancel (default accept): ",
    ) else {
        return json!({ "action": "cancel" });
    };
    match action_of(&answer, "accept") {
        "accept" => {}
        other => return json!({ "action": other }),
    }
    let schema = &params["requestedSchema"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        match ask_field(
            name,
            property,
            required.contains(&name.as_str()),
            input,
            output,
        ) {
            Field::Value(value) => {
                content.insert(name.clone(), value);
            }
            Field::Skipped => {}
            Field::Cancelled => return json!({ "action": "cancel" }),
        }
    }
    json!({ "action": "accept", "content": content })
}

/// `accept`, `decline` or `cancel` from what the user typed (empty: `default`).
fn action_of(answer: &str, default: &'static str) -> &'static str {
    match answer.trim().to_ascii_lowercase().as_str() {
        "" => default,
        "a" | "accept" | "y" | "yes" => "accept",
        "d" | "decline" | "n" | "no" => "decline",
        _ => "cancel",
    }
}

enum Field {
    Value(Value),
    Skipped,
    Cancelled,
}

/// One line from the user after `prompt`; `None` at the end of input.
fn read_line(input: &mut impl BufRead, output: &mut impl Write, prompt: &str) -> Option<String> {
    let _ = write!(output, "{prompt}");
    let _ = output.flush();
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

fn ask_field(
    name: &str,
    property: &Value,
    required: bool,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> Field {
    let kind = property["type"].as_str().unwrap_or("string");
    let options = choices(property).unwrap_or_default();
    let title = property["title"].as_str().unwrap_or(name);
    let mut heading = format!(
        "  {title} ({kind}{})",
        if required { ", required" } else { "" }
    );
    if let Some(description) = property["description"].as_str() {
        heading.push_str(&format!(" — {description}"));
    }
    let _ = writeln!(output, "{heading}");
    for (i, (value, label)) in options.iter().enumerate() {
        let _ = writeln!(output, "    {}) {label} [{}]", i + 1, text(value));
    }
    let default = property.get("default");
    let prompt = match default {
        Some(default) => format!("  {name} [{default}]: "),
        None => format!("  {name}: "),
    };
    for _ in 0..ATTEMPTS {
        let Some(answer) = read_line(input, output, &prompt) else {
            return Field::Cancelled;
        };
        let answer = answer.trim();
        if answer.is_empty() {
            match default {
                Some(default) => return Field::Value(default.clone()),
                None if !required => return Field::Skipped,
                None => {
                    let _ = writeln!(output, "  {name} is required.");
                    continue;
                }
            }
        }
        match parse(answer, kind, &options) {
            Ok(value) => return Field::Value(value),
            Err(why) => {
                let _ = writeln!(output, "  {why}");
            }
        }
    }
    let _ = writeln!(
        output,
        "  No valid answer for {name}: the request is cancelled."
    );
    Field::Cancelled
}

/// The value `answer` gives a field of `kind` (or one of `options`, by number or value).
fn parse(answer: &str, kind: &str, options: &[(Value, String)]) -> Result<Value, String> {
    if !options.is_empty() {
        let by_number = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| options.get(i));
        let by_value = options.iter().find(|(value, _)| text(value) == answer);
        return by_number
            .or(by_value)
            .map(|(value, _)| value.clone())
            .ok_or_else(|| format!("Answer with one of the numbers 1 to {}.", options.len()));
    }
    match kind {
        "integer" => answer
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "A whole number, please.".to_owned()),
        "number" => answer
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "A number, please.".to_owned()),
        "boolean" => match answer.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" => Ok(Value::Bool(true)),
            "n" | "no" | "false" => Ok(Value::Bool(false)),
            _ => Err("y or n, please.".to_owned()),
        },
        _ => Ok(Value::String(answer.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(params: Value, typed: &str) -> (Value, String) {
        let mut output = Vec::new();
        let result = ask(&params, &mut typed.as_bytes(), &mut output);
        (result, String::from_utf8(output).unwrap())
    }

    fn form() -> Value {
        json!({ "message": "Who are you?", "requestedSchema": { "type": "object",
            "required": ["name", "kind"],
            "properties": {
                "name": { "type": "string", "title": "Full name" },
                "age": { "type": "integer" },
                "kind": { "type": "string", "oneOf": [
                    { "const": "snake", "title": "A snake" }, { "const": "language", "title": "A language" } ] },
                "subscribe": { "type": "boolean", "default": false }
            } } })
    }

    #[test]
    fn each_field_is_asked_checked_and_typed() {
        // Fields come in name order. Accept; a bad number is asked again; the enum by number; an
        // empty required name is asked again; the boolean takes its default.
        let (result, shown) = conversation(form(), "\nold\n36\n2\n\nAda\n\n");
        assert_eq!(
            result,
            json!({ "action": "accept", "content":
                { "name": "Ada", "age": 36, "kind": "language", "subscribe": false } })
        );
        assert!(shown.contains("The server asks: Who are you?"), "{shown}");
        assert!(shown.contains("Full name (string, required)"), "{shown}");
        assert!(shown.contains("name is required."), "{shown}");
        assert!(shown.contains("A whole number, please."), "{shown}");
        assert!(shown.contains("2) A language [language]"), "{shown}");
        assert!(shown.contains("subscribe [false]: "), "{shown}");
    }

    #[test]
    fn decline_cancel_and_the_end_of_input_are_answers_too() {
        assert_eq!(
            conversation(form(), "d\n").0,
            json!({ "action": "decline" })
        );
        assert_eq!(conversation(form(), "c\n").0, json!({ "action": "cancel" }));
        // The input ends halfway through the form.
        assert_eq!(
            conversation(form(), "a\nAda\n").0,
            json!({ "action": "cancel" })
        );
        // Three wrong choices.
        assert_eq!(
            conversation(form(), "\nAda\n\n9\nx\n0\n").0,
            json!({ "action": "cancel" })
        );
    }

    #[test]
    fn a_url_is_shown_before_the_user_agrees() {
        let params = json!({ "mode": "url", "message": "Sign the form",
                             "url": "https://example.com/form", "elicitationId": "e1" });
        let (result, shown) = conversation(params.clone(), "y\n");
        assert_eq!(result, json!({ "action": "accept" }));
        assert!(shown.contains("https://example.com/form"), "{shown}");
        assert_eq!(conversation(params, "\n").0, json!({ "action": "decline" }));
    }
}
