//! The Logs tab: the server's log messages (`notifications/message`), each with its time, level,
//! logger and data, narrowed by a minimum level and a search; and, for a server that offers
//! logging, `logging/setLevel` to choose what it sends. The messages are read from the Protocol
//! tab's record, so nothing is kept twice. A separate wasm chunk (`#[lazy]`), fetched when the tab
//! is first opened.
//!
//! Only the last [`PAGE`] matching messages are rendered, with "Show earlier" for more.
//!
//! Test ids: `log-level-select` (asks the server), `log-level-status`, `log-filter-level`,
//! `log-search`, `log-entry` (`data-level`), `log-empty`, `log-more`.

use keyhole_shared::logging::{LOG_LEVELS, data_text, severity};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::flows::session::{Direction, ProtocolEntry, Session};
use crate::platform::text::fold_case;
use crate::views::protocol::{PAGE, clock, last_page, show_earlier};

/// One log message.
#[derive(Clone, Debug, PartialEq)]
struct LogLine {
    seq: u64,
    at_ms: f64,
    level: String,
    logger: String,
    text: String,
}

fn log_line(seq: u64, at_ms: f64, params: &Value) -> LogLine {
    LogLine {
        seq,
        at_ms,
        level: params["level"].as_str().unwrap_or("info").to_owned(),
        logger: params["logger"].as_str().unwrap_or_default().to_owned(),
        text: data_text(&params["data"]),
    }
}

/// The tab, built by its own wasm chunk.
#[lazy]
pub fn logs_tab(session: Session) -> AnyView {
    view! { <LogsTab session=session /> }.into_any()
}

#[component]
fn LogsTab(session: Session) -> impl IntoView {
    let minimum = RwSignal::new(String::from("debug"));
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let limit = RwSignal::new(PAGE);
    // The last `limit` messages that pass: the view renders a page, however long the log.
    let page = Memo::new(move |_| {
        let floor = severity(&minimum.get());
        let needle = fold_case(&search.get());
        session.protocol.with(|log| {
            let matching: Vec<&ProtocolEntry> = log
                .iter()
                .filter(|e| {
                    e.direction == Direction::Received && e.method == "notifications/message"
                })
                .filter(|e| {
                    severity(e.message["params"]["level"].as_str().unwrap_or("info")) >= floor
                })
                .filter(|e| needle.is_empty() || e.haystack.contains(&needle))
                .collect();
            let (hidden, entries) = last_page(&matching, limit.get());
            let lines: Vec<LogLine> = entries
                .iter()
                .map(|e| log_line(e.seq, e.at_ms, &e.message["params"]))
                .collect();
            (hidden, lines)
        })
    });
    let set_level = move |level: String| {
        spawn_local(async move {
            let answer = session
                .request("logging/setLevel", json!({ "level": level }))
                .await;
            status.set(Some(match answer {
                Ok(_) => format!("The server now sends {level} and above."),
                Err(error) => error.to_string(),
            }));
        })
    };
    let options = || LOG_LEVELS.map(|l| view! { <option value=l>{l}</option> });
    view! {
        <div class="log-toolbar">
            {session.has_capability("logging").then(|| view! {
                <label class="field-inline">"Server level "
                    <select data-testid="log-level-select" on:change=move |ev| set_level(event_target_value(&ev))>
                        <option value="" selected=true disabled=true>"choose"</option>
                        {options()}
                    </select>
                </label>
            })}
            <label class="field-inline">"Show from "
                <select data-testid="log-filter-level" on:change=move |ev| minimum.set(event_target_value(&ev))>
                    {options()}
                </select>
            </label>
            <input type="search" class="search" placeholder="Search the log" aria-label="Search the log"
                data-testid="log-search" bind:value=search />
            {move || status.get().map(|s| view! { <span class="muted" data-testid="log-level-status">{s}</span> })}
        </div>
        {show_earlier(Signal::derive(move || page.with(|(hidden, _)| *hidden)), limit, "log-more")}
        <ol class="log mono">
            <For each=move || page.get().1 key=|line| line.seq let:line>
                <li data-testid="log-entry" data-level=line.level.clone()>
                    <span class="time">{clock(line.at_ms)}</span> " "
                    <strong>{line.level.clone()}</strong> " "
                    <span class="muted">{line.logger.clone()}</span> " " {line.text.clone()}
                </li>
            </For>
        </ol>
        {move || page.with(|(_, lines)| lines.is_empty()).then(|| view! { <p class="muted" data-testid="log-empty">"No log messages (yet)."</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_has_a_level_even_when_the_server_names_none() {
        let line = log_line(1, 0.0, &json!({"level": "error", "data": {"code": 7}}));
        assert_eq!(
            (line.level.as_str(), line.text.as_str()),
            ("error", "{\"code\":7}")
        );
        let line = log_line(2, 0.0, &json!({"data": "plain", "logger": "db"}));
        assert_eq!((line.level.as_str(), line.logger.as_str()), ("info", "db"));
    }
}
