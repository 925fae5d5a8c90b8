//! The Auth tab: what the client holds for this server (issuer, client id and how it was obtained,
//! granted scopes, expiry, the decoded access token when it is a JWT — never a raw token) read from
//! the backend's OAuth store, and every OAuth exchange taken, in order.
//!
//! Test ids: `auth-credentials`, `auth-none`, `auth-steps`.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use keyhole_shared::api::ExchangeKind;
use keyhole_shared::store::{CredentialRecord, StoreDocument};
use leptos::prelude::*;
use serde_json::Value;

use crate::api;
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

fn expiry_text(expires_at: Option<u64>) -> String {
    match expires_at {
        None => "no expiry given".into(),
        Some(at) => {
            let left = at as f64 - now_ms() / 1000.0;
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
    // Read as the store's own type: field names cannot drift from what the store writes.
    let store = LocalResource::new(|| api::get_json::<StoreDocument>("/api/store/oauth"));
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

/// A serde enum's wire name (`dynamic`, `client_secret_basic`…).
fn wire_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn credentials_view(document: &StoreDocument, server_url: &str) -> AnyView {
    let records: Vec<&CredentialRecord> = document
        .credentials
        .iter()
        .filter(|r| r.server_url == server_url)
        .collect();
    if records.is_empty() {
        return view! {
            <p class="muted" data-testid="auth-none">"Keyhole holds no credentials for this server (it needed none, or none were obtained yet)."</p>
        }
        .into_any();
    }
    records
        .into_iter()
        .map(|record| {
            let client = document
                .clients
                .iter()
                .filter(|c| c.issuer == record.issuer)
                .find(|c| {
                    record
                        .client_id
                        .as_ref()
                        .is_none_or(|id| *id == c.registration.client_id)
                })
                .map(|c| {
                    format!(
                        "{} ({}, {})",
                        c.registration.client_id.as_str(),
                        wire_name(&c.registration.source),
                        wire_name(&c.registration.auth_method),
                    )
                })
                .unwrap_or_else(|| "unknown".into());
            let tokens = record.tokens.as_ref();
            let jwt = tokens.and_then(|t| decode_jwt(t.access_token.expose()));
            let access = match tokens {
                None => "none".to_owned(),
                Some(tokens) => format!(
                    "{} token, {}{}",
                    tokens.token_type,
                    expiry_text(tokens.expires_at),
                    if jwt.is_some() { ", a JWT" } else { ", opaque" },
                ),
            };
            let refresh = if tokens.is_some_and(|t| t.refresh_token.is_some()) {
                "held (not shown)"
            } else {
                "none"
            };
            view! {
                <dl class="facts" data-testid="auth-credentials">
                    <dt>"Issuer"</dt><dd><code>{record.issuer.as_str().to_owned()}</code></dd>
                    <dt>"Client"</dt><dd>{client}</dd>
                    <dt>"Granted scopes"</dt><dd>{record.granted.to_string()}</dd>
                    <dt>"Requested scopes"</dt><dd>{record.requested.to_string()}</dd>
                    <dt>"Access token"</dt><dd>{access}</dd>
                    <dt>"Refresh token"</dt><dd>{refresh}</dd>
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
