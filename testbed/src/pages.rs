//! The HTML pages of the authorization server and the IdP: login form, consent page, error page.
//! Form controls carry stable `data-testid` attributes that browser tests rely on.

use crate::support::html_escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2330}\
h1{font-size:1.4rem}label{display:block;margin:.6rem 0}input[type=text],input[type=password]{width:100%;padding:.4rem}\
button{padding:.5rem 1.2rem;margin:.8rem .5rem 0 0}.hint{background:#eef4ff;padding:.6rem;border-radius:6px}\
.error{background:#ffecec;padding:.6rem;border-radius:6px}code{background:#f3f3f3;padding:0 .2rem}";

pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body>{body}</body></html>",
        html_escape(title)
    )
}

pub fn error_page(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\">{}</p>",
            html_escape(title),
            html_escape(message)
        ),
    )
}

/// What a login form shows.
pub struct LoginForm<'a> {
    pub heading: &'a str,
    pub action: &'a str,
    pub request_id: &'a str,
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    /// `(username, password)` pairs shown as demo credentials.
    pub demo_credentials: Vec<(&'a str, &'a str)>,
}

pub fn login_page(form: &LoginForm<'_>) -> String {
    let error = form
        .error
        .map(|e| {
            format!(
                "<p class=\"error\" data-testid=\"login-error\">{}</p>",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    let hint = if form.demo_credentials.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = form
            .demo_credentials
            .iter()
            .map(|(user, password)| {
                format!(
                    "username <code>{}</code> / password <code>{}</code>",
                    html_escape(user),
                    html_escape(password)
                )
            })
            .collect();
        format!(
            "<p class=\"hint\" data-testid=\"login-demo-credentials\">Demo credentials: {}</p>",
            items.join("; ")
        )
    };
    let body = format!(
        "<h1>{heading}</h1><p><strong>{client}</strong> asks you to sign in.</p>{error}{hint}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{request}\">\
         <label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\" data-testid=\"login-username\" autofocus></label>\
         <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" data-testid=\"login-password\"></label>\
         <button type=\"submit\" data-testid=\"login-submit\">Sign in</button></form>",
        heading = html_escape(form.heading),
        client = html_escape(form.client_name),
        action = html_escape(form.action),
        request = html_escape(form.request_id),
    );
    page(form.heading, &body)
}

/// What a consent page shows.
pub struct ConsentForm<'a> {
    pub action: &'a str,
    pub request_id: &'a str,
    pub client_name: &'a str,
    pub user: &'a str,
    pub resource: Option<&'a str>,
    pub scopes: &'a [String],
}

pub fn consent_page(form: &ConsentForm<'_>) -> String {
    let checkboxes: String = form
        .scopes
        .iter()
        .map(|scope| {
            let scope = html_escape(scope);
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{scope}\" checked \
                 data-testid=\"consent-scope-{scope}\"> <code>{scope}</code></label>"
            )
        })
        .collect();
    let scopes_text = if form.scopes.is_empty() {
        "<p>No scopes were requested.</p>".to_string()
    } else {
        "<p>Untick a scope to grant less than was asked.</p>".to_string()
    };
    let resource = form
        .resource
        .map(|r| format!("<p>Resource: <code>{}</code></p>", html_escape(r)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Authorize {client}</h1><p>Signed in as <strong>{user}</strong>.</p>{resource}{scopes_text}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{request}\">{checkboxes}\
         <button type=\"submit\" name=\"action\" value=\"approve\" data-testid=\"consent-approve\">Approve</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" data-testid=\"consent-deny\">Deny</button></form>",
        client = html_escape(form.client_name),
        user = html_escape(form.user),
        action = html_escape(form.action),
        request = html_escape(form.request_id),
    );
    page("Authorize", &body)
}
