//! The Network tab: every upstream HTTP exchange (MCP traffic and OAuth legs, the latter marked),
//! with status, timing, headers (secrets already redacted by the backend) and bodies. The sign-in
//! that preceded the session (no backend session existed yet, so the backend's log cannot have
//! it) is listed after the log, from what the page recorded. Only the last [`PAGE`] exchanges are
//! rendered, with "Show earlier" (`network-more`) for more.
//!
//! Test ids: `network-entry` (`data-kind="mcp|oauth"`, `data-status`) in `network-log` (the
//! backend's) or `network-signin-steps`, `network-oauth-only`, and in each expanded entry
//! `network-copy-json` and `network-copy-curl` (secrets become shell variables), and `dpop-proof`
//! (a request's DPoP proof, decoded) where there is one.

use keyhole_shared::api::{ExchangeKind, HttpExchange};
use keyhole_shared::curl::curl_command;
use keyhole_shared::dpop;
use keyhole_shared::http::HttpExchange as RecordedStep;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::oauth;
use crate::flows::session::Session;
use crate::platform::text::duration_text;
use crate::views::export::CopyButton;
use crate::views::protocol::{PAGE, clock, last_page, show_earlier};

/// The tab, built by its own wasm chunk (fetched the first time the tab is opened).
#[lazy]
pub fn network_tab(session: Session) -> AnyView {
    view! { <NetworkTab session=session /> }.into_any()
}

#[component]
fn NetworkTab(session: Session) -> impl IntoView {
    spawn_local(async move { session.load_network_log().await });
    let oauth_only = RwSignal::new(false);
    let limit = RwSignal::new(PAGE);
    // The last `limit` exchanges that pass: the view renders a page, however long the log.
    let page = Memo::new(move |_| {
        let only = oauth_only.get();
        session.network.with(|log| {
            let matching: Vec<&HttpExchange> = log
                .iter()
                .filter(|e| !only || e.kind == ExchangeKind::Oauth)
                .collect();
            last_page(&matching, limit.get())
        })
    });
    view! {
        <div class="log-toolbar">
            <label class="field-inline">
                <input type="checkbox" data-testid="network-oauth-only"
                    on:change=move |ev| oauth_only.set(event_target_checked(&ev)) />
                " OAuth exchanges only"
            </label>
            <button type="button" class="small" on:click=move |_| spawn_local(async move { session.load_network_log().await })>
                "Reload"
            </button>
            <span class="muted">{move || format!("{} exchanges", session.network.with(Vec::len))}</span>
            <span class="muted" data-testid="network-transport">"over " {session.transport}</span>
        </div>
        {show_earlier(Signal::derive(move || page.with(|(hidden, _)| *hidden)), limit, "network-more")}
        <ol class="log" data-testid="network-log">
            <For each=move || page.get().1 key=|e| (e.seq, e.status, e.duration_ms.to_bits()) let:exchange>
                <ExchangeRow exchange=exchange />
            </For>
        </ol>
        <SignInBeforeSession />
    }
}

/// The connect-time sign-in's exchanges, when this connection began with one.
#[component]
fn SignInBeforeSession() -> impl IntoView {
    let steps = oauth::connect_steps();
    (!steps.is_empty()).then(|| {
        view! {
            <h3>"Sign-in before this session"</h3>
            <StepList steps=steps list_testid="network-signin-steps" item_testid="network-entry" />
        }
    })
}

/// Exchanges the page recorded itself (its OAuth requests through `/api/oauth/fetch`, redacted),
/// numbered in order.
#[component]
pub fn StepList(
    steps: Vec<RecordedStep>,
    list_testid: &'static str,
    item_testid: &'static str,
) -> impl IntoView {
    view! {
        <ol class="log" data-testid=list_testid>
            {steps
                .into_iter()
                .enumerate()
                .map(|(i, step)| view! { <StepRow number=i + 1 step=step testid=item_testid /> })
                .collect_view()}
        </ol>
    }
}

