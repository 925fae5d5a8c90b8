//! Opening an incident bundle read-only ([`crate::flows::incident_bundle`]): the server it came
//! from, when it was exported, the auth timeline, the HTTP exchanges and the JSON-RPC messages,
//! with no way to act on any of it. A separate wasm chunk (`#[lazy]`), fetched when its section of
//! the servers view is opened.
//!
//! Test ids: `bundle-open` (the file input), `bundle-problem`, `bundle-summary`, the timeline's
//! (`auth-incident`…), `bundle-exchange` (`data-status`), `bundle-message` (`data-direction`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::incident_bundle::{self, Bundle};
use crate::views::auth_timeline::{Timeline, exchange_line, status_text};
use crate::views::protocol::clock;

/// The section's body, built by its own wasm chunk.
#[lazy]
pub fn bundle_viewer() -> AnyView {
    view! { <BundleViewer /> }.into_any()
}

#[component]
fn BundleViewer() -> impl IntoView {
    let opened = RwSignal::new(None::<Result<Bundle, String>>);
    let open = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        spawn_local(async move {
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            let read = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            input.set_value("");
            opened.set(Some(match read {
                Ok(text) => incident_bundle::parse(&text.as_string().unwrap_or_default()),
                Err(_) => Err("The file could not be read.".into()),
            }));
        });
    };
    view! {
        <input type="file" accept=".json,application/json" data-testid="bundle-open" on:change=open />
        {move || opened.get().map(|result| match result {
            Err(problem) => view! { <p class="error" role="alert" data-testid="bundle-problem">{problem}</p> }.into_any(),
            Ok(bundle) => view! { <BundleContents bundle=bundle /> }.into_any(),
        })}
    }
}

#[component]
fn BundleContents(bundle: Bundle) -> impl IntoView {
    let summary = format!(
        "{} · exported {} by Keyhole {} · {} incident(s), {} exchange(s), {} message(s)",
        bundle.server_url,
        clock(bundle.exported_at_ms),
        bundle.keyhole_version,
        bundle.timeline.len(),
        bundle.exchanges.len(),
        bundle.messages.len()
    );
    let exchanges = bundle
        .exchanges
        .iter()
        .map(|e| {
            view! { <li data-testid="bundle-exchange" data-status=status_text(e)>{exchange_line(e)}</li> }
        })
        .collect_view();
    let messages = bundle
        .messages
        .iter()
        .map(|m| {
            let json = serde_json::to_string_pretty(&m.message).unwrap_or_default();
            view! {
                <li data-testid="bundle-message" data-direction=m.direction.clone()>
                    <details class="json">
                        <summary>{format!("{} {} {}", clock(m.at_ms), m.direction, m.method)}</summary>
                        <pre class="mono">{json}</pre>
                    </details>
                </li>
            }
        })
        .collect_view();
    view! {
        <p data-testid="bundle-summary" role="status"><strong>"Read-only: "</strong>{summary}</p>
        <h3>"Auth timeline"</h3>
        <Timeline incidents=Signal::stored(bundle.timeline) network=Signal::stored(bundle.exchanges) />
        <h3>"HTTP exchanges"</h3>
        <ol class="log mono">{exchanges}</ol>
        <h3>"JSON-RPC messages"</h3>
        <ol class="log">{messages}</ol>
    }
}
