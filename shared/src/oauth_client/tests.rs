//! Odd answers from servers, over a fake HTTP client: each must give a clear error, never a
//! panic, and never echo a credential.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::executor::block_on;

use super::client_auth::ClientCredentials;
use super::grants::{Grant, TokenEndpoint, request_token};
use super::identity::{ClientConfig, ClientRegistration, RegistrationSource, register_dynamically};
use super::ids::{ClientId, TokenEndpointAuthMethod};
use super::{AuthorizationServerMetadata, OAuthClientError};
use crate::http::{HttpClient, HttpError, HttpRequest, HttpResponse};
use crate::random::Entropy;
use crate::scopes::ScopeSet;
use crate::secret::Secret;

/// Answers by URL; records requests.
#[derive(Default)]
struct FakeHttp {
    answers: HashMap<String, HttpResponse>,
    seen: Mutex<Vec<HttpRequest>>,
}

impl FakeHttp {
    fn answer(mut self, url: &str, response: HttpResponse) -> Self {
        self.answers.insert(url.to_owned(), response);
        self
    }
}

impl HttpClient for FakeHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let answer = self.answers.get(&request.url).cloned();
        self.seen.lock().unwrap().push(request);
        answer.ok_or(HttpError::Transport("connection refused".into()))
    }
}

struct Zeros;
impl Entropy for Zeros {
    fn fill(&self, bytes: &mut [u8]) {
        bytes.fill(7);
    }
}

const TOKEN_URL: &str = "https://as.example/token";

fn registration() -> ClientRegistration {
    ClientRegistration {
        client_id: ClientId::new("c"),
        client_secret: None,
        auth_method: TokenEndpointAuthMethod::None,
        source: RegistrationSource::PreRegistered,
        client_secret_expires_at: None,
        registered_at: None,
    }
}

fn refresh(http: &FakeHttp) -> Result<crate::tokens::TokenResponse, OAuthClientError> {
    let registration = registration();
    let endpoint = TokenEndpoint {
        url: TOKEN_URL,
        issuer: "https://as.example",
        client: ClientCredentials::new(&registration),
        dpop_key: None,
    };
    let refresh_token = Secret::new("RT-SECRET");
    let grant = Grant::Refresh {
        refresh_token: &refresh_token,
        scope: None,
    };
    block_on(request_token(
        http,
        &Zeros,
        0,
        endpoint,
        grant,
        Some("https://rs/mcp"),
    ))
}

#[test]
fn token_responses_that_cannot_be_used() {
    let cases = [
        (
            HttpResponse::new(200, "AT-SECRET not json"),
            "not valid JSON",
        ),
        (
            HttpResponse::json(200, &serde_json::json!({"access_token": "AT-SECRET"})),
            "missing",
        ),
        (
            HttpResponse::json(
                200,
                &serde_json::json!({"access_token": "AT-SECRET", "token_type": "mac"}),
            ),
            "unsupported token_type",
        ),
        (
            HttpResponse::json(
                200,
                &serde_json::json!({"access_token": "", "token_type": "Bearer"}),
            ),
            "empty access_token",
        ),
        (HttpResponse::new(502, "<html>bad gateway</html>"), "502"),
    ];
    for (response, expected) in cases {
        let http = FakeHttp::default().answer(TOKEN_URL, response);
        let error = refresh(&http).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
        assert!(
            !error.contains("AT-SECRET") && !error.contains("RT-SECRET"),
            "{error}"
        );
    }
}

#[test]
fn oauth_errors_are_read_and_the_request_is_complete() {
    let body = serde_json::json!({"error": "invalid_grant", "error_description": "expired"});
    let http = FakeHttp::default().answer(TOKEN_URL, HttpResponse::json(400, &body));
    let error = refresh(&http).unwrap_err();
    assert_eq!(error.oauth_error().unwrap().error, "invalid_grant");
    let seen = http.seen.lock().unwrap();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&seen[0].body).unwrap();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["resource"], "https://rs/mcp");
    assert_eq!(form["client_id"], "c");
    assert!(!form.contains_key("scope"));
}

