//! A hostile or broken server controls the size of `WWW-Authenticate`: the parser reads a bounded
//! part of it, keeps bounded numbers of challenges, parameters and diagnostics, and says what it
//! cut. (How long a parse takes at the limits is measured by `benches/www_authenticate.rs`.)

use keyhole_shared::challenge::AuthChallenge;
use keyhole_shared::www_authenticate::{
    DiagnosticKind, MAX_CHALLENGES, MAX_DIAGNOSTICS, MAX_HEADER_BYTES, MAX_PARAMETERS, parse,
    parse_str,
};
use keyhole_shared::{ChallengeContext, ChallengeReason};

/// `Bearer p0="v", p1="v", …` with `count` distinct parameters (about 9.5 bytes each).
fn many_parameters(count: usize) -> String {
    let params: Vec<String> = (0..count).map(|i| format!("p{i}=\"v\"")).collect();
    format!("Bearer {}", params.join(", "))
}

fn truncation_messages(header: &keyhole_shared::www_authenticate::ParsedHeader) -> Vec<&str> {
    header
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::Truncated)
        .map(|d| d.message.as_str())
        .collect()
}

#[test]
fn a_forty_thousand_parameter_challenge_is_cut_and_says_so() {
    let header = many_parameters(40_000);
    assert!(header.len() > 300_000);
    let parsed = parse_str(&header);
    assert_eq!(parsed.challenges.len(), 1);
    assert_eq!(parsed.challenges[0].params.len(), MAX_PARAMETERS);
    assert_eq!(parsed.challenges[0].param("p0"), Some("v"));
    let cut = truncation_messages(&parsed);
    assert!(
        cut.iter().any(|m| m.contains(&format!(
            "longer than {MAX_HEADER_BYTES} bytes; the last {} bytes",
            header.len() - MAX_HEADER_BYTES
        ))),
        "{cut:?}"
    );
    assert!(
        cut.iter()
            .any(|m| m.contains(&format!("only the first {MAX_PARAMETERS} were kept"))),
        "{cut:?}"
    );
}

#[test]
fn a_one_megabyte_header_is_read_up_to_the_limit() {
    let header = format!(
        "Bearer error=\"invalid_token\", scope=\"{}\"",
        "a".repeat(1 << 20)
    );
    let parsed = parse_str(&header);
    let bearer = parsed.bearer().unwrap();
    assert_eq!(bearer.param("error"), Some("invalid_token"));
    assert!(bearer.param("scope").unwrap().len() < MAX_HEADER_BYTES);
    assert!(
        parsed.has_diagnostic(DiagnosticKind::Truncated),
        "{:?}",
        parsed.diagnostics
    );
    // The normalised challenge carries a bounded copy of the raw header, marked as cut.
    let challenge =
        AuthChallenge::from_response(401, &[header.as_bytes()], ChallengeContext::default())
            .unwrap();
    assert_eq!(challenge.reason, ChallengeReason::InvalidToken);
    let raw = &challenge.raw.www_authenticate[0];
    assert!(raw.len() < MAX_HEADER_BYTES + 100, "{}", raw.len());
    assert!(
        raw.ends_with("more bytes not shown)"),
        "{}",
        &raw[raw.len() - 60..]
    );
}

#[test]
fn bytes_are_counted_over_all_lines() {
    let line = format!("Bearer realm=\"{}\"", "r".repeat(MAX_HEADER_BYTES / 2));
    let lines: Vec<&[u8]> = vec![line.as_bytes(); 5];
    let parsed = parse(&lines);
    assert_eq!(parsed.challenges.len(), 2, "two whole lines fit");
    let cut = truncation_messages(&parsed);
    assert!(
        cut.iter()
            .any(|m| m.contains("3 more line(s)") || m.contains("2 more line(s)")),
        "{cut:?}"
    );
}

#[test]
fn a_cut_never_splits_a_character() {
    // The byte limit falls inside a two-byte character: it is dropped whole, not mangled.
    let header = format!(
        "Bearer realm=\"{}é{}\"",
        "a".repeat(MAX_HEADER_BYTES - 15),
        "b".repeat(100)
    );
    let parsed = parse_str(&header);
    assert!(
        !parsed.has_diagnostic(DiagnosticKind::InvalidUtf8),
        "{:?}",
        parsed.diagnostics
    );
}

#[test]
fn challenges_past_the_limit_are_not_kept() {
    let header = vec!["Basic realm=\"x\""; 200].join(", ");
    let parsed = parse_str(&header);
    assert_eq!(parsed.challenges.len(), MAX_CHALLENGES);
    let cut = truncation_messages(&parsed);
    assert!(
        cut.iter()
            .any(|m| m.contains(&format!("only the first {MAX_CHALLENGES} challenges"))),
        "{cut:?}"
    );
    // Over several lines too.
    let lines: Vec<&[u8]> = vec![b"Basic realm=\"x\", Bearer"; 40];
    let parsed = parse(&lines);
    assert_eq!(parsed.challenges.len(), MAX_CHALLENGES);
    assert!(parsed.has_diagnostic(DiagnosticKind::Truncated));
}

#[test]
fn diagnostics_are_capped_with_a_count_of_the_rest() {
    // Every element is an unquoted value with a forbidden character: one diagnostic each.
    let params: Vec<String> = (0..500).map(|i| format!("p{i}=a@b")).collect();
    let header = format!("Bearer {}", params.join(", "));
    let parsed = parse_str(&header);
    assert_eq!(parsed.diagnostics.len(), MAX_DIAGNOSTICS + 1);
    let last = parsed.diagnostics.last().unwrap();
    assert_eq!(last.kind, DiagnosticKind::Truncated);
    assert!(
        last.message
            .contains("more diagnostic(s) were not recorded"),
        "{}",
        last.message
    );
}

#[test]
fn repeated_parameters_are_counted_in_one_diagnostic_each() {
    let params: Vec<String> = (0..1_000)
        .map(|i| format!("{}=\"{i}\"", ["scope", "error", "realm"][i % 3]))
        .collect();
    let parsed = parse_str(&format!("Bearer {}", params.join(", ")));
    let duplicates: Vec<&str> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::DuplicateParameter)
        .map(|d| d.message.as_str())
        .collect();
    // Only the first MAX_PARAMETERS parameters are kept: 22 scopes, 21 errors, 21 realms.
    assert_eq!(duplicates.len(), 3, "{duplicates:?}");
    assert!(
        duplicates[0].starts_with("`scope` appears 22 times"),
        "{duplicates:?}"
    );
    assert!(
        duplicates[0].contains("the first value \"0\""),
        "{duplicates:?}"
    );
}
