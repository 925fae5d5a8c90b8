//! `POST /api/doctor`: the web app's Doctor view runs the same authorization audit as
//! `keyhole doctor` ([`keyhole_shared::doctor`]), here over the backend's native HTTP (a page
//! could not read other origins' answers, nor send `OPTIONS` preflights of its own choosing).
//! Body: `{"url": "...", "headers": {"Name": "value"}}`; reply: the report, in the usual envelope.

use keyhole_shared::api::DoctorRequest;
use keyhole_shared::doctor::{DoctorReport, diagnose};

use crate::native::native_http::{NativeHttp, OsEntropy};
use crate::web::error::{ApiJson, AppError};
use crate::web::hub::Reply;

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
    let options = crate::launcher::doctor::doctor_options(url, request.headers)
        .map_err(AppError::BadRequest)?;
    Ok(Reply::ok(
        diagnose(&NativeHttp::new(), &OsEntropy, &options).await,
    ))
}
