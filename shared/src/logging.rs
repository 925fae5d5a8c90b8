//! MCP logging (`logging/setLevel`, `notifications/message`): its levels, the syslog severities
//! of RFC 5424 as MCP names them, and a message's data as text. Shared by the web app's Logs tab
//! and the CLI's `--log-level`.

use serde_json::Value;

/// The levels, least severe first.
pub const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// How severe `level` is: its position in [`LOG_LEVELS`] (an unknown level counts as the least).
pub fn severity(level: &str) -> usize {
    LOG_LEVELS.iter().position(|l| *l == level).unwrap_or(0)
}

/// A log message's `data` as text: a string as it is, anything else as JSON.
pub fn data_text(data: &Value) -> String {
    match data {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_rank_by_severity_and_data_of_any_kind_reads_as_text() {
        assert!(severity("error") > severity("warning"));
        assert_eq!(severity("emergency"), 7);
        assert_eq!(severity("unknown"), 0);
        assert_eq!(data_text(&json!("plain")), "plain");
        assert_eq!(data_text(&json!({"code": 7})), "{\"code\":7}");
    }
}
