//! "Debug sign-in": the guided sign-in ([`keyhole_shared::doctor::guided`]) in the page, with the
//! page's own OAuth client (`flows::oauth::client`, the one the real sign-in uses). Each step
//! shows what the client did, the exchanges it made (already redacted, read from the page's OAuth
//! step log), the rules it checked and a verdict; "Next" runs one step, "Run to end" the rest.
//! The authorization request leaves for the authorization server: the run is kept in
//! `sessionStorage` (no token, no code), the arrival leaves the callback to it, and the Doctor
//! section reopens here to check the callback and go on. Part of the doctor's wasm chunk.
//!
//! Test ids: `guided-start`, `guided-next`, `guided-run-all`, `guided-status` (`data-next`: the
//! next step's id, or `done` / `stopped`), `guided-step` (`data-step`, `data-verdict`
//! pass|warning|failure|pending) with `guided-detail` and `guided-exchange` (unfolding to the
//! request and response, secrets replaced by `<redacted>`).

use keyhole_shared::doctor::guided::{GuidedSignIn, Step, StepReport, Tape};
use keyhole_shared::http::HttpExchange;
use keyhole_shared::recovery::Clock;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::oauth::{self, GUIDED_KEY, WebClock};
use crate::views::doctor_view::{FindingRow, verdict_name};
use crate::views::servers::parse_headers;

/// The exchanges the page's OAuth client made so far (the connect-time step log).
struct PageTape;

impl Tape for PageTape {
    fn exchanges(&self) -> Vec<HttpExchange> {
        oauth::connect_steps()
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

fn keep(guided: &GuidedSignIn) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(guided)) {
        let _ = storage.set_item(GUIDED_KEY, &text);
    }
}

fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(GUIDED_KEY);
    }
}

/// The run kept before leaving for the authorization server, with the callback when this page
/// load is it (the address bar is cleaned: the code is not left in the history).
fn resumed() -> Option<GuidedSignIn> {
    let text = storage()?.get_item(GUIDED_KEY).ok().flatten()?;
    let Ok(mut guided) = serde_json::from_str::<GuidedSignIn>(&text) else {
        forget();
        return None;
    };
    let window = web_sys::window()?;
    if oauth::is_callback() {
        guided.arrive(window.location().href().unwrap_or_default());
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
        }
    }
    Some(guided)
}

fn leave_for(authorization_url: &str) -> Result<(), String> {
    web_sys::window()
        .ok_or("no window")?
        .location()
        .set_href(authorization_url)
        .map_err(|_| "the page could not open the authorization server".to_owned())
}

/// Runs the next step (all of them with `all`), leaving for the authorization server when that
/// is next.
async fn advance(
    run: RwSignal<Option<GuidedSignIn>>,
    problem: RwSignal<Option<String>>,
    all: bool,
) {
    let Some(mut guided) = run.get_untracked() else {
        return;
    };
    oauth::load_catalog().await;
    let client = oauth::client();
    loop {
        if guided.awaiting_callback() {
            guided.run_to_end = all;
            keep(&guided);
            if let Err(message) = leave_for(guided.authorization_url.as_deref().unwrap_or_default())
            {
                problem.set(Some(message));
            }
            return;
        }
        if guided
            .run_next(&client, &PageTape, WebClock.now_unix())
            .await
            .is_none()
        {
            break;
        }
        run.set(Some(guided.clone()));
        if !all || guided.next_step().is_none() {
            break;
        }
    }
    if guided.next_step().is_none() {
        forget();
    }
}

fn exchange_text(exchange: &HttpExchange) -> String {
    let outcome = match (exchange.status, &exchange.error) {
        (Some(status), _) => status.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    };
    format!("{} {} → {outcome}", exchange.method, exchange.url)
}

