//! Randomness, injected like every other effect.
//!
//! PKCE verifiers, `state`, nonces and JWT ids must be unguessable. Where the bytes come from
//! differs by platform (the OS natively, `crypto.getRandomValues` in the browser), so the shared
//! crate asks for them through [`Entropy`] instead of depending on a platform backend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A source of cryptographically secure random bytes.
pub trait Entropy {
    fn fill(&self, bytes: &mut [u8]);
}

impl<T: Entropy + ?Sized> Entropy for &T {
    fn fill(&self, bytes: &mut [u8]) {
        (**self).fill(bytes);
    }
}

/// `len` random bytes, base64url without padding (43 characters for 32 bytes).
pub fn random_token(entropy: &impl Entropy, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    entropy.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
