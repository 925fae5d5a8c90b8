//! `GET /api/config` and `POST /api/config/servers`: what the web app can connect to — the built-in
//! demo's servers, the `--config` catalog (read-only), the servers the user saved (`PUT
//! /api/config/saved`, `GET /api/config/saved/export`, `POST /api/config/saved/import`; kept by
//! [`crate::saved_servers`]), and the servers whose settings the user entered in the connect form
//! during this run.
//!
//! Form settings (enterprise-managed authorization, client secrets included) stay in this process's
//! memory and travel only over the token-protected API. The page keeps no secret in browser storage,
//! yet knows the settings again when it comes back from a sign-in (it reads `/api/config` first).

use std::sync::{Arc, Mutex, RwLock};

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use keyhole_shared::api::{
    AddServerRequest, CatalogEntry, ConfigResponse, SaveServersRequest, SavedServers,
};
use serde_json::{Value, json};

use crate::saved_servers::SavedServersFile;
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
    /// The saved servers' file (one writer at a time).
    pub saved: Arc<Mutex<SavedServersFile>>,
}

impl ServersConfig {
    fn saved_file(&self) -> std::sync::MutexGuard<'_, SavedServersFile> {
        self.saved.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `GET /api/config`.
pub async fn read(State(config): State<ServersConfig>) -> Json<ConfigResponse> {
    let mut response = config.started.as_ref().clone();
    response.added_servers = config
        .added
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    response.saved = config.saved_file().read();
    Json(response)
}

/// `PUT /api/config/saved` [`SaveServersRequest`]: replaces the saved servers (checked as the
/// catalog is; the error names the server and field).
pub async fn save(
    State(config): State<ServersConfig>,
    ApiJson(request): ApiJson<SaveServersRequest>,
) -> Result<Json<SavedServers>, AppError> {
    let saved = config.saved_file().save(&request.servers);
    saved.map(Json).map_err(AppError::BadRequest)
}

/// `GET /api/config/saved/export`: the saved servers' file, an `mcp.json` document.
pub async fn export(State(config): State<ServersConfig>) -> Result<impl IntoResponse, AppError> {
    let text = config.saved_file().export().map_err(AppError::BadRequest)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    ))
}

/// `POST /api/config/saved/import` `{"text": "<an mcp.json document>"}`: adds its servers to the
/// saved ones (one of the same name is replaced in place).
pub async fn import(
    State(config): State<ServersConfig>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<Json<SavedServers>, AppError> {
    let saved = config.saved_file().import(&request.text);
    saved.map(Json).map_err(AppError::BadRequest)
}

#[derive(serde::Deserialize)]
pub struct ImportRequest {
    text: String,
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
        description: Some("settings entered in the connect form".into()),
        enterprise: Some(request.enterprise),
        ..CatalogEntry::default()
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
