//! `AuthChallenge`: one 401/403 reduced to what recovery needs to decide, in the form the backend
//! and the browser exchange as JSON (`authChallenge`, camelCase).
//!
//! The reason table (ARCHITECTURE.md, “Parsing and normalising a challenge”) is applied here and
//! nowhere else, so every consumer agrees on whether a response means "refresh", "step up" or
//! "give up".

use serde::{Deserialize, Serialize};

use crate::scopes::{GrantPurpose, ScopeInputs, ScopeSet, scopes_to_request};
use crate::www_authenticate::{Challenge, ParsedHeader, parse};

/// Why the server refused, and so which recovery applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeReason {
    /// 401 with `error="invalid_token"` (or another error code): refresh once, else log in again.
    InvalidToken,
    /// 401 without an error code: typically an expired or missing token; same recovery.
    TokenExpired,
    /// 403 with `error="insufficient_scope"`: step up to more scopes.
    InsufficientScope,
    /// 403 for any other reason: re-authorizing will not help, show the error.
    Forbidden,
}

impl ChallengeReason {
    /// The reason table (ARCHITECTURE.md, “Parsing and normalising a challenge”); `None` for
    /// statuses that are not auth challenges.
    /// The `error` code is matched case-insensitively (the parser reports wrong case).
    pub fn classify(http_status: u16, bearer_error: Option<&str>) -> Option<Self> {
        let error = bearer_error.map(str::to_ascii_lowercase);
        match (http_status, error.as_deref()) {
            (401, None) => Some(Self::TokenExpired),
            (401, Some(_)) => Some(Self::InvalidToken),
            (403, Some("insufficient_scope")) => Some(Self::InsufficientScope),
            (403, _) => Some(Self::Forbidden),
            _ => None,
        }
    }

    /// 401 reasons: the token itself is no longer accepted.
    pub fn is_unauthorized(self) -> bool {
        matches!(self, Self::InvalidToken | Self::TokenExpired)
    }

    /// Whether answering this reason replaces or widens the scope set; `None` for `forbidden`.
    pub fn grant_purpose(self) -> Option<GrantPurpose> {
        match self {
            Self::InvalidToken | Self::TokenExpired => Some(GrantPurpose::Relogin),
            Self::InsufficientScope => Some(GrantPurpose::StepUp),
            Self::Forbidden => None,
        }
    }
}

/// What the client was doing when the challenge arrived.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeContext {
    /// The JSON-RPC method of the request that was refused (e.g. `tools/call`).
    #[serde(default)]
    pub method: Option<String>,
    /// The tool name when the method is `tools/call`.
    #[serde(default)]
    pub tool_name: Option<String>,
}

impl ChallengeContext {
    /// The context of a refusal of the request `method` with `params`: its method and, for
    /// `tools/call`, the tool.
    pub fn of_request(method: &str, params: &serde_json::Value) -> Self {
        Self {
            method: Some(method.to_owned()),
            tool_name: (method == "tools/call")
                .then(|| params["name"].as_str().map(str::to_owned))
                .flatten(),
        }
    }
}

/// The response as received, for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawChallenge {
    pub http_status: u16,
    /// Every `WWW-Authenticate` line, decoded lossily; past
    /// [`MAX_HEADER_BYTES`](crate::www_authenticate::MAX_HEADER_BYTES) in all, cut and marked.
    pub www_authenticate: Vec<String>,
}

/// A normalised auth challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthChallenge {
    pub reason: ChallengeReason,
    /// The Bearer challenge's `scope`, parsed (empty when absent).
    pub required_scopes: ScopeSet,
    /// The scopes a re-authorization would request, once computed by the recovery logic (which
    /// knows what was granted before); `None` straight out of normalisation.
    #[serde(default)]
    pub authorization_scopes: Option<ScopeSet>,
    #[serde(default)]
    pub resource_metadata: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub context: ChallengeContext,
    pub raw: RawChallenge,
    /// The challenge used the `DPoP` scheme (RFC 9449 §7.1): the server wants DPoP-bound tokens.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop: bool,
}

