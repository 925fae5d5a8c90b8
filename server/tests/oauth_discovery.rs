//! Discovery: the three ways to the protected-resource metadata, the authorization-server
//! metadata orders, the 2025-03-26 fallbacks, and the refusals (resource mismatch, issuer
//! mismatch, no S256, malformed documents).

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::OAuthClientError;
use keyhole_shared::oauth_client::discovery::MetadataOrigin;
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{Bed, REDIRECT_URI, config, new_client};
use serde_json::json;

fn as_metadata(issuer: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "code_challenge_methods_supported": ["S256"],
    })
}

fn client_for(fake: &FakeServer) -> (tempfile::TempDir, oauth_fixture::Client) {
    let _ = fake;
    let dir = tempfile::tempdir().unwrap();
    let client = new_client(
        &dir,
        keyhole_shared::oauth_client::ClientConfig::new(REDIRECT_URI),
    );
    (dir, client)
}

#[tokio::test]
async fn the_challenge_names_the_resource_metadata() {
    let bed = Bed::start(config(false)).await;
    let mut mcp = bed.mcp("main");
    let reply = mcp.initialize(None).await;
    assert_eq!(reply.status, 401);
    let challenge = reply.challenge(None);
    let hint = challenge.resource_metadata.clone().unwrap();
    let server = bed
        .client
        .server_auth(&bed.mcp_url("main"), Some(&challenge))
        .await
        .unwrap();
    assert_eq!(
        server.key.issuer.as_deref(),
        Some(bed.testbed.issuer_url().as_str())
    );
    assert_eq!(
        server.scopes_supported,
        Some(ScopeSet::parse("mcp weather:read"))
    );
    let discovery = bed
        .client
        .discover(&bed.mcp_url("main"), None)
        .await
        .unwrap();
    assert_eq!(
        discovery.protected_resource_url.as_deref(),
        Some(hint.as_str())
    );
    assert_eq!(discovery.resource, bed.mcp_url("main"));
    assert_eq!(
        discovery.authorization_server_url.as_deref(),
        Some(
            format!(
                "{}/.well-known/oauth-authorization-server/oauth",
                bed.testbed.base_url()
            )
            .as_str()
        )
    );
    // Every exchange was observed.
    let steps: Vec<_> = bed.exchanges().into_iter().filter_map(|e| e.step).collect();
    assert_eq!(
        steps,
        [
            "protected-resource metadata",
            "authorization-server metadata"
        ]
    );
}

#[tokio::test]
async fn path_aware_well_known_without_a_hint() {
    let bed = Bed::start(config(false)).await;
    let discovery = bed
        .client
        .discover(&bed.mcp_url("main"), None)
        .await
        .unwrap();
    assert_eq!(
        discovery.protected_resource_url,
        Some(format!(
            "{}/.well-known/oauth-protected-resource/servers/main/mcp",
            bed.testbed.base_url()
        ))
    );
    assert_eq!(discovery.origin, MetadataOrigin::WellKnown);
}

#[tokio::test]
async fn root_well_known_then_openid_discovery_for_an_issuer_with_a_path() {
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-protected-resource",
        200,
        json!({"resource": "{base}/api/mcp", "authorization_servers": ["{base}/tenant"]}),
    );
    // RFC 8414 at the path-aware URL is missing; OpenID discovery (inserted form) has it.
    let document = as_metadata(&fake.url("/tenant"));
    fake.json(
        "GET",
        "/.well-known/openid-configuration/tenant",
        200,
        document,
    );
    let (_dir, client) = client_for(&fake);
    let discovery = client.discover(&fake.url("/api/mcp"), None).await.unwrap();
    assert_eq!(
        discovery.protected_resource_url,
        Some(fake.url("/.well-known/oauth-protected-resource"))
    );
    assert_eq!(discovery.issuer.as_str(), fake.url("/tenant"));
    let tried: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        tried,
        [
            "/.well-known/oauth-protected-resource/api/mcp",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server/tenant",
            "/.well-known/openid-configuration/tenant",
        ]
    );

    // The appended form is the last one tried.
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        200,
        json!({"resource": "{base}/mcp", "authorization_servers": ["{base}/tenant"]}),
    );
    fake.json(
        "GET",
        "/tenant/.well-known/openid-configuration",
        200,
        as_metadata(&fake.url("/tenant")),
    );
    let (_dir, client) = client_for(&fake);
    let discovery = client.discover(&fake.url("/mcp"), None).await.unwrap();
    assert_eq!(
        discovery.authorization_server_url,
        Some(fake.url("/tenant/.well-known/openid-configuration"))
    );
}

