//! `GET/PUT /api/store/oauth`: the OAuth store (registrations, tokens, in-flight authorizations)
//! that the web app shares with the CLI, backed by the file store. Writes are compare-and-swap on the
//! document's `revision`, so two tabs (or a tab and the CLI) never overwrite each other's grants.
//!
//! # Why the browser gets the whole document, refresh tokens and client secrets included
//! The web app runs the shared OAuth client itself (compiled to wasm): discovery, registration,
//! the authorization redirect and callback, refresh, step-up and the EMA re-mint all happen in the
//! page, which is what lets a recovery resume the exact tab and form after a redirect, and lets two
//! tabs serialise their recoveries with a Web Lock. Refreshing needs the refresh token and, for a
//! confidential client, its secret, so the page needs them. Keeping them in the backend would mean
//! moving the whole OAuth client there (every flow, the resume logic, the cross-tab coordination)
//! and handing the page only access tokens — a redesign well beyond closing the leak.
//!
//! The leak itself was that any local process could read the API token from `GET /`. Now no
//! response carries that token ([`crate::web::security`]): only someone who has the address `keyhole`
//! printed — the user, or whoever can read their terminal or run code as them, who can read the
//! 0600 store file anyway — can call this route. So the token guards the store as well as the file
//! mode does, and the current design stays.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyhole_shared::store::{StoreDocument, StoreError};
use serde_json::json;

use crate::native::oauth_store::FileStore;
use crate::web::error::{ApiJson, AppError};

/// The store, when this process has one.
pub type SharedStore = Option<Arc<FileStore>>;

fn store(shared: SharedStore) -> Result<Arc<FileStore>, AppError> {
    shared.ok_or_else(|| {
        AppError::Unavailable(
            "Keyhole has no OAuth store (no configuration directory; set KEYHOLE_STORE)".into(),
        )
    })
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<Result<T, StoreError>, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Unavailable(format!("the store task failed: {e}")))
}

pub async fn read(State(shared): State<SharedStore>) -> Result<Json<StoreDocument>, AppError> {
    let store = store(shared)?;
    match blocking(move || store.read_document()).await? {
        Ok(document) => Ok(Json(document)),
        Err(error) => Err(AppError::Unavailable(error.to_string())),
    }
}

/// Replaces the document if its `revision` is still the stored one; 409 with the current one if not.
pub async fn write(
    State(shared): State<SharedStore>,
    ApiJson(document): ApiJson<StoreDocument>,
) -> Result<Response, AppError> {
    let store = store(shared)?;
    let expected = document.revision;
    let reader = store.clone();
    match blocking(move || store.replace(document, expected)).await? {
        Ok(written) => Ok(Json(written).into_response()),
        Err(error @ StoreError::Conflict { .. }) => {
            let current = blocking(move || reader.read_document())
                .await?
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            let body =
                json!({ "error": "conflict", "message": error.to_string(), "current": current });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(error @ StoreError::TooNew(_)) => Err(AppError::BadRequest(error.to_string())),
        Err(error) => Err(AppError::Unavailable(error.to_string())),
    }
}
