//! The Prompts tab: the server's prompts, a form for the selected prompt's arguments, Get, and the
//! rendered messages.
//!
//! Test ids: `prompt-item-<name>`, `prompt-arg-<arg>`, `prompt-get`, `prompt-result`
//! (`data-state="ok|error|pending"`), `prompt-history`.

use keyhole_shared::resume::TabState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value, json};

use crate::flows::listing::Pager;
use crate::flows::session::Session;
use crate::model::ui_state::{FieldsSlot, select_when_listed, selected_name};
use crate::platform::keys::submit_on_ctrl_enter;
use crate::views::completion::Completer;
use crate::views::content::{ContentBlock, JsonBlock};
use crate::views::export::ResultActions;
use crate::views::history::CallHistory;
use crate::views::item_list::{ItemRow, LoadMore};

#[derive(Debug, Clone, PartialEq)]
enum GetState {
    Idle,
    Pending,
    Done(Value),
    Failed(String),
}

/// The tab, built by its own wasm chunk (fetched the first time the tab is opened).
#[lazy]
pub fn prompts_tab(session: Session) -> AnyView {
    view! { <PromptsTab session=session /> }.into_any()
}

#[component]
fn PromptsTab(session: Session) -> impl IntoView {
    if !session.has_capability("prompts") {
        return view! { <p class="muted">"This server does not offer prompts."</p> }.into_any();
    }
    let pager = Pager::new();
    let prompts = session.listing("prompts/list", "prompts", |c| c.2, pager);
    let selected = RwSignal::new(None::<Value>);
    let fields = FieldsSlot::new();
    if let Some(saved) = session.ui.take("prompts") {
        select_when_listed(prompts, saved.selected, selected);
        fields.restore_later(saved.form);
    }
    session.ui.register("prompts", move || TabState {
        selected: selected_name(selected),
        form: fields.texts(),
        arguments_json: None,
        filter: None,
    });
    view! {
        <div class="split">
            <aside class="list-pane">
                <Transition fallback=|| view! { <p class="muted">"Loading prompts…"</p> }>
                    {move || prompts.get().map(|result| match result {
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No prompts."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="item-list">
                                {list.into_iter().map(|p| {
                                    let name = p["name"].as_str().unwrap_or("").to_owned();
                                    let description = p["description"].as_str().map(str::to_owned);
                                    view! {
                                        <ItemRow testid=format!("prompt-item-{name}") name=name description=description
                                            on_pick=Callback::new(move |()| selected.set(Some(p.clone()))) />
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })}
                </Transition>
                <LoadMore pager=pager testid="prompt-list-more" />
            </aside>
            <section class="detail-pane">
                {move || match selected.get() {
                    None => view! { <p class="muted">"Pick a prompt."</p> }.into_any(),
                    Some(prompt) => view! { <PromptForm session=session prompt=prompt fields=fields /> }.into_any(),
                }}
            </section>
        </div>
    }
    .into_any()
}

struct Argument {
    name: String,
    description: Option<String>,
    required: bool,
    value: RwSignal<String>,
}

#[component]
fn PromptForm(session: Session, prompt: Value, fields: FieldsSlot) -> impl IntoView {
    let name = prompt["name"].as_str().unwrap_or("").to_owned();
    let arguments: Vec<Argument> = prompt["arguments"]
        .as_array()
        .map(|args| {
            args.iter()
                .map(|a| Argument {
                    name: a["name"].as_str().unwrap_or("").to_owned(),
                    description: a["description"].as_str().map(str::to_owned),
                    required: a["required"].as_bool().unwrap_or(false),
                    value: RwSignal::new(String::new()),
                })
                .collect()
        })
        .unwrap_or_default();
    let values: Vec<(String, bool, RwSignal<String>)> = arguments
        .iter()
        .map(|a| (a.name.clone(), a.required, a.value))
        .collect();
    fields.attach(
        &values
            .iter()
            .map(|(name, _, value)| (name.clone(), *value))
            .collect::<Vec<_>>(),
    );
    let completer = Completer::new(
        session,
        json!({ "type": "ref/prompt", "name": name }),
        values.iter().map(|(n, _, v)| (n.clone(), *v)).collect(),
    );
    let state = RwSignal::new(GetState::Idle);
    let prompt_name = StoredValue::new(name.clone());
    let get_with = move |args: Value| {
        state.set(GetState::Pending);
        let params = json!({ "name": prompt_name.get_value(), "arguments": args });
        spawn_local(async move {
            let outcome = session.request("prompts/get", params).await;
            let _ = state.try_set(match outcome {
                Ok(result) => GetState::Done(result),
                Err(error) => GetState::Failed(error.to_string()),
            });
        });
    };
    let fill = {
        let values = values.clone();
        move |args: Value| {
            for (arg, _, value) in &values {
                value.set(args[arg].as_str().unwrap_or("").to_owned());
            }
        }
    };
    let get = move || {
        let mut args = Map::new();
        for (arg, required, value) in &values {
            let text = value.get_untracked();
            if text.is_empty() {
                if *required {
                    state.set(GetState::Failed(format!("{arg} is required")));
                    return;
                }
                continue;
            }
            args.insert(arg.clone(), Value::String(text));
        }
        get_with(Value::Object(args));
    };
    view! {
        <form class="run-form" novalidate=true on:keydown=submit_on_ctrl_enter
            on:submit=move |ev| { ev.prevent_default(); get(); }>
            <h3>{name.clone()}</h3>
            {prompt["description"].as_str().map(|d| view! { <p class="muted">{d.to_owned()}</p> })}
            {arguments.into_iter().map(|a| {
                let id = format!("prompt-arg-{}", a.name);
                let value = a.value;
                view! {
                    <div class="field">
                        <label for=id.clone()>
                            <span class="field-name">{a.name.clone()}</span>
                            {a.required.then(|| view! { <span class="required" title="required">"*"</span> })}
                        </label>
                        <input id=id.clone() type="text" data-testid=id required=a.required bind:value=value
                            list=format!("completion-{}", a.name) autocomplete="off" />
                        {completer.as_ref().map(|c| c.suggestions(&a.name))}
                        {a.description.map(|d| view! { <span class="field-help">{d}</span> })}
                    </div>
                }
            }).collect_view()}
            <button type="submit" data-testid="prompt-get" title="Get (Ctrl+Enter)">"Get"</button>
        </form>
        {move || match state.get() {
            GetState::Idle => ().into_any(),
            GetState::Pending => view! {
                <div class="result" data-testid="prompt-result" data-state="pending"><p class="muted">"Getting…"</p></div>
            }.into_any(),
            GetState::Failed(message) => view! {
                <div class="result result-error" data-testid="prompt-result" data-state="error" role="alert">
                    <p class="error">{message}</p>
                </div>
            }.into_any(),
            GetState::Done(result) => {
                let messages = result["messages"].as_array().cloned().unwrap_or_default();
                view! {
                    <div class="result" data-testid="prompt-result" data-state="ok">
                        {result["description"].as_str().map(|d| view! { <p class="muted">{d.to_owned()}</p> })}
                        {messages.into_iter().map(|m| {
                            let role = m["role"].as_str().unwrap_or("?").to_owned();
                            view! {
                                <div class="message">
                                    <span class="role">{role}</span>
                                    <ContentBlock block=m["content"].clone() />
                                </div>
                            }
                        }).collect_view()}
                        <JsonBlock value=result.clone() summary="Raw result" />
                        <ResultActions value=result name=format!("{}-prompt", prompt_name.get_value()) />
                    </div>
                }.into_any()
            }
        }}
        <CallHistory session=session method="prompts/get" target=name testid="prompt-history"
            on_rerun=Callback::new(get_with) on_fill=Callback::new(fill) />
    }
}
