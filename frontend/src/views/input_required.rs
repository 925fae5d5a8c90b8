//! A call the server answers with "input required" (MCP 2026-07-28, multi round-trip requests):
//! [`InputRound`] reads what the server asks for, the dialog asks the user — an elicitation form
//! built from the request's `requestedSchema`, answered with Send, Decline or Cancel — and
//! [`InputRound::retry`] builds the call again with the answers and the server's `requestState`,
//! passed back untouched. The dialog is a separate wasm chunk (`#[lazy]`), fetched the first time
//! a server asks, so the page every user loads does not carry it.
//!
//! Test ids: `input-required` (the dialog), `input-message-<key>`, the form's fields
//! `input-<key>-<field>`, `input-unsupported`, `input-problem`, `input-send`, `input-decline`,
//! `input-cancel`.

use leptos::prelude::*;
use serde_json::{Map, Value, json};

use crate::flows::session::Session;
use crate::views::dialog::Dialog;
use crate::views::schema_form::{SchemaForm, SchemaFormView};

/// How many rounds of input one call may ask for before Keyhole stops it.
pub const MAX_ROUNDS: usize = 5;

/// One request for input: the server's key for it, its method and its params.
#[derive(Clone, Debug, PartialEq)]
pub struct InputRequest {
    pub key: String,
    pub method: String,
    pub params: Value,
}

impl InputRequest {
    /// Keyhole asks the user for form elicitations; other requests (sampling, roots, URL
    /// elicitation) it cannot answer yet.
    fn is_form(&self) -> bool {
        self.method == "elicitation/create"
            && self.params["mode"]
                .as_str()
                .is_none_or(|mode| mode == "form")
    }
}

/// What a server asked for in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct InputRound {
    pub requests: Vec<InputRequest>,
    /// `requestState` exactly as received.
    pub state: Option<Value>,
}

impl InputRound {
    /// The round `result` asks for, when it is an input-required result.
    pub fn of(result: &Value) -> Option<Self> {
        if result["resultType"] != "input_required" {
            return None;
        }
        let requests = result["inputRequests"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, request)| InputRequest {
                key: key.clone(),
                method: request["method"].as_str().unwrap_or_default().to_owned(),
                params: request["params"].clone(),
            })
            .collect();
        Some(Self {
            requests,
            state: result.get("requestState").cloned(),
        })
    }

    /// The call's `params` to send again with `responses` (and the state, when there was one).
    pub fn retry(&self, params: &Value, responses: Value) -> Value {
        let mut params = params.clone();
        if let Some(object) = params.as_object_mut() {
            object.insert("inputResponses".into(), responses);
            match &self.state {
                Some(state) => object.insert("requestState".into(), state.clone()),
                None => object.remove("requestState"),
            };
        }
        params
    }

    /// Every request answered with `action` (`decline` or `cancel`).
    fn all(&self, action: &str) -> Value {
        let answers: Map<String, Value> = self
            .requests
            .iter()
            .map(|request| (request.key.clone(), json!({ "action": action })))
            .collect();
        Value::Object(answers)
    }
}

/// Where a panel asks its user for the input a call needs: [`InputAsker::call`] sends the call
/// and answers each round through the dialog, which [`InputAsker::view`] shows.
#[derive(Clone, Copy)]
pub struct InputAsker {
    asking: RwSignal<bool>,
    /// The dialog of the round being asked, built (from its wasm chunk) before `asking` is set
    /// and taken once by the view.
    dialog: StoredValue<Option<AnyView>, LocalStorage>,
    reply: StoredValue<Option<futures_channel::oneshot::Sender<Option<Value>>>>,
}

impl InputAsker {
    pub fn new() -> Self {
        Self {
            asking: RwSignal::new(false),
            dialog: StoredValue::new_local(None),
            reply: StoredValue::new(None),
        }
    }

    /// Sends `method` with `params` as request `id`; while the server answers "input required",
    /// asks the user and sends the call again (a new id) with the answers. The last result, or
    /// why there is none.
    pub async fn call(
        self,
        session: Session,
        id: u64,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let (mut id, mut params) = (id, params);
        for _ in 0..MAX_ROUNDS {
            let result = session
                .request_with_id(id, method, params.clone())
                .await
                .map_err(|error| error.to_string())?;
            let Some(round) = InputRound::of(&result) else {
                return Ok(result);
            };
            let responses = self.ask(round.clone()).await.ok_or_else(|| {
                "You stopped the call: the server's request for input was not answered.".to_owned()
            })?;
            params = round.retry(&params, responses);
            id = session.fresh_id();
        }
        Err(format!(
            "The server asked for input {MAX_ROUNDS} times; Keyhole stopped the call."
        ))
    }

    /// Shows the dialog for `round` and waits for the user's answer.
    async fn ask(self, round: InputRound) -> Option<Value> {
        let answered = Callback::new(move |answer: Option<Value>| {
            self.asking.set(false);
            if let Some(reply) = self.reply.try_update_value(Option::take).flatten() {
                let _ = reply.send(answer);
            }
        });
        let dialog = input_dialog(round, answered).await;
        let (reply, answer) = futures_channel::oneshot::channel();
        self.reply.set_value(Some(reply));
        self.dialog.set_value(Some(dialog));
        self.asking.set(true);
        answer.await.ok().flatten()
    }

