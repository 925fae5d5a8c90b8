//! An authorization server that forgot Keyhole's client (it restarted, as the MCP SDKs' examples
//! do): `invalid_client` on a refresh, or an unknown-client answer to an abandoned authorization
//! request, drops the dynamic registration so the next sign-in registers again — once: a
//! registration made for the failing sign-in itself is never dropped. And the user's way out:
//! forgetting tokens (revoked first) and registrations.

use crate::oauth_fixture;

use keyhole_shared::oauth_client::{
    ClientConfig, ClientId, ClientRegistration, Issuer, RegistrationSource, SignInCheck,
    TokenEndpointAuthMethod,
};
use keyhole_shared::recovery::{Authority as _, InteractiveFlow, RecoveryOutcome, StepUpGuard};
use keyhole_shared::store::Forget;
use keyhole_shared::tokens::Tokens;
use keyhole_shared::{AuthChallenge, ChallengeContext, ScopeSet, Secret};
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{Client, REDIRECT_URI, new_client, query_param};
use serde_json::json;

/// A resource and its authorization server, where registering answers `new-client`.
async fn forgetful_server() -> FakeServer {
    let fake = FakeServer::start().await;
    fake.discovery(json!({
        "issuer": "{base}",
        "authorization_endpoint": "{base}/authorize",
        "token_endpoint": "{base}/token",
        "registration_endpoint": "{base}/register",
        "revocation_endpoint": "{base}/revoke",
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }));
    fake.json(
        "POST",
        "/register",
        201,
        json!({"client_id": "new-client", "client_secret": "new-secret",
               "token_endpoint_auth_method": "client_secret_post"}),
    );
    fake
}

