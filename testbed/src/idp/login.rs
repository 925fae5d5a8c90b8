//! The IdP's authorization endpoint and login form (no consent step: the enterprise decides).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::IdentityProvider;
use crate::code_grant::{
    AuthorizationRequest, check_credentials, check_request, first_value, parse_pairs,
    redirect_to_client,
};
use crate::pages::{LoginForm, error_page, login_page};
use crate::state::TestbedState;

const PAGE_TITLE: &str = "Keyhole testbed enterprise IdP";
/// IdP authorization codes live as long as the authorization server's.
const CODE_LIFETIME_SECS: u64 = 60;

fn render_login(
    idp: &IdentityProvider,
    request_id: &str,
    request: &AuthorizationRequest,
    error: Option<&str>,
) -> String {
    let credentials = if idp.config.show_credentials {
        idp.config
            .users
            .iter()
            .map(|u| (u.username.as_str(), u.password.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    let client_name = request
        .client
        .client_name
        .clone()
        .unwrap_or_else(|| request.client.client_id.clone());
    login_page(&LoginForm {
        heading: "Sign in with your enterprise account",
        action: "/idp/login",
        request_id,
        client_name: &client_name,
        error,
        demo_credentials: credentials,
    })
}

fn missing_idp() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(error_page(PAGE_TITLE, "No enterprise IdP is configured.")),
    )
        .into_response()
}

/// `GET /idp/authorize`.
pub async fn start(State(state): State<Arc<TestbedState>>, RawQuery(query): RawQuery) -> Response {
    let Some(idp) = &state.idp else {
        return missing_idp();
    };
    let params = parse_pairs(query.unwrap_or_default().as_bytes());
    match check_request(&idp.clients, &params) {
        Ok(request) => {
            let request_id = idp.flows.start(request.clone());
            Html(render_login(idp, &request_id, &request, None)).into_response()
        }
        Err(error) => error.into_response(&state.urls.idp_issuer(), PAGE_TITLE),
    }
}

/// `POST /idp/login` (form: `request`, `username`, `password`): issues the code at once.
pub async fn login(State(state): State<Arc<TestbedState>>, body: Bytes) -> Response {
    let Some(idp) = &state.idp else {
        return missing_idp();
    };
    let form = parse_pairs(&body);
    let request_id = first_value(&form, "request").unwrap_or_default();
    let Some(pending) = idp.flows.pending(request_id) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(error_page(
                PAGE_TITLE,
                "This sign-in request is unknown or has expired.",
            )),
        )
            .into_response();
    };
    let username = first_value(&form, "username").unwrap_or_default();
    let password = first_value(&form, "password").unwrap_or_default();
    if check_credentials(&idp.config.users, username, password).is_none() {
        let page = render_login(
            idp,
            request_id,
            &pending.request,
            Some("Wrong username or password."),
        );
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    idp.flows.finish(request_id);
    let request = pending.request;
    let redirect_uri = request.redirect_uri.clone();
    let client_state = request.state.clone();
    let scopes = request.scopes.clone();
    let code = idp
        .flows
        .issue_code(request, username, scopes, CODE_LIFETIME_SECS);
    redirect_to_client(
        &redirect_uri,
        &[("code", &code)],
        client_state.as_deref(),
        &state.urls.idp_issuer(),
    )
}
