//! `accessTokenFormat: "jwt"`: access tokens are signed `at+jwt` JWTs with the RFC 9068 claims,
//! accepted by the MCP server and still subject to expiry like opaque ones.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Fixture;
use serde_json::{Value, json};

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn access_tokens_are_jwts_with_the_grant_in_their_claims() {
    let mut config = common::base_config();
    config["oauth"]["accessTokenFormat"] = json!("jwt");
    let fixture = Fixture::start(config).await;
    let (client, tokens) = fixture.obtain_tokens("mcp weather:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {access}");
    let header = decode_part(parts[0]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "at+jwt");
    let claims = decode_part(parts[1]);
    assert_eq!(claims["iss"], fixture.url("/oauth"));
    assert_eq!(claims["aud"], fixture.mcp_url("main"));
    assert_eq!(claims["client_id"], client.client_id.as_str());
    assert_eq!(claims["scope"], "mcp weather:read");
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 120);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|r| r.starts_with("kh_rt_")),
        "refresh tokens stay opaque"
    );

    let mut mcp = fixture.mcp("main", Some(access));
    assert_eq!(mcp.initialize().await.status, 200);
    let reply = mcp.call_tool("get-weather", json!({"city": "Oslo"})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.response());

    fixture.control_post("tokens/expire", json!({})).await;
    let reply = mcp.call_tool("echo", json!({"message": "late"})).await;
    assert_eq!(
        reply.status, 401,
        "an expired JWT is refused like an opaque token"
    );
}

#[tokio::test]
async fn tokens_stay_opaque_by_default() {
    let fixture = Fixture::standard().await;
    let (_, tokens) = fixture.obtain_tokens("mcp").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(
        access.starts_with("kh_at_") && !access.contains('.'),
        "{access}"
    );
}
