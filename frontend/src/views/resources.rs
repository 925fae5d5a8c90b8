//! The Resources tab: resources and resource templates (with a field per template variable), read,
//! and the contents shown as text or binary. A separate wasm chunk (`#[lazy]`), fetched when the tab
//! is first opened.
//!
//! Test ids: `resource-item-<name>`, `resource-template-<name>`, `resource-template-arg-<var>`,
//! `resource-template-read`, `resource-result` (`data-state="ok|error|pending"`),
//! `resource-history`, `resource-subscribe`, `resource-updated`, `resource-reread`.

use keyhole_shared::resume::TabState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::flows::client_side::mark;
use crate::flows::listing::Pager;
use crate::flows::session::Session;
use crate::model::ui_state::{FieldsSlot, select_when_listed, selected_name};
use crate::platform::keys::submit_on_ctrl_enter;
use crate::views::completion::Completer;
use crate::views::content::{JsonBlock, ResourceContents};
use crate::views::export::ResultActions;
use crate::views::history::CallHistory;
use crate::views::item_list::{ItemRow, LoadMore};

/// How a selected template is named in the resume snapshot (a resource is named by its URI).
const TEMPLATE_PREFIX: &str = "template:";

#[derive(Debug, Clone, PartialEq)]
enum ReadState {
    Idle,
    Pending,
    Done(Value),
    Failed(String),
}

/// The `{variable}` names of a (simple) URI template, in order.
fn template_variables(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner =
            rest[start + 1..start + len].trim_start_matches(['+', '#', '/', '?', '&', '.', ';']);
        for name in inner.split(',') {
            let name = name.trim_end_matches('*').to_owned();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        rest = &rest[start + len + 1..];
    }
    names
}