/// A store holding a registration of an earlier sign-in (`old-client`, made moments ago: the
/// authorization server may restart any time) and tokens issued to it.
async fn with_old_registration(fake: &FakeServer, dir: &tempfile::TempDir) -> Client {
    let client = new_client(dir, ClientConfig::new(REDIRECT_URI));
    let (issuer, server) = (Issuer::new(fake.base.clone()), fake.url("/mcp"));
    let registration = ClientRegistration {
        client_id: ClientId::new("old-client"),
        client_secret: Some(Secret::new("old-secret")),
        auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        source: RegistrationSource::Dynamic,
        client_secret_expires_at: Some(0),
        registered_at: Some(now()),
    };
    let tokens = Tokens {
        access_token: Secret::new("old-at"),
        token_type: "Bearer".into(),
        refresh_token: Some(Secret::new("old-rt")),
        scopes: ScopeSet::parse("mcp"),
        expires_at: None,
    };
    client
        .store()
        .update(|d| {
            d.save_client(&issuer, REDIRECT_URI, registration);
            d.save_tokens(&server, &issuer, &tokens, now());
            d.set_credential_client(&server, &issuer, ClientId::new("old-client"));
            Ok(())
        })
        .unwrap();
    client
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn invalid_token(fake: &FakeServer) -> AuthChallenge {
    let header = format!(
        "Bearer error=\"invalid_token\", resource_metadata=\"{}\"",
        fake.url("/.well-known/oauth-protected-resource/mcp")
    );
    let context = ChallengeContext {
        method: Some("tools/call".into()),
        tool_name: Some("echo".into()),
    };
    AuthChallenge::from_response(401, &[header.as_bytes()], context).unwrap()
}

#[tokio::test]
async fn a_refresh_refused_with_invalid_client_registers_again_before_signing_in() {
    let fake = forgetful_server().await;
    fake.json(
        "POST",
        "/token",
        401,
        json!({"error": "invalid_client", "error_description": "Invalid client_id"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let client = with_old_registration(&fake, &dir).await;

    let outcome = client
        .handle_challenge(
            &fake.url("/mcp"),
            &invalid_token(&fake),
            Some(&Secret::new("old-at")),
            &StepUpGuard::new(),
        )
        .await;

    let RecoveryOutcome::Interactive(plan) = outcome else {
        panic!("expected a sign-in, got {outcome:?}");
    };
    let InteractiveFlow::AuthorizationCode { authorization_url } = plan.flow else {
        panic!("expected an authorization-code redirect");
    };
    assert_eq!(
        query_param(&authorization_url, "client_id").as_deref(),
        Some("new-client")
    );
    let refresh = &fake.requests_to("/token")[0];
    assert_eq!(
        refresh.form()["client_id"],
        "old-client",
        "the body names the client with Basic too"
    );
    assert_eq!(fake.requests_to("/register").len(), 1);
    let stored = client.store().read_document().unwrap();
    assert!(
        stored
            .clients
            .iter()
            .all(|c| c.registration.client_id.as_str() != "old-client"),
        "the forgotten registration is gone"
    );
    assert!(
        stored.credential(&fake.url("/mcp"), None).is_none(),
        "and the tokens issued to it"
    );
    let new = stored.clients[0].registration.clone();
    assert_eq!(
        new.auth_method,
        TokenEndpointAuthMethod::ClientSecretPost,
        "the method the registration response named"
    );
    assert!(new.registered_at.is_some());
}

#[tokio::test]
async fn an_abandoned_request_the_server_answers_with_an_unknown_client_drops_it_once() {
    let fake = forgetful_server().await;
    fake.json(
        "GET",
        "/authorize",
        400,
        json!({"error": "invalid_request", "error_description": "Client ID 'old-client' not found"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let client = with_old_registration(&fake, &dir).await;
    let server = fake.url("/mcp");

    let start = client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(
        query_param(&start.authorization_url, "client_id").as_deref(),
        Some("old-client")
    );
    let check = client.check_sign_in(&start.state, false).await.unwrap();
    assert_eq!(
        check,
        SignInCheck::ClientForgotten {
            requested: ScopeSet::parse("mcp")
        }
    );
    let checked = &fake.requests_to("/authorize")[0];
    assert_eq!(checked.method, "GET");

    // The sign-in again registers anew; if the server does not know that client either, it is
    // not dropped and registered a third time.
    let again = client
        .begin_authorization(&server, &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(
        query_param(&again.authorization_url, "client_id").as_deref(),
        Some("new-client")
    );
    let check = client.check_sign_in(&again.state, false).await.unwrap();
    assert!(matches!(check, SignInCheck::ClientRefused(_)), "{check:?}");
    assert_eq!(fake.requests_to("/register").len(), 1);
    assert_eq!(
        client.check_sign_in(&again.state, true).await.unwrap(),
        SignInCheck::Unknown,
        "a fresh registration is not checked before a browser is sent"
    );
}

#[tokio::test]
async fn an_authorization_server_that_shows_its_sign_in_page_still_knows_the_client() {
    let fake = forgetful_server().await;
    fake.raw(
        "GET",
        "/authorize",
        200,
        "text/html",
        "<form>Sign in</form>",
    );
    let dir = tempfile::tempdir().unwrap();
    let client = with_old_registration(&fake, &dir).await;
    let start = client
        .begin_authorization(&fake.url("/mcp"), &ScopeSet::parse("mcp"))
        .await
        .unwrap();
    assert_eq!(
        client.check_sign_in(&start.state, false).await.unwrap(),
        SignInCheck::Accepted
    );
    let stored = client.store().read_document().unwrap();
    assert_eq!(stored.clients.len(), 1, "kept");
    assert!(fake.requests_to("/register").is_empty());
}

#[tokio::test]
async fn forgetting_revokes_the_tokens_then_drops_tokens_and_registration() {
    let fake = forgetful_server().await;
    fake.json("POST", "/revoke", 200, json!({}));
    let dir = tempfile::tempdir().unwrap();
    let client = with_old_registration(&fake, &dir).await;

    let report = client.forget(&fake.url("/mcp"), Forget::ALL).await.unwrap();

    assert_eq!((report.credentials, report.clients), (1, 1));
    assert_eq!(report.revoked, 2);
    let revocations = fake.requests_to("/revoke");
    let forms: Vec<_> = revocations.iter().map(|r| r.form()).collect();
    assert_eq!(forms[0]["token"], "old-rt");
    assert_eq!(forms[0]["token_type_hint"], "refresh_token");
    assert_eq!(forms[1]["token"], "old-at");
    assert_eq!(forms[1]["client_id"], "old-client");
    assert!(revocations[0].headers["authorization"].starts_with("Basic "));
    let stored = client.store().read_document().unwrap();
    assert!(stored.clients.is_empty() && stored.credentials.is_empty());
}

#[tokio::test]
async fn forgetting_tokens_keeps_the_registration_even_when_revocation_fails() {
    let fake = forgetful_server().await;
    fake.json(
        "POST",
        "/revoke",
        503,
        json!({"error": "temporarily_unavailable"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let client = with_old_registration(&fake, &dir).await;

    let report = client
        .forget(&fake.url("/mcp"), Forget::TOKENS)
        .await
        .unwrap();

    assert_eq!(
        (report.credentials, report.clients, report.revoked),
        (1, 0, 0)
    );
    assert!(report.revocation_note.unwrap().contains("503"));
    let stored = client.store().read_document().unwrap();
    assert_eq!(stored.clients.len(), 1);
    assert!(stored.credentials.is_empty());
}
