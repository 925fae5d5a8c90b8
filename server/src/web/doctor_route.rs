//! `POST /api/doctor`: the web app's Doctor view runs the same authorization audit as
//! `keyhole doctor` ([`keyhole_shared::doctor`]), here over the backend's native HTTP (a page
//! could not read other origins' answers, nor send `OPTIONS` preflights of its own choosing).
//! Body: `{"url": "...", "headers": {"Name": "value"}}`; reply: the report, in the usual envelope.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use keyhole_shared::doctor::{DoctorOptions, DoctorReport, diagnose};
use serde::Deserialize;

use crate::native::native_http::{NativeHttp, OsEntropy};
use crate::web::error::{ApiJson, AppError};
use crate::web::hub::Reply;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DoctorRequest {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

pub async fn run(
    ApiJson(request): ApiJson<DoctorRequest>,
) -> Result<Reply<DoctorReport>, AppError> {
    let url = request.url.trim();
    let parsed = url::Url::parse(url)
        .map_err(|e| AppError::BadRequest(format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::BadRequest(format!(
            "only http(s) servers can be audited, not {:?}",
            parsed.scheme()
        )));
    }
    let now_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let mut options = DoctorOptions::new(url, now_secs);
    for (name, value) in request.headers {
        if name.eq_ignore_ascii_case("authorization") {
            return Err(AppError::BadRequest(
                "the audit sends no Authorization header of yours".into(),
            ));
        }
        reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AppError::BadRequest(format!("{name:?} is not a valid header name")))?;
        options.headers.push((name, value));
    }
    Ok(Reply::ok(
        diagnose(&NativeHttp::new(), &OsEntropy, &options).await,
    ))
}
