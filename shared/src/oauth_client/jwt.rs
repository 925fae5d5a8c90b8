//! The little JWT handling a client needs: signing an ES256 client assertion, and reading the
//! claims of a token it received (an ID token's expiry). Nothing here verifies signatures: the
//! client hands ID tokens back to the IdP that issued them, which does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
#[cfg(feature = "private-key-jwt")]
use p256::ecdsa::signature::Signer;
#[cfg(feature = "private-key-jwt")]
use p256::ecdsa::{Signature, SigningKey};
#[cfg(feature = "private-key-jwt")]
use p256::pkcs8::DecodePrivateKey;

use crate::secret::Secret;

/// Signs `claims` with the P-256 key in `private_key_pem` (PKCS#8 PEM). Errors never include
/// the key.
#[cfg(feature = "private-key-jwt")]
pub(crate) fn sign_es256(
    claims: &serde_json::Value,
    private_key_pem: &Secret,
    key_id: Option<&str>,
) -> Result<String, JwtError> {
    let key = SigningKey::from_pkcs8_pem(private_key_pem.expose()).map_err(|_| JwtError::Key)?;
    let mut header = serde_json::json!({"alg": "ES256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = kid.into();
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// Without the `private-key-jwt` feature (the web app's build) there is no signing: the browser
/// never holds a private key, and this keeps the P-256 code out of the wasm.
#[cfg(not(feature = "private-key-jwt"))]
pub(crate) fn sign_es256(
    _claims: &serde_json::Value,
    _private_key_pem: &Secret,
    _key_id: Option<&str>,
) -> Result<String, JwtError> {
    Err(JwtError::Unsupported)
}

/// Why a client assertion could not be signed. Never includes the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the client's private key is not a PKCS#8 PEM P-256 key")]
    Key,
    #[error("private_key_jwt needs the `private-key-jwt` feature, which this build lacks")]
    Unsupported,
}

/// The claims of a compact JWS, unverified; `None` when it is not one.
pub(crate) fn unverified_claims(jwt: &str) -> Option<serde_json::Value> {
    let mut parts = jwt.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims = crate::json::value_from_bytes(&bytes)?;
    claims.is_object().then_some(claims)
}

#[cfg(all(test, feature = "private-key-jwt"))]
mod tests {
    use super::*;

    const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/6Btlq/vy5BN1uOA
mlN5LJcKLzoWMdfOdz11A94DvTKhRANCAAR6Q21RogSI6GQUVdfTXhMt/aZ6p8fe
HtsvolKQzl5VrGfM1zXbFAX5p4JW7UPG+rBKQjcXb5R6SfqkOBwoMkH/
-----END PRIVATE KEY-----";

    #[test]
    fn signs_a_verifiable_es256_jwt() {
        use p256::ecdsa::VerifyingKey;
        use p256::ecdsa::signature::Verifier;
        let key = Secret::new(TEST_KEY);
        let claims = serde_json::json!({"iss": "c", "exp": 5});
        let jwt = sign_es256(&claims, &key, Some("k1")).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let signing = SigningKey::from_pkcs8_pem(TEST_KEY).unwrap();
        let verifying = VerifyingKey::from(&signing);
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        verifying.verify(input.as_bytes(), &signature).unwrap();
        assert_eq!(unverified_claims(&jwt).unwrap(), claims);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let error = sign_es256(&serde_json::json!({}), &Secret::new("nope"), None).unwrap_err();
        assert_eq!(error, JwtError::Key);
        assert!(!error.to_string().contains("nope"));
        for jwt in ["", "a.b", "a.b.c.d", "a.!!.c", "a.bnVsbA.c"] {
            assert_eq!(unverified_claims(jwt), None, "{jwt}");
        }
    }
}

#[cfg(all(test, not(feature = "private-key-jwt")))]
mod without_signing_tests {
    use super::*;

    #[test]
    fn private_key_jwt_is_a_clear_error_without_the_feature() {
        let key = Secret::new("-----BEGIN PRIVATE KEY-----");
        let error = sign_es256(&serde_json::json!({}), &key, None).unwrap_err();
        assert_eq!(error, JwtError::Unsupported);
        assert!(error.to_string().contains("private-key-jwt"), "{error}");
        assert!(!error.to_string().contains("BEGIN"));
    }
}
