//! The authorization-code machinery shared by the authorization server and the IdP: parsing and
//! checking an authorization request, pending (not yet approved) requests, single-use codes bound
//! to PKCE S256, and redirects back to the client carrying `iss` (RFC 9207).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::clients::{ClientRegistry, RegisteredClient};
use crate::config::UserConfig;
use crate::oauth_http::OAuthError;
use crate::support::{now_secs, random_string, random_token, sha256_base64url};

/// How long a login/consent page stays usable.
const PENDING_LIFETIME_SECS: u64 = 600;

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: RegisteredClient,
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub code_challenge: String,
    /// The raw `scope` parameter, split.
    pub scopes: Vec<String>,
    pub resource: Option<String>,
    pub nonce: Option<String>,
}

/// Why an authorization request failed: shown on a page when the redirect URI cannot be trusted,
/// otherwise sent back to the client.
#[derive(Debug)]
pub enum AuthorizeError {
    Page(String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthorizeError {
    pub fn redirect(
        request: &AuthorizationRequest,
        error: &'static str,
        description: &str,
    ) -> Self {
        AuthorizeError::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error,
            description: description.to_string(),
        }
    }

    pub fn into_response(self, issuer: &str, page_title: &str) -> Response {
        match self {
            AuthorizeError::Page(message) => (
                StatusCode::BAD_REQUEST,
                axum::response::Html(crate::pages::error_page(page_title, &message)),
            )
                .into_response(),
            AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => redirect_to_client(
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
                issuer,
            ),
        }
    }
}

/// Parses a query string or form body into `(name, value)` pairs, in order.
pub fn parse_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of a parameter.
pub fn first_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The configured user with these credentials.
pub fn check_credentials<'a>(
    users: &'a [UserConfig],
    username: &str,
    password: &str,
) -> Option<&'a UserConfig> {
    users
        .iter()
        .find(|user| user.username == username && user.password == password)
}

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, String> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("parameter `{name}` is repeated"));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// Checks client, redirect URI, response type and PKCE of an authorization request.
pub fn check_request(
    clients: &ClientRegistry,
    params: &[(String, String)],
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = single(params, "client_id")
        .map_err(page)?
        .ok_or_else(|| page("the request has no client_id".into()))?;
    let client = clients
        .get(client_id)
        .ok_or_else(|| page(format!("unknown client `{client_id}`")))?;
    let sent_redirect_uri = single(params, "redirect_uri").map_err(page)?;
    let redirect_uri = match sent_redirect_uri {
        Some(uri) if client.allows_redirect_uri(uri) => uri.to_string(),
        Some(uri) => return Err(page(format!("redirect_uri `{uri}` is not registered"))),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(page("the request has no redirect_uri".into())),
    };
    let state = single(params, "state").ok().flatten().map(str::to_string);
    let fail = |error: &'static str, description: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description,
    };
    let get = |name: &str| single(params, name).map_err(|e| fail("invalid_request", e));
    if get("response_type")? != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "only response_type=code is supported".into(),
        ));
    }
    let code_challenge = get("code_challenge")?.ok_or_else(|| {
        fail(
            "invalid_request",
            "PKCE is required: send code_challenge".into(),
        )
    })?;
    if get("code_challenge_method")? != Some("S256") {
        return Err(fail(
            "invalid_request",
            "code_challenge_method must be S256".into(),
        ));
    }
    let valid_challenge = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_challenge {
        return Err(fail(
            "invalid_request",
            "code_challenge must be base64url(SHA-256(code_verifier))".into(),
        ));
    }
    Ok(AuthorizationRequest {
        scopes: crate::support::parse_scopes(get("scope")?.unwrap_or("")),
        resource: get("resource")?.map(str::to_string),
        nonce: get("nonce")?.map(str::to_string),
        client,
        redirect_uri: redirect_uri.clone(),
        redirect_uri_sent: sent_redirect_uri.is_some(),
        state: state.clone(),
        code_challenge: code_challenge.to_string(),
    })
}

/// A `303 See Other` to the client's redirect URI with `params`, `state` and `iss`.
pub fn redirect_to_client(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "invalid redirect_uri").into_response();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
}

