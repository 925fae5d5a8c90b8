//! The history of one connection: every tool call, prompt get and resource read with its
//! arguments, outcome and time, listed under the item it concerns, to run it again or to put its
//! arguments back into the form.
//!
//! Test ids: `tool-history`, `prompt-history`, `resource-history`, each holding `history-entry`
//! rows (`data-state="ok|error"`) with the buttons `history-rerun` and `history-fill`.

use leptos::prelude::*;
use serde_json::Value;

use crate::flows::session::{RpcError, Session};
use crate::platform::page::monotonic_ms;
use crate::platform::text::duration_text;
use crate::views::content::JsonBlock;
use crate::views::protocol::clock;

/// One request the history keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    /// The tool or prompt name, or the resource URI.
    pub target: String,
    /// `null` for a resource read.
    pub arguments: Value,
    /// The result, or the error in words.
    pub outcome: Result<Value, String>,
    /// Milliseconds since the Unix epoch when it was sent.
    pub at_ms: f64,
    pub elapsed_ms: f64,
}

/// The methods kept, with the parameter naming their target.
const KEPT: [(&str, &str); 3] = [
    ("tools/call", "name"),
    ("prompts/get", "name"),
    ("resources/read", "uri"),
];

/// Calls kept per connection; the oldest go first.
const LIMIT: usize = 200;

/// The target and arguments of a request the history keeps; `None` for other requests.
pub fn kept(method: &str, params: &Value) -> Option<(String, Value)> {
    let (_, key) = KEPT.iter().find(|(kept, _)| *kept == method)?;
    let target = params[*key].as_str()?.to_owned();
    Some((target, params["arguments"].clone()))
}

/// Adds a finished request; `started` is (wall clock, monotonic clock) at sending.
pub fn remember(
    history: RwSignal<Vec<Call>>,
    method: &str,
    target: String,
    arguments: Value,
    outcome: &Result<Value, RpcError>,
    started: (f64, f64),
) {
    let call = Call {
        method: method.to_owned(),
        target,
        arguments,
        outcome: outcome.clone().map_err(|e| e.to_string()),
        at_ms: started.0,
        elapsed_ms: monotonic_ms() - started.1,
    };
    let _ = history.try_update(|calls| {
        calls.push(call);
        if calls.len() > LIMIT {
            calls.remove(0);
        }
    });
}

/// The calls of `method` on `target`, newest first. `on_fill`, when given, puts a call's
/// arguments back into the form.
#[component]
pub fn CallHistory(
    session: Session,
    method: &'static str,
    target: String,
    testid: &'static str,
    on_rerun: Callback<Value>,
    #[prop(optional)] on_fill: Option<Callback<Value>>,
) -> impl IntoView {
    let calls = move || {
        session.history.with(|all| {
            all.iter()
                .rev()
                .filter(|c| c.method == method && c.target == target)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    move || {
        let calls = calls();
        (!calls.is_empty()).then(|| {
            view! {
                <details class="history" data-testid=testid open=true>
                    <summary>{format!("History ({})", calls.len())}</summary>
                    <ol class="log">
                        {calls.into_iter().map(|call| call_row(call, on_rerun, on_fill)).collect_view()}
                    </ol>
                </details>
            }
        })
    }
}

fn call_row(call: Call, on_rerun: Callback<Value>, on_fill: Option<Callback<Value>>) -> AnyView {
    let ok = call.outcome.is_ok();
    let summary: String = match &call.arguments {
        Value::Null => "(no arguments)".into(),
        arguments => arguments.to_string().chars().take(100).collect(),
    };
    let arguments = call.arguments;
    let (again, fill) = (arguments.clone(), arguments.clone());
    let outcome = call.outcome.unwrap_or_else(Value::String);
    view! {
        <li class="log-entry" data-testid="history-entry" data-state=if ok { "ok" } else { "error" }>
            <details>
                <summary>
                    <span class="time">{clock(call.at_ms)}</span>
                    <span class:error=!ok>{if ok { "ok" } else { "error" }}</span>
                    <span class="url mono">{summary}</span>
                    <span class="elapsed">{duration_text(call.elapsed_ms)}</span>
                </summary>
                {(!arguments.is_null()).then(|| view! { <JsonBlock value=arguments summary="Arguments" /> })}
                <JsonBlock value=outcome summary=if ok { "Result" } else { "Error" } />
            </details>
            <div class="row-actions">
                <button type="button" class="small" data-testid="history-rerun"
                    on:click=move |_| on_rerun.run(again.clone())>"Re-run"</button>
                {on_fill.map(|on_fill| view! {
                    <button type="button" class="small" data-testid="history-fill"
                        on:click=move |_| on_fill.run(fill.clone())>"Load into form"</button>
                })}
            </div>
        </li>
    }
    .into_any()
}
