//! Enterprise-managed authorization: IdP login → ID token → token exchange → ID-JAG →
//! JWT-bearer grant at the authorization server → MCP call.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ClientCredentials, Fixture, REDIRECT_URI};
use serde_json::{Value, json};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn idp_client() -> ClientCredentials {
    ClientCredentials {
        client_id: "idp-client".into(),
        client_secret: Some("idp-secret".into()),
        basic: false,
    }
}

fn as_client() -> ClientCredentials {
    ClientCredentials {
        client_id: "ema-client".into(),
        client_secret: Some("ema-secret".into()),
        basic: true,
    }
}

fn decode_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Leg 1: sign in at the IdP and get an ID token.
async fn sign_in(fixture: &Fixture) -> String {
    let (verifier, challenge) = common::pkce_pair();
    let mut url = url::Url::parse(&fixture.url("/idp/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "idp-client")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid email")
        .append_pair("state", "s1")
        .append_pair("nonce", "n1")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let html = fixture
        .http
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"login-username\""));
    assert!(
        html.contains("alice"),
        "the IdP login page shows the demo credentials"
    );
    let request_id = common::hidden_request_id(&html);
    let response = fixture
        .http
        .post(fixture.url("/idp/login"))
        .form(&[
            ("request", request_id.as_str()),
            ("username", "alice"),
            ("password", "alice-pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let params = common::query_params(response.headers()["location"].to_str().unwrap());
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("iss"), fixture.testbed.idp_url());
    assert_eq!(get("state").as_deref(), Some("s1"));
    let code = get("code").unwrap();
    let (status, tokens) = fixture
        .token_request(
            "/idp/token",
            &idp_client(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    tokens["id_token"].as_str().unwrap().to_string()
}

/// Leg 2: exchange the ID token for an ID-JAG.
async fn exchange(
    fixture: &Fixture,
    id_token: &str,
    audience: &str,
    resource: &str,
    scope: &str,
) -> (u16, Value) {
    fixture
        .token_request(
            "/idp/token",
            &idp_client(),
            &[
                ("grant_type", TOKEN_EXCHANGE),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:id-jag",
                ),
                ("subject_token", id_token),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
                ("audience", audience),
                ("resource", resource),
                ("scope", scope),
            ],
        )
        .await
}

/// Leg 3: the JWT-bearer grant.
async fn redeem(fixture: &Fixture, id_jag: &str) -> (u16, Value) {
    fixture
        .token_request(
            "/oauth/token",
            &as_client(),
            &[("grant_type", JWT_BEARER), ("assertion", id_jag)],
        )
        .await
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_idp() {
    let fixture = Fixture::standard().await;
    let idp = fixture.testbed.idp_url().unwrap();
    let discovery: Value = fixture
        .http
        .get(format!("{idp}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], idp);
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let jwks: Value = fixture
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
}

#[tokio::test]
async fn the_three_legs_reach_the_enterprise_server() {
    let fixture = Fixture::standard().await;
    let id_token = sign_in(&fixture).await;
    let header = decode_part(&id_token, 0);
    assert_eq!(header["alg"], "ES256");
    let claims = decode_part(&id_token, 1);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "idp-client");
    assert_eq!(claims["nonce"], "n1");

    let issuer = fixture.testbed.issuer_url();
    let resource = fixture.mcp_url("ema");
    let (status, exchanged) =
        exchange(&fixture, &id_token, &issuer, &resource, "mcp weather:read").await;
    assert_eq!(status, 200, "{exchanged}");
    assert_eq!(
        exchanged["issued_token_type"],
        "urn:ietf:params:oauth:token-type:id-jag"
    );
    let id_jag = exchanged["access_token"].as_str().unwrap();
    assert_eq!(decode_part(id_jag, 0)["typ"], "oauth-id-jag+jwt");
    let jag_claims = decode_part(id_jag, 1);
    assert_eq!(jag_claims["aud"], issuer);
    assert_eq!(jag_claims["resource"], resource);
    assert_eq!(jag_claims["client_id"], "ema-client");
    assert_eq!(jag_claims["scope"], "mcp weather:read");

    let (status, tokens) = redeem(&fixture, id_jag).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "mcp weather:read");
    let mut mcp = fixture.mcp("ema", tokens["access_token"].as_str());
    assert_eq!(mcp.initialize().await.status, 200);
    let reply = mcp.call_tool("get-weather", json!({"city": "Lima"})).await;
    assert_eq!(reply.status, 200);

    // An ID-JAG is single-use.
    let (status, error) = redeem(&fixture, id_jag).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The EMA token is bound to the enterprise server.
    let mut other = fixture.mcp("main", tokens["access_token"].as_str());
    assert_eq!(other.initialize().await.status, 401);
}

#[tokio::test]
async fn the_legs_reject_what_they_should() {
    let fixture = Fixture::standard().await;
    let id_token = sign_in(&fixture).await;
    let issuer = fixture.testbed.issuer_url();
    let resource = fixture.mcp_url("ema");

    let (status, error) = exchange(
        &fixture,
        &id_token,
        "https://elsewhere.example",
        &resource,
        "mcp",
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, error) = exchange(
        &fixture,
        &id_token,
        &issuer,
        "https://elsewhere.example/mcp",
        "mcp",
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, error) = exchange(&fixture, "not.a.jwt", &issuer, &resource, "mcp").await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A JWT that is not an ID-JAG (the ID token itself) is refused by the authorization server.
    let (status, error) = redeem(&fixture, &id_token).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // An ID-JAG presented by another client is refused.
    let (_, exchanged) = exchange(&fixture, &id_token, &issuer, &resource, "mcp").await;
    let id_jag = exchanged["access_token"].as_str().unwrap();
    let (status, error) = fixture
        .token_request(
            "/oauth/token",
            &ClientCredentials {
                client_id: "basic-client".into(),
                client_secret: Some("basic-secret".into()),
                basic: true,
            },
            &[("grant_type", JWT_BEARER), ("assertion", id_jag)],
        )
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A token with only `mcp` meets 403 on the tool needing weather:read.
    let (status, tokens) = redeem(&fixture, id_jag).await;
    assert_eq!(status, 200);
    let mut mcp = fixture.mcp("ema", tokens["access_token"].as_str());
    mcp.initialize().await;
    let reply = mcp.call_tool("get-weather", json!({"city": "Lima"})).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .www_authenticate()
            .contains("scope=\"mcp weather:read\"")
    );
}
