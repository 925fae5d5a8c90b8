//! MCP 2026-07-28's multi-round-trip requests in the CLI: a `tools/call`, `prompts/get` or
//! `resources/read` may answer `input_required` with requests for the client (`inputRequests`:
//! elicitation, sampling, roots) and an opaque `requestState`. The CLI answers them and sends the
//! request again — a new request with a new id, the original params, the answers under the same
//! keys and the state byte for byte — until the result is complete.

use serde_json::{Map, Value};

use super::CliError;
use super::session::Session;

/// How many times one request is sent again with answers before Keyhole gives up.
const MAX_INPUT_ROUNDS: usize = 8;

/// Answers one input request (`method`, `params`); `None` when it cannot.
pub type Answerer = std::sync::Arc<dyn Fn(&str, &Value) -> Option<Value>>;

impl Session<'_> {
    /// Sends a request (recovering from challenges, answering input requests) and returns the
    /// whole JSON-RPC response.
    pub async fn request_raw(&mut self, method: &str, params: Value) -> Result<Value, CliError> {
        let mut response = self.send_request(method, params.clone()).await?;
        for _ in 0..MAX_INPUT_ROUNDS {
            let result = &response["result"];
            // A result without `resultType` is complete (servers of the 2025 revisions).
            if result["resultType"] != "input_required" {
                return Ok(response);
            }
            let mut retry = params.clone();
            let answers = self.answer_inputs(method, &result["inputRequests"])?;
            if let Value::Object(fields) = &mut retry {
                if !answers.is_empty() {
                    fields.insert("inputResponses".into(), Value::Object(answers));
                }
                if let Some(state) = result.get("requestState") {
                    fields.insert("requestState".into(), state.clone());
                }
            }
            response = self.send_request(method, retry).await?;
        }
        Err(CliError::error(format!(
            "the server still asked for input after {MAX_INPUT_ROUNDS} rounds of {method}"
        )))
    }

    fn answer_inputs(
        &self,
        method: &str,
        requests: &Value,
    ) -> Result<Map<String, Value>, CliError> {
        let mut answers = Map::new();
        for (key, request) in requests.as_object().into_iter().flatten() {
            let asked = request["method"].as_str().unwrap_or("?");
            let answer = self
                .answer_input
                .as_ref()
                .and_then(|answer| answer(asked, &request["params"]))
                .ok_or_else(|| {
                    CliError::error(format!(
                        "the server asks for input ({asked}) before it answers {method}; this \
                         command cannot give it"
                    ))
                })?;
            answers.insert(key.clone(), answer);
        }
        Ok(answers)
    }
}