    pub fn view(self) -> impl IntoView {
        move || {
            self.asking.track();
            self.dialog.try_update_value(Option::take).flatten()
        }
    }
}

/// The dialog for `round`, built by its own wasm chunk (fetched the first time a server asks).
/// `on_answer` gets the `inputResponses`, or `None` when the user stopped the call.
#[lazy]
pub fn input_dialog(round: InputRound, on_answer: Callback<Option<Value>>) -> AnyView {
    view! { <InputRequiredDialog round=round on_answer=on_answer /> }.into_any()
}

#[component]
fn InputRequiredDialog(round: InputRound, on_answer: Callback<Option<Value>>) -> impl IntoView {
    let forms: Vec<(InputRequest, SchemaForm)> = round
        .requests
        .iter()
        .filter(|request| request.is_form())
        .map(|request| {
            let prefix = format!("input-{}", request.key);
            let form = SchemaForm::new(&request.params["requestedSchema"], &prefix);
            (request.clone(), form)
        })
        .collect();
    let unsupported: Vec<String> = round
        .requests
        .iter()
        .filter(|request| !request.is_form())
        .map(|request| request.method.clone())
        .collect();
    let answerable = unsupported.is_empty();
    let problem = RwSignal::new(None::<String>);
    let round = StoredValue::new(round);
    let send = {
        let forms = forms.clone();
        move || {
            let mut answers = Map::new();
            for (request, form) in &forms {
                match form.value() {
                    Ok(content) => {
                        let answer = json!({ "action": "accept", "content": content });
                        answers.insert(request.key.clone(), answer);
                    }
                    Err(why) => return problem.set(Some(why)),
                }
            }
            on_answer.run(Some(Value::Object(answers)));
        }
    };
    let refuse = move |action: &'static str| {
        if answerable {
            on_answer.run(Some(round.with_value(|round| round.all(action))));
        } else {
            on_answer.run(None);
        }
    };
    view! {
        <Dialog testid="input-required" title="The server needs your input"
            on_cancel=Callback::new(move |()| refuse("cancel"))>
            <form novalidate=true on:submit=move |ev| {
                ev.prevent_default();
                send();
            }>
                {forms
                    .into_iter()
                    .map(|(request, form)| {
                        let message = request.params["message"].as_str().unwrap_or_default().to_owned();
                        view! {
                            <p data-testid=format!("input-message-{}", request.key)>{message}</p>
                            <SchemaFormView form=form />
                        }
                    })
                    .collect_view()}
                {(!answerable).then(|| view! {
                    <p class="error" data-testid="input-unsupported">
                        "Keyhole cannot answer " {unsupported.join(", ")}
                        " yet. Cancel stops the call."
                    </p>
                })}
                {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="input-problem">{p}</p> })}
                <div class="modal-actions">
                    <button type="submit" data-testid="input-send" disabled=!answerable>"Send"</button>
                    <button type="button" data-testid="input-decline" disabled=!answerable
                        on:click=move |_| refuse("decline")>"Decline"</button>
                    <button type="button" data-testid="input-cancel"
                        on:click=move |_| refuse("cancel")>"Cancel"</button>
                </div>
            </form>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> Value {
        json!({
            "resultType": "input_required",
            "inputRequests": {
                "name": {"method": "elicitation/create",
                         "params": {"message": "Name?", "requestedSchema": {"type": "object"}}},
                "roots": {"method": "roots/list", "params": {}},
            },
            "requestState": "opaque \u{1F512} state",
        })
    }

    #[test]
    fn a_complete_result_asks_for_nothing() {
        assert_eq!(InputRound::of(&json!({"content": []})), None);
        assert_eq!(InputRound::of(&json!({"resultType": "complete"})), None);
    }

    #[test]
    fn the_retry_carries_the_answers_and_the_state_exactly_as_received() {
        let round = InputRound::of(&asked()).unwrap();
        assert_eq!(round.requests.len(), 2);
        assert!(
            round
                .requests
                .iter()
                .any(|r| r.key == "name" && r.is_form())
        );
        assert!(
            round
                .requests
                .iter()
                .any(|r| r.key == "roots" && !r.is_form())
        );
        let params = json!({"name": "ask", "arguments": {}, "requestState": "old"});
        let answers = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
        let retry = round.retry(&params, answers.clone());
        assert_eq!(retry["requestState"], "opaque \u{1F512} state");
        assert_eq!(retry["inputResponses"], answers);
        assert_eq!(retry["arguments"], json!({}));

        let stateless = InputRound {
            state: None,
            ..round.clone()
        };
        assert!(
            stateless
                .retry(&params, json!({}))
                .get("requestState")
                .is_none()
        );
        assert_eq!(round.all("decline")["roots"], json!({"action": "decline"}));
    }
}
