//! The MCP requests of the audit: `initialize` without a token (the 401 and its challenge), with a
//! made-up token and with a token for another audience (both must be 401), and with the token the
//! user gave (accepted, or a well-formed 403 scope challenge).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{DoctorOptions, Findings, cors};
use crate::challenge::{AuthChallenge, ChallengeContext};
use crate::http::{HttpClient, HttpMethod, HttpRequest, HttpResponse};
use crate::random::{Entropy, random_token};
use crate::secret::Secret;
use crate::www_authenticate::{DiagnosticKind, ParsedHeader, parse};

/// The audience of the made-up JWT: a resource that is not the server under test.
pub const OTHER_AUDIENCE: &str = "https://another-resource.invalid/mcp";

/// The 401 challenge, as far as the rest of the audit needs it.
#[derive(Clone, Debug, Default)]
pub struct Challenge {
    pub resource_metadata: Option<String>,
    /// The challenge as recovery reads it (scopes, reason).
    pub auth: Option<Box<AuthChallenge>>,
}

/// What the server did with a request that carried no token.
pub enum Unauthenticated {
    /// 401 with a Bearer challenge: the audit goes on.
    Challenged(Challenge),
    /// Served without a token: the server does not use authorization.
    Open,
    /// Unreachable, or an answer nothing more can be learnt from.
    Unusable,
}

/// `initialize` as a 2025-11-25 client sends it.
pub(super) fn initialize(options: &DoctorOptions, token: Option<&str>, step: &str) -> HttpRequest {
    let body = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "keyhole-doctor", "version": crate::VERSION}
        }
    });
    let mut request = HttpRequest {
        method: HttpMethod::Post,
        url: options.server_url.clone(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "accept".into(),
                "application/json, text/event-stream".into(),
            ),
        ],
        body: body.to_string().into_bytes(),
        step: Some(step.to_owned()),
    };
    for (name, value) in &options.headers {
        if !name.eq_ignore_ascii_case("authorization") {
            request.headers.push((name.clone(), value.clone()));
        }
    }
    if let Some(token) = token {
        request
            .headers
            .push(("authorization".into(), format!("Bearer {token}")));
    }
    request
}

/// Every `WWW-Authenticate` line of `response`.
fn challenge_lines(response: &HttpResponse) -> Vec<&[u8]> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, value)| value.as_bytes())
        .collect()
}

/// Every `WWW-Authenticate` line of `response`, parsed.
fn challenge_of(response: &HttpResponse) -> ParsedHeader {
    parse(&challenge_lines(response))
}

/// `Bearer error="…"` (or `DPoP error="…"`) of `response`, if any.
fn bearer_error(response: &HttpResponse) -> Option<String> {
    challenge_of(response)
        .bearer_or_dpop()
        .and_then(|bearer| bearer.param("error"))
        .map(str::to_owned)
}

pub(super) fn status_text(response: &HttpResponse) -> String {
    match response.header("www-authenticate") {
        Some(header) => format!("HTTP {} with `WWW-Authenticate: {header}`", response.status),
        None => format!("HTTP {} without `WWW-Authenticate`", response.status),
    }
}

