//! A modal dialog: a dimmed backdrop and a labelled dialog box that Escape cancels (when the focus
//! is inside it). The step-up prompt and the destructive-tool confirmation use it.

use leptos::prelude::*;

#[component]
pub fn Dialog(
    /// The dialog's `data-testid`; its title's id is `<testid>-title`.
    testid: &'static str,
    title: &'static str,
    on_cancel: Callback<()>,
    children: Children,
) -> impl IntoView {
    let (title_id, labelled_by) = (format!("{testid}-title"), format!("{testid}-title"));
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby=labelled_by
                data-testid=testid
                on:keydown=move |ev| if ev.key() == "Escape" { on_cancel.run(()) }>
                <h2 id=title_id>{title}</h2>
                {children()}
            </div>
        </div>
    }
}
