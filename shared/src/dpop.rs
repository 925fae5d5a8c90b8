//! DPoP (RFC 9449): sender-constrained tokens, the parts every surface shares.
//!
//! A DPoP-bound access token is useless without the private key it was bound to: each request that
//! presents it (and each token request that obtains or refreshes it) carries a fresh proof, a JWT
//! signed by that key naming the request (`htm`, `htu`), the time (`iat`), a unique `jti`, the
//! token's hash (`ath`) and, when the server demands one, its `nonce`.
//!
//! **Who signs.** Keyhole's backend sends every MCP request (the page only talks to the backend),
//! so the backend holds one ES256 key per server and signs every proof: those of MCP requests and
//! those of the token requests the page's OAuth client makes (it asks the backend for them through
//! [`HttpClient::dpop_proof`](crate::http::HttpClient::dpop_proof)). The private key never reaches
//! the page, and the CLI, the TUI and the web app use the same key for a server, as they share the
//! token store. Signing lives behind the `private-key-jwt` feature (p256), which the web app's
//! build leaves out.
//!
//! Proofs are built by hand (a JOSE header, claims, an ES256 signature) rather than with a JWT
//! crate: the one signing primitive is p256's, already used for `private_key_jwt`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::http::HttpResponse;
use crate::secret::Secret;

/// The request header carrying a proof.
pub const PROOF_HEADER: &str = "DPoP";
/// The response header carrying a server-supplied nonce (RFC 9449 §8, §9).
pub const NONCE_HEADER: &str = "DPoP-Nonce";
/// The `Authorization` scheme of a DPoP-bound token (RFC 9449 §7.1).
pub const SCHEME: &str = "DPoP";
/// The `token_type` of a DPoP-bound token.
pub const TOKEN_TYPE: &str = "DPoP";
/// The one algorithm Keyhole signs proofs with.
pub const ALGORITHM: &str = "ES256";
/// The error code of a nonce demand, at the token endpoint and at the resource.
pub const USE_NONCE: &str = "use_dpop_nonce";

/// What one proof is for. `key_id` names the key (the MCP server the token is for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofRequest {
    pub key_id: String,
    pub htm: String,
    /// The request URL; [`htu`] strips its query and fragment.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The access token the request presents (its hash becomes `ath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Secret>,
}

/// The key a server's proofs are signed with: the server URL without query, fragment or a
/// trailing slash, its scheme and host in lower case and without a default port — as the URL the
/// user typed (the page's OAuth client) and as the backend's URL parser writes it (the session)
/// both name the same key.
pub fn key_id(server_url: &str) -> String {
    let url = htu(server_url);
    let url = url.trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let scheme = scheme.to_ascii_lowercase();
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    if !default_port.is_empty() && authority.ends_with(default_port) {
        authority.truncate(authority.len() - default_port.len());
    }
    format!("{scheme}://{authority}{path}")
}

/// `htu`: the request URL without query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_owned()
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
pub fn ath(access_token: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.expose().as_bytes()))
}

/// The claims of a proof for `request`, made at `iat` with id `jti`.
pub fn claims(request: &ProofRequest, iat: u64, jti: &str) -> Value {
    let mut claims = json!({
        "jti": jti,
        "htm": request.htm,
        "htu": htu(&request.url),
        "iat": iat,
    });
    if let Some(nonce) = &request.nonce {
        claims["nonce"] = nonce.as_str().into();
    }
    if let Some(token) = &request.access_token {
        claims["ath"] = ath(token).into();
    }
    claims
}

