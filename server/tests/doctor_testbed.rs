//! `keyhole doctor` against the real testbed over loopback: a clean server gets no failure, and
//! each flaw the testbed can be configured with is found under the rule it breaks — one server (or
//! one authorization server) per flaw, everything else left clean. The token given with
//! `--token-file` is checked and never printed.

use keyhole_server::launcher::doctor::{self, parse_args};
use keyhole_shared::doctor::{DoctorReport, Verdict};
use keyhole_testbed::{RunningTestbed, Testbed, TestbedConfig};
use serde_json::{Value, json};

fn server(name: &str, auth: Value) -> Value {
    json!({"name": name, "auth": auth, "tools": [{"preset": "echo"}]})
}

fn flawed(name: &str, flaw: &str) -> Value {
    server(
        name,
        json!({"mode": "oauth", "baseScopes": ["mcp"], "flaws": [flaw]}),
    )
}

async fn testbed(oauth_flaws: &[&str]) -> RunningTestbed {
    let config = json!({
        "servers": [
            server("clean", json!({"mode": "oauth", "baseScopes": ["mcp"]})),
            server("open", json!({"mode": "none"})),
            server("bare", json!({"mode": "oauth", "challengeStyle": "bare"})),
            flawed("elsewhere", "resourceElsewhere"),
            flawed("slash", "resourceTrailingSlash"),
            flawed("err500", "invalidTokenAnswers500"),
            flawed("noscope", "insufficientScopeWithoutScope"),
            flawed("nocors", "noCors"),
        ],
        "oauth": {"scopesSupported": ["mcp"], "flaws": oauth_flaws},
    });
    let config = TestbedConfig::from_json_str(&config.to_string()).expect("valid config");
    Testbed::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("testbed starts")
}

async fn audit(url: &str, extra: &[&str]) -> DoctorReport {
    let mut argv = vec![url];
    argv.extend_from_slice(extra);
    doctor::audit(&parse_args(&argv).expect("arguments parse"))
        .await
        .expect("the audit runs")
}

/// The rules that did not pass, with their verdicts.
fn not_passed(report: &DoctorReport) -> Vec<(String, Verdict)> {
    report
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .map(|f| (f.rule.clone(), f.verdict))
        .collect()
}

#[tokio::test]
async fn a_clean_server_has_no_failure_and_only_the_registration_warning() {
    let bed = testbed(&[]).await;
    let report = audit(&bed.mcp_url("clean").unwrap(), &[]).await;
    // The testbed offers dynamic registration but no Client ID Metadata Documents: a SHOULD.
    assert_eq!(
        not_passed(&report),
        vec![("as-client-registration".to_owned(), Verdict::Warning)],
        "{report:#?}"
    );
    assert_eq!(report.exit_code(), 1);
    for rule in [
        "challenge-401",
        "challenge-scope",
        "challenge-expose-headers",
        "cors-preflight",
        "prm-resource",
        "as-issuer",
        "as-pkce-s256",
        "as-iss-parameter",
        "invalid-token-401",
        "audience-401",
    ] {
        assert_eq!(report.of(rule).len(), 1, "{rule} checked once");
    }
}

#[tokio::test]
async fn an_open_server_needs_nothing() {
    let bed = testbed(&[]).await;
    let report = audit(&bed.mcp_url("open").unwrap(), &[]).await;
    assert_eq!(report.exit_code(), 0, "{report:#?}");
    assert_eq!(report.of("challenge-401")[0].verdict, Verdict::Info);
}

