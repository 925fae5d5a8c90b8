//! The saved-server editor: its fields, how they are filled from an `mcp.json` entry and make
//! one back, and the form: a URL (Streamable HTTP or HTTP+SSE) with headers, or a command line
//! for stdio; then the protocol version and how to sign in (a client registered in advance with
//! its secret, scopes, a client metadata document, enterprise-managed settings). What the form
//! does not show (a stdio environment, auth methods) is kept as it was. Part of the saved
//! servers' wasm chunk ([`super::saved_servers`]).
//!
//! Test ids: `saved-editor`, `saved-name-input`, `saved-transport-select`
//! (`streamable-http|sse|stdio`), `saved-url-input`, `saved-command-input`, `saved-headers-input`,
//! `saved-more` (opens the rest), `saved-protocol-select`, `saved-client-id-input`,
//! `saved-client-secret-input`, `saved-scopes-input`, `saved-metadata-url-input`,
//! `saved-ema-idp-issuer-input`, `saved-ema-idp-client-id-input`,
//! `saved-ema-idp-client-secret-input`, `saved-ema-idp-auth-method-select`,
//! `saved-ema-client-id-input`, `saved-ema-client-secret-input`, `saved-save`, `saved-cancel`.

use keyhole_shared::api::SavedServer;
use leptos::prelude::*;
use serde_json::{Map, Value, json};

use crate::views::servers::parse_headers;

/// The editor's fields.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    name: RwSignal<String>,
    transport: RwSignal<String>,
    url: RwSignal<String>,
    command: RwSignal<String>,
    headers: RwSignal<String>,
    /// Empty: negotiate.
    protocol_version: RwSignal<String>,
    /// The `oauth` object's settings.
    client_id: RwSignal<String>,
    client_secret: RwSignal<String>,
    scopes: RwSignal<String>,
    metadata_url: RwSignal<String>,
    /// The `enterprise` object's settings (enterprise-managed authorization).
    idp_issuer: RwSignal<String>,
    idp_client_id: RwSignal<String>,
    idp_client_secret: RwSignal<String>,
    idp_auth_method: RwSignal<String>,
    ema_client_id: RwSignal<String>,
    ema_client_secret: RwSignal<String>,
}

/// The keys of the entry's `oauth` and `enterprise` objects the form edits, with their fields
/// (the objects' other keys, such as auth methods, are kept as they were).
fn nested_fields(fields: &Fields) -> [(&'static str, &'static str, RwSignal<String>); 10] {
    [
        ("oauth", "clientId", fields.client_id),
        ("oauth", "clientSecret", fields.client_secret),
        ("oauth", "scopes", fields.scopes),
        ("oauth", "clientMetadataUrl", fields.metadata_url),
        ("enterprise", "idpIssuer", fields.idp_issuer),
        ("enterprise", "idpClientId", fields.idp_client_id),
        ("enterprise", "idpClientSecret", fields.idp_client_secret),
        ("enterprise", "idpClientAuthMethod", fields.idp_auth_method),
        ("enterprise", "clientId", fields.ema_client_id),
        ("enterprise", "clientSecret", fields.ema_client_secret),
    ]
}

impl Fields {
    pub(crate) fn new() -> Self {
        let field = || RwSignal::new(String::new());
        Self {
            name: field(),
            transport: RwSignal::new("streamable-http".into()),
            url: field(),
            command: field(),
            headers: field(),
            protocol_version: field(),
            client_id: field(),
            client_secret: field(),
            scopes: field(),
            metadata_url: field(),
            idp_issuer: field(),
            idp_client_id: field(),
            idp_client_secret: field(),
            idp_auth_method: field(),
            ema_client_id: field(),
            ema_client_secret: field(),
        }
    }

