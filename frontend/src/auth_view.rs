//! The Auth tab: what the client holds for this server (issuer, client id and how it was obtained,
//! granted scopes, expiry, the decoded access token when it is a JWT — never a raw token) read from
//! the backend's OAuth store, and every OAuth exchange taken, in order.
//!
//! Test ids: `auth-credentials`, `auth-none`, `auth-steps`.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use keyhole_shared::api::ExchangeKind;
use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::auth_forget::ForgetControls;
use crate::network::{ExchangeRow, StepList};
use crate::oauth;
use crate::session::{Session, now_ms};

/// Decodes a JWT part: base64url, padded or not (the standard alphabet's `+` and `/` are taken
/// too); `None` on bad input.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    ENGINE.decode(text.replace('+', "-").replace('/', "_")).ok()
}

/// The header and claims of a JWT (signature not checked: this is for display).
fn decode_jwt(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let (header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let parse = |part: &str| {
        base64url_decode(part).and_then(|bytes| keyhole_shared::json::value_from_bytes(&bytes))
    };
    Some((parse(header)?, parse(payload)?))
}

fn scopes_text(value: &Value) -> String {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn expiry_text(expires_at: Option<f64>) -> String {
    match expires_at {
        None => "no expiry given".into(),
        Some(at) => {
            let left = at - now_ms() / 1000.0;
            if left <= 0.0 {
                format!("expired {} s ago", crate::text::whole(-left))
            } else {
                format!("expires in {} s", crate::text::whole(left))
            }
        }
    }
}

#[component]
pub fn AuthTab(session: Session) -> impl IntoView {
    let store = LocalResource::new(|| api::get_json::<Value>("/api/store/oauth"));
    let oauth_steps = move || {
        session.network.with(|log| {
            log.iter()
                .filter(|e| e.kind == ExchangeKind::Oauth)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="log-toolbar">
            <button type="button" class="small" on:click=move |_| store.refetch()>"Reload"</button>
        </div>
        <h3>"Credentials held for this server"</h3>
        <ForgetControls session=session on_forgotten=Callback::new(move |()| store.refetch()) />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || store.get().map(|result| match result {
                Err(error) => view! {
                    <p class="muted" data-testid="auth-none">{format!("The OAuth store could not be read: {error}")}</p>
                }.into_any(),
                Ok(document) => credentials_view(&document, &session.url()),
            })}
        </Suspense>
        <h3>"Sign-in steps"</h3>
        <SignInSteps />
        <h3>"OAuth exchanges recorded in this session"</h3>
        <ol class="log" data-testid="auth-steps">
            <For each=oauth_steps key=|e| (e.seq, e.status) let:exchange>
                <ExchangeRow exchange=exchange />
            </For>
        </ol>
        {move || session.network.with(|log| !log.iter().any(|e| e.kind == ExchangeKind::Oauth))
            .then(|| view! { <p class="muted">"No OAuth exchanges in this session."</p> })}
    }
}

fn credentials_view(document: &Value, server_url: &str) -> AnyView {
    let records: Vec<Value> = document["credentials"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|r| r["serverUrl"].as_str() == Some(server_url))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if records.is_empty() {
        return view! {
            <p class="muted" data-testid="auth-none">"Keyhole holds no credentials for this server (it needed none, or none were obtained yet)."</p>
        }
        .into_any();
    }
    let clients = document["clients"].as_array().cloned().unwrap_or_default();
    records
        .into_iter()
        .map(|record| {
            let issuer = record["issuer"].as_str().unwrap_or("").to_owned();
            let client = clients
                .iter()
                .find(|c| c["issuer"].as_str() == Some(issuer.as_str()))
                .map(|c| {
                    format!(
                        "{} ({}, {})",
                        c["registration"]["clientId"].as_str().unwrap_or("?"),
                        c["registration"]["source"].as_str().unwrap_or("?"),
                        c["registration"]["authMethod"].as_str().unwrap_or("?"),
                    )
                })
                .unwrap_or_else(|| "unknown".into());
            let tokens = record["tokens"].clone();
            let access = tokens["accessToken"].as_str().unwrap_or("").to_owned();
            let jwt = decode_jwt(&access);
            view! {
                <dl class="facts" data-testid="auth-credentials">
                    <dt>"Issuer"</dt><dd><code>{issuer.clone()}</code></dd>
                    <dt>"Client"</dt><dd>{client}</dd>
                    <dt>"Granted scopes"</dt><dd>{scopes_text(&record["granted"])}</dd>
                    <dt>"Requested scopes"</dt><dd>{scopes_text(&record["requested"])}</dd>
                    <dt>"Access token"</dt>
                    <dd>{if tokens.is_null() {
                        "none".to_owned()
                    } else {
                        format!(
                            "{} token, {}{}",
                            tokens["tokenType"].as_str().unwrap_or("?"),
                            expiry_text(tokens["expiresAt"].as_f64()),
                            if jwt.is_some() { ", a JWT" } else { ", opaque" },
                        )
                    }}</dd>
                    <dt>"Refresh token"</dt>
                    <dd>{if tokens["refreshToken"].is_string() { "held (not shown)" } else { "none" }}</dd>
                </dl>
                {jwt.map(|(header, claims)| view! {
                    <details class="json" open=true>
                        <summary>"Decoded access token"</summary>
                        <pre class="mono">{serde_json::to_string_pretty(&header).unwrap_or_default()}</pre>
                        <pre class="mono">{serde_json::to_string_pretty(&claims).unwrap_or_default()}</pre>
                    </details>
                })}
            }
        })
        .collect_view()
        .into_any()
}

/// The OAuth exchanges of this tab's latest sign-in (kept across the redirect), in order.
#[component]
fn SignInSteps() -> impl IntoView {
    let steps = oauth::oauth_steps();
    if steps.is_empty() {
        return view! { <p class="muted">"No sign-in happened in this browser tab."</p> }
            .into_any();
    }
    view! { <StepList steps=steps list_testid="auth-signin-steps" item_testid="auth-step" /> }
        .into_any()
}