#[tokio::test]
async fn each_server_flaw_is_found_under_its_rule() {
    let bed = testbed(&[]).await;
    let cases = [
        ("elsewhere", "prm-resource", Verdict::Failure),
        ("slash", "prm-resource", Verdict::Warning),
        ("err500", "invalid-token-401", Verdict::Failure),
        ("err500", "audience-401", Verdict::Failure),
        ("nocors", "cors-preflight", Verdict::Warning),
        ("nocors", "challenge-expose-headers", Verdict::Warning),
        ("nocors", "cors-metadata", Verdict::Warning),
        ("bare", "challenge-resource-metadata", Verdict::Warning),
        ("bare", "challenge-scope", Verdict::Warning),
    ];
    for (name, rule, verdict) in cases {
        let report = audit(&bed.mcp_url(name).unwrap(), &[]).await;
        let found: Vec<Verdict> = report.of(rule).iter().map(|f| f.verdict).collect();
        assert!(
            found.contains(&verdict),
            "{name}: {rule} {verdict:?}: {report:#?}"
        );
        let failures: Vec<String> = not_passed(&report)
            .into_iter()
            .filter(|(r, v)| *v == Verdict::Failure && r != rule)
            .map(|(r, _)| r)
            .collect();
        let other_failure_expected = name == "err500"; // both made-up tokens meet the 500
        assert!(
            other_failure_expected || failures.is_empty(),
            "{name}: no failure besides {rule}: {failures:?}"
        );
    }
    let text = doctor_text(&bed.mcp_url("err500").unwrap()).await;
    assert!(text.contains("FAIL  invalid-token-401 (MUST"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
}

async fn doctor_text(url: &str) -> String {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = doctor::run(parse_args(&[url]).unwrap(), &mut out, &mut err).await;
    assert_eq!(code, 2);
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn authorization_server_flaws_are_found_under_their_rules() {
    let bed = testbed(&["noS256", "noIssParameter"]).await;
    let report = audit(&bed.mcp_url("clean").unwrap(), &[]).await;
    assert_eq!(report.of("as-pkce-s256")[0].verdict, Verdict::Failure);
    assert_eq!(report.of("as-iss-parameter")[0].verdict, Verdict::Warning);
    assert_eq!(report.exit_code(), 2);

    let bed = testbed(&["issuerMismatch"]).await;
    let report = audit(&bed.mcp_url("clean").unwrap(), &[]).await;
    let issuer = &report.of("as-issuer")[0];
    assert_eq!(issuer.verdict, Verdict::Failure);
    assert!(issuer.observed.contains("/oauth/tenant"), "{issuer:?}");
    assert!(issuer.source.contains("RFC 8414 §3.3"));
}

#[tokio::test]
async fn a_given_token_is_checked_for_its_scope_challenge_and_never_printed() {
    let bed = testbed(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let file = token_file.to_str().unwrap();

    // A token without the base scope: the clean server names it, the flawed one does not.
    for (name, expected) in [("clean", Verdict::Pass), ("noscope", Verdict::Warning)] {
        let token = bed.mint_access_token(name, &[], 300).unwrap();
        std::fs::write(&token_file, format!("{token}\n")).unwrap();
        let report = audit(&bed.mcp_url(name).unwrap(), &["--token-file", file]).await;
        assert_eq!(report.of("token-accepted")[0].verdict, Verdict::Warning);
        let scope = &report.of("insufficient-scope-403")[0];
        assert_eq!(scope.verdict, expected, "{name}: {scope:?}");

        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = parse_args(&[&bed.mcp_url(name).unwrap(), "--token-file", file, "--json"]);
        doctor::run(args.unwrap(), &mut out, &mut err).await;
        let printed = String::from_utf8(out).unwrap() + &String::from_utf8(err).unwrap();
        assert!(printed.contains("insufficient-scope-403"));
        assert!(!printed.contains(&token), "the token is never printed");
    }

    // A token with every scope is accepted.
    let token = bed.mint_access_token("clean", &["mcp"], 300).unwrap();
    std::fs::write(&token_file, &token).unwrap();
    let report = audit(&bed.mcp_url("clean").unwrap(), &["--token-file", file]).await;
    assert_eq!(report.of("token-accepted")[0].verdict, Verdict::Pass);
}

#[tokio::test]
async fn bad_input_is_said_clearly() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = parse_args(&[
        "http://127.0.0.1:9/mcp",
        "--token-file",
        "/nonexistent/token",
    ]);
    let code = doctor::run(args.unwrap(), &mut out, &mut err).await;
    assert_eq!(code, doctor::EXIT_NOT_RUN);
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("cannot read the token file")
    );

    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = parse_args(&["http://127.0.0.1:9/mcp", "-H", "Authorization: Bearer x"]);
    let code = doctor::run(args.unwrap(), &mut out, &mut err).await;
    assert_eq!(code, doctor::EXIT_NOT_RUN);
    assert!(String::from_utf8(err).unwrap().contains("--token-file"));

    // Nothing listens on port 9: a failure, said as such.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = doctor::run(
        parse_args(&["http://127.0.0.1:9/mcp"]).unwrap(),
        &mut out,
        &mut err,
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("could not be reached")
    );
    assert!(parse_args(&["--timeout", "0", "http://x"]).is_err());
}

/// `POST /api/doctor`, in-process: the report in an envelope, and bad input refused with 400.
#[tokio::test]
async fn the_api_audits_a_url_and_refuses_what_it_cannot_audit() {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use keyhole_server::web::security::ApiToken;
    use keyhole_server::web::{AppState, app};
    use tower::ServiceExt;

    let bed = testbed(&[]).await;
    let post = |body: Value| {
        let router = app(AppState::new(
            ApiToken::pinned("doctor-test-token").unwrap(),
            "127.0.0.1:6274".parse().unwrap(),
        ));
        let request = Request::post("/api/doctor")
            .header("Host", "127.0.0.1:6274")
            .header("X-Keyhole-Token", "doctor-test-token")
            .header("Content-Type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let url = bed.mcp_url("err500").unwrap();
    let (status, reply) = post(json!({"url": url, "headers": {"X-Trace": "1"}})).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["summary"]["failures"], 2, "{reply}");

    for bad in [
        json!({"url": "ftp://example.com/mcp"}),
        json!({"url": "not a url"}),
        json!({"url": url, "headers": {"Authorization": "Bearer x"}}),
        json!({"url": url, "headers": {"bad name": "x"}}),
        json!({"url": url, "token": "x"}),
    ] {
        let (status, reply) = post(bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {reply}");
    }
}
