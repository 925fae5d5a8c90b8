//! Checks on a parsed challenge that the grammar alone does not catch: repeated parameters and the
//! Bearer-specific expectations of RFC 6750 and the MCP authorization spec.

use std::collections::HashMap;

use super::{Challenge, DiagnosticKind, DiagnosticSink};

/// The error codes RFC 6750 §3.1 defines; they are case-sensitive.
const BEARER_ERRORS: [&str; 3] = ["invalid_request", "invalid_token", "insufficient_scope"];

pub(super) fn check(challenge: &Challenge, sink: &mut DiagnosticSink<'_>) {
    duplicates(challenge, sink);
    if challenge.token68.is_some() && !challenge.params.is_empty() {
        sink.push(
            DiagnosticKind::Token68WithParameters,
            format!(
                "the {} challenge has both a token68 value and parameters",
                challenge.scheme
            ),
        );
    }
    for (name, value) in &challenge.params {
        if name == "resource_metadata" && !is_absolute_url(value) {
            sink.push(
                DiagnosticKind::RelativeResourceMetadata,
                format!(
                    "resource_metadata {:?} is not an absolute URL",
                    short(value)
                ),
            );
        }
    }
    if challenge.is_scheme("bearer") {
        bearer_error(challenge, sink);
    }
}

/// One diagnostic per repeated name, in order of first appearance. Linear: one pass counts with a
/// hash map (comparing every pair of a server-controlled list would be quadratic).
fn duplicates(challenge: &Challenge, sink: &mut DiagnosticSink<'_>) {
    let mut seen: HashMap<&str, (usize, &str)> = HashMap::new();
    let mut order = Vec::new();
    for (name, value) in &challenge.params {
        let entry = seen.entry(name.as_str()).or_insert_with(|| {
            order.push(name.as_str());
            (0, value.as_str())
        });
        entry.0 += 1;
    }
    for name in order {
        let (count, first) = seen[name];
        if count > 1 {
            sink.push(
                DiagnosticKind::DuplicateParameter,
                format!(
                    "`{name}` appears {count} times in the {} challenge; the first value {:?} is used",
                    challenge.scheme,
                    short(first)
                ),
            );
        }
    }
}

/// A value as quoted in a message: long values are cut (the whole value is in the challenge).
fn short(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

fn bearer_error(challenge: &Challenge, sink: &mut DiagnosticSink<'_>) {
    let Some(error) = challenge.param("error") else {
        return;
    };
    let lower = error.to_ascii_lowercase();
    if lower != error && BEARER_ERRORS.contains(&lower.as_str()) {
        sink.push(
            DiagnosticKind::WrongCaseErrorValue,
            format!("the error code {error:?} should be written {lower:?}; it was accepted"),
        );
    }
    if lower == "insufficient_scope" && challenge.param("scope").is_none() {
        sink.push(
            DiagnosticKind::InsufficientScopeWithoutScope,
            "insufficient_scope without a scope parameter: the client cannot tell which scopes to request"
                .into(),
        );
    }
}

/// `scheme "://" something`, with an RFC 3986 scheme.
fn is_absolute_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    let starts_alpha = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_alpha
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
}