/// The first request: no token.
pub async fn without_token(
    http: &impl HttpClient,
    options: &DoctorOptions,
    findings: &mut Findings,
) -> Unauthenticated {
    // No `Origin`: servers that defend against DNS rebinding refuse unknown origins, and that
    // must not hide the challenge (the CORS checks send one on their own requests).
    let request = initialize(options, None, "doctor: initialize without a token");
    let response = match http.send(request).await {
        Ok(response) => response,
        Err(error) => {
            findings.fail(
                "challenge-401",
                format!("the server could not be reached: {error}"),
            );
            return Unauthenticated::Unusable;
        }
    };
    if response.is_success() {
        findings.info(
            "challenge-401",
            format!(
                "HTTP {}: the server answered `initialize` without a token, so it does not use \
                 authorization; nothing more to check",
                response.status
            ),
        );
        return Unauthenticated::Open;
    }
    let parsed = challenge_of(&response);
    // A server that takes DPoP-bound tokens only challenges with the `DPoP` scheme (RFC 9449
    // §7.1), with the same parameters.
    let Some(bearer) = parsed.bearer_or_dpop().filter(|_| response.status == 401) else {
        findings.fail("challenge-401", status_text(&response));
        return Unauthenticated::Unusable;
    };
    findings.pass("challenge-401", status_text(&response));
    check_syntax(&parsed, findings);
    match bearer.param("error") {
        Some(error) => findings.warn(
            "challenge-no-error-without-token",
            format!("error=\"{error}\" although no token was sent"),
        ),
        None => findings.pass("challenge-no-error-without-token", "no error code"),
    }
    let resource_metadata = bearer.param("resource_metadata").map(str::to_owned);
    match &resource_metadata {
        Some(url) => findings.pass(
            "challenge-resource-metadata",
            format!("resource_metadata=\"{url}\""),
        ),
        None => findings.warn(
            "challenge-resource-metadata",
            "no `resource_metadata`: clients must try the well-known URLs",
        ),
    }
    match bearer.param("scope") {
        Some(scope) => findings.pass("challenge-scope", format!("scope=\"{scope}\"")),
        None => findings.warn("challenge-scope", "no `scope` in the 401 challenge"),
    }
    let auth = AuthChallenge::from_parsed(
        response.status,
        &parsed,
        &challenge_lines(&response),
        ChallengeContext::of_request("initialize", &json!({})),
    )
    .ok()
    .map(Box::new);
    cors::exposes_challenge(http, options, findings).await;
    Unauthenticated::Challenged(Challenge {
        resource_metadata,
        auth,
    })
}

fn check_syntax(parsed: &ParsedHeader, findings: &mut Findings) {
    let problems: Vec<&str> = parsed
        .diagnostics
        .iter()
        // A scope-less `insufficient_scope` is judged by its own rule.
        .filter(|d| d.kind != DiagnosticKind::InsufficientScopeWithoutScope)
        .map(|d| d.message.as_str())
        .collect();
    if problems.is_empty() {
        findings.pass("challenge-syntax", "the challenge parses cleanly");
    } else {
        findings.warn(
            "challenge-syntax",
            format!(
                "tolerated by Keyhole, may break stricter clients: {}",
                problems.join("; ")
            ),
        );
    }
}

/// A JWT-shaped access token for [`OTHER_AUDIENCE`], with a signature no key made.
fn other_audience_jwt(entropy: &impl Entropy, issuer: Option<&str>, now_secs: u64) -> String {
    let encode = |value: serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let header = encode(json!({"alg": "ES256", "typ": "at+jwt", "kid": "keyhole-doctor"}));
    let claims = encode(json!({
        "iss": issuer.unwrap_or("https://keyhole-doctor.invalid"),
        "aud": OTHER_AUDIENCE,
        "sub": "keyhole-doctor",
        "client_id": "keyhole-doctor",
        "iat": now_secs,
        "exp": now_secs + 300,
        "jti": random_token(entropy, 16),
    }));
    format!("{header}.{claims}.{}", random_token(entropy, 64))
}

/// Judges the answer to a token the server must refuse with 401.
fn judge_refusal(rule: &str, what: &str, response: &HttpResponse, findings: &mut Findings) {
    let status = response.status;
    match status {
        401 if bearer_error(response).is_some_and(|e| e.eq_ignore_ascii_case("invalid_token")) => {
            findings.pass(rule, format!("{what}: {}", status_text(response)));
        }
        401 => findings.warn(
            rule,
            format!(
                "{what}: {} — refused, but without `error=\"invalid_token\"` (RFC 6750 §3.1)",
                status_text(response)
            ),
        ),
        200..=299 => findings.fail(
            rule,
            format!("{what}: HTTP {status}, accepted — the server does not validate tokens"),
        ),
        500..=599 => findings.fail(
            rule,
            format!(
                "{what}: HTTP {status} — a client takes a server error for an outage and will \
                 neither refresh nor sign in again"
            ),
        ),
        _ => findings.fail(rule, format!("{what}: {}, not 401", status_text(response))),
    }
}

