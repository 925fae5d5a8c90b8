//! What the server asks of the CLI while a command runs (MCP's client features), answered from
//! the command line so that scripts can exercise a server's sampling, elicitation and roots:
//! `--sample-reply TEXT` answers `sampling/createMessage` with that text, `--elicit-json JSON`
//! accepts `elicitation/create` with that content, `--root URI` (repeatable) is what
//! `roots/list` returns, and `--log-level LEVEL` asks for the server's log, whose messages are
//! printed on stderr. The capabilities announced follow the flags: a server asks only for what
//! the client says it can give. `--elicit-prompt` asks the person at the terminal instead
//! ([`super::elicit_prompt`]). `ping` is always answered; anything else is refused. The same
//! answers serve MCP 2026-07-28's input requests (`input_required` results).

use keyhole_shared::logging::data_text;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::CliError;
use super::args::ConnectionArgs;
use crate::native::mcp_client::McpClient;

/// What the command line lets the CLI answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    sample_reply: Option<String>,
    elicit: Option<Map<String, Value>>,
    /// `--elicit-prompt`: ask the person at the terminal ([`super::elicit_prompt`]).
    elicit_prompt: bool,
    roots: Vec<String>,
    /// `--log-level`: asked for with `logging/setLevel` once connected.
    pub log_level: Option<String>,
}

/// A notification for the command's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A log message, as printed.
    Log(String),
    /// Any other notification.
    Other(Value),
}

impl Answers {
    pub fn from_args(args: &ConnectionArgs) -> Result<Self, CliError> {
        let elicit = match &args.elicit_json {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(content)) => Some(content),
                Ok(_) => return Err(CliError::usage("--elicit-json must be a JSON object")),
                Err(error) => {
                    return Err(CliError::usage(format!(
                        "--elicit-json is not valid JSON: {error}"
                    )));
                }
            },
        };
        for root in &args.root {
            if !root.starts_with("file://") {
                return Err(CliError::usage(format!(
                    "--root {root:?} is not a file:// URI"
                )));
            }
        }
        Ok(Self {
            sample_reply: args.sample_reply.clone(),
            elicit,
            elicit_prompt: args.elicit_prompt,
            roots: args.root.clone(),
            log_level: args.log_level.clone(),
        })
    }

    /// The client capabilities these answers make true.
    pub fn capabilities(&self) -> Value {
        let mut capabilities = Map::new();
        if self.sample_reply.is_some() {
            capabilities.insert("sampling".into(), json!({}));
        }
        if self.elicit.is_some() {
            capabilities.insert("elicitation".into(), json!({ "form": {} }));
        }
        if self.elicit_prompt {
            capabilities.insert("elicitation".into(), json!({ "form": {}, "url": {} }));
        }
        if !self.roots.is_empty() {
            capabilities.insert("roots".into(), json!({}));
        }
        Value::Object(capabilities)
    }

    /// The result for a server request of `method` with `params`, or the error to answer with.
    /// With `--elicit-prompt`, an elicitation waits for the person at the terminal.
    pub fn answer(&self, method: &str, params: &Value) -> Result<Value, (i64, String)> {
        match (method, &self.sample_reply, &self.elicit) {
            ("elicitation/create", _, None) if self.elicit_prompt => Ok(super::elicit_prompt::ask(
                params,
                &mut std::io::stdin().lock(),
                &mut std::io::stderr(),
            )),
            ("ping", _, _) => Ok(json!({})),
            ("sampling/createMessage", Some(reply), _) => Ok(json!({
                "role": "assistant",
                "content": { "type": "text", "text": reply },
                "model": "keyhole-cli",
                "stopReason": "endTurn",
            })),
            ("elicitation/create", _, Some(content)) => {
                Ok(json!({ "action": "accept", "content": content }))
            }
            ("roots/list", _, _) if !self.roots.is_empty() => {
                let roots: Vec<Value> =
                    self.roots.iter().map(|uri| json!({ "uri": uri })).collect();
                Ok(json!({ "roots": roots }))
            }
            (other, _, _) => Err((
                -32601,
                format!("keyhole cli was given no answer for {other} (see --help)"),
            )),
        }
    }

    /// Answers the server's requests until the session ends; its notifications go to `notes`.
    pub fn spawn(
        self,
        client: McpClient,
        mut messages: mpsc::UnboundedReceiver<Value>,
        notes: mpsc::UnboundedSender<Note>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while let Some(message) = messages.recv().await {
                let method = message["method"].as_str().unwrap_or_default().to_owned();
                let Some(id) = message.get("id").filter(|_| !method.is_empty()).cloned() else {
                    let note = if method == "notifications/message" {
                        Note::Log(log_line(&message["params"]))
                    } else {
                        Note::Other(message)
                    };
                    let _ = notes.send(note);
                    continue;
                };
                // A prompt blocks on the terminal: not on the runtime's thread.
                let (answers, asked) = (self.clone(), method.clone());
                let answered =
                    tokio::task::spawn_blocking(move || answers.answer(&asked, &message["params"]))
                        .await
                        .unwrap_or_else(|_| Err((-32603, "the answer could not be made".into())));
                let reply = match answered {
                    Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                    Err((code, text)) => json!({ "jsonrpc": "2.0", "id": id,
                        "error": { "code": code, "message": text } }),
                };
                if let Err(error) = client.send(&reply).await {
                    tracing::warn!(%error, "could not answer the server's {method}");
                }
            }
        })
    }
}

