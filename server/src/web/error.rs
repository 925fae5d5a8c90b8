//! `AppError`: the one error type of Keyhole's own HTTP API. It renders itself as a JSON response, so
//! handlers return `Result<_, AppError>` and never build error responses by hand.
//!
//! These statuses are for misuse of *our* API only; upstream outcomes travel inside HTTP 200 envelopes
//! (see ARCHITECTURE.md, “The envelope”).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyhole_shared::api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("this request needs Keyhole's API token (the one printed at start)")]
    MissingToken,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

/// `Json<T>` whose rejections (malformed JSON, wrong shape, wrong content type) become our 400
/// with a readable message instead of axum's plain-text defaults.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    Json<T>: axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::BadRequest(rejection.body_text())),
        }
    }
}
