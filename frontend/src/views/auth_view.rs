//! The Auth tab: what the client holds for this server (issuer, client id and how it was obtained,
//! granted scopes, expiry, the decoded access token when it is a JWT — never a raw token) read from
//! the backend's OAuth store, and every OAuth exchange taken, in order.
//!
//! Test ids: `auth-credentials` (with `auth-client`, `auth-granted-scopes`, `auth-access-token`,
//! `auth-token-type`, `auth-token-expiry`, `auth-token-format`, `auth-token-fingerprint`,
//! `auth-refresh-token`, and `auth-jwt` for a decoded JWT), `auth-none`, `auth-steps`; the timeline's
//! ids are in [`super::auth_timeline`].

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use keyhole_shared::api::ExchangeKind;
use keyhole_shared::oauth_client::identity::RegistrationSource;
use keyhole_shared::scopes::ScopeSet;
use keyhole_shared::store::{CredentialRecord, OAuthStore, StoreDocument};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::flows::incident_bundle;
use crate::flows::oauth::{self, WebStore};
use crate::flows::session::{Session, now_ms};
use crate::views::auth_faults::FaultControls;
use crate::views::auth_forget::ForgetControls;
use crate::views::auth_timeline::Timeline;
use crate::views::export::download;
use crate::views::network::{ExchangeRow, StepList};
use crate::views::protocol::clock;

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

fn scopes_text(scopes: &ScopeSet) -> String {
    if scopes.is_empty() {
        "none".into()
    } else {
        scopes.to_scope_string()
    }
}

fn expiry_text(expires_at: Option<u64>) -> String {
    match expires_at {
        None => "no expiry given".into(),
        Some(at) => {
            let left = at as f64 - now_ms() / 1000.0;
            let when = clock(at as f64 * 1000.0);
            if left <= 0.0 {
                format!(
                    "expired {} s ago ({when})",
                    crate::platform::text::whole(-left)
                )
            } else {
                format!(
                    "expires in {} s ({when})",
                    crate::platform::text::whole(left)
                )
            }
        }
    }
}

fn source_text(source: RegistrationSource) -> &'static str {
    match source {
        RegistrationSource::PreRegistered => "pre-registered",
        RegistrationSource::MetadataDocument => "client ID metadata document",
        RegistrationSource::Dynamic => "dynamic registration",
    }
}

/// The tab, built by its own wasm chunk (fetched the first time the tab is opened).
#[lazy]
pub fn auth_tab(session: Session) -> AnyView {
    view! { <AuthTab session=session /> }.into_any()
}

#[component]
fn AuthTab(session: Session) -> impl IntoView {
    // Read again each time a tab is opened: a refresh or step-up elsewhere changes the store.
    let store = LocalResource::new(move || {
        session.ui.active_tab.track();
        async { WebStore.read().await }
    });
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
        <FaultControls session=session on_injected=Callback::new(move |()| store.refetch()) />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || store.get().map(|result| match result {
                Err(error) => view! {
                    <p class="muted" data-testid="auth-none">{format!("The OAuth store could not be read: {error}")}</p>
                }.into_any(),
                Ok(document) => credentials_view(&document, &session.url()),
            })}
        </Suspense>
        <h3>"Auth timeline"</h3>
        <div class="log-toolbar">
            <button type="button" class="small" data-testid="auth-export-bundle" on:click=move |_| {
                spawn_local(async move {
                    let text = incident_bundle::export_text(session).await;
                    let _ = download("keyhole-incident-bundle.json", &text);
                });
            }>"Export incident bundle"</button>
            <span class="muted">"The timeline, HTTP exchanges and JSON-RPC messages as one JSON file, without tokens or secrets."</span>
        </div>
        <Timeline incidents=session.timeline network=session.network />
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
                .map(|c| &c.registration)
                .find(|r| record.client_id.as_ref() == Some(&r.client_id))
                .or_else(|| {
                    let at_issuer = document.clients.iter().find(|c| c.issuer == record.issuer);
                    at_issuer.map(|c| &c.registration)
                })
                .map(|r| {
                    format!(
                        "{} ({}, {})",
                        r.client_id,
                        source_text(r.source),
                        r.auth_method.as_str()
                    )
                })
                .unwrap_or_else(|| "unknown".into());
            let tokens = record.tokens.as_ref();
            let jwt = tokens.and_then(|t| decode_jwt(t.access_token.expose()));
            let token_facts = tokens.map(|t| {
                view! {
                    <dt>"Token type"</dt><dd data-testid="auth-token-type">{t.token_type.clone()}</dd>
                    <dt>"Expiry"</dt><dd data-testid="auth-token-expiry">{expiry_text(t.expires_at)}</dd>
                    <dt>"Format"</dt><dd data-testid="auth-token-format">{if jwt.is_some() { "JWT" } else { "opaque" }}</dd>
                    <dt>"Fingerprint"</dt>
                    <dd><code data-testid="auth-token-fingerprint" title="base64url(SHA-256(access token))">{t.access_token.fingerprint()}</code></dd>
                    <dt>"Refresh token"</dt>
                    <dd data-testid="auth-refresh-token">{if t.refresh_token.is_some() { "held (not shown)" } else { "none" }}</dd>
                }
            });
            view! {
                <dl class="facts" data-testid="auth-credentials">
                    <dt>"Issuer"</dt><dd><code>{record.issuer.to_string()}</code></dd>
                    <dt>"Client"</dt><dd data-testid="auth-client">{client}</dd>
                    <dt>"Granted scopes"</dt><dd data-testid="auth-granted-scopes">{scopes_text(&record.granted)}</dd>
                    <dt>"Requested scopes"</dt><dd>{scopes_text(&record.requested)}</dd>
                    <dt>"Access token"</dt>
                    <dd data-testid="auth-access-token">{if tokens.is_some() { "held (not shown)" } else { "none" }}</dd>
                    {token_facts}
                </dl>
                {jwt.map(|(header, claims)| view! {
                    <details class="json" open=true data-testid="auth-jwt">
                        <summary>"Decoded access token (signature not checked)"</summary>
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
