//! CORS, for MCP clients that run in a browser page on another origin: the preflight of the MCP
//! POST, whether a 401's challenge can be read, and whether the metadata documents can. Keyhole's
//! own web app needs none of it (its backend talks to the server), so these are warnings.

use super::{DoctorOptions, Findings};
use crate::http::{HttpClient, HttpMethod, HttpRequest, HttpResponse};

/// The request headers a browser MCP client sends, as the preflight asks for them.
const CLIENT_HEADERS: [&str; 4] = [
    "authorization",
    "content-type",
    "mcp-protocol-version",
    "mcp-session-id",
];

/// The comma-separated, lower-cased values of `name`.
fn listed(response: &HttpResponse, name: &str) -> Vec<String> {
    response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Whether the answer lets `origin` read it.
fn allows_origin(response: &HttpResponse, origin: &str) -> bool {
    response
        .header("access-control-allow-origin")
        .is_some_and(|allowed| allowed.trim() == "*" || allowed.trim() == origin)
}

/// The preflight of the MCP POST.
pub async fn preflight(http: &impl HttpClient, options: &DoctorOptions, findings: &mut Findings) {
    let request = HttpRequest {
        method: HttpMethod::Options,
        url: options.server_url.clone(),
        headers: vec![
            ("origin".into(), options.origin.clone()),
            ("access-control-request-method".into(), "POST".into()),
            (
                "access-control-request-headers".into(),
                CLIENT_HEADERS.join(","),
            ),
        ],
        body: Vec::new(),
        step: Some("doctor: CORS preflight".into()),
    };
    let response = match http.send(request).await {
        Ok(response) => response,
        Err(error) => {
            findings.warn("cors-preflight", format!("no answer: {error}"));
            return;
        }
    };
    let mut problems = Vec::new();
    if !response.is_success() {
        problems.push(format!("HTTP {}", response.status));
    }
    if !allows_origin(&response, &options.origin) {
        problems.push(format!("`{}` is not an allowed origin", options.origin));
    }
    let methods = listed(&response, "access-control-allow-methods");
    if !methods.iter().any(|m| m == "post" || m == "*") {
        problems.push("POST is not an allowed method".into());
    }
    let headers = listed(&response, "access-control-allow-headers");
    let wildcard = headers.iter().any(|h| h == "*");
    let missing: Vec<&str> = CLIENT_HEADERS
        .into_iter()
        .filter(|name| {
            let named = headers.iter().any(|h| h == name);
            // The wildcard never covers `Authorization` (Fetch Standard, CORS-preflight fetch).
            !named && (*name == "authorization" || !wildcard)
        })
        .collect();
    if !missing.is_empty() {
        problems.push(format!("headers not allowed: {}", missing.join(", ")));
    }
    if problems.is_empty() {
        findings.pass(
            "cors-preflight",
            format!("`{}` may POST with the MCP headers", options.origin),
        );
    } else {
        findings.warn("cors-preflight", problems.join("; "));
    }
}

/// Whether a browser client on `options.origin` can read the 401 and its challenge.
pub async fn exposes_challenge(
    http: &impl HttpClient,
    options: &DoctorOptions,
    findings: &mut Findings,
) {
    let request =
        super::probe::initialize(options, None, "doctor: initialize from a browser origin")
            .with_header("origin", options.origin.clone());
    let response = match http.send(request).await {
        Ok(response) => response,
        Err(error) => {
            findings.warn("challenge-expose-headers", format!("no answer: {error}"));
            return;
        }
    };
    if response.status == 403 && response.header("www-authenticate").is_none() {
        findings.info(
            "challenge-expose-headers",
            format!(
                "the server refuses requests from `{}` (an Origin check against DNS rebinding); \
                 give --origin an origin it allows to check CORS",
                options.origin
            ),
        );
        return;
    }
    if response.status != 401 {
        findings.warn(
            "challenge-expose-headers",
            format!(
                "with `Origin: {}`: {}",
                options.origin,
                super::probe::status_text(&response)
            ),
        );
        return;
    }
    if !allows_origin(&response, &options.origin) {
        findings.warn(
            "challenge-expose-headers",
            "the 401 has no `Access-Control-Allow-Origin`: a browser client sees a network error",
        );
        return;
    }
    let exposed = listed(&response, "access-control-expose-headers");
    if exposed.iter().any(|h| h == "www-authenticate" || h == "*") {
        findings.pass(
            "challenge-expose-headers",
            "the 401 and its `WWW-Authenticate` are readable cross-origin",
        );
    } else {
        findings.warn(
            "challenge-expose-headers",
            "`WWW-Authenticate` is not in `Access-Control-Expose-Headers`: a browser client \
             sees the 401 but not its challenge",
        );
    }
}

/// Whether a metadata document can be read cross-origin.
pub fn allows_reading(
    response: &HttpResponse,
    what: &str,
    options: &DoctorOptions,
    findings: &mut Findings,
) {
    if allows_origin(response, &options.origin) {
        findings.pass("cors-metadata", format!("{what} is readable cross-origin"));
    } else {
        findings.warn(
            "cors-metadata",
            format!("{what} has no `Access-Control-Allow-Origin`"),
        );
    }
}
