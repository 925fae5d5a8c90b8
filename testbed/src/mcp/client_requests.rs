//! The `askClient` preset: a tool that asks the client something over a 2025 session — a
//! sampling request, an elicitation form or its roots — the way real servers do (a JSON-RPC
//! request on the tool call's SSE stream, or on the GET stream when the call is answered with
//! JSON), waits for the client's answer (a POST of the response, matched by id in
//! [`super::session::Session::answer_from_client`]) and returns what the client said, so a
//! client's sampling, elicitation and roots can be tried against the testbed and the demo.

use std::time::Duration;

use serde_json::{Value, json};

use super::dispatch::RequestContext;
use super::session::GET_STREAM;

/// How long the tool waits for the client's answer (a person may be answering).
const ANSWER_WITHIN: Duration = Duration::from_secs(300);

pub fn description() -> &'static str {
    "Asks the client something and returns its answer: `kind` sampling (a model reply to \
     `prompt`), elicitation (a form asking your name) or roots (the client's roots)."
}

pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["sampling", "elicitation", "roots"],
                     "default": "sampling", "description": "What to ask the client"},
            "prompt": {"type": "string", "description": "What the model is asked (sampling)"},
        },
    })
}

/// The request `kind` sends the client: its method and params.
fn request_for(kind: &str, prompt: &str) -> Option<(&'static str, Value)> {
    Some(match kind {
        "sampling" => (
            "sampling/createMessage",
            json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                "systemPrompt": "You are the testbed's pretend model: answer in one line.",
                "maxTokens": 200,
            }),
        ),
        "elicitation" => (
            "elicitation/create",
            json!({
                "message": "The testbed would like to know your name.",
                "requestedSchema": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "title": "Your name"}},
                    "required": ["name"],
                },
            }),
        ),
        "roots" => ("roots/list", json!({})),
        _ => return None,
    })
}

/// Runs an `askClient` call: the result tells what the client answered (or that it refused).
pub async fn call(arguments: &Value, context: &RequestContext) -> Value {
    let kind = arguments["kind"].as_str().unwrap_or("sampling");
    let prompt = arguments["prompt"]
        .as_str()
        .unwrap_or("Say hello to the testbed.");
    let Some((method, params)) = request_for(kind, prompt) else {
        return tool_error(format!(
            "unknown kind {kind:?}: sampling, elicitation or roots"
        ));
    };
    let stream = context.stream.unwrap_or(GET_STREAM);
    let answer = context.session.ask_client(stream, method, params);
    match tokio::time::timeout(ANSWER_WITHIN, answer).await {
        Ok(Ok(response)) => match response.get("error") {
            Some(error) => tool_error(format!(
                "The client refused {method}: {}",
                error["message"].as_str().unwrap_or("no message")
            )),
            None => json!({"content": [{"type": "text", "text": format!(
                "The client answered {method}: {}", response["result"]
            )}]}),
        },
        Ok(Err(_)) => tool_error(format!(
            "The session ended before the client answered {method}."
        )),
        Err(_) => tool_error(format!(
            "The client did not answer {method} within {} seconds.",
            ANSWER_WITHIN.as_secs()
        )),
    }
}

fn tool_error(text: String) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_asks_its_method() {
        assert_eq!(
            request_for("sampling", "hi").unwrap().0,
            "sampling/createMessage"
        );
        assert_eq!(
            request_for("sampling", "hi").unwrap().1["messages"][0]["content"]["text"],
            "hi"
        );
        assert_eq!(
            request_for("elicitation", "").unwrap().0,
            "elicitation/create"
        );
        assert_eq!(request_for("roots", "").unwrap().0, "roots/list");
        assert!(request_for("tasks", "").is_none());
    }
}
