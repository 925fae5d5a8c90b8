//! The audit over a fake server: a conforming one passes everything, each broken rule is found by
//! its id, a token given to the doctor never shows in the report, and the doctor never panics on
//! what it reads.

use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::http::{HttpError, HttpMethod, HttpRequest, HttpResponse};

const SERVER: &str = "https://mcp.example/mcp";
const PRM: &str = "https://mcp.example/.well-known/oauth-protected-resource/mcp";
const ISSUER: &str = "https://as.example";
const AS_METADATA: &str = "https://as.example/.well-known/oauth-authorization-server";
const GOOD_TOKEN: &str = "the-users-good-token";

struct Sevens;
impl Entropy for Sevens {
    fn fill(&self, bytes: &mut [u8]) {
        bytes.fill(7);
    }
}

/// A server that follows every rule, with one thing to change.
#[derive(Clone)]
struct FakeServer {
    prm: serde_json::Value,
    as_metadata: serde_json::Value,
    bad_token_status: u16,
    challenge: String,
    cors: bool,
}

impl Default for FakeServer {
    fn default() -> Self {
        Self {
            prm: json!({"resource": SERVER, "authorization_servers": [ISSUER]}),
            as_metadata: json!({
                "issuer": ISSUER,
                "authorization_endpoint": "https://as.example/authorize",
                "token_endpoint": "https://as.example/token",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "client_id_metadata_document_supported": true,
                "authorization_response_iss_parameter_supported": true
            }),
            bad_token_status: 401,
            challenge: format!(r#"Bearer resource_metadata="{PRM}", scope="mcp""#),
            cors: true,
        }
    }
}

impl FakeServer {
    fn with_cors(&self, response: HttpResponse) -> HttpResponse {
        if !self.cors {
            return response;
        }
        response
            .with_header("access-control-allow-origin", "*")
            .with_header("access-control-allow-methods", "GET, POST, DELETE")
            .with_header(
                "access-control-allow-headers",
                "Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id",
            )
            .with_header(
                "access-control-expose-headers",
                "WWW-Authenticate, Mcp-Session-Id",
            )
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let token = request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        let response = match (request.method, request.url.as_str()) {
            (HttpMethod::Options, SERVER) => HttpResponse::new(204, ""),
            (HttpMethod::Post, SERVER) => match token {
                None => HttpResponse::json(401, &json!({"error": "unauthorized"}))
                    .with_header("www-authenticate", self.challenge.clone()),
                Some(GOOD_TOKEN) => {
                    HttpResponse::json(403, &json!({"error": "insufficient_scope"})).with_header(
                        "www-authenticate",
                        r#"Bearer error="insufficient_scope", scope="mcp admin""#,
                    )
                }
                Some(_) => HttpResponse::json(self.bad_token_status, &json!({}))
                    .with_header("www-authenticate", r#"Bearer error="invalid_token""#),
            },
            (HttpMethod::Get, PRM) => HttpResponse::json(200, &self.prm),
            (HttpMethod::Get, AS_METADATA) => HttpResponse::json(200, &self.as_metadata),
            _ => HttpResponse::new(404, "not found"),
        };
        self.with_cors(response)
    }
}

impl HttpClient for FakeServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        Ok(self.answer(&request))
    }
}

fn diagnose_fake(server: &FakeServer) -> DoctorReport {
    block_on(diagnose(
        server,
        &Sevens,
        &DoctorOptions::new(SERVER, 1_800_000_000),
    ))
}

fn verdict(report: &DoctorReport, rule: &str) -> Verdict {
    let found = report.of(rule);
    assert_eq!(found.len(), 1, "{rule} judged once: {found:?}");
    found[0].verdict
}

#[test]
fn a_conforming_server_passes_every_rule() {
    let report = diagnose_fake(&FakeServer::default());
    let not_passed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert_eq!(report.exit_code(), 0);
    for rule in [
        "challenge-401",
        "prm-resource",
        "as-issuer",
        "as-pkce-s256",
        "invalid-token-401",
        "audience-401",
        "cors-preflight",
    ] {
        assert_eq!(verdict(&report, rule), Verdict::Pass, "{rule}");
    }
}