/// The RFC 7638 thumbprint of a P-256 public JWK (`jkt`); `None` for any other key.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let (kty, crv) = (jwk["kty"].as_str()?, jwk["crv"].as_str()?);
    let (x, y) = (jwk["x"].as_str()?, jwk["y"].as_str()?);
    if kty != "EC" || crv != "P-256" {
        return None;
    }
    // The required members in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}","y":"{y}"}}"#);
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The nonce a server demands with this response (RFC 9449 §8: 400 `use_dpop_nonce` from the
/// token endpoint; §9: 401 with a `DPoP error="use_dpop_nonce"` challenge from the resource), or
/// `None` when the response is no such demand or names no nonce.
pub fn demanded_nonce(response: &HttpResponse) -> Option<String> {
    let nonce = response.header(NONCE_HEADER)?.trim();
    let demanded = match response.status {
        400 => crate::json::value_from_bytes(&response.body)
            .is_some_and(|body| body["error"].as_str() == Some(USE_NONCE)),
        401 => response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .any(|(_, value)| challenge_demands_nonce(value)),
        _ => false,
    };
    (demanded && !nonce.is_empty()).then(|| nonce.to_owned())
}

/// Sends what `send` makes of a fresh proof for `proof` (the value of its `DPoP` header); when
/// the server demands a nonce (RFC 9449 §8, §9), once more with a new proof carrying it — never
/// a third time. `failed` words a proof that could not be made.
///
/// (`send` returns a future rather than being an async closure: the doctor's future must be
/// `Send` for the backend's route, which an async closure's borrows do not let the compiler show.)
pub async fn send_with_nonce_retry<E, Sent>(
    http: &impl crate::http::HttpClient,
    mut proof: ProofRequest,
    failed: impl Fn(DpopError) -> E,
    mut send: impl FnMut(String) -> Sent,
) -> Result<HttpResponse, E>
where
    Sent: std::future::Future<Output = Result<HttpResponse, E>>,
{
    loop {
        let signed = http.dpop_proof(&proof).await.map_err(&failed)?;
        let response = send(signed).await?;
        match demanded_nonce(&response) {
            Some(nonce) if proof.nonce.is_none() => proof.nonce = Some(nonce),
            _ => return Ok(response),
        }
    }
}

/// Whether a `WWW-Authenticate` value carries a DPoP challenge with `error="use_dpop_nonce"`.
///
/// A scan, not the full parser (`www_authenticate`): the web app's main module has no use for the
/// parser otherwise (the backend parses challenges), and this runs on every DPoP request. The
/// error code exists only in DPoP (RFC 9449 §12.2), so a `DPoP` challenge naming it is enough.
pub fn challenge_demands_nonce(www_authenticate: &str) -> bool {
    let value = www_authenticate.to_ascii_lowercase();
    let dpop_challenge = value
        .split(',')
        .any(|part| part.trim_start().starts_with("dpop"));
    dpop_challenge && value.contains(USE_NONCE)
}

/// A proof as the Network and Auth views show it: its JOSE header and claims, decoded; the
/// signature is never kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecodedProof {
    pub header: Value,
    pub claims: Value,
}

/// Decodes a proof (or a logged one, whose signature was replaced); `None` when it is not a JWT.
pub fn decode(proof: &str) -> Option<DecodedProof> {
    let mut parts = proof.trim().split('.');
    let segment = |part: Option<&str>| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(part?.trim_end_matches('=')).ok()?;
        crate::json::value_from_bytes(&bytes).filter(Value::is_object)
    };
    let header = segment(parts.next())?;
    let claims = segment(parts.next())?;
    Some(DecodedProof { header, claims })
}

/// A proof as logs keep it: header and claims (public: the key's public half, the request it
/// names), the signature replaced, so a logged proof can never be replayed.
pub fn without_signature(proof: &str) -> String {
    let mut parts = proof.trim().splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(claims), Some(_)) => format!("{header}.{claims}.<signature removed>"),
        _ => crate::http::REDACTED.to_owned(),
    }
}

/// A server's proof key (ES256, P-256).
#[cfg(feature = "private-key-jwt")]
pub struct ProofKey {
    key: p256::ecdsa::SigningKey,
}

#[cfg(feature = "private-key-jwt")]
impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKey")
            .field("jkt", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "private-key-jwt")]