    /// Fills the fields from a saved server (`name` may differ: a clone).
    pub(crate) fn fill(&self, name: String, entry: &Value) {
        self.name.set(name);
        let stdio = entry.get("command").is_some();
        self.transport.set(match (stdio, entry["type"].as_str()) {
            (true, _) => "stdio".into(),
            (false, Some("sse")) => "sse".into(),
            _ => "streamable-http".into(),
        });
        self.url
            .set(entry["url"].as_str().unwrap_or_default().to_owned());
        let words: Vec<String> = std::iter::once(&entry["command"])
            .chain(entry["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        self.command
            .set(shlex::try_join(words.iter().map(String::as_str)).unwrap_or_default());
        let headers: String = entry["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, value)| format!("{name}: {}\n", value.as_str().unwrap_or_default()))
            .collect();
        self.headers.set(headers);
        self.protocol_version.set(
            entry["protocolVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        for (object, key, field) in nested_fields(self) {
            field.set(entry[object][key].as_str().unwrap_or_default().to_owned());
        }
    }

    /// The saved server the fields describe, keeping what `previous` had that the form does not
    /// show (enterprise settings, a stdio environment and folder).
    pub(crate) fn server(&self, previous: Option<&Value>) -> Result<SavedServer, String> {
        let name = self.name.get_untracked().trim().to_owned();
        if name.is_empty() {
            return Err("Give the server a name.".into());
        }
        let mut entry: Map<String, Value> = previous
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for key in [
            "url",
            "type",
            "headers",
            "command",
            "args",
            "protocolVersion",
        ] {
            entry.remove(key);
        }
        let mut nested: Vec<(&str, Map<String, Value>)> = ["oauth", "enterprise"]
            .into_iter()
            .map(|object| {
                let kept = entry.remove(object).and_then(|o| o.as_object().cloned());
                (object, kept.unwrap_or_default())
            })
            .collect();
        match self.transport.get_untracked().as_str() {
            "stdio" => {
                let line = self.command.get_untracked();
                let words = shlex::split(&line)
                    .filter(|words| !words.is_empty())
                    .ok_or("Type the command line that starts the server (quotes closed).")?;
                entry.insert("command".into(), json!(words[0]));
                if words.len() > 1 {
                    entry.insert("args".into(), json!(words[1..]));
                }
            }
            transport => {
                let url = self.url.get_untracked().trim().to_owned();
                if url.is_empty() {
                    return Err("Type the server's URL.".into());
                }
                entry.insert("url".into(), json!(url));
                if transport == "sse" {
                    entry.insert("type".into(), json!("sse"));
                }
                let headers = parse_headers(&self.headers.get_untracked())?;
                if !headers.is_empty() {
                    entry.insert("headers".into(), json!(headers));
                }
                entry.remove("env");
                entry.remove("cwd");
                let version = self.protocol_version.get_untracked();
                if !version.is_empty() {
                    entry.insert("protocolVersion".into(), json!(version));
                }
                for (object, key, field) in nested_fields(self) {
                    let Some((_, settings)) = nested.iter_mut().find(|(o, _)| *o == object) else {
                        continue;
                    };
                    match field.get_untracked().trim() {
                        "" => settings.remove(key),
                        value => settings.insert(key.into(), json!(value)),
                    };
                }
                for (object, settings) in nested.drain(..) {
                    if !settings.is_empty() {
                        entry.insert(object.into(), Value::Object(settings));
                    }
                }
            }
        }
        Ok(SavedServer {
            name,
            entry: Value::Object(entry),
        })
    }
}

#[component]
pub(crate) fn Editor(
    fields: Fields,
    on_save: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let stdio = move || fields.transport.get() == "stdio";
    view! {
        <form class="connect-form" data-testid="saved-editor" on:submit=move |ev| {
            ev.prevent_default();
            on_save.run(());
        }>
            <label>"Name" <input type="text" data-testid="saved-name-input" bind:value=fields.name /></label>
            <label>"Transport "
                <select data-testid="saved-transport-select" prop:value=move || fields.transport.get()
                    on:change=move |ev| fields.transport.set(event_target_value(&ev))>
                    <option value="streamable-http">"Streamable HTTP"</option>
                    <option value="sse">"HTTP+SSE (2024-11-05)"</option>
                    <option value="stdio">"stdio (a command on this machine)"</option>
                </select>
            </label>
            <label hidden=stdio>"URL" <input type="url" data-testid="saved-url-input" bind:value=fields.url /></label>
            <label hidden=move || !stdio()>"Command line"
                <input type="text" class="mono" data-testid="saved-command-input" bind:value=fields.command />
            </label>
            <label hidden=stdio>"Headers (one " <code>"Name: value"</code> " per line)"
                <textarea rows="2" class="mono" data-testid="saved-headers-input" bind:value=fields.headers></textarea>
            </label>
            <details hidden=stdio>
                <summary data-testid="saved-more">"Protocol version and sign-in"</summary>
                <label>"Protocol version "
                    <select data-testid="saved-protocol-select" on:change=move |ev| fields.protocol_version.set(event_target_value(&ev))>
                        {["", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"].map(|v| view! {
                            <option value=v prop:selected=move || fields.protocol_version.get() == v>
                                {if v.is_empty() { "newest the server speaks" } else { v }}
                            </option>
                        })}
                    </select>
                </label>
                <label>"Client ID registered in advance (else Keyhole registers itself)"
                    <input type="text" data-testid="saved-client-id-input" autocomplete="off" bind:value=fields.client_id />
                </label>
                <label>"Scopes to ask for when the server names none (space-separated)"
                    <input type="text" data-testid="saved-scopes-input" autocomplete="off" bind:value=fields.scopes />
                </label>
                <label>"Client metadata document URL (https)"
                    <input type="url" data-testid="saved-metadata-url-input" bind:value=fields.metadata_url />
                </label>
                <label>"Client secret (of the client registered in advance)"
                    <input type="password" data-testid="saved-client-secret-input" autocomplete="off" bind:value=fields.client_secret />
                </label>
                <fieldset>
                    <legend>"Enterprise-managed authorization (SEP-990)"</legend>
                    <label>"IdP issuer" <input type="url" data-testid="saved-ema-idp-issuer-input" bind:value=fields.idp_issuer /></label>
                    <label>"Client ID at the IdP" <input type="text" data-testid="saved-ema-idp-client-id-input" autocomplete="off" bind:value=fields.idp_client_id /></label>
                    <label>"Client secret at the IdP" <input type="password" data-testid="saved-ema-idp-client-secret-input" autocomplete="off" bind:value=fields.idp_client_secret /></label>
                    <label>"How the client authenticates at the IdP "
                        <select data-testid="saved-ema-idp-auth-method-select" on:change=move |ev| fields.idp_auth_method.set(event_target_value(&ev))>
                            {["", "client_secret_basic", "client_secret_post"].map(|v| view! {
                                <option value=v prop:selected=move || fields.idp_auth_method.get() == v>
                                    {if v.is_empty() { "as the IdP announces" } else { v }}
                                </option>
                            })}
                        </select>
                    </label>
                    <label>"Client ID at the server's authorization server" <input type="text" data-testid="saved-ema-client-id-input" autocomplete="off" bind:value=fields.ema_client_id /></label>
                    <label>"Client secret there" <input type="password" data-testid="saved-ema-client-secret-input" autocomplete="off" bind:value=fields.ema_client_secret /></label>
                </fieldset>
                <p class="muted">"Secrets are kept in the OS keychain when Keyhole has one (else in the file, readable by you only)."</p>
            </details>
            <div class="modal-actions">
                <button type="submit" data-testid="saved-save">"Save"</button>
                <button type="button" data-testid="saved-cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_makes_an_entry_and_keeps_what_it_does_not_show() {
        let fields = Fields::new();
        let previous = json!({ "url": "http://old/mcp", "enterprise": { "clientId": "c" } });
        fields.fill("api".into(), &previous);
        fields.url.set("http://127.0.0.1:9/mcp".into());
        fields.headers.set("X-Team: blue\n".into());
        let server = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            server.entry,
            json!({ "url": "http://127.0.0.1:9/mcp", "headers": { "X-Team": "blue" },
                    "enterprise": { "clientId": "c" } })
        );
        fields.transport.set("stdio".into());
        fields.command.set("npx -y 'my server'".into());
        fields.ema_client_id.set(String::new());
        let stdio = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            stdio.entry,
            json!({ "command": "npx", "args": ["-y", "my server"] })
        );
        fields.fill("stdio".into(), &stdio.entry);
        assert_eq!(fields.command.get_untracked(), "npx -y 'my server'");
        fields.name.set(" ".into());
        assert!(fields.server(None).is_err());
    }

    #[test]
    fn the_sign_in_settings_make_the_oauth_and_enterprise_objects() {
        let fields = Fields::new();
        let previous = json!({ "url": "http://h/mcp", "protocolVersion": "2025-06-18",
                               "oauth": { "clientId": "old", "clientSecret": "s3cret" } });
        fields.fill("api".into(), &previous);
        assert_eq!(fields.protocol_version.get_untracked(), "2025-06-18");
        assert_eq!(fields.client_id.get_untracked(), "old");
        fields.client_id.set("registered".into());
        fields.scopes.set(" mcp files:read ".into());
        fields.protocol_version.set(String::new());
        assert_eq!(fields.client_secret.get_untracked(), "s3cret");
        let server = fields.server(Some(&previous)).unwrap();
        assert_eq!(
            server.entry,
            json!({ "url": "http://h/mcp", "oauth": { "clientId": "registered",
                    "clientSecret": "s3cret", "scopes": "mcp files:read" } })
        );
        fields.idp_issuer.set("https://idp.example".into());
        fields.idp_client_id.set("kh".into());
        fields.ema_client_id.set("kh-rs".into());
        let managed = fields.server(Some(&server.entry)).unwrap();
        assert_eq!(
            managed.entry["enterprise"],
            json!({ "idpIssuer": "https://idp.example", "idpClientId": "kh", "clientId": "kh-rs" })
        );
    }
}