#[test]
fn transport_failures_and_insecure_endpoints() {
    let error = refresh(&FakeHttp::default()).unwrap_err();
    assert!(matches!(error, OAuthClientError::Http { .. }), "{error}");
    let registration = registration();
    let endpoint = TokenEndpoint {
        url: "http://as.example/token",
        issuer: "http://as.example",
        client: ClientCredentials::new(&registration),
        dpop_key: None,
    };
    let grant = Grant::ClientCredentials {
        scope: &ScopeSet::new(),
    };
    let http = FakeHttp::default();
    let error = block_on(request_token(&http, &Zeros, 0, endpoint, grant, None)).unwrap_err();
    assert!(error.to_string().contains("https"), "{error}");
    assert!(http.seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn registration_answers_that_cannot_be_used() {
    let metadata: AuthorizationServerMetadata = serde_json::from_value(serde_json::json!({
        "issuer": "https://as.example",
        "registration_endpoint": "https://as.example/register",
    }))
    .unwrap();
    let config = ClientConfig::new("http://127.0.0.1:1/cb");
    for body in [
        serde_json::json!({"client_id": ""}),
        serde_json::json!({"client_secret": "S"}),
        serde_json::json!({"client_id": 5}),
    ] {
        let http = FakeHttp::default().answer(
            "https://as.example/register",
            HttpResponse::json(201, &body),
        );
        let error = block_on(register_dynamically(&http, &metadata, &config)).unwrap_err();
        assert!(
            matches!(error, OAuthClientError::InvalidDocument { .. }),
            "{error}"
        );
    }
    let refused = serde_json::json!({"error": "invalid_redirect_uri"});
    let http = FakeHttp::default().answer(
        "https://as.example/register",
        HttpResponse::json(400, &refused),
    );
    let error = block_on(register_dynamically(&http, &metadata, &config)).unwrap_err();
    assert_eq!(error.oauth_error().unwrap().error, "invalid_redirect_uri");
    // A confidential registration keeps the secret it was given.
    let http = FakeHttp::default().answer(
        "https://as.example/register",
        HttpResponse::json(
            201,
            &serde_json::json!({"client_id": "x", "client_secret": "S-1"}),
        ),
    );
    let registered = block_on(register_dynamically(&http, &metadata, &config)).unwrap();
    assert_eq!(
        registered.auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert!(!format!("{registered:?}").contains("S-1"));
}

/// The Python SDK's token endpoint (`mcp.server.auth`) reads `client_id` from the form body
/// whatever the method; RFC 6749 §3.2.1 allows it alongside HTTP Basic.
#[test]
fn basic_authentication_also_names_the_client_in_the_body() {
    let body = serde_json::json!({"access_token": "AT", "token_type": "Bearer"});
    let http = FakeHttp::default().answer(TOKEN_URL, HttpResponse::json(200, &body));
    let registration = ClientRegistration {
        client_id: ClientId::new("c:1"),
        client_secret: Some(Secret::new("S")),
        auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        source: RegistrationSource::Dynamic,
        client_secret_expires_at: None,
        registered_at: None,
    };
    let endpoint = TokenEndpoint {
        url: TOKEN_URL,
        issuer: "https://as.example",
        client: ClientCredentials::new(&registration),
        dpop_key: None,
    };
    let refresh_token = Secret::new("RT");
    let grant = Grant::Refresh {
        refresh_token: &refresh_token,
        scope: None,
    };
    block_on(request_token(&http, &Zeros, 0, endpoint, grant, None)).unwrap();
    let seen = http.seen.lock().unwrap();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&seen[0].body).unwrap();
    assert_eq!(form["client_id"], "c:1");
    assert!(
        !form.contains_key("client_secret"),
        "the secret goes in the header only"
    );
    let basic = seen[0]
        .headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .map(|(_, value)| value.clone());
    assert!(basic.is_some_and(|b| b.starts_with("Basic ")));
}

/// Answers from a script in order; signs "proofs" that only say which nonce they carry.
struct NonceDemanding {
    answers: Mutex<Vec<HttpResponse>>,
    seen: Mutex<Vec<HttpRequest>>,
}

impl HttpClient for NonceDemanding {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.seen.lock().unwrap().push(request);
        Ok(self.answers.lock().unwrap().remove(0))
    }

    async fn dpop_proof(
        &self,
        request: &crate::dpop::ProofRequest,
    ) -> Result<String, crate::dpop::DpopError> {
        assert_eq!(
            (request.htm.as_str(), request.url.as_str()),
            ("POST", TOKEN_URL)
        );
        assert!(
            request.access_token.is_none(),
            "no ath at the token endpoint"
        );
        Ok(format!(
            "proof-{}-{}",
            request.key_id,
            request.nonce.as_deref().unwrap_or("none")
        ))
    }
}

fn dpop_refresh(
    answers: Vec<HttpResponse>,
) -> (
    Result<crate::tokens::TokenResponse, OAuthClientError>,
    Vec<String>,
) {
    let http = NonceDemanding {
        answers: Mutex::new(answers),
        seen: Mutex::default(),
    };
    let registration = registration();
    let endpoint = TokenEndpoint {
        url: TOKEN_URL,
        issuer: "https://as.example",
        client: ClientCredentials::new(&registration),
        dpop_key: Some("https://rs/mcp"),
    };
    let refresh_token = Secret::new("RT");
    let grant = Grant::Refresh {
        refresh_token: &refresh_token,
        scope: None,
    };
    let result = block_on(request_token(&http, &Zeros, 0, endpoint, grant, None));
    let proofs = http
        .seen
        .into_inner()
        .unwrap()
        .iter()
        .map(|r| r.header("dpop").unwrap_or("-").to_owned())
        .collect();
    (result, proofs)
}

#[test]
fn a_dpop_token_request_retries_once_with_the_servers_nonce() {
    let demand = || {
        HttpResponse::json(400, &serde_json::json!({"error": "use_dpop_nonce"}))
            .with_header("DPoP-Nonce", "n1")
    };
    let bound = HttpResponse::json(
        200,
        &serde_json::json!({"access_token": "AT", "token_type": "DPoP", "expires_in": 60}),
    );
    let (result, proofs) = dpop_refresh(vec![demand(), bound.clone()]);
    assert_eq!(result.unwrap().token_type, "DPoP");
    assert_eq!(
        proofs,
        ["proof-https://rs/mcp-none", "proof-https://rs/mcp-n1"]
    );

    // A second demand is the server's answer, not a reason to loop.
    let (result, proofs) = dpop_refresh(vec![demand(), demand(), bound]);
    let error = result.unwrap_err().to_string();
    assert!(error.contains("use_dpop_nonce"), "{error}");
    assert_eq!(proofs.len(), 2);

    // A bearer answer to a DPoP request is usable (the server chose not to bind it).
    let bearer = HttpResponse::json(
        200,
        &serde_json::json!({"access_token": "AT", "token_type": "Bearer"}),
    );
    assert_eq!(dpop_refresh(vec![bearer]).0.unwrap().token_type, "Bearer");
}

#[test]
fn a_dpop_token_needs_a_proof_in_the_request() {
    // Without a proof, a server's `DPoP` token type is refused: Keyhole could not use it.
    let http = FakeHttp::default().answer(
        TOKEN_URL,
        HttpResponse::json(
            200,
            &serde_json::json!({"access_token": "AT", "token_type": "DPoP"}),
        ),
    );
    let error = refresh(&http).unwrap_err().to_string();
    assert!(error.contains("unsupported token_type"), "{error}");
}