#[test]
fn every_finding_names_a_known_rule_and_fixes_only_what_did_not_pass() {
    let mut broken = FakeServer {
        bad_token_status: 500,
        cors: false,
        ..FakeServer::default()
    };
    broken.as_metadata["code_challenge_methods_supported"] = json!(["plain"]);
    for report in [
        diagnose_fake(&FakeServer::default()),
        diagnose_fake(&broken),
    ] {
        for finding in &report.findings {
            assert_ne!(rules::rule(&finding.rule).id, "unknown", "{finding:?}");
            assert_eq!(
                finding.fix.is_some(),
                finding.verdict != Verdict::Pass,
                "{finding:?}"
            );
        }
    }
}

/// How a case breaks the conforming server.
type Break = fn(&mut FakeServer);

#[test]
fn each_broken_rule_is_found_by_its_id() {
    let cases: Vec<(&str, Verdict, Break)> = vec![
        ("invalid-token-401", Verdict::Failure, |s| {
            s.bad_token_status = 500
        }),
        ("prm-resource", Verdict::Failure, |s| {
            s.prm["resource"] = json!("https://elsewhere.example/mcp")
        }),
        ("prm-resource", Verdict::Warning, |s| {
            s.prm["resource"] = json!(format!("{SERVER}/"))
        }),
        ("prm-authorization-servers", Verdict::Failure, |s| {
            s.prm["authorization_servers"] = json!([])
        }),
        ("as-issuer", Verdict::Failure, |s| {
            s.as_metadata["issuer"] = json!("https://as.example/other")
        }),
        ("as-pkce-s256", Verdict::Failure, |s| {
            s.as_metadata
                .as_object_mut()
                .unwrap()
                .remove("code_challenge_methods_supported");
        }),
        ("as-iss-parameter", Verdict::Warning, |s| {
            s.as_metadata["authorization_response_iss_parameter_supported"] = json!(false)
        }),
        ("as-client-registration", Verdict::Warning, |s| {
            s.as_metadata["client_id_metadata_document_supported"] = json!(false)
        }),
        ("as-endpoints", Verdict::Failure, |s| {
            s.as_metadata
                .as_object_mut()
                .unwrap()
                .remove("token_endpoint");
        }),
        ("transport-https", Verdict::Failure, |s| {
            s.as_metadata["token_endpoint"] = json!("http://as.example/token")
        }),
        ("challenge-scope", Verdict::Warning, |s| {
            s.challenge = format!(r#"Bearer resource_metadata="{PRM}""#)
        }),
        ("challenge-resource-metadata", Verdict::Warning, |s| {
            s.challenge = r#"Bearer scope="mcp""#.into()
        }),
        ("challenge-syntax", Verdict::Warning, |s| {
            s.challenge = format!(r#"Bearer resource_metadata={PRM} scope="mcp""#)
        }),
        ("cors-preflight", Verdict::Warning, |s| s.cors = false),
        ("challenge-no-error-without-token", Verdict::Warning, |s| {
            s.challenge =
                format!(r#"Bearer error="invalid_token", resource_metadata="{PRM}", scope="mcp""#)
        }),
    ];
    for (rule, expected, breaks) in cases {
        let mut server = FakeServer::default();
        breaks(&mut server);
        let report = diagnose_fake(&server);
        let found: Vec<Verdict> = report.of(rule).iter().map(|f| f.verdict).collect();
        assert!(
            found.contains(&expected),
            "{rule}: {expected:?} expected, got {found:?}: {report:#?}"
        );
        let wrong_elsewhere: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule != rule && f.verdict == Verdict::Failure)
            // A server that errs on a made-up token errs on the other-audience one too.
            .filter(|f| !(rule == "invalid-token-401" && f.rule == "audience-401"))
            .collect();
        assert!(
            wrong_elsewhere.is_empty(),
            "{rule} broke only itself: {wrong_elsewhere:#?}"
        );
        let expected_exit = if expected == Verdict::Failure { 2 } else { 1 };
        assert_eq!(report.exit_code(), expected_exit, "{rule}");
    }
}

#[test]
fn the_given_token_is_checked_and_never_shown() {
    let mut options = DoctorOptions::new(SERVER, 1_800_000_000);
    options.token = Some(Secret::new(GOOD_TOKEN));
    let report = block_on(diagnose(&FakeServer::default(), &Sevens, &options));
    assert_eq!(verdict(&report, "token-accepted"), Verdict::Warning);
    let scope = report.of("insufficient-scope-403");
    assert_eq!(scope[0].verdict, Verdict::Pass, "{scope:?}");
    assert!(scope[0].observed.contains("mcp admin"));
    let text = serde_json::to_string(&report).unwrap() + &render::text(&report);
    assert!(!text.contains(GOOD_TOKEN));
}

#[test]
fn an_open_server_is_said_to_need_no_authorization() {
    struct Open;
    impl HttpClient for Open {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
            Ok(HttpResponse::json(
                200,
                &json!({"jsonrpc": "2.0", "id": 1, "result": {}}),
            ))
        }
    }
    let report = block_on(diagnose(&Open, &Sevens, &DoctorOptions::new(SERVER, 0)));
    assert_eq!(verdict(&report, "challenge-401"), Verdict::Info);
    assert!(report.of("prm-published").is_empty());
    assert_eq!(report.summary.failures, 0);
}

#[test]
fn an_unreachable_server_or_a_bad_url_is_a_failure_not_a_panic() {
    struct Down;
    impl HttpClient for Down {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
            Err(HttpError::Transport("connection refused".into()))
        }
    }
    let report = block_on(diagnose(&Down, &Sevens, &DoctorOptions::new(SERVER, 0)));
    assert_eq!(verdict(&report, "challenge-401"), Verdict::Failure);
    assert_eq!(report.exit_code(), 2);
    for url in ["not a url", "ftp://mcp.example/mcp", ""] {
        let report = block_on(diagnose(&Down, &Sevens, &DoctorOptions::new(url, 0)));
        assert_eq!(report.exit_code(), 2, "{url}");
    }
    let plain = block_on(diagnose(
        &Down,
        &Sevens,
        &DoctorOptions::new("http://mcp.example/mcp", 0),
    ));
    assert_eq!(plain.of("transport-https")[0].verdict, Verdict::Failure);
}