/// Why a response could not be normalised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAChallenge {
    #[error("HTTP {0} is not an authorization challenge (only 401 and 403 are)")]
    Status(u16),
    #[error("the response carries no Bearer (or DPoP) challenge in WWW-Authenticate")]
    NoBearer,
}

impl AuthChallenge {
    /// Normalises a 401/403 and its `WWW-Authenticate` lines.
    pub fn from_response(
        http_status: u16,
        header_lines: &[&[u8]],
        context: ChallengeContext,
    ) -> Result<Self, NotAChallenge> {
        Self::from_parsed(http_status, &parse(header_lines), header_lines, context)
    }

    /// Same, reusing a parse already made (e.g. for a report that also shows diagnostics).
    pub fn from_parsed(
        http_status: u16,
        parsed: &ParsedHeader,
        header_lines: &[&[u8]],
        context: ChallengeContext,
    ) -> Result<Self, NotAChallenge> {
        if ChallengeReason::classify(http_status, None).is_none() {
            return Err(NotAChallenge::Status(http_status));
        }
        let bearer = parsed.bearer_or_dpop().ok_or(NotAChallenge::NoBearer)?;
        Ok(Self::build(
            http_status,
            Some(bearer),
            header_lines,
            context,
        ))
    }

    /// What a refused request (HTTP `status`, its `WWW-Authenticate` lines) asks of recovery, the
    /// same on every surface: the Bearer challenge when there is one, else the status alone (a 401
    /// without a Bearer challenge is [`ChallengeReason::TokenExpired`], so stored token →
    /// refresh → sign-in; a 403 is [`ChallengeReason::Forbidden`]). `None` for statuses other
    /// than 401 and 403.
    pub fn from_refusal(
        http_status: u16,
        header_lines: &[&[u8]],
        context: ChallengeContext,
    ) -> Option<Self> {
        match Self::from_response(http_status, header_lines, context.clone()) {
            Ok(challenge) => Some(challenge),
            Err(_) => Self::from_status_only(http_status, header_lines, context),
        }
    }

    /// A 401/403 without a usable Bearer challenge (e.g. no header at all): the reason comes from
    /// the status alone. `None` for other statuses.
    pub fn from_status_only(
        http_status: u16,
        header_lines: &[&[u8]],
        context: ChallengeContext,
    ) -> Option<Self> {
        ChallengeReason::classify(http_status, None)?;
        Some(Self::build(http_status, None, header_lines, context))
    }

    fn build(
        http_status: u16,
        bearer: Option<&Challenge>,
        header_lines: &[&[u8]],
        context: ChallengeContext,
    ) -> Self {
        let param = |name: &str| bearer.and_then(|c| c.param(name)).map(str::to_owned);
        let error = param("error");
        let reason = ChallengeReason::classify(http_status, error.as_deref())
            .unwrap_or(ChallengeReason::Forbidden);
        Self {
            reason,
            required_scopes: param("scope")
                .map(|s| ScopeSet::parse(&s))
                .unwrap_or_default(),
            authorization_scopes: None,
            resource_metadata: param("resource_metadata"),
            error_description: param("error_description"),
            context,
            raw: RawChallenge {
                http_status,
                www_authenticate: raw_lines(header_lines),
            },
            dpop: bearer.is_some_and(|c| c.is_scheme(crate::dpop::SCHEME)),
        }
    }

    /// What a re-authorization answers when a server refused a request that carried a token it
    /// accepted before, without a challenge (an HTTP `status` of 5xx, or a 4xx other than
    /// 401/403): the server may not recognise the token any more (the TypeScript SDK's example
    /// answers an unknown token with 500). Treated as an invalid token; `raw` keeps the status.
    pub fn token_not_recognised(http_status: u16, context: ChallengeContext) -> Self {
        let mut challenge = Self::build(401, None, &[], context);
        challenge.reason = ChallengeReason::InvalidToken;
        challenge.error_description =
            Some(crate::messages::token_maybe_not_recognised(http_status));
        challenge.raw.http_status = http_status;
        challenge
    }

