//! The Protocol tab: every JSON-RPC message both ways, with method, direction, time and (for a
//! response) how long it took; each expands to its JSON; a filter narrows by method or content.
//!
//! Only the last [`PAGE`] matching messages are rendered, with "Show earlier" for more. The tab
//! is a separate wasm chunk (`#[lazy]`), fetched when it is first opened; the page helpers here
//! are shared with the other log views.
//!
//! Test ids: `protocol-filter`, `protocol-count`, `protocol-more`, `protocol-entry` (`data-direction="sent|received|from-app|to-app"`: app traffic is an MCP App's bridge messages, `data-method`),
//! `protocol-dropped` (shown when the backend dropped server messages this page did not read in
//! time, with their count in `data-count`), `protocol-copy` in an expanded entry; `console` with
//! one `console-line` per line a stdio server wrote to its stderr.

use leptos::prelude::*;

use crate::flows::session::{Direction, ProtocolEntry, Session};
use crate::platform::text::{duration_text, fold_case};
use crate::views::content::LongText;
use crate::views::export::CopyButton;

/// How many matching entries a log view renders at first, and adds with each "Show earlier": the
/// page stays fast however long the session (10,000 messages and more).
pub const PAGE: usize = 200;

/// The last `limit` of `matching` (cloned), and how many earlier ones are not shown.
pub fn last_page<T: Clone>(matching: &[&T], limit: usize) -> (usize, Vec<T>) {
    let hidden = matching.len().saturating_sub(limit);
    (
        hidden,
        matching[hidden..].iter().map(|e| (*e).clone()).collect(),
    )
}

/// "Show earlier" above a page, while `hidden` entries are not shown: adds a page to `limit`.
pub fn show_earlier(
    hidden: Signal<usize>,
    limit: RwSignal<usize>,
    testid: &'static str,
) -> impl IntoView {
    move || {
        let hidden = hidden.get();
        (hidden > 0).then(|| {
            view! {
                <button type="button" class="small" data-testid=testid
                    on:click=move |_| limit.update(|l| *l += PAGE)>
                    {format!("Show {} earlier of {hidden} not shown", hidden.min(PAGE))}
                </button>
            }
        })
    }
}

/// `HH:MM:SS.mmm` local time.
pub fn clock(at_ms: f64) -> String {
    let date = js_sys::Date::new(&at_ms.into());
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds(),
        date.get_milliseconds()
    )
}

fn summary(entry: &ProtocolEntry) -> String {
    let message = &entry.message;
    if message.get("error").is_some() {
        return format!(
            "error {}",
            message["error"]["message"].as_str().unwrap_or("")
        );
    }
    if message.get("result").is_some() {
        return "result".to_owned();
    }
    match &message["id"] {
        serde_json::Value::Null => "notification".to_owned(),
        id => format!("request #{id}"),
    }
}

/// The tab, built by its own wasm chunk (fetched the first time the tab is opened).
#[lazy]
pub fn protocol_tab(session: Session) -> AnyView {
    view! { <ProtocolTab session=session /> }.into_any()
}

