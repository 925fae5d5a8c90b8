//! The `keyhole cli auth parse-challenge` report: how a set of `WWW-Authenticate` lines parses and
//! what `AuthChallenge` it normalises to, as one JSON document.

use serde::Serialize;

use crate::challenge::{AuthChallenge, ChallengeContext};
use crate::www_authenticate::{Challenge, Diagnostic, parse};

/// `{"challenges":[…],"diagnostics":[…],"authChallenge":{…}|null}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeReport {
    pub challenges: Vec<Challenge>,
    pub diagnostics: Vec<Diagnostic>,
    /// `None` without a status, for a status other than 401/403, or without a Bearer challenge.
    pub auth_challenge: Option<AuthChallenge>,
}

/// Parses `header_lines` (one element per header line) and, given the HTTP status, normalises it.
pub fn parse_challenge_report(status: Option<u16>, header_lines: &[&[u8]]) -> ChallengeReport {
    let parsed = parse(header_lines);
    let auth_challenge = status.and_then(|status| {
        AuthChallenge::from_parsed(status, &parsed, header_lines, ChallengeContext::default()).ok()
    });
    ChallengeReport {
        challenges: parsed.challenges,
        diagnostics: parsed.diagnostics,
        auth_challenge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_shape() {
        let line: &[u8] =
            br#"Basic realm="a", Bearer error="insufficient_scope", scope="x y", scope="z""#;
        let report = serde_json::to_value(parse_challenge_report(Some(403), &[line])).unwrap();
        assert_eq!(
            report["challenges"],
            json!([
                {"scheme": "Basic", "token68": null, "params": [["realm", "a"]]},
                {"scheme": "Bearer", "token68": null,
                 "params": [["error", "insufficient_scope"], ["scope", "x y"], ["scope", "z"]]}
            ])
        );
        assert_eq!(report["diagnostics"][0]["kind"], "duplicate_parameter");
        assert!(report["diagnostics"][0]["message"].is_string());
        assert_eq!(report["authChallenge"]["reason"], "insufficient_scope");
        assert_eq!(report["authChallenge"]["requiredScopes"], json!(["x", "y"]));
        let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn no_status_or_no_bearer_gives_null() {
        let bearer: &[u8] = b"Bearer";
        let report = serde_json::to_value(parse_challenge_report(None, &[bearer])).unwrap();
        assert_eq!(report["authChallenge"], serde_json::Value::Null);
        let basic: &[u8] = br#"Basic realm="a""#;
        let report = parse_challenge_report(Some(401), &[basic]);
        assert!(report.auth_challenge.is_none());
        let report = parse_challenge_report(Some(200), &[bearer]);
        assert!(report.auth_challenge.is_none());
        let token68: &[u8] = b"Negotiate abc==";
        let report = serde_json::to_value(parse_challenge_report(None, &[token68])).unwrap();
        assert_eq!(report["challenges"][0]["token68"], "abc==");
    }
}