    /// Fills in [`AuthChallenge::authorization_scopes`] by the 401-replaces / 403-unions rule.
    pub fn with_authorization_scopes(
        mut self,
        previously_granted: &ScopeSet,
        configured: Option<&ScopeSet>,
        supported: Option<&ScopeSet>,
    ) -> Self {
        self.authorization_scopes = self.reason.grant_purpose().map(|purpose| {
            let inputs = ScopeInputs {
                previously_granted,
                challenge: &self.required_scopes,
                configured,
                supported,
            };
            scopes_to_request(purpose, inputs)
        });
        self
    }

    /// The scope the server asked for was stated (an `insufficient_scope` without it can never be
    /// considered already satisfied).
    pub fn names_scopes(&self) -> bool {
        !self.required_scopes.is_empty()
    }
}

/// The header lines for display, within the parser's byte budget: a cut line says how much of it
/// is missing, and lines past the budget are left out with one line saying so.
fn raw_lines(lines: &[&[u8]]) -> Vec<String> {
    let mut budget = crate::www_authenticate::MAX_HEADER_BYTES;
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if budget == 0 {
            out.push(format!("… ({} more lines not shown)", lines.len() - index));
            break;
        }
        // Decode only what is shown: the rest of a megabyte header is never copied.
        let shown = crate::www_authenticate::utf8_cut(line, budget);
        budget -= shown.len();
        let text = String::from_utf8_lossy(shown);
        if shown.len() == line.len() {
            out.push(text.into_owned());
        } else {
            let missing = line.len() - shown.len();
            out.push(format!("{text}… ({missing} more bytes not shown)"));
            budget = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChallengeReason::*;

    fn challenge(status: u16, header: &str) -> Result<AuthChallenge, NotAChallenge> {
        AuthChallenge::from_response(status, &[header.as_bytes()], ChallengeContext::default())
    }

    #[test]
    fn reason_table() {
        let cases = [
            (401, r#"Bearer error="invalid_token""#, InvalidToken),
            (401, r#"Bearer realm="x""#, TokenExpired),
            (401, r#"Bearer error="invalid_request""#, InvalidToken),
            (401, r#"Bearer error="Invalid_Token""#, InvalidToken),
            (
                403,
                r#"Bearer error="insufficient_scope", scope="a""#,
                InsufficientScope,
            ),
            (
                403,
                r#"Bearer error="INSUFFICIENT_SCOPE""#,
                InsufficientScope,
            ),
            (403, r#"Bearer error="invalid_token""#, Forbidden),
            (403, "Bearer", Forbidden),
        ];
        for (status, header, reason) in cases {
            assert_eq!(
                challenge(status, header).unwrap().reason,
                reason,
                "{status} {header}"
            );
        }
    }

    #[test]
    fn other_statuses_and_missing_bearer_are_rejected() {
        assert_eq!(challenge(500, "Bearer"), Err(NotAChallenge::Status(500)));
        assert_eq!(
            challenge(401, r#"Basic realm="x""#),
            Err(NotAChallenge::NoBearer)
        );
        let bare = AuthChallenge::from_status_only(401, &[], ChallengeContext::default()).unwrap();
        assert_eq!(bare.reason, TokenExpired);
        assert!(AuthChallenge::from_status_only(200, &[], ChallengeContext::default()).is_none());
        let forbidden = AuthChallenge::from_status_only(403, &[], ChallengeContext::default());
        assert_eq!(forbidden.unwrap().reason, Forbidden);
    }

    #[test]
    fn from_refusal_table() {
        let refusal = |status: u16, header: Option<&str>| {
            let lines: Vec<&[u8]> = header.iter().map(|h| h.as_bytes()).collect();
            AuthChallenge::from_refusal(status, &lines, ChallengeContext::default())
                .map(|c| (c.reason, c.required_scopes.to_string()))
        };
        let cases = [
            (401, None, Some(TokenExpired)),
            (401, Some(r#"Basic realm="x""#), Some(TokenExpired)),
            (401, Some("Bearer"), Some(TokenExpired)),
            (
                401,
                Some(r#"Bearer error="invalid_token""#),
                Some(InvalidToken),
            ),
            (403, None, Some(Forbidden)),
            (403, Some(r#"Basic realm="x""#), Some(Forbidden)),
            (
                403,
                Some(r#"Bearer error="insufficient_scope", scope="a""#),
                Some(InsufficientScope),
            ),
            (400, None, None),
            (500, Some(r#"Bearer error="invalid_token""#), None),
        ];
        for (status, header, reason) in cases {
            assert_eq!(
                refusal(status, header).map(|(r, _)| r),
                reason,
                "{status} {header:?}"
            );
        }
        // The Bearer challenge's parameters are kept when there is one.
        assert_eq!(
            refusal(
                403,
                Some(r#"Bearer error="insufficient_scope", scope="a b""#)
            ),
            Some((InsufficientScope, "a b".to_owned()))
        );
        let bare = AuthChallenge::from_refusal(
            401,
            &[br#"Basic realm="x""#.as_slice()],
            ChallengeContext::default(),
        )
        .unwrap();
        assert_eq!(
            bare.raw.www_authenticate,
            vec![r#"Basic realm="x""#.to_owned()]
        );
    }

    #[test]
    fn fields_come_from_the_bearer_challenge_only() {
        let header = r#"Basic realm="scope=\"x\"", Bearer error="insufficient_scope", error_scope="no", scope="files:read files:write", resource_metadata="https://rs/m", error_description="needs write""#;
        let c = challenge(403, header).unwrap();
        assert_eq!(c.required_scopes.to_string(), "files:read files:write");
        assert_eq!(c.resource_metadata.as_deref(), Some("https://rs/m"));
        assert_eq!(c.error_description.as_deref(), Some("needs write"));
        assert_eq!(c.raw.www_authenticate, vec![header.to_owned()]);
        assert!(c.names_scopes());
    }

    #[test]
    fn authorization_scopes_follow_the_reason() {
        let previous = ScopeSet::parse("read");
        let step_up = challenge(403, r#"Bearer error="insufficient_scope", scope="write""#)
            .unwrap()
            .with_authorization_scopes(&previous, None, None);
        assert_eq!(
            step_up.authorization_scopes,
            Some(ScopeSet::parse("read write"))
        );
        let relogin = challenge(401, r#"Bearer scope="write""#)
            .unwrap()
            .with_authorization_scopes(&previous, None, None);
        assert_eq!(relogin.authorization_scopes, Some(ScopeSet::parse("write")));
        let forbidden = challenge(403, "Bearer")
            .unwrap()
            .with_authorization_scopes(&previous, None, None);
        assert_eq!(forbidden.authorization_scopes, None);
    }

    #[test]
    fn json_shape_is_camel_case() {
        let context = ChallengeContext {
            method: Some("tools/call".into()),
            tool_name: Some("write_file".into()),
        };
        let c = AuthChallenge::from_response(
            403,
            &[br#"Bearer error="insufficient_scope", scope="a b""#],
            context,
        )
        .unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["reason"], "insufficient_scope");
        assert_eq!(json["requiredScopes"], serde_json::json!(["a", "b"]));
        assert_eq!(json["authorizationScopes"], serde_json::Value::Null);
        assert_eq!(json["context"]["toolName"], "write_file");
        assert_eq!(json["raw"]["httpStatus"], 403);
        let back: AuthChallenge = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
