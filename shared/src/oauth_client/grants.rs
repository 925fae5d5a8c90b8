//! The token endpoint: the authorization-code exchange, the refresh grant and client
//! credentials, each carrying the RFC 8707 `resource`, plus the checks on what comes back.

use super::OAuthClientError;
use super::client_auth::{ClientCredentials, authenticate};
use super::ema::{ID_JAG_TOKEN_TYPE, ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT};
use super::wire::{check_endpoint, read_answer, send};
use crate::dpop::ProofRequest;
use crate::http::{HttpClient, HttpRequest, HttpResponse};
use crate::random::Entropy;
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::tokens::TokenResponse;

/// Where and as whom a token request is made.
#[derive(Clone, Copy, Debug)]
pub struct TokenEndpoint<'a> {
    pub url: &'a str,
    /// The authorization server's issuer (the audience of client assertions).
    pub issuer: &'a str,
    pub client: ClientCredentials<'a>,
    /// The key (`dpop::key_id`) whose possession the request proves, for DPoP-bound tokens.
    pub dpop_key: Option<&'a str>,
}

/// One grant's own parameters.
#[derive(Clone, Debug)]
pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a Secret,
        redirect_uri: &'a str,
        verifier: &'a Secret,
    },
    Refresh {
        refresh_token: &'a Secret,
        /// Narrows the grant when given; a refresh can never widen it.
        scope: Option<&'a ScopeSet>,
    },
    ClientCredentials {
        scope: &'a ScopeSet,
    },
    /// RFC 7523 §2.1 with an assertion (the ID-JAG in enterprise-managed authorization, or a
    /// workload's identity token in workload identity federation).
    JwtBearer {
        assertion: &'a Secret,
        scope: Option<&'a ScopeSet>,
    },
    /// RFC 8693 at the enterprise IdP: ID token → ID-JAG for `audience`.
    IdJagExchange {
        id_token: &'a Secret,
        audience: &'a str,
        scope: &'a ScopeSet,
    },
}

/// RFC 7523 §2.1.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl Grant<'_> {
    pub fn step(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => "token (authorization code)",
            Self::Refresh { .. } => "token (refresh)",
            Self::ClientCredentials { .. } => "token (client credentials)",
            Self::JwtBearer { .. } => "token (JWT bearer)",
            Self::IdJagExchange { .. } => "token exchange (ID token → ID-JAG)",
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let scope =
            |set: &ScopeSet| (!set.is_empty()).then(|| pair("scope", &set.to_scope_string()));
        match self {
            Self::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
            } => vec![
                pair("grant_type", "authorization_code"),
                pair("code", code.expose()),
                pair("redirect_uri", redirect_uri),
                pair("code_verifier", verifier.expose()),
            ],
            Self::Refresh {
                refresh_token,
                scope: narrowed,
            } => {
                let mut params = vec![
                    pair("grant_type", "refresh_token"),
                    pair("refresh_token", refresh_token.expose()),
                ];
                params.extend(narrowed.and_then(scope));
                params
            }
            Self::ClientCredentials { scope: wanted } => {
                let mut params = vec![pair("grant_type", "client_credentials")];
                params.extend(scope(wanted));
                params
            }
            Self::JwtBearer {
                assertion,
                scope: wanted,
            } => {
                let mut params = vec![
                    pair("grant_type", JWT_BEARER_GRANT),
                    pair("assertion", assertion.expose()),
                ];
                params.extend(wanted.and_then(scope));
                params
            }
            Self::IdJagExchange {
                id_token,
                audience,
                scope: wanted,
            } => {
                let mut params = vec![
                    pair("grant_type", TOKEN_EXCHANGE_GRANT),
                    pair("requested_token_type", ID_JAG_TOKEN_TYPE),
                    pair("subject_token", id_token.expose()),
                    pair("subject_token_type", ID_TOKEN_TYPE),
                    pair("audience", audience),
                ];
                params.extend(scope(wanted));
                params
            }
        }
    }
}

/// POSTs `grant` to `endpoint` with the client's authentication and returns the raw answer.
/// `resource` is the RFC 8707 indicator (omitted for the JWT-bearer grant, whose assertion
/// already names it).
pub async fn post_grant(
    http: &impl HttpClient,
    entropy: &impl Entropy,
    now: u64,
    endpoint: TokenEndpoint<'_>,
    grant: &Grant<'_>,
    resource: Option<&str>,
) -> Result<HttpResponse, OAuthClientError> {
    let step = grant.step();
    check_endpoint(endpoint.url, step)?;
    let Some(key_id) = endpoint.dpop_key else {
        let request = grant_request(entropy, now, endpoint, grant, resource)?;
        return send(http, request, step).await;
    };
    // RFC 9449 §8: a server that wants a nonce answers 400 `use_dpop_nonce` with one; the retry
    // carries a fresh proof and a fresh client assertion.
    let proof = ProofRequest {
        key_id: key_id.to_owned(),
        htm: "POST".into(),
        url: endpoint.url.to_owned(),
        nonce: None,
        access_token: None,
    };
    let failed = |e: crate::dpop::DpopError| OAuthClientError::invalid(step, e.to_string());
    crate::dpop::send_with_nonce_retry(http, proof, failed, |signed| async move {
        let request = grant_request(entropy, now, endpoint, grant, resource)?
            .with_header(crate::dpop::PROOF_HEADER, signed);
        send(http, request, step).await
    })
    .await
}

/// The form POST of `grant`, with the client's authentication.
fn grant_request(
    entropy: &impl Entropy,
    now: u64,
    endpoint: TokenEndpoint<'_>,
    grant: &Grant<'_>,
    resource: Option<&str>,
) -> Result<HttpRequest, OAuthClientError> {
    let mut form = grant.params();
    if let Some(resource) = resource {
        form.push(("resource".into(), resource.to_owned()));
    }
    let mut headers = Vec::new();
    authenticate(
        endpoint.client,
        endpoint.issuer,
        now,
        entropy,
        &mut form,
        &mut headers,
    )?;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut request = HttpRequest::post_form(endpoint.url, &pairs);
    request.headers.extend(headers);
    Ok(request)
}

/// Performs `grant` at `endpoint` and checks the token response.
pub async fn request_token(
    http: &impl HttpClient,
    entropy: &impl Entropy,
    now: u64,
    endpoint: TokenEndpoint<'_>,
    grant: Grant<'_>,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthClientError> {
    let step = grant.step();
    let response = post_grant(http, entropy, now, endpoint, &grant, resource).await?;
    let tokens: TokenResponse = read_answer(&response, step)?;
    check_token_response(&tokens, step, endpoint.dpop_key.is_some())?;
    Ok(tokens)
}

/// Token types compare case-insensitively; bearer tokens are usable with MCP, and DPoP-bound ones
/// when the request proved possession of a key (`dpop`).
pub(crate) fn check_token_response(
    tokens: &TokenResponse,
    step: &str,
    dpop: bool,
) -> Result<(), OAuthClientError> {
    if tokens.access_token.expose().is_empty() {
        return Err(OAuthClientError::invalid(step, "empty access_token"));
    }
    let bound = dpop
        && tokens
            .token_type
            .eq_ignore_ascii_case(crate::dpop::TOKEN_TYPE);
    if !bound && !tokens.token_type.eq_ignore_ascii_case("bearer") {
        return Err(OAuthClientError::invalid(
            step,
            format!("unsupported token_type `{}`", tokens.token_type),
        ));
    }
    Ok(())
}
