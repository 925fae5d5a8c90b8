//! The metadata documents: protected-resource metadata (RFC 9728) and the authorization server's
//! (RFC 8414 / OpenID Connect discovery), looked for at the URLs and in the order the OAuth
//! client uses ([`crate::oauth_client::discovery`]), each URL tried named in the finding.

use super::probe::Challenge;
use super::{DoctorOptions, Findings, check_transport, cors};
use crate::http::{HttpClient, HttpRequest, HttpResponse};
use crate::oauth_client::discovery::{
    authorization_server_urls, protected_resource_urls, resource_covers,
};
use crate::web_url::AbsoluteUrl;

/// The first URL of `urls` that answers 2xx, with its answer; what each URL answered.
async fn first_found(
    http: &impl HttpClient,
    options: &DoctorOptions,
    urls: &[String],
    step: &str,
) -> (Option<(String, HttpResponse)>, Vec<String>) {
    let mut tried = Vec::new();
    for url in urls {
        let request = HttpRequest::get(url.clone())
            .with_header("origin", options.origin.clone())
            .with_step(step);
        match http.send(request).await {
            Ok(response) if response.is_success() => {
                tried.push(format!("{url} → {}", response.status));
                return (Some((url.clone(), response)), tried);
            }
            Ok(response) => tried.push(format!("{url} → {}", response.status)),
            Err(error) => tried.push(format!("{url} → {error}")),
        }
    }
    (None, tried)
}

/// A metadata document: the first of `urls` found (`published`), readable cross-origin, and a JSON
/// object (`document`); its URL and fields, or `None` after saying why.
async fn find_document(
    http: &impl HttpClient,
    options: &DoctorOptions,
    urls: &[String],
    (what, published, document): (&str, &str, &str),
    findings: &mut Findings,
) -> Option<(String, serde_json::Map<String, serde_json::Value>)> {
    let (found, tried) = first_found(http, options, urls, &format!("doctor: {what}")).await;
    let Some((url, response)) = found else {
        findings.fail(published, format!("none found: {}", tried.join("; ")));
        return None;
    };
    findings.pass(published, tried.join("; "));
    cors::allows_reading(&response, &format!("the {what}"), options, findings);
    match json_object(&response) {
        Ok(fields) => Some((url, fields)),
        Err(why) => {
            findings.fail(document, format!("`{url}`: {why}"));
            None
        }
    }
}

/// The body as a JSON object, or why not.
fn json_object(
    response: &HttpResponse,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match crate::json::value_from_bytes(&response.body) {
        Some(serde_json::Value::Object(object)) => Ok(object),
        Some(_) => Err("the body is JSON but not an object".into()),
        None => Err("the body is not JSON".into()),
    }
}

/// How `resource` relates to the server's URL.
enum ResourceMatch {
    Identical,
    /// The same URL once normalised (case of scheme and host, default port).
    Equivalent,
    TrailingSlash,
    /// A path prefix on the same origin (metadata for a whole origin or path).
    Parent,
    Other,
}

fn resource_match(resource: &str, server: &str) -> ResourceMatch {
    if resource == server {
        return ResourceMatch::Identical;
    }
    let normal = |url: &str| AbsoluteUrl::parse(url).map(|u| u.to_string()).ok();
    if let (Some(resource), Some(server)) = (normal(resource), normal(server)) {
        if resource == server {
            return ResourceMatch::Equivalent;
        }
        if resource.trim_end_matches('/') == server.trim_end_matches('/') {
            return ResourceMatch::TrailingSlash;
        }
    }
    // What the OAuth client accepts beyond those: metadata for a whole origin or path.
    if resource_covers(resource, server) {
        ResourceMatch::Parent
    } else {
        ResourceMatch::Other
    }
}

/// Finds and checks the protected-resource metadata; the first authorization server it lists.
pub async fn protected_resource(
    http: &impl HttpClient,
    options: &DoctorOptions,
    challenge: &Challenge,
    findings: &mut Findings,
) -> Option<String> {
    let server = options.server_url.as_str();
    let urls = match protected_resource_urls(server, challenge.resource_metadata.as_deref()) {
        Ok(urls) => urls,
        Err(error) => {
            findings.fail("prm-published", error.to_string());
            return None;
        }
    };
    let (url, document) = find_document(
        http,
        options,
        &urls,
        (
            "protected-resource metadata",
            "prm-published",
            "prm-document",
        ),
        findings,
    )
    .await?;
    check_protected_resource(&url, &document, server, findings)
}

/// A JSON object, as the metadata documents are.
pub type Document = serde_json::Map<String, serde_json::Value>;

