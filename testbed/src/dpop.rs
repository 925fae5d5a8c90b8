//! DPoP (RFC 9449) at the testbed's authorization server and MCP servers: checking a proof
//! (§4.3), the thumbprint a bound token carries (`cnf.jkt`, §6), the replay cache of `jti`s and
//! the servers' nonce (§8, §9). A server with `auth.dpop` set to `required` takes DPoP-bound
//! tokens only; `nonce` also makes both servers demand a nonce first.
//!
//! Written by hand over p256 (the testbed's one signature primitive) because only ES256 proofs
//! are accepted here: what Keyhole sends and what the conformance suite tests.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

use crate::support::{now_secs, random_string, sha256_base64url};

/// How far a proof's `iat` may be from now.
const IAT_WINDOW_SECS: u64 = 300;
/// The replay cache keeps at most this many `jti`s (then starts again).
const MAX_REMEMBERED_JTIS: usize = 100_000;

/// What a checked proof proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    pub nonce: Option<String>,
}

/// The nonce both servers hand out, and the `jti`s already seen.
pub struct DpopGuard {
    nonce: String,
    jtis: Mutex<HashSet<String>>,
}

impl Default for DpopGuard {
    fn default() -> Self {
        Self {
            nonce: random_string(16),
            jtis: Mutex::default(),
        }
    }
}

impl DpopGuard {
    /// The nonce proofs must carry where one is demanded.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// Checks the request's single `DPoP` header as a proof for `htm` to `htu`, presenting
    /// `access_token` (whose hash must be its `ath`) when given. The error says what is wrong.
    pub fn check(
        &self,
        headers: &HeaderMap,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
    ) -> Result<CheckedProof, String> {
        let mut values = headers.get_all("dpop").iter();
        let proof = values.next().ok_or("no DPoP proof")?;
        if values.next().is_some() {
            return Err("more than one DPoP header".into());
        }
        let proof = proof.to_str().map_err(|_| "the DPoP proof is not text")?;
        let checked = check_proof(proof, htm, htu, access_token)?;
        let jti = checked.1;
        let mut seen = self.jtis.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_REMEMBERED_JTIS {
            seen.clear();
        }
        if !seen.insert(jti) {
            return Err("the proof's jti was used before (replay)".into());
        }
        Ok(checked.0)
    }
}

fn segment(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "a proof segment is not base64url")?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| "a proof segment is not a JSON object".into())
}

fn same_uri(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The checked proof and its `jti`.
fn check_proof(
    proof: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
) -> Result<(CheckedProof, String), String> {
    let parts: Vec<&str> = proof.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("the DPoP proof is not a compact JWS".into());
    };
    let (header_json, claims_json) = (segment(header)?, segment(claims)?);
    if header_json["typ"] != "dpop+jwt" {
        return Err("typ must be dpop+jwt".into());
    }
    if header_json["alg"] != "ES256" {
        return Err("alg must be ES256".into());
    }
    let jwk = &header_json["jwk"];
    if jwk.get("d").is_some() {
        return Err("the jwk holds a private key".into());
    }
    let key = verifying_key(jwk).ok_or("jwk must be a P-256 public key")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or("the signature is malformed")?;
    key.verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "the signature does not verify")?;
    let jti = claims_json["jti"].as_str().ok_or("missing jti")?;
    if claims_json["htm"] != htm {
        return Err(format!("htm must be {htm}"));
    }
    let claimed = claims_json["htu"].as_str().unwrap_or_default();
    if claimed.contains(['?', '#']) || !same_uri(claimed, htu) {
        return Err(format!("htu must be {htu}"));
    }
    let iat = claims_json["iat"].as_u64().ok_or("missing iat")?;
    if now_secs().abs_diff(iat) > IAT_WINDOW_SECS {
        return Err("iat is too far from now".into());
    }
    if let Some(token) = access_token
        && claims_json["ath"].as_str() != Some(sha256_base64url(token).as_str())
    {
        return Err("ath does not match the access token".into());
    }
    let checked = CheckedProof {
        jkt: thumbprint(jwk).ok_or("jwk must be a P-256 public key")?,
        nonce: claims_json["nonce"].as_str().map(str::to_owned),
    };
    Ok((checked, jti.to_owned()))
}

