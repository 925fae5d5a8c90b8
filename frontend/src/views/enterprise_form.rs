//! The connect form's enterprise-managed authorization (SEP-990) fields: a wasm chunk of its own
//! (`#[lazy]`), fetched when the section is first opened. The values live in the form's
//! [`EnterpriseFields`] signals, which the connect reads.

use leptos::prelude::*;

use crate::views::servers::EnterpriseFields;

/// The section's body, built by its own wasm chunk.
#[lazy]
pub fn enterprise_form(enterprise: EnterpriseFields) -> AnyView {
    view! {
        <p class="muted">"For a server whose tokens come from your organization's identity provider: Keyhole signs in there and exchanges that sign-in for the server's token, never an ordinary redirect. The settings stay in this Keyhole process's memory."</p>
        <FormField label="IdP issuer URL" testid="server-ema-idp-issuer-input" value=enterprise.idp_issuer />
        <FormField label="Client ID at the IdP" testid="server-ema-idp-client-id-input" value=enterprise.idp_client_id />
        <FormField label="Client secret at the IdP" testid="server-ema-idp-client-secret-input" value=enterprise.idp_client_secret secret=true />
        <AuthMethodField label="Authentication at the IdP" testid="server-ema-idp-auth-method-select" value=enterprise.idp_auth_method />
        <FormField label="Client ID at the server's authorization server" testid="server-ema-client-id-input" value=enterprise.client_id />
        <FormField label="Client secret there" testid="server-ema-client-secret-input" value=enterprise.client_secret secret=true />
        <AuthMethodField label="Authentication there" testid="server-ema-auth-method-select" value=enterprise.auth_method />
    }
    .into_any()
}

/// How a client authenticates at a token endpoint; empty means "what the server announces".
#[component]
fn AuthMethodField(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select data-testid=testid on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">"as the server announces"</option>
                <option value="client_secret_basic">"client_secret_basic"</option>
                <option value="client_secret_post">"client_secret_post"</option>
            </select>
        </label>
    }
}

#[component]
fn FormField(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] secret: bool,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input type=if secret { "password" } else { "text" } data-testid=testid
                autocomplete="off" bind:value=value />
        </label>
    }
}
