//! The authorization endpoint of the authorization server: request checks (scopes, RFC 8707
//! resource), the login form, the consent page with partial consent, and `auto` approval.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::code_grant::{
    AuthorizationRequest, AuthorizeError, check_credentials, check_request, first_value,
    parse_pairs, redirect_to_client,
};
use crate::config::{AuthMode, ConsentMode};
use crate::pages::{ConsentForm, LoginForm, consent_page, error_page, login_page};
use crate::state::TestbedState;

const PAGE_TITLE: &str = "Keyhole testbed authorization server";

/// Scope and resource checks specific to this authorization server; fills in default scopes.
fn check_scope_and_resource(
    state: &TestbedState,
    mut request: AuthorizationRequest,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let oauth = &state.config.oauth;
    if request.scopes.is_empty() {
        request.scopes = oauth.default_scopes.clone();
    }
    if let Some(unknown) = request
        .scopes
        .iter()
        .find(|scope| !oauth.scopes_supported.contains(scope))
    {
        return Err(AuthorizeError::redirect(
            &request,
            "invalid_scope",
            &format!("unknown scope `{unknown}`"),
        ));
    }
    if let Some(resource) = &request.resource {
        match state.server_for_resource(resource) {
            None => {
                return Err(AuthorizeError::redirect(
                    &request,
                    "invalid_target",
                    &format!("unknown resource `{resource}`"),
                ));
            }
            Some(server) if server.config.auth.mode == AuthMode::Ema => {
                return Err(AuthorizeError::redirect(
                    &request,
                    "invalid_target",
                    "this resource only accepts enterprise-managed authorization (JWT-bearer grant with an ID-JAG)",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(request)
}

fn client_label(request: &AuthorizationRequest) -> String {
    request
        .client
        .client_name
        .clone()
        .unwrap_or_else(|| request.client.client_id.clone())
}

fn render_login(
    state: &TestbedState,
    request_id: &str,
    request: &AuthorizationRequest,
    error: Option<&str>,
) -> String {
    let oauth = &state.config.oauth;
    let credentials = if oauth.show_credentials {
        oauth
            .users
            .iter()
            .map(|u| (u.username.as_str(), u.password.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    login_page(&LoginForm {
        heading: "Sign in to the Keyhole testbed",
        action: "/oauth/login",
        request_id,
        client_name: &client_label(request),
        error,
        demo_credentials: credentials,
    })
}

/// Issues a code for the granted scopes and redirects back to the client.
fn approve(
    state: &TestbedState,
    request: AuthorizationRequest,
    user: &str,
    granted: Vec<String>,
) -> Response {
    let redirect_uri = request.redirect_uri.clone();
    let client_state = request.state.clone();
    let code = state.authz.flows.issue_code(
        request,
        user,
        granted,
        state.config.oauth.code_lifetime_secs,
    );
    redirect_to_client(
        &redirect_uri,
        &[("code", &code)],
        client_state.as_deref(),
        &state.urls.issuer(),
    )
}

/// `GET /oauth/authorize`.
pub async fn start(State(state): State<Arc<TestbedState>>, RawQuery(query): RawQuery) -> Response {
    let params = parse_pairs(query.unwrap_or_default().as_bytes());
    let request = match check_request(&state.authz.clients, &params)
        .and_then(|request| check_scope_and_resource(&state, request))
    {
        Ok(request) => request,
        Err(error) => return error.into_response(&state.urls.issuer(), PAGE_TITLE),
    };
    if state.config.oauth.consent == ConsentMode::Auto {
        let user = state.config.oauth.users[0].username.clone();
        let granted = request.scopes.clone();
        return approve(&state, request, &user, granted);
    }
    let request_id = state.authz.flows.start(request.clone());
    Html(render_login(&state, &request_id, &request, None)).into_response()
}

fn expired_page() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(error_page(
            PAGE_TITLE,
            "This authorization request is unknown or has expired. Start again from the client.",
        )),
    )
        .into_response()
}

/// `POST /oauth/login` (form: `request`, `username`, `password`).
pub async fn login(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    let form = parse_pairs(&body);
    let request_id = first_value(&form, "request").unwrap_or_default();
    let Some(pending) = state.authz.flows.pending(request_id) else {
        return expired_page();
    };
    let username = first_value(&form, "username").unwrap_or_default();
    let password = first_value(&form, "password").unwrap_or_default();
    if check_credentials(&state.config.oauth.users, username, password).is_none() {
        let page = render_login(
            &state,
            request_id,
            &pending.request,
            Some("Wrong username or password."),
        );
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    state.authz.flows.sign_in(request_id, username);
    let location = format!("/oauth/consent?request={request_id}");
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// `GET /oauth/consent?request=…`.
pub async fn show_consent(
    State(state): State<Arc<TestbedState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_pairs(query.unwrap_or_default().as_bytes());
    let request_id = first_value(&params, "request").unwrap_or_default();
    let Some(pending) = state.authz.flows.pending(request_id) else {
        return expired_page();
    };
    let Some(user) = &pending.user else {
        return Html(render_login(&state, request_id, &pending.request, None)).into_response();
    };
    Html(consent_page(&ConsentForm {
        action: "/oauth/consent",
        request_id,
        client_name: &client_label(&pending.request),
        user,
        resource: pending.request.resource.as_deref(),
        scopes: &pending.request.scopes,
    }))
    .into_response()
}

/// `POST /oauth/consent` (form: `request`, `action=approve|deny`, one `scope` per ticked box).
pub async fn decide_consent(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    let form = parse_pairs(&body);
    let request_id = first_value(&form, "request").unwrap_or_default();
    let Some(pending) = state.authz.flows.pending(request_id) else {
        return expired_page();
    };
    let Some(user) = pending.user.clone() else {
        return Html(render_login(&state, request_id, &pending.request, None)).into_response();
    };
    state.authz.flows.finish(request_id);
    let request = pending.request;
    if first_value(&form, "action") != Some("approve") {
        return redirect_to_client(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
            request.state.as_deref(),
            &state.urls.issuer(),
        );
    }
    let ticked: Vec<&str> = form
        .iter()
        .filter(|(name, _)| name == "scope")
        .map(|(_, value)| value.as_str())
        .collect();
    let granted: Vec<String> = request
        .scopes
        .iter()
        .filter(|scope| ticked.contains(&scope.as_str()))
        .cloned()
        .collect();
    approve(&state, request, &user, granted)
}
