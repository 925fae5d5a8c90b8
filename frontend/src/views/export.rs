//! Getting things out of Keyhole: copying a result, a JSON-RPC message or an HTTP exchange (as
//! JSON, or as a `curl` command whose secrets are shell variables) to the clipboard, and
//! downloading a result as a file. Success and failure are told with a toast.
//!
//! Test ids: `result-copy` and `result-download` on results; the callers name their own buttons.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::views::toast::{ToastKind, Toasts};

async fn write_clipboard(text: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    JsFuture::from(window.navigator().clipboard().write_text(text)).await?;
    Ok(())
}

/// A button that copies what `text` makes (made on click, so rows cost nothing until then).
#[component]
pub fn CopyButton(
    label: &'static str,
    testid: &'static str,
    text: Callback<(), String>,
) -> impl IntoView {
    let toasts = use_context::<Toasts>();
    let copy = move |_| {
        let text = text.run(());
        spawn_local(async move {
            let (kind, message) = match write_clipboard(&text).await {
                Ok(()) => (ToastKind::Success, "Copied to the clipboard."),
                Err(_) => (
                    ToastKind::Error,
                    "The browser did not allow copying to the clipboard.",
                ),
            };
            if let Some(toasts) = toasts {
                toasts.show(kind, message);
            }
        });
    };
    view! { <button type="button" class="small" data-testid=testid on:click=copy>{label}</button> }
}

/// Saves `text` as a file named `name` through a temporary `blob:` URL.
pub fn download(name: &str, text: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(JsValue::NULL)?;
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlElement = document.create_element("a")?.unchecked_into();
    link.set_attribute("href", &url)?;
    link.set_attribute("download", name)?;
    link.click();
    web_sys::Url::revoke_object_url(&url)
}

/// Copy and Download for a result (pretty JSON); `name` is the file name without `.json`.
#[component]
pub fn ResultActions(value: Value, name: String) -> impl IntoView {
    // Printed when asked for: a large result costs nothing until it is copied or saved.
    let value = StoredValue::new(value);
    let text = move || value.with_value(|v| serde_json::to_string_pretty(v).unwrap_or_default());
    let toasts = use_context::<Toasts>();
    let save = move |_| {
        let file = format!("{}.json", name.replace(['/', '\\', ':'], "_"));
        if download(&file, &text()).is_err()
            && let Some(toasts) = toasts
        {
            toasts.show(ToastKind::Error, "The browser did not start the download.");
        }
    };
    view! {
        <div class="row-actions">
            <CopyButton label="Copy" testid="result-copy" text=Callback::new(move |()| text()) />
            <button type="button" class="small" data-testid="result-download" on:click=save>"Download"</button>
        </div>
    }
}
