//! The guided sign-in (`keyhole_shared::doctor::guided`) walked step by step against the real
//! testbed with the real OAuth client: each step reports what the engine did, its exchanges and
//! its verdicts; the authorization request stops for the user, the callback goes on from there;
//! a broken configuration fails at the step (and rule) it breaks and stops the flow; nothing
//! secret survives serialisation. After it, the doctor's refresh check (`--refresh`) refreshes
//! the stored token and judges the rotation.

use crate::oauth_fixture;

use keyhole_server::native::native_http::SystemClock;
use keyhole_shared::doctor::guided::{GuidedSignIn, Step};
use keyhole_shared::doctor::refresh::check_refresh;
use keyhole_shared::doctor::{DoctorOptions, Verdict};
use keyhole_shared::recovery::Clock;
use oauth_fixture::{Bed, config};
use serde_json::json;

/// Runs steps until the flow stops, ends or waits for the user at the authorization server.
async fn run_until_user(bed: &Bed, guided: &mut GuidedSignIn) {
    while guided.next_step().is_some() && !guided.awaiting_callback() {
        let tape = &bed.client.http().observer;
        guided
            .run_next(&bed.client, tape, SystemClock.now_unix())
            .await
            .expect("a step ran");
    }
}

fn verdicts(guided: &GuidedSignIn) -> Vec<(Step, Verdict)> {
    guided.reports.iter().map(|r| (r.step, r.verdict)).collect()
}

#[tokio::test]
async fn the_clean_testbed_walks_every_step_and_the_token_works() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let mut guided = GuidedSignIn::new(server.clone(), Vec::new());
    run_until_user(&bed, &mut guided).await;
    assert!(guided.awaiting_callback(), "{:?}", verdicts(&guided));
    assert_eq!(guided.reports.len(), 5, "stopped before the callback");

    // The page leaves here; what it keeps must hold nothing secret and come back whole.
    let kept = serde_json::to_string(&guided).unwrap();
    let mut guided: GuidedSignIn = serde_json::from_str(&kept).unwrap();
    let authorization_url = guided.authorization_url.clone().expect("a URL to visit");
    let callback = bed.approve_all(&authorization_url).await;
    guided.arrive(callback.clone());
    run_until_user(&bed, &mut guided).await;
    assert_eq!(guided.next_step(), None);

    let steps: Vec<Step> = guided.reports.iter().map(|r| r.step).collect();
    assert_eq!(steps, Step::ALL.to_vec());
    for report in &guided.reports {
        assert_ne!(report.verdict, Verdict::Failure, "{report:#?}");
    }
    let step = |s: Step| guided.reports.iter().find(|r| r.step == s).unwrap();
    // Discovery: the URL the challenge named, answered, with the checks of its document.
    let prm = step(Step::ProtectedResource);
    assert!(
        prm.details[0].1.contains("resource_metadata") && prm.details[0].1.contains("HTTP 200"),
        "{:?}",
        prm.details
    );
    assert!(
        prm.findings
            .iter()
            .any(|f| f.rule == "prm-resource" && f.verdict == Verdict::Pass)
    );
    assert!(!prm.exchanges.is_empty());
    let as_step = step(Step::AuthorizationServer);
    for rule in ["as-issuer", "as-pkce-s256", "as-iss-parameter"] {
        assert!(
            as_step
                .findings
                .iter()
                .any(|f| f.rule == rule && f.verdict == Verdict::Pass),
            "{rule}: {:#?}",
            as_step.findings
        );
    }
    // Dynamic registration happened in its own step, with its exchange.
    let identity = step(Step::ClientIdentity);
    assert!(
        identity.summary.contains("registered just now"),
        "{}",
        identity.summary
    );
    assert!(
        identity
            .exchanges
            .iter()
            .any(|e| e.url.ends_with("/register"))
    );
    // Every parameter of the authorization request is explained.
    let request = step(Step::AuthorizationRequest);
    for name in [
        "code_challenge_method=S256",
        "resource=",
        "redirect_uri=",
        "state=",
    ] {
        assert!(
            request
                .details
                .iter()
                .any(|(label, _)| label.starts_with(name)),
            "{name}: {:?}",
            request.details
        );
    }
    assert!(
        step(Step::Callback)
            .findings
            .iter()
            .any(|f| f.rule == "callback-iss" && f.verdict == Verdict::Pass)
    );
    let token = step(Step::TokenRequest);
    assert!(token.exchanges.iter().any(|e| e.url.ends_with("/token")));
    assert!(
        token
            .findings
            .iter()
            .any(|f| f.rule == "token-refresh-issued" && f.verdict == Verdict::Pass)
    );
    let first = step(Step::FirstRequest);
    assert!(
        first
            .findings
            .iter()
            .any(|f| f.rule == "token-accepted" && f.verdict == Verdict::Pass)
    );

    // The tokens are the store's, as after a real sign-in; none of them, nor the code, is in
    // what the guided sign-in keeps or shows.
    let stored = bed.stored();
    let tokens = stored
        .credential(&server, None)
        .and_then(|c| c.tokens.clone())
        .expect("stored");
    let code = oauth_fixture::query_param(&callback, "code").unwrap();
    let shown = serde_json::to_string(&guided).unwrap();
    for secret in [
        tokens.access_token.expose(),
        tokens.refresh_token.as_ref().unwrap().expose(),
        code.as_str(),
    ] {
        assert!(!shown.contains(secret), "a secret is in the report");
    }
}

