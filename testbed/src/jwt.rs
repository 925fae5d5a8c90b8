//! Compact JWS with ES256 (P-256, SHA-256): signing, verification and the public JWK.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Value, json};

/// Why a JWT was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("unsupported algorithm (only ES256)")]
    Algorithm,
    #[error("signature verification failed")]
    Signature,
}

/// A decoded and verified JWT.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    pub header: Value,
    pub claims: Value,
}

/// An ES256 key pair with a key id.
pub struct Es256Key {
    signing: SigningKey,
    pub kid: String,
}

impl Es256Key {
    /// A fresh random key.
    pub fn generate() -> Self {
        loop {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
            if let Ok(signing) = SigningKey::from_slice(&secret) {
                return Es256Key {
                    signing,
                    kid: crate::support::random_string(8),
                };
            }
        }
    }

    /// Signs `claims` with header `{alg: ES256, typ, kid}`.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": typ, "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// The public key as a JWK (RFC 7517/7518).
    pub fn public_jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        let coordinate = |bytes: Option<&[u8]>| URL_SAFE_NO_PAD.encode(bytes.unwrap_or_default());
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": coordinate(point.x().map(|x| &x[..])),
            "y": coordinate(point.y().map(|y| &y[..])),
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
        })
    }

    /// Verifies the signature of a compact JWS made with this key; claims are not checked.
    pub fn verify(&self, token: &str) -> Result<VerifiedJwt, JwtError> {
        verify_with(self.signing.verifying_key(), token)
    }
}

fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

fn verify_with(key: &VerifyingKey, token: &str) -> Result<VerifiedJwt, JwtError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = decode_json(header_b64)?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(JwtError::Algorithm);
    }
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| JwtError::Malformed)?;
    let signature = Signature::from_slice(&signature_bytes).map_err(|_| JwtError::Signature)?;
    let signing_input = &token[..header_b64.len() + 1 + claims_b64.len()];
    key.verify(signing_input.as_bytes(), &signature)
        .map_err(|_| JwtError::Signature)?;
    Ok(VerifiedJwt {
        header,
        claims: decode_json(claims_b64)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let key = Es256Key::generate();
        let token = key.sign("JWT", &json!({"sub": "alice"}));
        let verified = key.verify(&token).unwrap();
        assert_eq!(verified.claims["sub"], "alice");
        assert_eq!(verified.header["typ"], "JWT");
        let other = Es256Key::generate();
        assert_eq!(other.verify(&token).unwrap_err(), JwtError::Signature);
        assert_eq!(key.verify("a.b").unwrap_err(), JwtError::Malformed);
    }
}
