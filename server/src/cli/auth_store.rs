//! `auth status` and `auth forget`: what the OAuth store (shared with the web app) holds for a
//! server, and the user's way out when a server or its authorization server forgot it — without
//! editing the store file by hand. Token values are never printed.

use keyhole_shared::oauth_client::{ClientRegistration, Issuer};
use keyhole_shared::recovery::Clock;
use keyhole_shared::store::{CredentialRecord, Forget, StoreDocument};
use serde_json::{Value, json};

use super::args::ConnectionArgs;
use super::session::{oauth_client, resolve_target};
use super::{CliError, EXIT_OK, Terminal};
use crate::native::native_http::SystemClock;
use crate::native::oauth_store::FileStore;

/// `auth forget --url URL --tokens|--client|--all`.
pub(super) async fn forget(
    connection: &ConnectionArgs,
    store: FileStore,
    what: Forget,
    terminal: &mut dyn Terminal,
) -> Result<u8, CliError> {
    let target = resolve_target(connection)?;
    let url = target.url.clone();
    let (oauth, _) = oauth_client(connection, &target, store)?;
    let report = oauth
        .forget(&url, what)
        .await
        .map_err(|e| CliError::error(e.to_string()))?;
    if connection.json {
        let value = json!({
            "serverUrl": url,
            "credentials": report.credentials,
            "clients": report.clients,
            "revoked": report.revoked,
            "revocationNote": report.revocation_note,
        });
        terminal.out(&value.to_string());
        return Ok(EXIT_OK);
    }
    let mut parts = Vec::new();
    if what.tokens || report.credentials > 0 {
        parts.push(count(report.credentials, "set of tokens", "sets of tokens"));
    }
    if what.client {
        parts.push(count(
            report.clients,
            "client registration",
            "client registrations",
        ));
    }
    terminal.out(&format!("Forgot {} for {url}.", parts.join(" and ")));
    if report.revoked > 0 {
        terminal.out(&format!(
            "Revoked {} at the authorization server.",
            count(report.revoked, "token", "tokens")
        ));
    }
    if let Some(note) = report.revocation_note.filter(|_| report.credentials > 0) {
        terminal.err(&format!("note: {note}"));
    }
    Ok(EXIT_OK)
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `auth status [--url URL]`.
pub(super) async fn status(
    connection: &ConnectionArgs,
    store: FileStore,
    terminal: &mut dyn Terminal,
) -> Result<u8, CliError> {
    let wanted = match (&connection.url, &connection.config) {
        (None, None) => None,
        _ => Some(resolve_target(connection)?),
    };
    let document = store
        .read_document()
        .map_err(|e| CliError::error(e.to_string()))?;
    let secrets = store_place(&store);
    let mut issuers: Vec<(String, Issuer)> = document
        .credentials
        .iter()
        .filter(|r| wanted.as_ref().is_none_or(|t| r.server_url == t.url))
        .map(|r| (r.server_url.clone(), r.issuer.clone()))
        .collect();
    if let Some(target) = &wanted
        && issuers.is_empty()
    {
        // Tokens forgotten, registration kept: ask the server where it signs in.
        let url = &target.url;
        let (oauth, _) = oauth_client(connection, target, store)?;
        if let Ok(discovery) = oauth.discover(url, None).await {
            issuers.push((url.clone(), discovery.issuer.clone()));
        }
    }
    let now = SystemClock.now_unix();
    let servers: Vec<Value> = issuers
        .iter()
        .map(|(url, issuer)| describe(&document, url, issuer, now))
        .collect();
    if connection.json {
        terminal.out(&json!({ "servers": servers, "secretsIn": secrets }).to_string());
        return Ok(EXIT_OK);
    }
    if servers.is_empty() {
        terminal.out(&match &wanted {
            Some(target) => format!("Keyhole holds nothing for {}.", target.url),
            None => "The OAuth store is empty.".to_owned(),
        });
    }
    for server in &servers {
        print_server(server, terminal);
    }
    terminal.out(&format!("Secrets are kept in {secrets}."));
    Ok(EXIT_OK)
}

/// Where the store keeps its secrets, with the file's path when that is where.
fn store_place(store: &FileStore) -> String {
    match store.vault_name() {
        Some(vault) => vault.to_owned(),
        None => format!("the store file {}", store.path().display()),
    }
}

/// One server at one authorization server, as JSON without any secret.
pub(crate) fn describe(document: &StoreDocument, url: &str, issuer: &Issuer, now: u64) -> Value {
    let record = document.credential(url, Some(issuer));
    let client = record
        .and_then(|r| r.client_id.as_ref())
        .and_then(|id| document.client_with_id(issuer, id))
        .or_else(|| {
            document
                .clients
                .iter()
                .find(|c| &c.issuer == issuer)
                .map(|c| &c.registration)
        });
    json!({
        "serverUrl": url,
        "issuer": issuer.as_str(),
        "client": client.map(describe_client),
        "tokens": record.and_then(|r| describe_tokens(r, now)),
        "requestedScopes": record.map(|r| r.requested.to_scope_string()),
    })
}

fn describe_client(registration: &ClientRegistration) -> Value {
    json!({
        "clientId": registration.client_id.as_str(),
        "source": registration.source,
        "authMethod": registration.auth_method.as_str(),
        "registeredAt": registration.registered_at,
    })
}

fn describe_tokens(record: &CredentialRecord, now: u64) -> Option<Value> {
    let tokens = record.tokens.as_ref()?;
    Some(json!({
        "tokenType": tokens.token_type,
        "scopes": tokens.scopes.to_scope_string(),
        "expiresAt": tokens.expires_at,
        "expired": tokens.is_expired(now),
        "refreshToken": tokens.refresh_token.is_some(),
    }))
}

fn print_server(server: &Value, terminal: &mut dyn Terminal) {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    terminal.out(&text(&server["serverUrl"]));
    terminal.out(&format!(
        "  authorization server  {}",
        text(&server["issuer"])
    ));
    let client = &server["client"];
    terminal.out(&if client.is_null() {
        "  client                none held (the next sign-in registers one)".to_owned()
    } else {
        format!(
            "  client                {} ({}, {})",
            text(&client["clientId"]),
            text(&client["source"]).replace('_', " "),
            text(&client["authMethod"]),
        )
    });
    let tokens = &server["tokens"];
    terminal.out(&if tokens.is_null() {
        "  tokens                none held".to_owned()
    } else {
        let expiry = match tokens["expiresAt"].as_u64() {
            _ if tokens["expired"] == true => "expired".to_owned(),
            Some(at) => format!("expires at {at} (Unix time)"),
            None => "no expiry given".to_owned(),
        };
        let refresh = if tokens["refreshToken"] == true {
            "refresh token held"
        } else {
            "no refresh token"
        };
        format!(
            "  tokens                {}, scopes: {}, {expiry}, {refresh}",
            text(&tokens["tokenType"]),
            text(&tokens["scopes"]),
        )
    });
}
