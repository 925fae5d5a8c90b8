//! The Auth tab's timeline: each auth incident of the connection as one entry, newest first — the
//! challenge (status, reason, the request it refused, `WWW-Authenticate`, the scopes it requires),
//! the steps recovery took, the OAuth exchanges made meanwhile, the outcome and how long it took,
//! and the granted scopes and fingerprint of the token it ended with.
//!
//! Test ids: `auth-timeline`, `auth-incident` (`data-outcome` pending|recovered|failed,
//! `data-status`), in each `auth-incident-steps`, `auth-incident-exchanges`,
//! `auth-incident-outcome`, `auth-incident-fingerprint`.

use keyhole_shared::api::{ExchangeKind, HttpExchange};
use keyhole_shared::challenge::ChallengeReason;
use leptos::prelude::*;

use crate::flows::timeline::Incident;
use crate::platform::text::duration_text;

fn reason_text(reason: ChallengeReason) -> &'static str {
    match reason {
        ChallengeReason::InvalidToken => "invalid token",
        ChallengeReason::TokenExpired => "token missing or expired",
        ChallengeReason::InsufficientScope => "insufficient scope",
        ChallengeReason::Forbidden => "forbidden",
    }
}

/// The OAuth exchanges that started while `incident` was under way.
fn exchanges_during(log: &[HttpExchange], incident: &Incident) -> Vec<String> {
    log.iter()
        .filter(|e| e.kind == ExchangeKind::Oauth)
        .filter(|e| {
            let at = e.started_at_ms as f64;
            at >= incident.started_ms - 1.0 && at <= incident.ended_ms + 1.0
        })
        .map(exchange_line)
        .collect()
}

/// The status of an exchange as shown: the code, or `no answer`.
pub fn status_text(exchange: &HttpExchange) -> String {
    exchange
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string())
}

/// An exchange in one line: `POST https://… → 200`.
pub fn exchange_line(exchange: &HttpExchange) -> String {
    format!(
        "{} {} → {}",
        exchange.method,
        exchange.url,
        status_text(exchange)
    )
}

/// The timeline of `incidents`, with the OAuth exchanges of `network` made during each.
#[component]
pub fn Timeline(
    #[prop(into)] incidents: Signal<Vec<Incident>>,
    #[prop(into)] network: Signal<Vec<HttpExchange>>,
) -> impl IntoView {
    let newest_first = move || {
        let mut all = incidents.get();
        all.reverse();
        all
    };
    view! {
        {move || incidents.with(Vec::is_empty).then(|| view! {
            <p class="muted">"No auth incident on this connection yet."</p>
        })}
        <ol class="log timeline" data-testid="auth-timeline">
            <For each=newest_first key=|i| (i.started_ms.to_bits(), i.steps.len(), i.state()) let:incident>
                <IncidentRow network=network incident=incident />
            </For>
        </ol>
    }
}

#[component]
fn IncidentRow(network: Signal<Vec<HttpExchange>>, incident: Incident) -> impl IntoView {
    let exchanges = network.with(|log| exchanges_during(log, &incident));
    let took = duration_text(incident.ended_ms - incident.started_ms);
    let outcome = match &incident.outcome {
        None => "Under way.".to_owned(),
        Some(Ok(text)) | Some(Err(text)) => text.clone(),
    };
    let required = if incident.required.is_empty() {
        "none named".to_owned()
    } else {
        incident.required.to_string()
    };
    let (state, status) = (incident.state(), incident.status.to_string());
    view! {
        <li data-testid="auth-incident" data-outcome=state data-status=status>
            <strong>{format!("HTTP {} · {} · {}", incident.status, reason_text(incident.reason), incident.request)}</strong>
            " " <span class="muted">{took}</span>
            <div class="muted mono">{incident.www_authenticate.join(" | ")}</div>
            <div>"Required scopes: " {required}</div>
            <ol data-testid="auth-incident-steps">
                {incident.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
            </ol>
            <ul class="muted mono" data-testid="auth-incident-exchanges">
                {exchanges.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
            <div data-testid="auth-incident-outcome">{outcome}</div>
            {incident.granted.map(|g| view! { <div>"Granted scopes: " {g.to_string()}</div> })}
            {incident.fingerprint.map(|f| view! {
                <div>"Token fingerprint: " <code data-testid="auth-incident-fingerprint">{f}</code></div>
            })}
        </li>
    }
}
