//! The step-up modal (`step-up-modal`): what the server asks for and why, each scope marked new
//! or already granted (`step-up-scope-<scope>` with `data-new`), Authorize / Cancel. The dialog
//! is a wasm chunk of its own: most page loads never show it.

use keyhole_shared::scopes::ScopeSet;
use leptos::prelude::*;

use crate::flows::recovery::{Recovery, StepUpPrompt};
use crate::views::dialog::Dialog;
use crate::views::lazy::lazy_view;

#[component]
pub fn StepUpModal(recovery: Recovery) -> impl IntoView {
    move || {
        recovery
            .prompt
            .get()
            .map(|prompt| lazy_view(step_up_dialog(recovery, prompt)))
    }
}

/// The dialog, built by its own wasm chunk (fetched the first time a step-up is asked).
#[lazy]
fn step_up_dialog(recovery: Recovery, prompt: StepUpPrompt) -> AnyView {
    view! { <StepUpDialog recovery=recovery prompt=prompt /> }.into_any()
}

fn scope_rows(scopes: &ScopeSet, new: &ScopeSet) -> impl IntoView + use<> {
    scopes
        .iter()
        .map(|scope| {
            let is_new = new.contains(scope);
            view! {
                <li data-testid=format!("step-up-scope-{}", scope.as_str()) data-new=is_new.to_string()>
                    <code>{scope.as_str().to_owned()}</code>
                    " "
                    <span class=if is_new { "badge badge-new" } else { "badge" }>
                        {if is_new { "new" } else { "already granted" }}
                    </span>
                </li>
            }
        })
        .collect_view()
}

#[component]
fn StepUpDialog(recovery: Recovery, prompt: StepUpPrompt) -> impl IntoView {
    let plan = prompt.plan;
    let what = match &plan.tool_name {
        Some(tool) => {
            format!("The tool “{tool}” needs more access than Keyhole holds for this server.")
        }
        None => "The server needs more access than Keyhole holds for it.".to_owned(),
    };
    let how = match plan.method {
        keyhole_shared::recovery::StepUpMethod::Redirect => {
            "Authorize opens the server's sign-in page; you come back to this tab with your form as it is."
        }
        keyhole_shared::recovery::StepUpMethod::EmaRemint => {
            "Authorize asks your organisation's identity provider for a new token, without leaving this page."
        }
    };
    view! {
        <Dialog testid="step-up-modal" title="More access needed"
            on_cancel=Callback::new(move |()| recovery.answer(false))>
            <p>{what}</p>
            <p class="muted">{plan.message.clone()}</p>
            <p>"Keyhole will ask " <code>{prompt.server_url}</code> "'s authorization server for:"</p>
            <ul class="scope-list">{scope_rows(&plan.requested, &plan.new_scopes)}</ul>
            <p class="muted">{how}</p>
            <div class="modal-actions">
                <button type="button" class="primary" data-testid="step-up-authorize" autofocus=true
                    on:click=move |_| recovery.answer(true)>"Authorize"</button>
                <button type="button" data-testid="step-up-cancel"
                    on:click=move |_| recovery.answer(false)>"Cancel"</button>
            </div>
        </Dialog>
    }
}