#[component]
fn StepRow(number: usize, step: RecordedStep, testid: &'static str) -> impl IntoView {
    let name = step.step.clone().unwrap_or_else(|| "OAuth request".into());
    let status = step
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "—".into());
    let failed = step.status.is_none_or(|s| s >= 400);
    let (status_attr, name_attr) = (status.clone(), name.clone());
    let copy = step.clone();
    view! {
        <li class="log-entry" data-testid=testid data-kind="oauth" data-status=status_attr
            data-step=name_attr>
            <details>
                <summary>
                    <span class="badge badge-oauth">{number.to_string()}</span>
                    <span class="method">{name}</span>
                    <span>{step.method.as_str()}</span>
                    <span class="url">{step.url.clone()}</span>
                    <span class="status-code" class:error=failed>{status}</span>
                    {step.elapsed_ms.map(|ms| view! { <span class="elapsed">{format!("{ms} ms")}</span> })}
                </summary>
                <ExchangeDetails method=step.method.as_str().to_owned() url=step.url.clone()
                    as_json=Callback::new(move |()| serde_json::to_string_pretty(&copy).unwrap_or_default())
                    error=step.error request_headers=step.request_headers
                    request_body=step.request_body response_headers=step.response_headers
                    response_body=step.response_body body_note=" (secrets removed)" />
            </details>
        </li>
    }
}

/// The expanded part of one HTTP exchange: Copy as JSON / as curl, its error, then each
/// direction's headers and body. `body_note` follows the body headings (e.g. " (secrets removed)").
#[component]
fn ExchangeDetails(
    method: String,
    url: String,
    /// The whole exchange as JSON (made when copied).
    as_json: Callback<(), String>,
    error: Option<String>,
    request_headers: Vec<(String, String)>,
    request_body: Option<String>,
    response_headers: Vec<(String, String)>,
    response_body: Option<String>,
    body_note: &'static str,
) -> impl IntoView {
    let request = StoredValue::new((method, url, request_headers.clone(), request_body.clone()));
    let as_curl = Callback::new(move |()| {
        request.with_value(|(method, url, headers, body)| {
            curl_command(method, url, headers, body.as_deref())
        })
    });
    view! {
        <div class="row-actions">
            <CopyButton label="Copy as JSON" testid="network-copy-json" text=as_json />
            <CopyButton label="Copy as curl" testid="network-copy-curl" text=as_curl />
        </div>
        {error.map(|e| view! { <p class="error">{e}</p> })}
        <h4>"Request headers"</h4>
        {proof_view(&request_headers)}
        {headers_view(request_headers)}
        {request_body.map(|b| view! { <h4>{format!("Request body{body_note}")}</h4><pre class="mono">{b}</pre> })}
        <h4>"Response headers"</h4>
        {headers_view(response_headers)}
        {response_body.map(|b| view! { <h4>{format!("Response body{body_note}")}</h4><pre class="mono">{b}</pre> })}
    }
}

/// A request's DPoP proof, decoded: its JOSE header (the public key) and claims (`htm`, `htu`,
/// `iat`, `jti`, `ath`, `nonce`). The log never keeps the signature.
fn proof_view(headers: &[(String, String)]) -> Option<impl IntoView + use<>> {
    let (_, proof) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(dpop::PROOF_HEADER))?;
    let decoded = dpop::decode(proof)?;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let text = format!("{}\n{}", pretty(&decoded.header), pretty(&decoded.claims));
    Some(view! {
        <h4>"DPoP proof (decoded; the signature is not kept)"</h4>
        <pre class="mono" data-testid="dpop-proof">{text}</pre>
    })
}

fn headers_view(headers: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="headers">
            {headers.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
        </table>
    }
}

#[component]
pub fn ExchangeRow(exchange: HttpExchange) -> impl IntoView {
    let kind = match exchange.kind {
        ExchangeKind::Mcp => "mcp",
        ExchangeKind::Oauth => "oauth",
    };
    let status = exchange
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "—".into());
    let status_attr = status.clone();
    let failed = exchange.status.is_none_or(|s| s >= 400);
    let copy = exchange.clone();
    view! {
        <li class="log-entry" data-testid="network-entry" data-kind=kind data-status=status_attr>
            <details>
                <summary>
                    <span class=format!("badge badge-{kind}")>{kind.to_ascii_uppercase()}</span>
                    <span class="time">{clock(exchange.started_at_ms as f64)}</span>
                    <span class="method">{exchange.method.clone()}</span>
                    <span class="url">{exchange.url.clone()}</span>
                    <span class="status-code" class:error=failed>{status}</span>
                    <span class="elapsed">{duration_text(exchange.duration_ms)}</span>
                    {(exchange.sse_events > 0).then(|| view! { <span class="muted">{format!("{} SSE events", exchange.sse_events)}</span> })}
                </summary>
                <ExchangeDetails method=exchange.method.clone() url=exchange.url.clone()
                    as_json=Callback::new(move |()| serde_json::to_string_pretty(&copy).unwrap_or_default())
                    error=exchange.error request_headers=exchange.request_headers
                    request_body=exchange.request_body response_headers=exchange.response_headers
                    response_body=exchange.response_body body_note="" />
            </details>
        </li>
    }
}
