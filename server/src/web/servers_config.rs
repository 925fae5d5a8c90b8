//! `GET /api/config` and `POST /api/config/servers`: what the web app can connect to — the built-in
//! demo's servers, the `--config` catalog, and the servers whose settings the user entered in the
//! connect form during this run.
//!
//! Form settings (enterprise-managed authorization, client secrets included) stay in this process's
//! memory and travel only over the token-protected API. The page keeps no secret in browser storage,
//! yet knows the settings again when it comes back from a sign-in (it reads `/api/config` first).

use std::sync::{Arc, RwLock};

use axum::Json;
use axum::extract::State;
use keyhole_shared::api::{AddServerRequest, CatalogEntry, ConfigResponse};
use serde_json::{Value, json};

use crate::web::error::{ApiJson, AppError};

/// Form-entered servers kept at most (the oldest is forgotten first).
const MAX_ADDED_SERVERS: usize = 64;

/// The servers entered in the connect form during this run, by URL.
pub type AddedServers = Arc<RwLock<Vec<CatalogEntry>>>;

/// The configuration this process was started with, and what the form added since.
#[derive(Clone)]
pub struct ServersConfig {
    pub started: Arc<ConfigResponse>,
    pub added: AddedServers,
}

/// `GET /api/config`.
pub async fn read(State(config): State<ServersConfig>) -> Json<ConfigResponse> {
    let mut response = config.started.as_ref().clone();
    response.added_servers = config
        .added
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Json(response)
}

/// `POST /api/config/servers` [`AddServerRequest`]: remembers the settings for the server at
/// `url`, replacing earlier ones for the same URL.
pub async fn add(
    State(config): State<ServersConfig>,
    ApiJson(request): ApiJson<AddServerRequest>,
) -> Result<Json<Value>, AppError> {
    check_http_url("url", &request.url)?;
    let enterprise = &request.enterprise;
    check_http_url("enterprise.idpIssuer", enterprise.idp_issuer.as_str())?;
    for (field, id) in [
        (
            "enterprise.idpClient.clientId",
            &enterprise.idp_client.client_id,
        ),
        (
            "enterprise.resourceClient.clientId",
            &enterprise.resource_client.client_id,
        ),
    ] {
        if id.as_str().trim().is_empty() {
            return Err(AppError::BadRequest(format!("{field}: required")));
        }
    }
    let entry = CatalogEntry {
        name: request.url.clone(),
        url: Some(request.url.clone()),
        unsupported_reason: None,
        description: Some("settings entered in the connect form".into()),
        headers: Vec::new(),
        enterprise: Some(request.enterprise),
        stdio: None,
    };
    let mut added = config.added.write().unwrap_or_else(|p| p.into_inner());
    added.retain(|e| e.url != entry.url);
    if added.len() >= MAX_ADDED_SERVERS {
        added.remove(0);
    }
    added.push(entry);
    Ok(Json(json!({ "ok": true })))
}

fn check_http_url(field: &str, text: &str) -> Result<(), AppError> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(AppError::BadRequest(format!(
            "{field}: {text:?} is not an http(s) URL"
        ))),
    }
}
