//! Property tests for the `WWW-Authenticate` parser: no input makes it panic or produce malformed
//! output, and well-formed headers round-trip without diagnostics.
//!
//! The case count comes from `PROPTEST_CASES` (default 2000 per property), so CI can run longer
//! campaigns without slowing down everyday `cargo test`.

use keyhole_shared::parse_challenge_report;
use keyhole_shared::www_authenticate::{Challenge, DiagnosticKind, ParsedHeader, parse};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Invariants every parse must satisfy, whatever the input.
fn check_invariants(parsed: &ParsedHeader) {
    for challenge in &parsed.challenges {
        assert!(!challenge.scheme.is_empty());
        for (name, _) in &challenge.params {
            assert!(!name.is_empty());
            assert_eq!(name, &name.to_ascii_lowercase());
        }
    }
    for diagnostic in &parsed.diagnostics {
        assert!(!diagnostic.message.is_empty());
    }
    serde_json::to_string(parsed).expect("serialisable");
}

/// Pieces that exercise the grammar's decision points far more often than random bytes do.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Bearer".to_owned()),
        Just("Basic".to_owned()),
        Just("scope".to_owned()),
        Just("error".to_owned()),
        Just("resource_metadata".to_owned()),
        Just("insufficient_scope".to_owned()),
        Just("https://rs.example/m".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just("==".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("'".to_owned()),
        Just(";".to_owned()),
        Just("\u{0}".to_owned()),
        Just("é".to_owned()),
        "[a-zA-Z0-9_~+/.-]{1,6}",
        any::<char>().prop_map(String::from),
    ]
}

/// A well-formed challenge and its canonical rendering.
fn well_formed() -> impl Strategy<Value = Challenge> {
    let name = "[a-z][a-z0-9_]{0,10}";
    let value = "[ -~]{0,12}";
    prop_oneof![
        (
            "[A-Za-z][A-Za-z0-9-]{0,8}",
            prop::collection::vec((name, value), 0..5)
        )
            .prop_map(|(scheme, params)| Challenge {
                scheme,
                token68: None,
                params,
            }),
        (
            "[A-Za-z][A-Za-z0-9-]{0,8}",
            "[A-Za-z0-9._~+/-]{1,12}",
            "={0,2}"
        )
            .prop_map(|(scheme, token, padding)| Challenge {
                scheme,
                token68: Some(token + &padding),
                params: Vec::new(),
            }),
    ]
}

fn render(challenge: &Challenge) -> String {
    let mut out = challenge.scheme.clone();
    if let Some(token) = &challenge.token68 {
        out.push(' ');
        out.push_str(token);
    }
    for (i, (name, value)) in challenge.params.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str(&format!("{name}=\"{escaped}\""));
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..4)) {
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        check_invariants(&parse(&refs));
        for status in [None, Some(401), Some(403)] {
            serde_json::to_string(&parse_challenge_report(status, &refs)).expect("serialisable");
        }
    }

    #[test]
    fn grammar_shaped_strings_never_panic(pieces in prop::collection::vec(fragment(), 0..40)) {
        let line = pieces.concat();
        let parsed = parse(&[line.as_bytes()]);
        check_invariants(&parsed);
        // Deterministic: parsing again gives the same answer.
        prop_assert_eq!(parsed, parse(&[line.as_bytes()]));
    }

    #[test]
    fn well_formed_headers_round_trip(challenges in prop::collection::vec(well_formed(), 1..4)) {
        let line = challenges.iter().map(render).collect::<Vec<_>>().join(", ");
        let parsed = parse(&[line.as_bytes()]);
        let wanted: Vec<Challenge> = challenges;
        prop_assert_eq!(&parsed.challenges, &wanted, "line: {}", line);
        let unexpected: Vec<_> = parsed
            .diagnostics
            .iter()
            .filter(|d| !matches!(
                d.kind,
                DiagnosticKind::DuplicateParameter | DiagnosticKind::ControlCharacter
            ))
            .collect();
        prop_assert!(unexpected.is_empty(), "line: {} diagnostics: {:?}", line, unexpected);
    }
}