/// Fills a simple URI template.
fn expand(template: &str, values: &[(String, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let encoded: String = js_sys::encode_uri_component(value).into();
        out = out.replace(&format!("{{{name}}}"), &encoded);
    }
    out
}

/// The tab, built by its own wasm chunk (fetched the first time the tab is opened).
#[lazy]
pub fn resources_tab(session: Session) -> AnyView {
    view! { <ResourcesTab session=session /> }.into_any()
}

#[component]
fn ResourcesTab(session: Session) -> impl IntoView {
    if !session.has_capability("resources") {
        return view! { <p class="muted">"This server does not offer resources."</p> }.into_any();
    }
    // `notifications/resources/list_changed` covers the templates too.
    let (pager, template_pager) = (Pager::new(), Pager::new());
    let resources = session.listing("resources/list", "resources", |c| c.1, pager);
    let templates = session.listing(
        "resources/templates/list",
        "resourceTemplates",
        |c| c.1,
        template_pager,
    );
    let state = RwSignal::new(ReadState::Idle);
    let selected_template = RwSignal::new(None::<Value>);
    // The resource read last (highlighted; never read again by itself after a redirect).
    let selected_uri = RwSignal::new(None::<String>);
    let fields = FieldsSlot::new();
    let can_subscribe = session
        .initialize_result()
        .pointer("/capabilities/resources/subscribe")
        == Some(&Value::Bool(true));
    if let Some(saved) = session.ui.take("resources") {
        match saved.selected {
            Some(name) if name.starts_with(TEMPLATE_PREFIX) => {
                let template = name[TEMPLATE_PREFIX.len()..].to_owned();
                select_when_listed(templates, Some(template), selected_template);
                fields.restore_later(saved.form);
            }
            uri => selected_uri.set(uri),
        }
    }
    session.ui.register("resources", move || {
        match selected_name(selected_template) {
            Some(template) => TabState {
                selected: Some(format!("{TEMPLATE_PREFIX}{template}")),
                form: fields.texts(),
                arguments_json: None,
                filter: None,
            },
            None => TabState {
                selected: selected_uri.get_untracked(),
                ..TabState::default()
            },
        }
    });
    let read = move |uri: String| {
        session.client.mark_updated(&uri, false);
        selected_uri.set(Some(uri.clone()));
        state.set(ReadState::Pending);
        spawn_local(async move {
            let outcome = session
                .request("resources/read", json!({ "uri": uri }))
                .await;
            let _ = state.try_set(match outcome {
                Ok(result) => ReadState::Done(result),
                Err(error) => ReadState::Failed(error.to_string()),
            });
        });
    };

    view! {
        <div class="split">
            <aside class="list-pane">
                <h3>"Resources"</h3>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || resources.get().map(|result| match result {
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No resources."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="item-list">
                                {list.into_iter().map(|r| {
                                    let uri = r["uri"].as_str().unwrap_or("").to_owned();
                                    let name = r["name"].as_str().unwrap_or(&uri).to_owned();
                                    let title = r["title"].as_str().map(str::to_owned);
                                    let (target, shown) = (uri.clone(), uri.clone());
                                    let is_selected = Signal::derive(move || selected_uri.with(|s| s.as_deref() == Some(shown.as_str())));
                                    view! {
                                        <ItemRow testid=format!("resource-item-{name}") name=name title=title code=Some(uri)
                                            selected=is_selected
                                            on_pick=Callback::new(move |()| { selected_template.set(None); read(target.clone()) }) />
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })}
                </Transition>
                <LoadMore pager=pager testid="resource-list-more" />
                <h3>"Templates"</h3>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || templates.get().map(|result| match result {
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No templates."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="item-list">
                                {list.into_iter().map(|t| {
                                    let name = t["name"].as_str().unwrap_or("").to_owned();
                                    let template = t["uriTemplate"].as_str().unwrap_or("").to_owned();
                                    view! {
                                        <ItemRow testid=format!("resource-template-{name}") name=name code=Some(template)
                                            on_pick=Callback::new(move |()| selected_template.set(Some(t.clone()))) />
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })}
                </Transition>
                <LoadMore pager=template_pager testid="template-list-more" />
            </aside>
            <section class="detail-pane">
                {move || selected_template.get().map(|t| view! { <TemplateForm session=session template=t fields=fields on_read=Callback::new(read) /> })}
                {move || selected_uri.get().filter(|_| can_subscribe).map(|uri| view! {
                    <Subscription session=session uri=uri on_read=Callback::new(read) />
                })}
                <ReadResult state=state />
                {move || selected_uri.get().map(|uri| view! {
                    <CallHistory session=session method="resources/read" target=uri.clone()
                        testid="resource-history" on_rerun=Callback::new(move |_| read(uri.clone())) />
                })}
            </section>
        </div>
    }
    .into_any()
}

/// Subscribing to the resource read last, and what the server said about it since.
#[component]
fn Subscription(session: Session, uri: String, on_read: Callback<String>) -> impl IntoView {
    let client = session.client;
    let has =
        move |list: RwSignal<Vec<String>>, uri: &str| list.with(|l| l.iter().any(|u| u == uri));
    let (shown, marked) = (uri.clone(), uri.clone());
    let toggle = move |_| {
        let uri = uri.clone();
        let on = !has(client.subscribed, &uri);
        spawn_local(async move {
            let method = if on {
                "resources/subscribe"
            } else {
                "resources/unsubscribe"
            };
            if session.request(method, json!({ "uri": uri })).await.is_ok() {
                mark(client.subscribed, &uri, on);
            }
        });
    };
    view! {
        <p class="field-inline">
            <button type="button" class="small" data-testid="resource-subscribe" on:click=toggle>
                {move || if has(client.subscribed, &shown) { "Unsubscribe" } else { "Subscribe to updates" }}
            </button>
            {move || has(client.updated, &marked).then(|| {
                let again = marked.clone();
                view! {
                    " " <span class="badge badge-new" data-testid="resource-updated">"updated by the server"</span> " "
                    <button type="button" class="small" data-testid="resource-reread"
                        on:click=move |_| on_read.run(again.clone())>"Read again"</button>
                }
            })}
        </p>
    }
}

#[component]
fn TemplateForm(
    session: Session,
    template: Value,
    fields: FieldsSlot,
    on_read: Callback<String>,
) -> impl IntoView {
    let uri_template = template["uriTemplate"].as_str().unwrap_or("").to_owned();
    let variables: Vec<(String, RwSignal<String>)> = template_variables(&uri_template)
        .into_iter()
        .map(|name| (name, RwSignal::new(String::new())))
        .collect();
    fields.attach(&variables);
    let completer = Completer::new(
        session,
        json!({ "type": "ref/resource", "uri": uri_template }),
        variables.clone(),
    );
    let submit_fields = variables.clone();
    let submit_template = uri_template.clone();
    view! {
        <form class="run-form" on:keydown=submit_on_ctrl_enter on:submit=move |ev| {
            ev.prevent_default();
            let values: Vec<(String, String)> = submit_fields.iter().map(|(n, v)| (n.clone(), v.get_untracked())).collect();
            on_read.run(expand(&submit_template, &values));
        }>
            <h3>{template["name"].as_str().unwrap_or("").to_owned()}</h3>
            <p class="muted"><code>{uri_template.clone()}</code></p>
            {variables.into_iter().map(|(name, value)| {
                let id = format!("template-arg-{name}");
                view! {
                    <div class="field">
                        <label for=id.clone()>{name.clone()}</label>
                        <input id=id type="text" data-testid=format!("resource-template-arg-{name}") bind:value=value
                            list=format!("completion-{name}") autocomplete="off" />
                        {completer.as_ref().map(|c| c.suggestions(&name))}
                    </div>
                }
            }).collect_view()}
            <button type="submit" data-testid="resource-template-read">"Read"</button>
        </form>
    }
}

#[component]
fn ReadResult(state: RwSignal<ReadState>) -> impl IntoView {
    move || {
        match state.get() {
        ReadState::Idle => view! { <p class="muted">"Pick a resource to read it."</p> }.into_any(),
        ReadState::Pending => view! {
            <div class="result" data-testid="resource-result" data-state="pending"><p class="muted">"Reading…"</p></div>
        }
        .into_any(),
        ReadState::Failed(message) => view! {
            <div class="result result-error" data-testid="resource-result" data-state="error" role="alert">
                <p class="error">{message}</p>
            </div>
        }
        .into_any(),
        ReadState::Done(result) => {
            let contents = result["contents"].as_array().cloned().unwrap_or_default();
            let name = contents.first().and_then(|c| c["uri"].as_str()).unwrap_or("resource").to_owned();
            view! {
                <div class="result" data-testid="resource-result" data-state="ok">
                    {contents.into_iter().map(|c| view! { <ResourceContents contents=c /> }).collect_view()}
                    <JsonBlock value=result.clone() summary="Raw result" />
                    <ResultActions value=result name=name />
                </div>
            }
            .into_any()
        }
    }
    }
}