/// A log message as printed: `[level] logger: data`.
pub fn log_line(params: &Value) -> String {
    let level = params["level"].as_str().unwrap_or("info");
    let data = data_text(&params["data"]);
    match params["logger"].as_str() {
        Some(logger) => format!("[{level}] {logger}: {data}"),
        None => format!("[{level}] {data}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(words: &[&str]) -> Result<Answers, CliError> {
        let mut argv = vec!["tools", "list"];
        argv.extend_from_slice(words);
        let args = super::super::parse_args(&argv).expect("arguments parse");
        Answers::from_args(&args.connection)
    }

    #[test]
    fn each_flag_answers_its_request_and_announces_its_capability() {
        let given = answers(&[
            "--sample-reply",
            "hi",
            "--elicit-json",
            "{\"name\":\"Ada\"}",
            "--root",
            "file:///srv",
        ])
        .unwrap();
        assert_eq!(
            given.capabilities(),
            json!({"sampling": {}, "elicitation": {"form": {}}, "roots": {}})
        );
        assert_eq!(
            given.answer("sampling/createMessage", &json!({})).unwrap()["content"]["text"],
            "hi"
        );
        assert_eq!(
            given.answer("elicitation/create", &json!({})).unwrap(),
            json!({"action": "accept", "content": {"name": "Ada"}})
        );
        assert_eq!(
            given.answer("roots/list", &json!({})).unwrap(),
            json!({"roots": [{"uri": "file:///srv"}]})
        );

        let none = answers(&[]).unwrap();
        assert_eq!(none.capabilities(), json!({}));
        assert_eq!(none.answer("ping", &json!({})).unwrap(), json!({}));
        let (code, text) = none
            .answer("sampling/createMessage", &json!({}))
            .unwrap_err();
        assert_eq!(code, -32601);
        assert!(text.contains("sampling/createMessage"), "{text}");
        assert!(answers(&["--elicit-json", "[1]"]).is_err());
        assert!(answers(&["--elicit-json", "{"]).is_err());
        assert!(answers(&["--root", "/srv"]).is_err());
    }

    #[test]
    fn log_lines_name_level_and_logger() {
        assert_eq!(
            log_line(&json!({"level": "error", "logger": "db", "data": "down"})),
            "[error] db: down"
        );
        assert_eq!(log_line(&json!({"data": {"n": 1}})), "[info] {\"n\":1}");
    }
}
