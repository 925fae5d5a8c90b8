//! Discovery results are kept while their documents are fresh (#25): a 401 mid-session is
//! answered by a refresh alone, without reading the metadata again; a document the server marks
//! `no-store` is read again each time; metadata that turned out wrong is read again (see
//! `oauth_as_migration` for a resource that moved to another authorization server).

use crate::oauth_fixture;

use keyhole_shared::recovery::{Authority as _, RecoveryOutcome, StepUpGuard};
use keyhole_shared::{AuthChallenge, ChallengeContext, Secret};
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{REDIRECT_URI, new_client, query_param};
use serde_json::json;

const PRM: &str = "/.well-known/oauth-protected-resource/mcp";
const AS: &str = "/.well-known/oauth-authorization-server";

/// A resource at `/mcp` whose authorization server (this server) registers clients and issues
/// refresh tokens.
async fn server() -> FakeServer {
    let fake = FakeServer::start().await;
    fake.discovery(json!({
        "issuer": "{base}",
        "authorization_endpoint": "{base}/authorize",
        "token_endpoint": "{base}/token",
        "registration_endpoint": "{base}/register",
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
    }));
    fake.json("POST", "/register", 201, json!({"client_id": "c"}));
    fake.json(
        "POST",
        "/token",
        200,
        json!({"access_token": "at", "refresh_token": "rt", "token_type": "Bearer",
               "expires_in": 3600}),
    );
    fake
}

fn unauthorized() -> AuthChallenge {
    AuthChallenge::from_response(
        401,
        &[b"Bearer error=\"invalid_token\"".as_slice()],
        ChallengeContext::default(),
    )
    .unwrap()
}

/// A client signed in to `fake`'s resource (discovery, registration, code exchange), its store
/// in the returned directory.
async fn signed_in(fake: &FakeServer) -> (oauth_fixture::Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let client = new_client(
        &dir,
        keyhole_shared::oauth_client::ClientConfig::new(REDIRECT_URI),
    );
    let start = client
        .connect_authorization(&fake.url("/mcp"), Some(&unauthorized()))
        .await
        .unwrap();
    let state = query_param(&start.authorization_url, "state").unwrap();
    client
        .complete_authorization(&format!("{REDIRECT_URI}?code=c&state={state}"))
        .await
        .unwrap();
    (client, dir)
}

/// What the client decides when `server` refuses the token it holds with a 401.
async fn expired(client: &oauth_fixture::Client, server: &str) -> RecoveryOutcome {
    client
        .handle_challenge(
            server,
            &unauthorized(),
            Some(&Secret::new("at")),
            &StepUpGuard::new(),
        )
        .await
}

/// Signs in, then answers three 401s; returns how many times each metadata document was read.
async fn three_expiries(fake: &FakeServer) -> (usize, usize) {
    let (client, _dir) = signed_in(fake).await;
    let server = fake.url("/mcp");
    for _ in 0..3 {
        let outcome = expired(&client, &server).await;
        assert!(
            matches!(outcome, RecoveryOutcome::Satisfied { .. }),
            "{outcome:?}"
        );
    }
    assert_eq!(
        fake.requests_to("/token").len(),
        4,
        "one code, three refreshes"
    );
    (fake.requests_to(PRM).len(), fake.requests_to(AS).len())
}

#[tokio::test]
async fn a_401_with_fresh_metadata_is_answered_by_the_refresh_alone() {
    let fake = server().await;
    fake.cache_control("GET", PRM, "max-age=600");
    assert_eq!(three_expiries(&fake).await, (1, 1));
}

#[tokio::test]
async fn metadata_without_caching_headers_is_kept_for_a_short_while() {
    let fake = server().await;
    assert_eq!(three_expiries(&fake).await, (1, 1));
}

#[tokio::test]
async fn metadata_marked_no_store_is_read_again_each_time() {
    let fake = server().await;
    fake.cache_control("GET", PRM, "no-store");
    // The authorization server's metadata (no caching headers) is reused: the resource still
    // names the same issuer.
    assert_eq!(three_expiries(&fake).await, (4, 1));
    let fake_again = server().await;
    fake_again.cache_control("GET", PRM, "no-cache");
    fake_again.cache_control("GET", AS, "max-age=0");
    assert_eq!(three_expiries(&fake_again).await, (4, 4));
}

#[tokio::test]
async fn a_refresh_refused_with_cached_metadata_reads_it_again_before_asking_for_a_sign_in() {
    let fake = server().await;
    let (client, _dir) = signed_in(&fake).await;
    let server = fake.url("/mcp");
    fake.json("POST", "/token", 400, json!({"error": "invalid_grant"}));
    let outcome = expired(&client, &server).await;
    assert!(
        matches!(outcome, RecoveryOutcome::Interactive(_)),
        "{outcome:?}"
    );
    assert_eq!(
        fake.requests_to(PRM).len(),
        2,
        "read again after the refusal"
    );
}