/// Checks the protected-resource metadata found at `url` for `server`; the first authorization
/// server it lists.
pub fn check_protected_resource(
    url: &str,
    document: &Document,
    server: &str,
    findings: &mut Findings,
) -> Option<String> {
    let Some(resource) = document.get("resource").and_then(|r| r.as_str()) else {
        findings.fail("prm-document", format!("`{url}` has no `resource` string"));
        return None;
    };
    findings.pass(
        "prm-document",
        format!("`{url}` is a JSON object with `resource`"),
    );
    let compared = format!("`resource` is `{resource}`, the server is `{server}`");
    match resource_match(resource, server) {
        ResourceMatch::Identical => findings.pass("prm-resource", compared),
        ResourceMatch::Equivalent => findings.warn(
            "prm-resource",
            format!("{compared}: the same once normalised, but not identical"),
        ),
        ResourceMatch::TrailingSlash => findings.warn(
            "prm-resource",
            format!(
                "{compared}: they differ by a trailing slash; Keyhole and the SDKs accept it, \
                 clients that compare exactly refuse the metadata or ask for a token for the \
                 wrong resource"
            ),
        ),
        ResourceMatch::Parent => findings.warn(
            "prm-resource",
            format!("{compared}: a parent of the server's URL, not the server itself"),
        ),
        ResourceMatch::Other => findings.fail(
            "prm-resource",
            format!("{compared}: clients must refuse this metadata (it could send their tokens elsewhere)"),
        ),
    }
    let servers: Vec<&str> = document
        .get("authorization_servers")
        .and_then(|s| s.as_array())
        .map(|list| list.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    match servers.first() {
        Some(first) => {
            findings.pass(
                "prm-authorization-servers",
                format!("authorization_servers: {}", servers.join(", ")),
            );
            Some((*first).to_owned())
        }
        None => {
            findings.fail(
                "prm-authorization-servers",
                "no authorization server listed",
            );
            None
        }
    }
}

fn string_field<'d>(
    document: &'d serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'d str> {
    document.get(name).and_then(|v| v.as_str())
}

fn list_field(document: &serde_json::Map<String, serde_json::Value>, name: &str) -> Vec<String> {
    document
        .get(name)
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Finds and checks the metadata of `issuer`; the issuer when its metadata was found.
pub async fn authorization_server(
    http: &impl HttpClient,
    options: &DoctorOptions,
    issuer: &str,
    findings: &mut Findings,
) -> Option<String> {
    let urls = match authorization_server_urls(issuer) {
        Ok(urls) => urls,
        Err(error) => {
            findings.fail("as-published", format!("issuer `{issuer}`: {error}"));
            return None;
        }
    };
    let (url, document) = find_document(
        http,
        options,
        &urls,
        (
            "authorization-server metadata",
            "as-published",
            "as-published",
        ),
        findings,
    )
    .await?;
    check_authorization_server(&url, &document, issuer, findings);
    Some(issuer.to_owned())
}

/// Checks the metadata found at `url` for `issuer`.
pub fn check_authorization_server(
    url: &str,
    document: &Document,
    issuer: &str,
    findings: &mut Findings,
) {
    match string_field(document, "issuer") {
        Some(found) if found == issuer => {
            findings.pass("as-issuer", format!("issuer `{found}`"));
        }
        Some(found) => findings.fail(
            "as-issuer",
            format!("`{url}` says issuer `{found}`, it was fetched for `{issuer}`"),
        ),
        None => findings.fail("as-issuer", format!("`{url}` has no `issuer`")),
    }
    check_endpoints(document, findings);
    let endpoints: Vec<(&str, &str)> = [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    ]
    .into_iter()
    .filter_map(|name| string_field(document, name).map(|url| (name, url)))
    .chain(std::iter::once(("the issuer", issuer)))
    .collect();
    check_transport(findings, &endpoints);
    let methods = list_field(document, "code_challenge_methods_supported");
    if methods.iter().any(|m| m == "S256") {
        findings.pass(
            "as-pkce-s256",
            format!("code_challenge_methods_supported: {}", methods.join(", ")),
        );
    } else if methods.is_empty() {
        findings.fail("as-pkce-s256", "no `code_challenge_methods_supported`");
    } else {
        findings.fail(
            "as-pkce-s256",
            format!(
                "code_challenge_methods_supported: {} (no S256)",
                methods.join(", ")
            ),
        );
    }
    check_registration(document, findings);
    if document.get("authorization_response_iss_parameter_supported")
        == Some(&serde_json::Value::Bool(true))
    {
        findings.pass(
            "as-iss-parameter",
            "authorization_response_iss_parameter_supported: true",
        );
    } else {
        findings.warn(
            "as-iss-parameter",
            "`authorization_response_iss_parameter_supported` is not true: clients cannot tell \
             a mix-up attack from an honest answer",
        );
    }
    let grants = list_field(document, "grant_types_supported");
    if grants.iter().any(|g| g == "refresh_token") {
        findings.pass(
            "as-refresh-tokens",
            format!("grant_types_supported: {}", grants.join(", ")),
        );
    } else {
        findings.info(
            "as-refresh-tokens",
            "`refresh_token` is not announced: clients sign in again when a token expires",
        );
    }
}

fn check_endpoints(document: &serde_json::Map<String, serde_json::Value>, findings: &mut Findings) {
    let mut missing: Vec<&str> = ["authorization_endpoint", "token_endpoint"]
        .into_iter()
        .filter(|name| {
            string_field(document, name).is_none_or(|url| AbsoluteUrl::parse(url).is_err())
        })
        .collect();
    if list_field(document, "response_types_supported").is_empty() {
        missing.push("response_types_supported");
    }
    if missing.is_empty() {
        findings.pass(
            "as-endpoints",
            "authorization_endpoint, token_endpoint, response_types_supported",
        );
    } else {
        findings.fail(
            "as-endpoints",
            format!("missing or not absolute: {}", missing.join(", ")),
        );
    }
}

fn check_registration(
    document: &serde_json::Map<String, serde_json::Value>,
    findings: &mut Findings,
) {
    let metadata_documents = document.get("client_id_metadata_document_supported")
        == Some(&serde_json::Value::Bool(true));
    let registration = string_field(document, "registration_endpoint");
    match (metadata_documents, registration) {
        (true, _) => findings.pass(
            "as-client-registration",
            "client_id_metadata_document_supported: true",
        ),
        (false, Some(endpoint)) => findings.warn(
            "as-client-registration",
            format!(
                "dynamic registration only (`{endpoint}`), which MCP 2026-07-28 deprecates; \
                 no Client ID Metadata Documents"
            ),
        ),
        (false, None) => findings.warn(
            "as-client-registration",
            "neither Client ID Metadata Documents nor dynamic registration: every client needs \
             a client id registered in advance",
        ),
    }
}