#[tokio::test]
async fn legacy_servers_use_their_origin_and_default_endpoints() {
    // 2025-03-26: no resource metadata; the origin's own metadata.
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-authorization-server",
        200,
        as_metadata(&fake.base),
    );
    let (_dir, client) = client_for(&fake);
    let discovery = client.discover(&fake.url("/mcp"), None).await.unwrap();
    assert_eq!(discovery.origin, MetadataOrigin::WellKnown);
    assert_eq!(discovery.protected_resource, None);
    assert_eq!(discovery.resource, fake.url("/mcp"));
    assert_eq!(discovery.issuer.as_str(), fake.base);

    // No metadata at all: /authorize, /token, /register at the origin.
    let fake = FakeServer::start().await;
    let (_dir, client) = client_for(&fake);
    let discovery = client.discover(&fake.url("/mcp"), None).await.unwrap();
    assert_eq!(discovery.origin, MetadataOrigin::DefaultEndpoints);
    let metadata = &discovery.authorization_server;
    assert_eq!(
        metadata.authorization_endpoint,
        Some(fake.url("/authorize"))
    );
    assert_eq!(metadata.token_endpoint, Some(fake.url("/token")));
    assert_eq!(metadata.registration_endpoint, Some(fake.url("/register")));
}

#[tokio::test]
async fn metadata_for_another_resource_is_refused() {
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        200,
        json!({"resource": "https://elsewhere.example/mcp", "authorization_servers": ["{base}"]}),
    );
    let (_dir, client) = client_for(&fake);
    let error = client.discover(&fake.url("/mcp"), None).await.unwrap_err();
    assert!(
        matches!(&error, OAuthClientError::ResourceMismatch { found, .. } if found == "https://elsewhere.example/mcp"),
        "{error}"
    );
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_refused() {
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        200,
        json!({"resource": "{base}/mcp", "authorization_servers": ["{base}/as"]}),
    );
    fake.json(
        "GET",
        "/.well-known/oauth-authorization-server/as",
        200,
        as_metadata("https://impostor.example"),
    );
    let (_dir, client) = client_for(&fake);
    let error = client.discover(&fake.url("/mcp"), None).await.unwrap_err();
    assert!(
        matches!(error, OAuthClientError::IssuerMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("impostor.example"));
}

#[tokio::test]
async fn no_s256_means_no_authorization_request() {
    let fake = FakeServer::start().await;
    fake.json(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        200,
        json!({"resource": "{base}/mcp", "authorization_servers": ["{base}"]}),
    );
    let mut metadata = as_metadata(&fake.base);
    metadata["code_challenge_methods_supported"] = json!(["plain"]);
    fake.json(
        "GET",
        "/.well-known/oauth-authorization-server",
        200,
        metadata,
    );
    let (_dir, client) = client_for(&fake);
    let error = client
        .begin_authorization(&fake.url("/mcp"), &ScopeSet::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, OAuthClientError::PkceUnsupported(_)),
        "{error}"
    );
    assert!(
        fake.requests_to("/register").is_empty(),
        "nothing registered"
    );
}

#[tokio::test]
async fn malformed_documents_are_errors_not_panics() {
    let cases: [(&str, &str); 4] = [
        ("text/html", "<html>hello</html>"),
        ("application/json", "[1, 2]"),
        ("application/json", r#"{"resource": 5}"#),
        (
            "application/json",
            r#"{"resource": "{base}/mcp", "authorization_servers": []}"#,
        ),
    ];
    for (content_type, body) in cases {
        let fake = FakeServer::start().await;
        fake.raw(
            "GET",
            "/.well-known/oauth-protected-resource/mcp",
            200,
            content_type,
            body,
        );
        let (_dir, client) = client_for(&fake);
        let error = client.discover(&fake.url("/mcp"), None).await.unwrap_err();
        assert!(
            matches!(error, OAuthClientError::InvalidDocument { .. }),
            "{body}: {error}"
        );
    }
}
