//! SEP-2352 (conformance `auth/authorization-server-migration`): a server whose protected-resource
//! metadata starts naming another authorization server. The next 401 reads the metadata again
//! (never from the cache), registers at the new authorization server, and never presents the
//! first one's client there; once signed in there, what was held at the first one is dropped.

use crate::oauth_fixture;

use keyhole_shared::oauth_client::{ClientConfig, Issuer};
use keyhole_shared::recovery::{Authority as _, InteractiveFlow, RecoveryOutcome, StepUpGuard};
use keyhole_shared::{AuthChallenge, ChallengeContext, ScopeSet, Secret};
use oauth_fixture::fake_server::FakeServer;
use oauth_fixture::{REDIRECT_URI, new_client, query_param};
use serde_json::json;

const PRM: &str = "/.well-known/oauth-protected-resource/mcp";

/// Two authorization servers on one host, `/as1` and `/as2`; the resource names `as1`.
async fn two_authorization_servers() -> FakeServer {
    let fake = FakeServer::start().await;
    for (name, client) in [
        ("as1", "as1-client-LEAKED-IF-SEEN-AT-AS2"),
        ("as2", "as2-client"),
    ] {
        fake.json(
            "GET",
            &format!("/.well-known/oauth-authorization-server/{name}"),
            200,
            json!({
                "issuer": format!("{{base}}/{name}"),
                "authorization_endpoint": format!("{{base}}/{name}/authorize"),
                "token_endpoint": format!("{{base}}/{name}/token"),
                "registration_endpoint": format!("{{base}}/{name}/register"),
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
            }),
        );
        fake.json(
            "POST",
            &format!("/{name}/register"),
            201,
            json!({"client_id": client}),
        );
        fake.json(
            "POST",
            &format!("/{name}/token"),
            200,
            json!({"access_token": format!("{name}-token"), "token_type": "Bearer"}),
        );
    }
    point_to(&fake, "as1");
    fake
}

fn point_to(fake: &FakeServer, name: &str) {
    fake.json(
        "GET",
        PRM,
        200,
        json!({"resource": "{base}/mcp", "authorization_servers": [format!("{{base}}/{name}")],
               "scopes_supported": ["mcp:basic"]}),
    );
}

fn unauthorized(fake: &FakeServer) -> AuthChallenge {
    let header = format!(
        "Bearer scope=\"mcp:basic\", resource_metadata=\"{}\"",
        fake.url(PRM)
    );
    AuthChallenge::from_response(401, &[header.as_bytes()], ChallengeContext::default()).unwrap()
}

/// The authorization server approved: the callback the browser would bring back.
fn approved(authorization_url: &str) -> String {
    let state = query_param(authorization_url, "state").unwrap();
    format!("{REDIRECT_URI}?code=c&state={state}")
}

#[tokio::test]
async fn a_new_authorization_server_gets_a_new_registration_and_never_the_old_client() {
    let fake = two_authorization_servers().await;
    let dir = tempfile::tempdir().unwrap();
    // One client for the whole run, as the CLI keeps it: its discovery is cached.
    let client = new_client(&dir, ClientConfig::new(REDIRECT_URI));
    let server = fake.url("/mcp");

    let start = client
        .connect_authorization(&server, Some(&unauthorized(&fake)))
        .await
        .unwrap();
    assert!(start.authorization_url.contains("/as1/authorize"));
    client
        .complete_authorization(&approved(&start.authorization_url))
        .await
        .unwrap();

    point_to(&fake, "as2");
    let outcome = client
        .handle_challenge(
            &server,
            &unauthorized(&fake),
            Some(&Secret::new("as1-token")),
            &StepUpGuard::new(),
        )
        .await;
    let RecoveryOutcome::Interactive(plan) = outcome else {
        panic!("expected a sign-in at the new authorization server, got {outcome:?}");
    };
    let InteractiveFlow::AuthorizationCode { authorization_url } = plan.flow else {
        panic!("expected an authorization-code redirect");
    };
    assert!(
        authorization_url.starts_with(&fake.url("/as2/authorize")),
        "{authorization_url}"
    );
    assert_eq!(
        query_param(&authorization_url, "client_id").as_deref(),
        Some("as2-client")
    );
    assert_eq!(fake.requests_to("/as2/register").len(), 1);
    assert!(
        fake.requests_to("/as1/token").len() == 1,
        "no refresh token, so nothing more was asked of the first authorization server"
    );
    let grant = client
        .complete_authorization(&approved(&authorization_url))
        .await
        .unwrap();
    assert_eq!(grant.tokens.access_token.expose(), "as2-token");
    for request in fake.requests() {
        assert!(
            !(request.path.starts_with("/as2") && request.body.contains("LEAKED")),
            "the first server's client reached the second: {request:?}"
        );
    }
    let stored = client.store().read_document().unwrap();
    let issuers: Vec<&Issuer> = stored
        .credentials
        .iter()
        .filter(|c| c.server_url == server)
        .map(|c| &c.issuer)
        .collect();
    assert_eq!(
        issuers,
        [&Issuer::new(fake.url("/as2"))],
        "as1's tokens dropped"
    );
    assert_eq!(grant.requested, ScopeSet::parse("mcp:basic"));
}
