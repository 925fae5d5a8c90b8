//! The web app embedded in the binary by `build.rs`, and the handlers that serve it.
//!
//! `index.html` is served for every client route (SPA fallback) to a browser that brings the
//! per-launch API token (see [`Guard::page_access`](crate::web::security::Guard::page_access)); it never
//! contains the token (nor may it be cached: `no-store`). Any other request gets a short page
//! saying how to open Keyhole. The page loads its files from `/assets/<version>/`, a hash of their
//! contents made by `build.rs`, which browsers keep for good (`immutable`); the same files
//! without the version are served too, checked on every use.
//! The other files were compressed at build time (brotli and gzip) and go out as they are, in the
//! coding the client prefers, so no request pays for compressing them (a page on loopback
//! prefers none: [`identity_on_loopback`](crate::web::accept_encoding::identity_on_loopback)).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::web::AppState;
use crate::web::accept_encoding::{Coding, preferred_coding};
use crate::web::error::AppError;
use crate::web::security::PageAccess;

/// The built web app, as bytes compiled into the binary.
pub struct WebApp {
    pub index_html: &'static [u8],
    /// A hash of the assets' contents: the page asks for `/assets/<version>/<file>`.
    pub version: &'static str,
    /// Every file under `/assets/`: its name, media type and bytes (the main wasm and its glue,
    /// the style sheet, the boot script, and the chunks of lazily loaded parts with their loader).
    pub assets: &'static [(&'static str, &'static str, Asset)],
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

/// Said when the binary was built with `KEYHOLE_SKIP_FRONTEND`.
pub const MISSING_APP_MESSAGE: &str = "this keyhole binary was built without its web app \
     (KEYHOLE_SKIP_FRONTEND was set). Rebuild it with `cargo build --bin keyhole`.";

/// How long a browser may keep a versioned asset without asking again: a year, and `immutable`
/// (its name changes whenever its bytes do).
const CACHE_FOR_GOOD: &str = "public, max-age=31536000, immutable";

/// `GET /assets/{version}/{file}`: what the page loads, cached for good. Another version (a page
/// from an earlier build still open) is told to reload.
pub async fn versioned_asset(
    State(state): State<AppState>,
    Path((version, file)): Path<(String, String)>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let app = state
        .web_app
        .ok_or_else(|| AppError::Unavailable(MISSING_APP_MESSAGE.into()))?;
    if version != app.version {
        return Err(AppError::NotFound(format!(
            "no assets of version {version:?}: Keyhole was updated, reload the page"
        )));
    }
    serve(app, &file, &request_headers, CACHE_FOR_GOOD)
}

/// `GET /assets/{file}`: the same files without a version, checked again on every use.
pub async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let app = state
        .web_app
        .ok_or_else(|| AppError::Unavailable(MISSING_APP_MESSAGE.into()))?;
    serve(app, &file, &request_headers, "no-cache")
}

fn serve(
    app: &WebApp,
    file: &str,
    request_headers: &HeaderMap,
    cache_control: &'static str,
) -> Result<Response, AppError> {
    let (_, mime, asset) = app
        .assets
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| AppError::NotFound(format!("no asset named {file:?}")))?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    let coding = preferred_coding(request_headers);
    if let Some(coding) = coding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    Ok((headers, asset.encoded(coding)).into_response())
}

/// Every other `GET`: the app itself, so client routes such as `/oauth/callback` load it — for a
/// browser that brings the token; anyone else learns how to open Keyhole.
pub async fn spa(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let set_cookie = match state.guard.page_access(uri.path(), uri.query(), &headers) {
        PageAccess::App { set_cookie } => set_cookie,
        PageAccess::HowToOpen { wrong_token } => return how_to_open(&headers, wrong_token),
    };
    let Some(app) = state.web_app else {
        return (StatusCode::SERVICE_UNAVAILABLE, MISSING_APP_MESSAGE).into_response();
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        app.index_html,
    )
        .into_response();
    if set_cookie && let Ok(cookie) = HeaderValue::from_str(&state.guard.token_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// 401 with a page that says where the address with the token comes from, and nothing else.
fn how_to_open(headers: &HeaderMap, wrong_token: bool) -> Response {
    // The `Host` was checked against our own names before any handler ran.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:6274");
    let wrong = if wrong_token {
        "<p><strong>The token in this address is not the one of the Keyhole that is running</strong> \
         (it may be from an earlier run).</p>"
    } else {
        ""
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Keyhole — open it from its start address</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}\
         code{{background:#f2f2f2;padding:0 .2em}}</style></head>\
         <body><main data-testid=\"how-to-open\"><h1>Keyhole</h1>{wrong}\
         <p>Keyhole opens only from the address it printed when it started, which carries a \
         per-launch token:</p><p><code>Open http://{host}/?token=…</code></p>\
         <p>Copy that address from the terminal where <code>keyhole</code> runs. If you no longer \
         have it, restart <code>keyhole</code>, or start it with <code>KEYHOLE_API_TOKEN</code> set \
         to a token of your choice.</p></main></body></html>\n",
        host = escape_html(host),
    );
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
