//! Autocomplete from the server (`completion/complete`, for a server that announces
//! `completions`): as the user types a prompt argument or a resource-template variable (not when
//! the form appears), the
//! server's suggestions for that field — with the other fields' values as `context.arguments` —
//! are offered in a `<datalist>` on the input. An answer to an older keystroke is dropped.
//!
//! Test ids: `completion-<field>` (the datalist, one `<option>` per suggestion).

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value, json};

use crate::flows::session::Session;

/// The fields of one form, for completing any of them.
#[derive(Clone)]
pub struct Completer {
    session: Session,
    /// `{type: "ref/prompt", name}` or `{type: "ref/resource", uri}`.
    reference: Value,
    fields: Vec<(String, RwSignal<String>)>,
}

impl Completer {
    /// `None` when the server offers no completions.
    pub fn new(
        session: Session,
        reference: Value,
        fields: Vec<(String, RwSignal<String>)>,
    ) -> Option<Self> {
        session.has_capability("completions").then_some(Self {
            session,
            reference,
            fields,
        })
    }

    /// The datalist of `field`'s suggestions (refreshed as it changes); its id is
    /// `completion-<field>`, for the input's `list` attribute.
    pub fn suggestions(&self, field: &str) -> impl IntoView + use<> {
        let Some(value) = self.value_of(field) else {
            return ().into_any();
        };
        let suggestions = RwSignal::new(Vec::<String>::new());
        let asked = StoredValue::new(0u32);
        let completer = self.clone();
        let name = field.to_owned();
        // Asked as the user types, not when the form appears (a form shown again would otherwise
        // send a request per field every time).
        Effect::new(move |shown_before: Option<()>| {
            let typed = value.get();
            if shown_before.is_none() {
                return;
            }
            let round = asked.get_value() + 1;
            asked.set_value(round);
            let params = completer.params(&name, &typed);
            let session = completer.session;
            spawn_local(async move {
                let Ok(result) = session.request("completion/complete", params).await else {
                    return;
                };
                if asked.get_value() == round {
                    let values = result["completion"]["values"]
                        .as_array()
                        .map(|v| {
                            v.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    suggestions.set(values);
                }
            });
        });
        let id = format!("completion-{field}");
        view! {
            <datalist id=id.clone() data-testid=id>
                {move || suggestions.get().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
            </datalist>
        }
        .into_any()
    }

    fn value_of(&self, field: &str) -> Option<RwSignal<String>> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| *value)
    }

    /// The `completion/complete` params for `field` holding `typed`.
    fn params(&self, field: &str, typed: &str) -> Value {
        let others: Map<String, Value> = self
            .fields
            .iter()
            .filter(|(name, _)| name != field)
            .map(|(name, value)| (name.clone(), Value::String(value.get_untracked())))
            .filter(|(_, value)| value != "")
            .collect();
        json!({
            "ref": self.reference,
            "argument": { "name": field, "value": typed },
            "context": { "arguments": others },
        })
    }
}