#[component]
fn ProtocolTab(session: Session) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let direction = RwSignal::new(String::from("all"));
    let limit = RwSignal::new(PAGE);
    // The last `limit` messages that match: the view renders a page, however long the session.
    let page = Memo::new(move |_| {
        let needle = fold_case(&filter.get());
        let wanted = direction.get();
        session.protocol.with(|log| {
            let matching: Vec<&ProtocolEntry> = log
                .iter()
                .filter(|e| match wanted.as_str() {
                    "sent" => e.direction == Direction::Sent,
                    "received" => e.direction == Direction::Received,
                    "app" => matches!(e.direction, Direction::FromApp | Direction::ToApp),
                    _ => true,
                })
                .filter(|e| needle.is_empty() || e.haystack.contains(&needle))
                .collect();
            last_page(&matching, limit.get())
        })
    });
    view! {
        <div class="log-toolbar">
            <input type="search" class="search" placeholder="Filter by method or content" aria-label="Filter messages"
                data-testid="protocol-filter" bind:value=filter />
            <select aria-label="Direction" on:change=move |ev| direction.set(event_target_value(&ev))>
                <option value="all">"Both directions"</option>
                <option value="sent">"Sent only"</option>
                <option value="received">"Received only"</option>
                <option value="app">"MCP App traffic only"</option>
            </select>
            <span class="muted" data-testid="protocol-count">{move || format!("{} messages", session.protocol.with(Vec::len))}</span>
            <span class="muted" data-testid="protocol-transport">"over " {session.transport}</span>
            {move || {
                let dropped = session.dropped_messages.get();
                (dropped > 0).then(|| view! {
                    <span class="error" data-testid="protocol-dropped" data-count=dropped.to_string()
                        title="The server sent them faster than this page read them (or they were over the size limit); the backend did not keep them.">
                        {if dropped == 1 { "1 message dropped".to_owned() } else { format!("{dropped} messages dropped") }}
                    </span>
                })
            }}
        </div>
        {show_earlier(Signal::derive(move || page.with(|(hidden, _)| *hidden)), limit, "protocol-more")}
        <ol class="log">
            <For each=move || page.get().1 key=|e| e.seq let:entry>
                <ProtocolRow entry=entry />
            </For>
        </ol>
        {move || session.console.with(|lines| !lines.is_empty()).then(|| view! {
            <details class="console" open=true data-testid="console">
                <summary>"Console: the server's log (stderr)"</summary>
                <ol class="log mono">
                    {move || session.console.get().into_iter().map(|(at, line)| view! {
                        <li data-testid="console-line"><span class="time">{clock(at)}</span> " " {line}</li>
                    }).collect_view()}
                </ol>
            </details>
        })}
    }
}

/// One message; its JSON is printed only once the row is opened (a log of large results costs
/// nothing until then).
#[component]
fn ProtocolRow(entry: ProtocolEntry) -> impl IntoView {
    let (arrow, dir) = match entry.direction {
        Direction::Sent => ("→", "sent"),
        Direction::Received => ("←", "received"),
        Direction::FromApp => ("app →", "from-app"),
        Direction::ToApp => ("→ app", "to-app"),
    };
    let is_error = entry.message.get("error").is_some();
    let summary = summary(&entry);
    let message = StoredValue::new(entry.message);
    let pretty =
        move || message.with_value(|m| serde_json::to_string_pretty(m).unwrap_or_default());
    let opened = RwSignal::new(false);
    view! {
        <li class="log-entry" data-testid="protocol-entry" data-direction=dir data-method=entry.method.clone()>
            <details on:toggle=move |_| opened.set(true)>
                <summary>
                    <span class=format!("dir dir-{dir}") title=dir>{arrow}</span>
                    <span class="time">{clock(entry.at_ms)}</span>
                    <span class="method">{entry.method.clone()}</span>
                    <span class:error=is_error class="muted">{summary}</span>
                    {entry.elapsed_ms.map(|ms| view! { <span class="elapsed">{duration_text(ms)}</span> })}
                </summary>
                {move || opened.get().then(|| view! {
                    <div class="row-actions">
                        <CopyButton label="Copy" testid="protocol-copy" text=Callback::new(move |()| pretty()) />
                    </div>
                    <LongText text=pretty() class="mono" />
                })}
            </details>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::last_page;

    #[test]
    fn a_page_is_the_last_entries_and_says_how_many_are_not_shown() {
        let entries: Vec<u32> = (1..=10).collect();
        let matching: Vec<&u32> = entries.iter().collect();
        assert_eq!(last_page(&matching, 3), (7, vec![8, 9, 10]));
        assert_eq!(last_page(&matching, 50), (0, entries.clone()));
        assert_eq!(last_page::<u32>(&[], 3), (0, vec![]));
    }
}
