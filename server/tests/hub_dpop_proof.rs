//! `/api/oauth/dpop-proof`: the page's DPoP proofs, signed by the backend with the server's key
//! (the same key for the same server, never sent to the page), and bad requests refused clearly.

use crate::common;

use common::hub::HubFixture;
use keyhole_shared::dpop;
use serde_json::json;

#[tokio::test]
async fn a_proof_names_the_request_and_the_same_key_signs_for_the_same_server() {
    let fixture = HubFixture::start().await;
    let token_url = format!("{}/oauth/token", fixture.testbed.base_url());
    let ask = |key_id: &str, nonce: Option<&str>| json!({"keyId": key_id, "htm": "POST", "url": format!("{token_url}?ignored=1"), "nonce": nonce});
    let (status, reply) = fixture
        .api(
            "/api/oauth/dpop-proof",
            ask("https://rs.example/mcp", Some("n1")),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let proof = reply["proof"].as_str().expect("a proof");
    assert_eq!(proof.split('.').count(), 3, "a signed JWT");
    let decoded = dpop::decode(proof).unwrap();
    assert_eq!(decoded.header["typ"], "dpop+jwt");
    assert!(
        decoded.header["jwk"].get("d").is_none(),
        "no private key: {reply}"
    );
    assert_eq!(decoded.claims["htm"], "POST");
    assert_eq!(decoded.claims["htu"], token_url, "no query in htu");
    assert_eq!(decoded.claims["nonce"], "n1");
    assert!(decoded.claims.get("ath").is_none());

    let (_, again) = fixture
        .api("/api/oauth/dpop-proof", ask("https://rs.example/mcp", None))
        .await;
    let again = dpop::decode(again["proof"].as_str().unwrap()).unwrap();
    assert_eq!(
        again.header["jwk"], decoded.header["jwk"],
        "one key per server"
    );
    assert_ne!(
        again.claims["jti"], decoded.claims["jti"],
        "a fresh jti each time"
    );
    let (_, other) = fixture
        .api(
            "/api/oauth/dpop-proof",
            ask("https://other.example/mcp", None),
        )
        .await;
    let other = dpop::decode(other["proof"].as_str().unwrap()).unwrap();
    assert_ne!(
        other.header["jwk"], decoded.header["jwk"],
        "another server, another key"
    );
}

#[tokio::test]
async fn bad_proof_requests_are_400_with_a_message() {
    let fixture = HubFixture::start().await;
    let cases = [
        (
            json!({"keyId": "", "htm": "POST", "url": "https://as/token"}),
            "keyId",
        ),
        (
            json!({"keyId": "k", "htm": "DELETE", "url": "https://as/token"}),
            "htm",
        ),
        (
            json!({"keyId": "k", "htm": "POST", "url": "file:///etc/passwd"}),
            "http(s)",
        ),
        (
            json!({"keyId": "k", "htm": "POST", "url": "not a url"}),
            "http(s)",
        ),
        (
            json!({"keyId": "k", "htm": "POST", "url": "https://as/token", "extra": 1}),
            "extra",
        ),
    ];
    for (body, needle) in cases {
        let (status, reply) = fixture.api("/api/oauth/dpop-proof", body.clone()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{body}: {reply}"
        );
    }
}

#[tokio::test]
async fn a_dpop_token_handed_to_a_session_is_sent_with_the_dpop_scheme_and_a_proof() {
    let fixture = HubFixture::start().await;
    let session = fixture.connected(&["mcp"]).await;
    let (status, reply) = fixture
        .api(
            "/api/mcp/auth-state",
            json!({"sessionId": session, "authState": {"tokens": {"access_token": "bound-token", "token_type": "DPoP"}}}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    // The testbed does not know this token: what matters is how it was presented.
    let _ = fixture
        .api(
            "/api/mcp/send",
            json!({"sessionId": session, "message": {"jsonrpc": "2.0", "id": 7, "method": "ping"}}),
        )
        .await;
    let (_, log) = fixture
        .api_get(&format!("/api/mcp/log?sessionId={session}"))
        .await;
    let last = log["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["method"] == "POST")
        .expect("the ping's exchange")
        .clone();
    let headers = last["requestHeaders"].as_array().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
    };
    assert_eq!(header("authorization").as_deref(), Some("<redacted>"));
    let proof = header("dpop").expect("a DPoP proof");
    assert!(proof.ends_with("<signature removed>"), "{proof}");
    let decoded = dpop::decode(&proof).unwrap();
    assert_eq!(decoded.claims["htm"], "POST");
    assert_eq!(
        decoded.claims["ath"],
        dpop::ath(&keyhole_shared::Secret::new("bound-token"))
    );
}