#[tokio::test]
async fn a_resource_for_another_server_fails_at_discovery_and_stops() {
    let mut config = config(false);
    config["servers"][0]["auth"]["flaws"] = json!(["resourceElsewhere"]);
    let bed = Bed::start(config).await;
    let mut guided = GuidedSignIn::new(bed.mcp_url("main"), Vec::new());
    run_until_user(&bed, &mut guided).await;
    assert_eq!(
        verdicts(&guided),
        vec![
            (Step::Challenge, Verdict::Pass),
            (Step::ProtectedResource, Verdict::Failure)
        ]
    );
    let prm = &guided.reports[1];
    assert!(
        prm.findings
            .iter()
            .any(|f| f.rule == "prm-resource" && f.verdict == Verdict::Failure && f.fix.is_some())
    );
    assert!(prm.summary.contains("stopped"), "{}", prm.summary);
    assert_eq!(guided.next_step(), None);
}

#[tokio::test]
async fn an_issuer_mismatch_fails_at_the_authorization_server_step() {
    let mut config = config(false);
    config["oauth"]["flaws"] = json!(["issuerMismatch"]);
    let bed = Bed::start(config).await;
    let mut guided = GuidedSignIn::new(bed.mcp_url("main"), Vec::new());
    run_until_user(&bed, &mut guided).await;
    let last = guided.reports.last().unwrap();
    assert_eq!(
        (last.step, last.verdict),
        (Step::AuthorizationServer, Verdict::Failure)
    );
    assert!(
        last.findings
            .iter()
            .any(|f| f.rule == "as-issuer" && f.verdict == Verdict::Failure)
    );
}

#[tokio::test]
async fn a_tampered_callback_fails_at_the_callback_and_nothing_is_exchanged() {
    let bed = Bed::start(config(false)).await;
    let mut guided = GuidedSignIn::new(bed.mcp_url("main"), Vec::new());
    run_until_user(&bed, &mut guided).await;
    let callback = bed
        .approve_all(guided.authorization_url.as_deref().unwrap())
        .await;
    let forged = oauth_fixture::with_param(&callback, "iss", Some("https://attacker.example"));
    guided.arrive(forged);
    run_until_user(&bed, &mut guided).await;
    let last = guided.reports.last().unwrap();
    assert_eq!(
        (last.step, last.verdict),
        (Step::Callback, Verdict::Failure)
    );
    assert!(
        last.findings
            .iter()
            .any(|f| f.rule == "callback-iss" && f.verdict == Verdict::Failure)
    );
    assert_eq!(bed.count_step("token (authorization code)"), 0);
}

