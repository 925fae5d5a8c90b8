//! Table-driven cases for the `WWW-Authenticate` parser: well-formed input, every tolerated
//! irregularity, and adversarial input that naive text scanning gets wrong.

use keyhole_shared::www_authenticate::{DiagnosticKind as D, parse};

/// `(scheme, token68, params)` as expected in the output.
type Expected = (
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
);

/// The same, owned, for comparison with the parser's output.
type Owned = (String, Option<String>, Vec<(String, String)>);

struct Case {
    name: &'static str,
    lines: &'static [&'static [u8]],
    challenges: &'static [Expected],
    diagnostics: &'static [D],
}

const fn case(
    name: &'static str,
    lines: &'static [&'static [u8]],
    challenges: &'static [Expected],
    diagnostics: &'static [D],
) -> Case {
    Case {
        name,
        lines,
        challenges,
        diagnostics,
    }
}

const RM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";

const CASES: &[Case] = &[
    // --- well-formed input -------------------------------------------------------------------
    case("bare scheme", &[b"Bearer"], &[("Bearer", None, &[])], &[]),
    case(
        "one quoted parameter",
        &[br#"Bearer realm="example""#],
        &[("Bearer", None, &[("realm", "example")])],
        &[],
    ),
    case(
        "RFC 6750 invalid_token example",
        &[br#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#],
        &[("Bearer", None, &[("realm", "example"), ("error", "invalid_token"), ("error_description", "The access token expired")])],
        &[],
    ),
    case(
        "MCP step-up challenge",
        &[br#"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#],
        &[("Bearer", None, &[("error", "insufficient_scope"), ("scope", "files:read files:write"), ("resource_metadata", RM)])],
        &[],
    ),
    case(
        "scheme and parameter names are case-insensitive; names come out lower-case",
        &[br#"bEaReR ReAlM="x", SCOPE="a""#],
        &[("bEaReR", None, &[("realm", "x"), ("scope", "a")])],
        &[],
    ),
    case(
        "token value without quotes",
        &[b"Bearer error=invalid_token"],
        &[("Bearer", None, &[("error", "invalid_token")])],
        &[],
    ),
    case(
        "backslash escapes are removed",
        &[br#"Bearer error_description="say \"hi\" \\ ok \q""#],
        &[("Bearer", None, &[("error_description", r#"say "hi" \ ok q"#)])],
        &[],
    ),
    case(
        "commas and equals signs inside a quoted value",
        &[br#"Bearer error_description="a, b=c, scope=d", scope="x""#],
        &[("Bearer", None, &[("error_description", "a, b=c, scope=d"), ("scope", "x")])],
        &[],
    ),
    case(
        "optional whitespace around = and ,",
        &[b"Bearer realm = \"x\" ,\tscope=  y  ,error =\t\"z\""],
        &[("Bearer", None, &[("realm", "x"), ("scope", "y"), ("error", "z")])],
        &[],
    ),
    case(
        "tab between scheme and parameters",
        &[b"Bearer\trealm=\"x\""],
        &[("Bearer", None, &[("realm", "x")])],
        &[],
    ),
    case(
        "empty list elements everywhere",
        &[br#", ,Bearer realm="x",, scope="y" ,"#],
        &[("Bearer", None, &[("realm", "x"), ("scope", "y")])],
        &[],
    ),
    case(
        "Basic and Bearer on one line",
        &[br#"Basic realm="simple", Bearer realm="api", scope="a""#],
        &[("Basic", None, &[("realm", "simple")]), ("Bearer", None, &[("realm", "api"), ("scope", "a")])],
        &[],
    ),
    case(
        "schemes only",
        &[b"Basic, Bearer, Negotiate"],
        &[("Basic", None, &[]), ("Bearer", None, &[]), ("Negotiate", None, &[])],
        &[],
    ),
    case(
        "one challenge per header line",
        &[br#"Basic realm="a""#, br#"Bearer scope="x""#],
        &[("Basic", None, &[("realm", "a")]), ("Bearer", None, &[("scope", "x")])],
        &[],
    ),
    case(
        "DPoP next to Bearer",
        &[br#"DPoP algs="ES256 PS256", Bearer realm="x""#],
        &[("DPoP", None, &[("algs", "ES256 PS256")]), ("Bearer", None, &[("realm", "x")])],
        &[],
    ),
    case(
        "non-ASCII UTF-8 in a quoted value",
        &["Bearer error_description=\"Zugriff verweigert – Ärger\"".as_bytes()],
        &[("Bearer", None, &[("error_description", "Zugriff verweigert – Ärger")])],
        &[],
    ),
    // --- token68 -----------------------------------------------------------------------------
    case("token68 without padding", &[b"Negotiate abc123"], &[("Negotiate", Some("abc123"), &[])], &[]),
    case(
        "token68 with padding followed by another challenge",
        &[br#"Negotiate YWJjZA==, Bearer realm="x""#],
        &[("Negotiate", Some("YWJjZA=="), &[]), ("Bearer", None, &[("realm", "x")])],
        &[],
    ),
    case(
        "token68 with every allowed character and spaces before the comma",
        &[b"Custom a-b._~+/c= , Bearer"],
        &[("Custom", Some("a-b._~+/c="), &[]), ("Bearer", None, &[])],
        &[],
    ),
    case(
        "triple padding then a challenge with parameters",
        &[br#"Custom dGVzdA===, Bearer error="invalid_token""#],
        &[("Custom", Some("dGVzdA==="), &[]), ("Bearer", None, &[("error", "invalid_token")])],
        &[],
    ),
    case(
        "token68 followed by parameters is reported",
        &[br#"Negotiate abc, realm="x""#],
        &[("Negotiate", Some("abc"), &[("realm", "x")])],
        &[D::Token68WithParameters],
    ),
    // --- adversarial -------------------------------------------------------------------------
    case(
        "a parameter whose name ends with `scope`",
        &[br#"Bearer error_scope="wrong", scope="right""#],
        &[("Bearer", None, &[("error_scope", "wrong"), ("scope", "right")])],
        &[],
    ),
    case(
        "a parameter whose name ends with `resource_metadata`",
        &[br#"Bearer x_resource_metadata="https://evil.example/", resource_metadata="https://good.example/""#],
        &[("Bearer", None, &[("x_resource_metadata", "https://evil.example/"), ("resource_metadata", "https://good.example/")])],
        &[],
    ),
    case(
        "`scope=` inside another challenge's quoted value",
        &[br#"Basic realm="scope=\"admin\"", Bearer scope="read""#],
        &[("Basic", None, &[("realm", r#"scope="admin""#)]), ("Bearer", None, &[("scope", "read")])],
        &[],
    ),
    case(
        "`Bearer` and `scope=` inside a quoted description",
        &[br#"Basic realm="use Bearer scope=admin, ok""#],
        &[("Basic", None, &[("realm", "use Bearer scope=admin, ok")])],
        &[],
    ),
    case(
        "two resource_metadata parameters",
        &[br#"Bearer resource_metadata="https://a.example/m", RESOURCE_METADATA="https://b.example/m""#],
        &[("Bearer", None, &[("resource_metadata", "https://a.example/m"), ("resource_metadata", "https://b.example/m")])],
        &[D::DuplicateParameter],
    ),
    case(
        "duplicate scope, first wins",
        &[br#"Bearer scope="a", Scope="b""#],
        &[("Bearer", None, &[("scope", "a"), ("scope", "b")])],
        &[D::DuplicateParameter],
    ),
    case(
        "`name=,` is an empty parameter, not a padded token68",
        &[br#"Bearer error=, scope="a""#],
        &[("Bearer", None, &[("error", ""), ("scope", "a")])],
        &[D::MissingValue],
    ),
    // --- tolerated irregularities ------------------------------------------------------------
    case(
        "unterminated quoted string",
        &[br#"Bearer realm="x", error_description="never closed"#],
        &[("Bearer", None, &[("realm", "x"), ("error_description", "never closed")])],
        &[D::UnterminatedString],
    ),
    case(
        "backslash at the very end",
        &[br#"Bearer realm="abc\"#],
        &[("Bearer", None, &[("realm", "abc")])],
        &[D::UnterminatedString],
    ),
    case(
        "an unterminated string does not swallow the next line",
        &[br#"Bearer realm="open"#, br#"Basic realm="b""#],
        &[("Bearer", None, &[("realm", "open")]), ("Basic", None, &[("realm", "b")])],
        &[D::UnterminatedString],
    ),
    case(
        "missing comma between parameters",
        &[br#"Bearer error="insufficient_scope" scope="a""#],
        &[("Bearer", None, &[("error", "insufficient_scope"), ("scope", "a")])],
        &[D::MissingComma],
    ),
    case(
        "missing comma between challenges",
        &[br#"Basic realm="a" Bearer realm="b""#],
        &[("Basic", None, &[("realm", "a")]), ("Bearer", None, &[("realm", "b")])],
        &[D::MissingComma],
    ),
    case(
        "unquoted URL accepted",
        &[b"Bearer resource_metadata=https://rs.example/.well-known/oauth-protected-resource, scope=\"a\""],
        &[("Bearer", None, &[("resource_metadata", "https://rs.example/.well-known/oauth-protected-resource"), ("scope", "a")])],
        &[D::UnquotedUrl],
    ),
    case(
        "single-quoted values",
        &[b"Bearer scope='a b', error='insufficient_scope'"],
        &[("Bearer", None, &[("scope", "a b"), ("error", "insufficient_scope")])],
        &[D::SingleQuotedValue, D::SingleQuotedValue],
    ),
    case(
        "a lone apostrophe is just a token character",
        &[b"Bearer realm='abc"],
        &[("Bearer", None, &[("realm", "'abc")])],
        &[],
    ),
    case(
        "unquoted value needing quotes",
        &[b"Bearer scope=files:read"],
        &[("Bearer", None, &[("scope", "files:read")])],
        &[D::InvalidTokenValue],
    ),
    case(
        "relative resource_metadata",
        &[br#"Bearer resource_metadata="/.well-known/oauth-protected-resource""#],
        &[("Bearer", None, &[("resource_metadata", "/.well-known/oauth-protected-resource")])],
        &[D::RelativeResourceMetadata],
    ),
    case(
        "wrong-case error code",
        &[br#"Bearer error="Insufficient_Scope", scope="a""#],
        &[("Bearer", None, &[("error", "Insufficient_Scope"), ("scope", "a")])],
        &[D::WrongCaseErrorValue],
    ),
    case(
        "insufficient_scope without scope",
        &[br#"Bearer error="insufficient_scope""#],
        &[("Bearer", None, &[("error", "insufficient_scope")])],
        &[D::InsufficientScopeWithoutScope],
    ),
    case(
        "bytes that are not UTF-8",
        &[b"Bearer realm=\"caf\xe9\""],
        &[("Bearer", None, &[("realm", "caf\u{FFFD}")])],
        &[D::InvalidUtf8],
    ),
    case("empty header line", &[b""], &[], &[D::EmptyHeader]),
    case("only separators", &[b"  , ,\t"], &[], &[D::EmptyHeader]),
    case(
        "a parameter before any scheme is dropped",
        &[br#"realm="x", Bearer"#],
        &[("Bearer", None, &[])],
        &[D::ParameterWithoutChallenge],
    ),
    case(
        "stray punctuation is skipped",
        &[br#"Bearer realm="x", ; scope="y""#],
        &[("Bearer", None, &[("realm", "x"), ("scope", "y")])],
        &[D::UnexpectedCharacter],
    ),
    case(
        "a stray quoted string is skipped",
        &[br#"Bearer "abc", realm="x""#],
        &[("Bearer", None, &[("realm", "x")])],
        &[D::UnexpectedCharacter],
    ),
    case(
        "scheme glued to a quoted string",
        &[br#"Bearer"x""#],
        &[("Bearer", None, &[])],
        &[D::UnexpectedCharacter],
    ),
    case(
        "control character inside a quoted value",
        &[b"Bearer realm=\"a\x01b\""],
        &[("Bearer", None, &[("realm", "a\u{1}b")])],
        &[D::ControlCharacter],
    ),
];

#[test]
fn table() {
    let mut failures = Vec::new();
    for case in CASES {
        let parsed = parse(case.lines);
        let got: Vec<Owned> = parsed
            .challenges
            .iter()
            .map(|c| (c.scheme.clone(), c.token68.clone(), c.params.clone()))
            .collect();
        let want: Vec<Owned> = case
            .challenges
            .iter()
            .map(|(s, t, p)| {
                let params = p.iter().map(|(n, v)| (n.to_string(), v.to_string()));
                (s.to_string(), t.map(str::to_owned), params.collect())
            })
            .collect();
        let kinds: Vec<D> = parsed.diagnostics.iter().map(|d| d.kind).collect();
        if got != want || kinds != case.diagnostics {
            failures.push(format!(
                "{}:\n  challenges got  {got:?}\n             want {want:?}\n  diagnostics got {:?}\n             want {:?}",
                case.name, parsed.diagnostics, case.diagnostics
            ));
        }
    }
    assert!(CASES.len() >= 30);
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn first_duplicate_wins_and_lookup_is_case_insensitive() {
    let parsed = parse(&[br#"bearer Scope="a", SCOPE="b", error_scope="c""#]);
    let bearer = parsed.bearer().expect("bearer");
    assert_eq!(bearer.param("scope"), Some("a"));
    assert_eq!(bearer.param("SCOPE"), Some("a"));
    assert!(bearer.is_scheme("BEARER"));
}

#[test]
fn diagnostics_name_the_line_when_there_are_several() {
    let parsed = parse(&[b"Bearer", br#"Basic realm="x"#]);
    let message = &parsed.diagnostics[0].message;
    assert!(message.starts_with("header line 2: "), "{message}");
    let single = parse(&[br#"Basic realm="x"#]);
    assert!(!single.diagnostics[0].message.starts_with("header line"));
}

#[test]
fn diagnostic_kinds_serialise_in_snake_case() {
    let parsed = parse(&[br#"Bearer error="Invalid_Token", resource_metadata=/x"#]);
    let json = serde_json::to_value(&parsed.diagnostics).unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"wrong_case_error_value"), "{kinds:?}");
    assert!(kinds.contains(&"relative_resource_metadata"), "{kinds:?}");
    assert!(kinds.contains(&"invalid_token_value"), "{kinds:?}");
}