impl ProofKey {
    /// A new key from `entropy`.
    pub fn generate(entropy: &impl crate::random::Entropy) -> Self {
        loop {
            let mut bytes = [0u8; 32];
            entropy.fill(&mut bytes);
            // A scalar of zero or past the group order is refused: draw again (vanishingly rare).
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Self { key };
            }
        }
    }

    /// The key kept as base64url of its 32-byte scalar (what [`ProofKey::to_secret`] gives).
    pub fn from_secret(secret: &Secret) -> Result<Self, DpopError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(secret.expose().trim())
            .map_err(|_| DpopError::Key)?;
        let key = p256::ecdsa::SigningKey::from_slice(&bytes).map_err(|_| DpopError::Key)?;
        Ok(Self { key })
    }

    pub fn to_secret(&self) -> Secret {
        Secret::new(URL_SAFE_NO_PAD.encode(self.key.to_bytes()))
    }

    /// The public half as a JWK (what proofs carry in their header).
    pub fn public_jwk(&self) -> Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        let coordinate =
            |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.unwrap_or(&Default::default()));
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": coordinate(point.x()),
            "y": coordinate(point.y()),
        })
    }

    /// The key's `jkt` (what a bound token's `cnf` names).
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.public_jwk()).unwrap_or_default()
    }

    /// A signed proof for `request`, made at `iat` with a random `jti`.
    pub fn prove(
        &self,
        request: &ProofRequest,
        iat: u64,
        entropy: &impl crate::random::Entropy,
    ) -> String {
        use p256::ecdsa::Signature;
        use p256::ecdsa::signature::Signer;
        let header = json!({"typ": "dpop+jwt", "alg": ALGORITHM, "jwk": self.public_jwk()});
        let jti = crate::random::random_token(entropy, 16);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims(request, iat, &jti).to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// Why no proof could be made. Never includes a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    #[error("the stored DPoP key is not a P-256 key")]
    Key,
    #[error("this client cannot sign DPoP proofs")]
    Unsupported,
    #[error("no DPoP proof: {0}")]
    Signer(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_and_fragment_and_key_ids_agree() {
        assert_eq!(htu("https://a.example/mcp?x=1#f"), "https://a.example/mcp");
        assert_eq!(htu("https://a.example/mcp"), "https://a.example/mcp");
        assert_eq!(
            key_id("https://a.example/mcp/"),
            key_id("https://a.example/mcp?s=1")
        );
        // What a person types and what a URL parser writes name one key.
        assert_eq!(key_id("HTTPS://A.Example:443/mcp"), "https://a.example/mcp");
        assert_eq!(key_id("http://127.0.0.1:80"), key_id("http://127.0.0.1/"));
        assert_eq!(
            key_id("http://127.0.0.1:8080/MCP"),
            "http://127.0.0.1:8080/MCP"
        );
        assert_ne!(
            key_id("https://a.example/mcp"),
            key_id("https://a.example/other")
        );
        assert_eq!(key_id("not a url"), "not a url");
    }

    #[test]
    fn claims_carry_ath_and_nonce_only_when_given() {
        let mut request = ProofRequest {
            key_id: "k".into(),
            htm: "POST".into(),
            url: "https://as.example/token?x".into(),
            nonce: None,
            access_token: None,
        };
        let plain = claims(&request, 7, "j");
        assert_eq!(
            plain,
            json!({"jti": "j", "htm": "POST", "htu": "https://as.example/token", "iat": 7})
        );
        request.nonce = Some("n1".into());
        request.access_token = Some(Secret::new("at"));
        let full = claims(&request, 7, "j");
        assert_eq!(full["nonce"], "n1");
        // base64url(SHA-256("at")), computed independently.
        assert_eq!(full["ath"], "sda5G2fCr6XjIpiNlGJjjTVN34oe9526mH-BXCK0uu4");
    }

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1 is an RSA key; this P-256 vector is RFC 9449 §4.1's proof key.
        let jwk = json!({"kty": "EC", "crv": "P-256",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"});
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
        assert_eq!(
            thumbprint(&json!({"kty": "RSA", "n": "x", "e": "AQAB"})),
            None
        );
        assert_eq!(thumbprint(&json!({"kty": "EC"})), None);
    }

    #[test]
    fn nonce_demands_are_recognised_at_both_servers() {
        let as_demand = HttpResponse::json(400, &json!({"error": "use_dpop_nonce"}))
            .with_header("DPoP-Nonce", "n-as");
        assert_eq!(demanded_nonce(&as_demand).as_deref(), Some("n-as"));
        let rs_demand = HttpResponse::new(401, "")
            .with_header(
                "WWW-Authenticate",
                r#"DPoP error="use_dpop_nonce", algs="ES256""#,
            )
            .with_header("dpop-nonce", "n-rs");
        assert_eq!(demanded_nonce(&rs_demand).as_deref(), Some("n-rs"));
        let other_error = HttpResponse::json(400, &json!({"error": "invalid_grant"}))
            .with_header("DPoP-Nonce", "n");
        assert_eq!(demanded_nonce(&other_error), None);
        let no_nonce = HttpResponse::json(400, &json!({"error": "use_dpop_nonce"}));
        assert_eq!(demanded_nonce(&no_nonce), None);
        let bearer = HttpResponse::new(401, "")
            .with_header("WWW-Authenticate", r#"Bearer error="use_dpop_nonce""#)
            .with_header("DPoP-Nonce", "n");
        assert_eq!(demanded_nonce(&bearer), None);
    }

    #[test]
    fn decoding_never_needs_the_signature_and_bad_input_is_none() {
        let proof = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"dpop+jwt"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"htm":"GET"}"#)
        );
        let logged = without_signature(&proof);
        assert!(!logged.contains(".sig"));
        let decoded = decode(&logged).unwrap();
        assert_eq!(decoded.header["typ"], "dpop+jwt");
        assert_eq!(decoded.claims["htm"], "GET");
        for bad in ["", "a", "a.b", "!!.??.c", "bnVsbA.bnVsbA.c"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        assert_eq!(without_signature("not-a-jwt"), crate::http::REDACTED);
    }

    #[cfg(feature = "private-key-jwt")]
    #[test]
    fn a_proof_verifies_with_the_key_in_its_header() {
        use p256::ecdsa::signature::Verifier;
        use p256::ecdsa::{Signature, VerifyingKey};
        struct Counter(std::cell::Cell<u8>);
        impl crate::random::Entropy for Counter {
            fn fill(&self, bytes: &mut [u8]) {
                for b in bytes {
                    self.0.set(self.0.get().wrapping_add(1));
                    *b = self.0.get();
                }
            }
        }
        let entropy = Counter(std::cell::Cell::new(0));
        let key = ProofKey::generate(&entropy);
        let kept = ProofKey::from_secret(&key.to_secret()).unwrap();
        assert_eq!(kept.thumbprint(), key.thumbprint());
        let request = ProofRequest {
            key_id: "k".into(),
            htm: "POST".into(),
            url: "https://rs.example/mcp".into(),
            nonce: None,
            access_token: Some(Secret::new("at")),
        };
        let proof = key.prove(&request, 100, &entropy);
        let decoded = decode(&proof).unwrap();
        assert_eq!(decoded.header["typ"], "dpop+jwt");
        assert_eq!(decoded.header["alg"], "ES256");
        assert!(decoded.header["jwk"].get("d").is_none(), "no private part");
        assert_eq!(
            thumbprint(&decoded.header["jwk"]).unwrap(),
            key.thumbprint()
        );
        let jwk = &decoded.header["jwk"];
        let mut sec1 = vec![4u8];
        sec1.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        let verifying = VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let (input, signature) = proof.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        verifying.verify(input.as_bytes(), &signature).unwrap();
        // Two proofs for the same request differ (a fresh jti each).
        assert_ne!(
            decode(&key.prove(&request, 100, &entropy)).unwrap().claims["jti"],
            decoded.claims["jti"]
        );
        assert!(matches!(
            ProofKey::from_secret(&Secret::new("short")),
            Err(DpopError::Key)
        ));
        assert!(!format!("{key:?}").contains(key.to_secret().expose()));
    }
}
