//! The web app embedded in the binary by `build.rs`, and the handlers that serve it.
//!
//! `index.html` is served for every client route (SPA fallback) with the per-launch API token filled
//! in; the hashed-free asset names are fine because the binary and its app are always one version.
//! The other files were compressed at build time (brotli and gzip) and go out as they are, in the
//! coding the client prefers, so no request pays for compressing them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::accept_encoding::{Coding, preferred_coding};
use crate::error::AppError;
use crate::web::AppState;

/// The built web app, as bytes compiled into the binary.
pub struct WebApp {
    pub index_html: &'static [u8],
    pub style_css: Asset,
    pub boot_js: Asset,
    pub app_js: Asset,
    pub app_wasm: Asset,
}

/// One file of the app, as built and compressed.
pub struct Asset {
    pub plain: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

impl Asset {
    /// The bytes to send in `coding` (`None`: identity).
    pub fn encoded(&self, coding: Option<Coding>) -> &'static [u8] {
        match coding {
            Some(Coding::Brotli) => self.brotli,
            Some(Coding::Gzip) => self.gzip,
            None => self.plain,
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Where the token goes in `index.html`.
const TOKEN_PLACEHOLDER: &str = "__KEYHOLE_API_TOKEN__";

/// Said when the binary was built with `KEYHOLE_SKIP_FRONTEND`.
pub const MISSING_APP_MESSAGE: &str = "this keyhole binary was built without its web app \
     (KEYHOLE_SKIP_FRONTEND was set). Rebuild it with `cargo build --bin keyhole`.";

/// The page that boots the app, with the API token filled in.
pub fn index_html(app: &WebApp, api_token: &str) -> String {
    String::from_utf8_lossy(app.index_html).replace(TOKEN_PLACEHOLDER, api_token)
}

/// `GET /assets/{file}`.
pub async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let app = state
        .web_app
        .ok_or_else(|| AppError::Unavailable(MISSING_APP_MESSAGE.into()))?;
    let (asset, mime) = match file.as_str() {
        "style.css" => (&app.style_css, "text/css; charset=utf-8"),
        "boot.js" => (&app.boot_js, "text/javascript; charset=utf-8"),
        "keyhole.js" => (&app.app_js, "text/javascript; charset=utf-8"),
        "keyhole_bg.wasm" => (&app.app_wasm, "application/wasm"),
        _ => return Err(AppError::NotFound(format!("no asset named {file:?}"))),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let coding = preferred_coding(&request_headers);
    if let Some(coding) = coding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    Ok((headers, asset.encoded(coding)).into_response())
}

/// Every other `GET`: the app itself, so client routes such as `/oauth/callback` load it.
pub async fn spa(State(state): State<AppState>) -> Response {
    let Some(app) = state.web_app else {
        return (StatusCode::SERVICE_UNAVAILABLE, MISSING_APP_MESSAGE).into_response();
    };
    let cookie = format!(
        "{}={}; Path=/api; SameSite=Strict; HttpOnly",
        keyhole_shared::api::API_TOKEN_COOKIE,
        state.guard.api_token()
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::SET_COOKIE, cookie),
        ],
        index_html(app, state.guard.api_token()),
    )
        .into_response()
}
