//! Client identity: dynamic registration (stored and reused), a pre-registered client, and a
//! Client ID Metadata Document when the server supports one.

use crate::oauth_fixture;

use keyhole_shared::ScopeSet;
use keyhole_shared::oauth_client::{
    ClientConfig, PreRegisteredClient, RegistrationSource, TokenEndpointAuthMethod,
};
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{Bed, REDIRECT_URI, config, new_client, query_param};
use serde_json::json;

#[tokio::test]
async fn dynamic_registration_is_stored_and_reused() {
    let bed = Bed::start(config(false)).await;
    let server = bed.mcp_url("main");
    let first = bed
        .client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(bed.count_step("dynamic client registration"), 1);
    let stored = bed.stored();
    let registration = &stored.clients[0].registration;
    assert_eq!(registration.source, RegistrationSource::Dynamic);
    assert_eq!(registration.auth_method, TokenEndpointAuthMethod::None);
    assert_eq!(
        query_param(&first.authorization_url, "client_id").as_deref(),
        Some(registration.client_id.as_str())
    );

    // A second flow (even from another client instance on the same store) reuses it.
    let again = bed
        .client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(bed.count_step("dynamic client registration"), 1);
    assert_eq!(
        query_param(&again.authorization_url, "client_id"),
        query_param(&first.authorization_url, "client_id")
    );

    // The registered public client completes the flow.
    let callback = bed.approve_all(&again.authorization_url).await;
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert_eq!(grant.tokens.scopes, ScopeSet::parse("mcp"));
}

#[tokio::test]
async fn a_pre_registered_client_needs_no_registration() {
    let mut client = ClientConfig::new(REDIRECT_URI);
    client.preregistered = vec![PreRegisteredClient::confidential(
        "basic-client",
        "basic-secret",
    )];
    let bed = Bed::with_client(config(false), client).await;
    let start = bed
        .client
        .begin_authorization(&bed.mcp_url("main"), &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(
        query_param(&start.authorization_url, "client_id").as_deref(),
        Some("basic-client")
    );
    let callback = bed.approve_all(&start.authorization_url).await;
    let grant = bed.client.complete_authorization(&callback).await.unwrap();
    assert!(grant.tokens.refresh_token.is_some());
    assert_eq!(bed.count_step("dynamic client registration"), 0);
    // The secret went in HTTP Basic and was redacted in the observed exchange.
    let token = bed
        .exchanges()
        .into_iter()
        .find(|e| e.step.as_deref() == Some("token (authorization code)"))
        .unwrap();
    let authorization = token
        .request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(authorization.1, keyhole_shared::http::REDACTED);
    let shown = serde_json::to_string(&token).unwrap();
    assert!(!shown.contains("basic-secret"));
    assert!(!shown.contains(grant.tokens.access_token.expose()));
}

#[tokio::test]
async fn a_metadata_document_is_used_when_the_server_supports_it() {
    let fake = FakeServer::start().await;
    fake.discovery(json!({
        "issuer": "{base}",
        "authorization_endpoint": "{base}/authorize",
        "token_endpoint": "{base}/token",
        "registration_endpoint": "{base}/register",
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": true,
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut config = ClientConfig::new(REDIRECT_URI);
    config.metadata_document_url = Some("https://keyhole.example/oauth/client.json".into());
    let client = new_client(&dir, config);
    let start = client
        .begin_authorization(&fake.url("/mcp"), &ScopeSet::parse("read"))
        .await
        .unwrap();
    assert_eq!(
        query_param(&start.authorization_url, "client_id").as_deref(),
        Some("https://keyhole.example/oauth/client.json")
    );
    assert!(fake.requests_to("/register").is_empty());

    // Without a metadata document URL configured, the same server gets a registration request.
    fake.json(
        "POST",
        "/register",
        201,
        json!({"client_id": "dcr-1", "token_endpoint_auth_method": "none"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let client = new_client(&dir, ClientConfig::new(REDIRECT_URI));
    let start = client
        .begin_authorization(&fake.url("/mcp"), &ScopeSet::parse("read"))
        .await
        .unwrap();
    assert_eq!(
        query_param(&start.authorization_url, "client_id").as_deref(),
        Some("dcr-1")
    );
    let request: serde_json::Value =
        serde_json::from_str(&fake.requests_to("/register")[0].body).unwrap();
    assert_eq!(request["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(request["application_type"], "native");
    assert_eq!(
        request["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
}
