//! The Doctor view: `keyhole doctor` in the page. It audits the URL in the connect form (with its
//! custom headers) through the backend (`POST /api/doctor`, the same shared audit the CLI runs)
//! and lists every finding with its verdict, rule, requirement and source, what was seen and the
//! fix. A separate wasm chunk (`#[lazy]`), fetched when the section is first opened.
//!
//! The guided sign-in (`guided_view`) lives in the same section and chunk.
//!
//! Test ids: `doctor-run`, `doctor-status`, `doctor-summary` (`data-exit` 0/1/2),
//! `doctor-finding` (`data-rule`, `data-verdict` pass|info|warning|failure) with `doctor-fix`.

use keyhole_shared::api::DoctorRequest;
use keyhole_shared::doctor::{DoctorReport, Finding, Verdict, render::summary_line};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::platform::api;
use crate::views::guided_view::GuidedSignInPanel;
use crate::views::servers::parse_headers;

/// The section's body, built by its own wasm chunk.
#[lazy]
pub fn doctor_panel(url: RwSignal<String>, headers: RwSignal<String>) -> AnyView {
    view! { <DoctorPanel url=url headers=headers /> }.into_any()
}

/// What the panel shows.
#[derive(Clone)]
enum State {
    Idle,
    Running(String),
    Done(DoctorReport),
    Failed(String),
}

pub(crate) fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Info => "info",
        Verdict::Warning => "warning",
        Verdict::Failure => "failure",
    }
}

async fn audit(url: String, headers: String) -> Result<DoctorReport, String> {
    let body = DoctorRequest {
        url,
        headers: parse_headers(&headers)?,
    };
    api::call::<_, DoctorReport>("/api/doctor", &body)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|failure| failure.message().to_owned())
}

#[component]
fn DoctorPanel(url: RwSignal<String>, headers: RwSignal<String>) -> impl IntoView {
    let state = RwSignal::new(State::Idle);
    let run = move |_| {
        let target = url.get_untracked().trim().to_owned();
        if target.is_empty() {
            state.set(State::Failed(
                "Type the server's URL in the form above first.".into(),
            ));
            return;
        }
        state.set(State::Running(target.clone()));
        let header_text = headers.get_untracked();
        spawn_local(async move {
            state.set(match audit(target, header_text).await {
                Ok(report) => State::Done(report),
                Err(message) => State::Failed(message),
            });
        });
    };
    view! {
        <p class="muted">
            "Checks the server's authorization set-up against the MCP authorization specification and the RFCs it cites, as a client meets it before signing in: the 401 challenge, both metadata documents, made-up tokens, HTTPS and CORS. Nobody signs in; no token is sent."
        </p>
        <button type="button" data-testid="doctor-run" on:click=run
            disabled=move || matches!(state.get(), State::Running(_))>
            "Audit the URL above"
        </button>
        {move || match state.get() {
            State::Idle => ().into_any(),
            State::Running(target) => view! {
                <p data-testid="doctor-status" role="status">"Auditing " <code>{target}</code> "…"</p>
            }.into_any(),
            State::Failed(message) => view! {
                <p data-testid="doctor-status" role="alert" class="error">{message}</p>
            }.into_any(),
            State::Done(report) => view! { <Report report=report /> }.into_any(),
        }}
        <GuidedSignInPanel url=url headers=headers />
    }
}

#[component]
fn Report(report: DoctorReport) -> impl IntoView {
    let exit = report.exit_code().to_string();
    let summary = summary_line(&report);
    let findings = report
        .findings
        .into_iter()
        .map(|f| view! { <FindingRow finding=f /> })
        .collect_view();
    view! {
        <p data-testid="doctor-summary" data-exit=exit role="status">
            <strong>{summary}</strong> " — " <code>{report.server}</code>
        </p>
        <ul class="doctor-findings">{findings}</ul>
    }
}

#[component]
pub(crate) fn FindingRow(finding: Finding) -> impl IntoView {
    let verdict = verdict_name(finding.verdict);
    let passed = finding.verdict == Verdict::Pass;
    let rule = finding.rule.clone();
    view! {
        <li data-testid="doctor-finding" data-rule=rule data-verdict=verdict
            class=format!("doctor-finding doctor-{verdict}")>
            <span class="badge">{verdict.to_uppercase()}</span> " "
            <code>{finding.rule}</code> " "
            <span class="muted">{finding.level.as_str()} " · " {finding.source}</span>
            {(!passed).then(|| view! { <div>{finding.statement}</div> })}
            <div class="muted">{finding.observed}</div>
            {finding.fix.map(|fix| view! { <div data-testid="doctor-fix">"Fix: " {fix}</div> })}
        </li>
    }
}
