//! Keyboard shortcuts: `/` focuses the search or filter box of the open tab (unless the user is
//! typing somewhere), and Ctrl+Enter (⌘+Enter on a Mac) submits the form being edited, also from
//! a multi-line field. Escape closes dialogs; each dialog handles it itself.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, HtmlElement, HtmlFormElement, KeyboardEvent};

/// Whether keys typed into `target` are text (so `/` must not be taken from it).
fn is_editable(target: Option<Element>) -> bool {
    target.is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || element
                .dyn_ref::<HtmlElement>()
                .is_some_and(HtmlElement::is_content_editable)
    })
}

/// Installs the page-wide `/` shortcut, for as long as the page lives.
pub fn install() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let focus_search = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        if is_editable(event.target().and_then(|t| t.dyn_into().ok())) {
            return;
        }
        let search = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector("[role=tabpanel]:not([hidden]) input[type=search]")
                    .ok()
                    .flatten()
            })
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        if let Some(search) = search {
            event.prevent_default();
            let _ = search.focus();
        }
    });
    let _ =
        document.add_event_listener_with_callback("keydown", focus_search.as_ref().unchecked_ref());
    focus_search.forget();
}

/// A form's `keydown` handler: Ctrl/⌘+Enter submits it (through its own submit handler).
pub fn submit_on_ctrl_enter(event: KeyboardEvent) {
    if event.key() != "Enter" || !(event.ctrl_key() || event.meta_key()) {
        return;
    }
    if let Some(form) = event
        .current_target()
        .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
    {
        event.prevent_default();
        let _ = form.request_submit();
    }
}