fn verifying_key(jwk: &Value) -> Option<VerifyingKey> {
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return None;
    }
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str()?)
            .ok()
            .filter(|b| b.len() == 32)
    };
    let mut sec1 = vec![4u8];
    sec1.extend(coordinate("x")?);
    sec1.extend(coordinate("y")?);
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// RFC 7638 over the required members of an EC key.
fn thumbprint(jwk: &Value) -> Option<String> {
    let (x, y) = (jwk["x"].as_str()?, jwk["y"].as_str()?);
    Some(sha256_base64url(&format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use serde_json::json;

    fn proof(key: &SigningKey, claims: Value) -> String {
        let point = key.verifying_key().to_encoded_point(false);
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        }});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    fn headers(proof: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("dpop", proof.parse().unwrap());
        headers
    }

    #[test]
    fn a_good_proof_passes_once_and_names_its_key() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let guard = DpopGuard::default();
        let claims = json!({"jti": "j1", "htm": "POST", "htu": "http://h/mcp", "iat": now_secs(),
            "ath": sha256_base64url("tok"), "nonce": guard.nonce()});
        let good = proof(&key, claims);
        let checked = guard
            .check(&headers(&good), "POST", "http://h/mcp", Some("tok"))
            .unwrap();
        assert_eq!(checked.nonce.as_deref(), Some(guard.nonce()));
        assert_eq!(checked.jkt.len(), 43);
        let replay = guard.check(&headers(&good), "POST", "http://h/mcp", Some("tok"));
        assert!(replay.unwrap_err().contains("replay"));
    }

    #[test]
    fn each_wrong_claim_is_named() {
        let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let guard = DpopGuard::default();
        let now = now_secs();
        let cases = [
            (
                json!({"jti": "a", "htm": "GET", "htu": "http://h/mcp", "iat": now}),
                "htm",
            ),
            (
                json!({"jti": "b", "htm": "POST", "htu": "http://h/other", "iat": now}),
                "htu",
            ),
            (
                json!({"jti": "c", "htm": "POST", "htu": "http://h/mcp?x", "iat": now}),
                "htu",
            ),
            (
                json!({"jti": "d", "htm": "POST", "htu": "http://h/mcp", "iat": now - 900}),
                "iat",
            ),
            (
                json!({"jti": "e", "htm": "POST", "htu": "http://h/mcp", "iat": now, "ath": "x"}),
                "ath",
            ),
            (
                json!({"htm": "POST", "htu": "http://h/mcp", "iat": now}),
                "jti",
            ),
        ];
        for (claims, named) in cases {
            let error = guard
                .check(
                    &headers(&proof(&key, claims.clone())),
                    "POST",
                    "http://h/mcp",
                    Some("tok"),
                )
                .unwrap_err();
            assert!(error.contains(named), "{claims}: {error}");
        }
        let tampered = proof(
            &key,
            json!({"jti": "f", "htm": "POST", "htu": "http://h/mcp", "iat": now}),
        );
        let (input, _) = tampered.rsplit_once('.').unwrap();
        let other = proof(&key, json!({"jti": "g"}));
        let forged = format!("{input}.{}", other.rsplit_once('.').unwrap().1);
        let error = guard
            .check(&headers(&forged), "POST", "http://h/mcp", None)
            .unwrap_err();
        assert!(error.contains("signature"), "{error}");
        for junk in ["", "a.b", "a.b.c", "e30.e30.c"] {
            assert!(
                guard
                    .check(&headers(junk), "POST", "http://h/mcp", None)
                    .is_err()
            );
        }
        assert!(
            guard
                .check(&HeaderMap::new(), "POST", "http://h/mcp", None)
                .is_err()
        );
    }
}