/// A request waiting for login and consent.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    pub request: AuthorizationRequest,
    /// The signed-in user, once the login form was accepted.
    pub user: Option<String>,
    created_at: u64,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub request: AuthorizationRequest,
    pub subject: String,
    pub granted_scopes: Vec<String>,
    /// Identifies every token descended from this code.
    pub family: String,
    expires_at: u64,
}

#[derive(Default)]
struct FlowTables {
    pending: HashMap<String, PendingAuthorization>,
    codes: HashMap<String, IssuedCode>,
    /// Redeemed codes and the family they started, to catch replays.
    redeemed: HashMap<String, String>,
}

/// Pending requests and codes of one authorization endpoint.
#[derive(Default)]
pub struct AuthorizationFlows {
    tables: Mutex<FlowTables>,
}

impl AuthorizationFlows {
    fn tables(&self) -> MutexGuard<'_, FlowTables> {
        self.tables
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Stores a request until the user signs in; returns its id (used in the forms).
    pub fn start(&self, request: AuthorizationRequest) -> String {
        let id = random_string(18);
        let now = now_secs();
        let mut tables = self.tables();
        tables
            .pending
            .retain(|_, p| now < p.created_at + PENDING_LIFETIME_SECS);
        tables.pending.insert(
            id.clone(),
            PendingAuthorization {
                request,
                user: None,
                created_at: now,
            },
        );
        id
    }

    pub fn pending(&self, id: &str) -> Option<PendingAuthorization> {
        let now = now_secs();
        self.tables()
            .pending
            .get(id)
            .filter(|p| now < p.created_at + PENDING_LIFETIME_SECS)
            .cloned()
    }

    pub fn sign_in(&self, id: &str, user: &str) {
        if let Some(pending) = self.tables().pending.get_mut(id) {
            pending.user = Some(user.to_string());
        }
    }

    /// Removes a pending request (approved or denied).
    pub fn finish(&self, id: &str) -> Option<PendingAuthorization> {
        self.tables().pending.remove(id)
    }

    /// Issues a single-use code.
    pub fn issue_code(
        &self,
        request: AuthorizationRequest,
        subject: &str,
        granted_scopes: Vec<String>,
        lifetime_secs: u64,
    ) -> String {
        let code = random_token("kh_code_");
        let issued = IssuedCode {
            request,
            subject: subject.to_string(),
            granted_scopes,
            family: random_string(12),
            expires_at: now_secs() + lifetime_secs,
        };
        self.tables().codes.insert(code.clone(), issued);
        code
    }

    /// Redeems a code for `client`, checking redirect URI, lifetime and the PKCE verifier.
    /// A replayed code fails and returns the family whose tokens must be revoked.
    pub fn redeem_code(
        &self,
        code: &str,
        client: &RegisteredClient,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<IssuedCode, (OAuthError, Option<String>)> {
        let mut tables = self.tables();
        if let Some(family) = tables.redeemed.get(code) {
            return Err((
                OAuthError::invalid_grant("the authorization code was already used"),
                Some(family.clone()),
            ));
        }
        let issued = tables.codes.remove(code).ok_or_else(|| {
            (
                OAuthError::invalid_grant("unknown authorization code"),
                None,
            )
        })?;
        tables
            .redeemed
            .insert(code.to_string(), issued.family.clone());
        drop(tables);
        let invalid = |description: &str| Err((OAuthError::invalid_grant(description), None));
        if now_secs() >= issued.expires_at {
            return invalid("the authorization code has expired");
        }
        if issued.request.client.client_id != client.client_id {
            return invalid("the authorization code was issued to another client");
        }
        // RFC 6749 §4.1.3: required, and identical, when the authorization request had one.
        let redirect_ok = match redirect_uri {
            Some(uri) => uri == issued.request.redirect_uri,
            None => !issued.request.redirect_uri_sent,
        };
        if !redirect_ok {
            return invalid("redirect_uri is missing or does not match the authorization request");
        }
        let Some(verifier) = code_verifier else {
            return Err((
                OAuthError::invalid_request("code_verifier is required (PKCE)"),
                None,
            ));
        };
        if sha256_base64url(verifier) != issued.request.code_challenge {
            return invalid("PKCE verification failed: code_verifier does not match");
        }
        Ok(issued)
    }
}