/// A made-up opaque token, then a JWT for another audience: both must be refused with 401.
pub async fn made_up_tokens(
    http: &impl HttpClient,
    entropy: &impl Entropy,
    options: &DoctorOptions,
    issuer: Option<&str>,
    findings: &mut Findings,
) {
    let made_up = format!("keyhole-doctor-{}", random_token(entropy, 24));
    let request = initialize(
        options,
        Some(&made_up),
        "doctor: initialize with a made-up token",
    );
    match http.send(request).await {
        Ok(response) => judge_refusal("invalid-token-401", "a made-up token", &response, findings),
        Err(error) => findings.fail("invalid-token-401", format!("no answer: {error}")),
    }
    let jwt = other_audience_jwt(entropy, issuer, options.now_secs);
    let request = initialize(
        options,
        Some(&jwt),
        "doctor: initialize with a token for another audience",
    );
    match http.send(request).await {
        Ok(response) => judge_refusal(
            "audience-401",
            &format!("a JWT for `{OTHER_AUDIENCE}` (its signature is not valid either)"),
            &response,
            findings,
        ),
        Err(error) => findings.fail("audience-401", format!("no answer: {error}")),
    }
}

/// The user's token: accepted, or refused for a scope with a well-formed 403.
/// `bound`: the token is DPoP-bound, so it goes with the `DPoP` scheme and a proof of the
/// server's key (once more with the server's nonce if it demands one, RFC 9449 §9).
pub async fn with_token(
    http: &impl HttpClient,
    options: &DoctorOptions,
    token: &Secret,
    bound: bool,
    findings: &mut Findings,
) {
    let response = match send_with_token(http, options, token, bound).await {
        Ok(response) => response,
        Err(error) => {
            findings.fail("token-accepted", format!("no answer: {error}"));
            return;
        }
    };
    if response.is_success() {
        findings.pass("token-accepted", format!("HTTP {}", response.status));
        findings.info(
            "insufficient-scope-403",
            "not checked: the token holds every scope `initialize` needs",
        );
        return;
    }
    findings.warn("token-accepted", status_text(&response));
    if response.status != 403 {
        return;
    }
    let parsed = challenge_of(&response);
    let bearer = parsed.bearer_or_dpop();
    let error = bearer.and_then(|b| b.param("error"));
    let scope = bearer
        .and_then(|b| b.param("scope"))
        .filter(|s| !s.trim().is_empty());
    match (error, scope) {
        (Some(error), Some(scope)) if error.eq_ignore_ascii_case("insufficient_scope") => {
            findings.pass(
                "insufficient-scope-403",
                format!("403 names the needed scopes: scope=\"{scope}\""),
            );
        }
        (Some(error), None) if error.eq_ignore_ascii_case("insufficient_scope") => findings.warn(
            "insufficient-scope-403",
            "403 `insufficient_scope` without `scope`: a client cannot know what to ask for",
        ),
        _ => findings.warn(
            "insufficient-scope-403",
            format!(
                "{}: not an `insufficient_scope` challenge",
                status_text(&response)
            ),
        ),
    }
}

/// `initialize` with `token`: as a bearer token, or (`bound`) with the `DPoP` scheme and a proof.
async fn send_with_token(
    http: &impl HttpClient,
    options: &DoctorOptions,
    token: &Secret,
    bound: bool,
) -> Result<HttpResponse, String> {
    let step = "doctor: initialize with the given token";
    let mut request = initialize(options, Some(token.expose()), step);
    if !bound {
        return http.send(request).await.map_err(|e| e.to_string());
    }
    let scheme = format!("{} {}", crate::dpop::SCHEME, token.expose());
    for (name, value) in request.headers.iter_mut() {
        if name.eq_ignore_ascii_case("authorization") {
            *value = scheme.clone();
        }
    }
    let proof = crate::dpop::ProofRequest {
        key_id: crate::dpop::key_id(&options.server_url),
        htm: "POST".into(),
        url: options.server_url.clone(),
        nonce: None,
        access_token: Some(token.clone()),
    };
    let failed = |e: crate::dpop::DpopError| e.to_string();
    crate::dpop::send_with_nonce_retry(http, proof, failed, |signed| {
        let attempt = request
            .clone()
            .with_header(crate::dpop::PROOF_HEADER, signed);
        async move { http.send(attempt).await.map_err(|e| e.to_string()) }
    })
    .await
}