#[test]
fn odd_metadata_documents_are_findings() {
    for prm in [
        json!("a string"),
        json!([1, 2]),
        json!({"resource": 7}),
        json!({}),
    ] {
        let server = FakeServer {
            prm,
            ..FakeServer::default()
        };
        let report = diagnose_fake(&server);
        assert_eq!(verdict(&report, "prm-document"), Verdict::Failure);
    }
    let server = FakeServer {
        as_metadata: json!({"issuer": 12, "code_challenge_methods_supported": "S256"}),
        ..FakeServer::default()
    };
    let report = diagnose_fake(&server);
    assert_eq!(verdict(&report, "as-issuer"), Verdict::Failure);
    assert_eq!(verdict(&report, "as-pkce-s256"), Verdict::Failure);
}

#[test]
fn the_text_report_names_rule_source_and_fix() {
    let server = FakeServer {
        bad_token_status: 500,
        ..FakeServer::default()
    };
    let text = render::text(&diagnose_fake(&server));
    assert!(text.contains("FAIL  invalid-token-401 (MUST · MCP 2026-07-28 Authorization, Token Handling; RFC 6750 §3.1)"), "{text}");
    assert!(
        text.contains("fix:  Treat a token that fails validation"),
        "{text}"
    );
    assert!(text.contains("PASS  challenge-401: HTTP 401"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("2 failures, 0 warnings, 22 passed, 0 notes"),
        "{text}"
    );
}
