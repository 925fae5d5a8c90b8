//! `keyhole cli auth parse-challenge`: how `WWW-Authenticate` values parse, as JSON.

use super::{CliError, EXIT_OK, Terminal};

pub(super) fn run(
    status: Option<u16>,
    headers: &[std::ffi::OsString],
    terminal: &mut dyn Terminal,
) -> Result<u8, CliError> {
    // Header bytes need not be UTF-8; the parser reports that as a diagnostic, so pass the raw bytes.
    let lines: Vec<Vec<u8>> = headers.iter().map(|h| os_bytes(h)).collect();
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let report = keyhole_shared::parse_challenge_report(status, &lines);
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| CliError::error(format!("could not render the report: {e}")))?;
    terminal.out(&json);
    Ok(EXIT_OK)
}

#[cfg(unix)]
fn os_bytes(value: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    value.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: &std::ffi::OsStr) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}