/// The panel: a start button, then the steps.
#[component]
pub fn GuidedSignInPanel(url: RwSignal<String>, headers: RwSignal<String>) -> impl IntoView {
    let run = RwSignal::new(None::<GuidedSignIn>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let go = move |all: bool| {
        busy.set(true);
        spawn_local(async move {
            advance(run, problem, all).await;
            busy.set(false);
        });
    };
    if let Some(guided) = resumed() {
        url.set(guided.server_url.clone());
        let go_on = guided.run_to_end && !guided.awaiting_callback();
        run.set(Some(guided));
        if go_on {
            go(true);
        }
    }
    let start = move |_| {
        let target = url.get_untracked().trim().to_owned();
        match parse_headers(&headers.get_untracked()) {
            _ if target.is_empty() => {
                problem.set(Some(
                    "Type the server's URL in the form above first.".into(),
                ));
            }
            Err(message) => problem.set(Some(message)),
            Ok(extra) => {
                problem.set(None);
                forget();
                oauth::clear_steps();
                run.set(Some(GuidedSignIn::new(target, extra.into_iter().collect())));
            }
        }
    };
    let status = move || {
        run.with(|guided| {
            let guided = guided.as_ref()?;
            Some(match guided.next_step() {
                Some(step) if guided.awaiting_callback() => (
                    step.id(),
                    "Next: sign in at the authorization server; Keyhole comes back here to check its answer.".to_owned(),
                ),
                Some(step) => (step.id(), format!("Next: {}", step.title())),
                None if guided.stopped => ("stopped", "Stopped: the flow cannot go on (see the last step).".to_owned()),
                None => ("done", "Done: signed in, the token is stored; Connect uses it.".to_owned()),
            })
        })
    };
    view! {
        <p class="muted">
            "Debug sign-in: the real sign-in, one step at a time — discovery, client identity, the authorization request, the callback, the token request and the first request with the token — each with its exchanges and the rules it checked."
        </p>
        <button type="button" data-testid="guided-start" on:click=start disabled=move || busy.get()>
            "Debug sign-in (step by step)"
        </button>
        {move || problem.get().map(|message| view! { <p role="alert" class="error">{message}</p> })}
        {move || status().map(|(next, text)| {
            let finished = next == "done" || next == "stopped";
            view! {
                <p data-testid="guided-status" data-next=next role="status">{text}</p>
                <button type="button" data-testid="guided-next" on:click=move |_| go(false)
                    disabled=move || busy.get() || finished>"Next"</button>
                " "
                <button type="button" data-testid="guided-run-all" on:click=move |_| go(true)
                    disabled=move || busy.get() || finished>"Run to end"</button>
            }
        })}
        {move || run.with(|guided| guided.as_ref().map(|guided| {
            let steps = Step::ALL
                .iter()
                .map(|step| {
                    let report = guided.reports.iter().find(|r| r.step == *step).cloned();
                    view! { <StepRow step=*step report=report /> }
                })
                .collect_view();
            view! { <ol class="guided-steps doctor-findings">{steps}</ol> }
        }))}
    }
}

/// Headers one per line, then the body: as the OAuth client's observer recorded them (secrets
/// already replaced).
fn message_text(headers: &[(String, String)], body: Option<&str>) -> String {
    let mut text: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        text.push(String::new());
        text.push(body.to_owned());
    }
    text.join("\n")
}

/// One exchange: its line, unfolding to the request and the response.
#[component]
fn ExchangeRow(exchange: HttpExchange) -> impl IntoView {
    let line = exchange_text(&exchange);
    let request = message_text(&exchange.request_headers, exchange.request_body.as_deref());
    let response = message_text(
        &exchange.response_headers,
        exchange.response_body.as_deref(),
    );
    view! {
        <li data-testid="guided-exchange">
            <details>
                <summary><code>{line}</code></summary>
                <pre>{request}</pre>
                <pre>{response}</pre>
            </details>
        </li>
    }
}

#[component]
fn StepRow(step: Step, report: Option<StepReport>) -> impl IntoView {
    let Some(report) = report else {
        return view! {
            <li data-testid="guided-step" data-step=step.id() data-verdict="pending" class="muted">
                {step.title()} " — not run yet"
            </li>
        }
        .into_any();
    };
    // A step's verdict is never `info` (`run_next` counts notes as passes).
    let verdict = verdict_name(report.verdict);
    let details = report
        .details
        .into_iter()
        .map(|(label, text)| view! { <li data-testid="guided-detail"><code>{label}</code> " — " {text}</li> })
        .collect_view();
    let exchanges = report
        .exchanges
        .into_iter()
        .map(|exchange| view! { <ExchangeRow exchange=exchange /> })
        .collect_view();
    let findings = report
        .findings
        .into_iter()
        .map(|f| view! { <FindingRow finding=f /> })
        .collect_view();
    view! {
        <li data-testid="guided-step" data-step=step.id() data-verdict=verdict
            class=format!("doctor-finding doctor-{verdict}")>
            <span class="badge">{verdict.to_uppercase()}</span> " "
            <strong>{step.title()}</strong>
            <div>{report.summary}</div>
            <ul class="muted">{details}</ul>
            <ul class="muted">{exchanges}</ul>
            <ul>{findings}</ul>
        </li>
    }
    .into_any()
}