/// Signs in to `main` through the guided sign-in, to the end.
async fn signed_in(bed: &Bed) -> GuidedSignIn {
    let mut guided = GuidedSignIn::new(bed.mcp_url("main"), Vec::new());
    run_until_user(bed, &mut guided).await;
    let callback = bed
        .approve_all(guided.authorization_url.as_deref().unwrap())
        .await;
    guided.arrive(callback);
    run_until_user(bed, &mut guided).await;
    assert_ne!(
        guided.verdict(),
        Verdict::Failure,
        "{:?}",
        verdicts(&guided)
    );
    assert_eq!(guided.next_step(), None);
    guided
}

fn refresh_verdicts(findings: &[keyhole_shared::doctor::Finding]) -> Vec<(String, Verdict)> {
    findings
        .iter()
        .filter(|f| f.rule.starts_with("refresh-") || f.rule == "token-accepted")
        .map(|f| (f.rule.clone(), f.verdict))
        .collect()
}

#[tokio::test]
async fn the_doctor_refreshes_the_stored_token_and_judges_rotation() {
    for (rotate, rotation) in [(true, Verdict::Pass), (false, Verdict::Warning)] {
        let bed = Bed::start(config(rotate)).await;
        let options = DoctorOptions::new(bed.mcp_url("main"), SystemClock.now_unix());
        // Nothing held yet: said, not failed.
        assert_eq!(
            refresh_verdicts(&check_refresh(&bed.client, &options).await),
            vec![("refresh-grant".to_owned(), Verdict::Info)]
        );
        signed_in(&bed).await;
        let before = bed.count_step("token (refresh)");
        assert_eq!(
            refresh_verdicts(&check_refresh(&bed.client, &options).await),
            vec![
                ("refresh-grant".to_owned(), Verdict::Pass),
                ("refresh-rotation".to_owned(), rotation),
                ("token-accepted".to_owned(), Verdict::Pass),
            ],
            "rotate: {rotate}"
        );
        assert_eq!(bed.count_step("token (refresh)"), before + 1, "one refresh");
    }
}

#[tokio::test]
async fn a_dpop_server_is_signed_in_with_a_bound_token_and_the_first_request_proves_it() {
    let mut settings = config(false);
    settings["servers"][0]["auth"]["dpop"] = json!("nonce");
    let bed = Bed::start(settings).await;
    let mut guided = GuidedSignIn::new(bed.mcp_url("main"), Vec::new());
    run_until_user(&bed, &mut guided).await;
    let authorization_url = guided.authorization_url.clone().expect("a URL to visit");
    guided.arrive(bed.approve_all(&authorization_url).await);
    run_until_user(&bed, &mut guided).await;
    for report in &guided.reports {
        assert_ne!(report.verdict, Verdict::Failure, "{report:#?}");
    }
    let step = |s: Step| guided.reports.iter().find(|r| r.step == s).unwrap();
    // The challenge used the DPoP scheme, and the doctor took it as the challenge.
    assert!(
        step(Step::Challenge)
            .findings
            .iter()
            .any(|f| f.rule == "challenge-401"
                && f.verdict == Verdict::Pass
                && f.observed.contains("DPoP"))
    );
    // The token request carried a proof (after the nonce demand), decoded in its exchange.
    let token_request = step(Step::TokenRequest);
    let proofs: Vec<&String> = token_request
        .exchanges
        .iter()
        .filter_map(|e| {
            e.request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("dpop"))
        })
        .map(|(_, v)| v)
        .collect();
    assert_eq!(proofs.len(), 2, "{:#?}", token_request.exchanges);
    assert!(proofs.iter().all(|p| p.ends_with("<signature removed>")));
    assert!(
        step(Step::FirstRequest)
            .findings
            .iter()
            .any(|f| f.rule == "token-accepted" && f.verdict == Verdict::Pass),
        "{:#?}",
        step(Step::FirstRequest)
    );
    let stored = bed.stored().credentials[0].tokens.clone().unwrap();
    assert_eq!(stored.token_type, "DPoP");
}
