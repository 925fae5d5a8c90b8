//! [`Credentials`]: the token a session presents, replaceable while the session lives ("hot
//! swap"), and, for a DPoP-bound token (RFC 9449 §7), the key whose possession each request
//! proves and the resource's last nonce. The token and its key change together, under one lock,
//! so no request goes out with one token under the other's scheme.

use std::sync::{Arc, RwLock};

use keyhole_shared::Secret;
use keyhole_shared::dpop::{self, ProofKey, ProofRequest};
use keyhole_shared::recovery::Clock;
use keyhole_shared::tokens::Tokens;
use tokio::sync::watch;

use crate::native::dpop_keys::DpopKeys;
use crate::native::native_http::{OsEntropy, SystemClock};

/// The token and, when it is DPoP-bound, its key.
#[derive(Debug, Default, Clone)]
struct Held {
    bearer: Option<Secret>,
    proof_key: Option<Arc<ProofKey>>,
}

/// What a session's requests are authorized with.
#[derive(Debug)]
pub struct Credentials {
    held: RwLock<Held>,
    /// The last nonce the server supplied for proofs (RFC 9449 §9).
    dpop_nonce: RwLock<Option<String>>,
    generation: watch::Sender<u64>,
    /// The last token a request succeeded with: a later refusal of the same token without a
    /// challenge can then be told apart (the server may have forgotten it).
    accepted: RwLock<Option<Secret>>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            held: RwLock::default(),
            dpop_nonce: RwLock::new(None),
            generation: watch::channel(0).0,
            accepted: RwLock::new(None),
        }
    }
}

impl Credentials {
    pub fn new(bearer: Option<Secret>) -> Self {
        let credentials = Self::default();
        credentials
            .held
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .bearer = bearer;
        credentials
    }

    fn held(&self) -> Held {
        self.held.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the token (its key, if any, stays); the next request uses it, and a GET stream
    /// waiting after a challenge retries.
    pub fn set_bearer(&self, bearer: Option<Secret>) {
        self.held.write().unwrap_or_else(|p| p.into_inner()).bearer = bearer;
        self.generation.send_modify(|g| *g += 1);
    }

    /// Replaces the token and the key it is bound to (`None`: a bearer token) at once.
    pub fn set_token(&self, bearer: Option<Secret>, proof_key: Option<Arc<ProofKey>>) {
        *self.held.write().unwrap_or_else(|p| p.into_inner()) = Held { bearer, proof_key };
        self.generation.send_modify(|g| *g += 1);
    }

    /// Hands `tokens` over (`None`: no token): the access token and, for a DPoP-bound one, the
    /// key of the server at `endpoint` from `keys`.
    pub fn install_tokens(
        &self,
        tokens: Option<&Tokens>,
        keys: Option<&DpopKeys>,
        endpoint: &str,
    ) -> Result<(), dpop::DpopError> {
        let bound = tokens.is_some_and(|t| t.token_type.eq_ignore_ascii_case(dpop::TOKEN_TYPE));
        self.install(
            tokens.map(|t| t.access_token.clone()),
            bound,
            keys,
            endpoint,
        )
    }

    /// Hands `bearer` over; when it is DPoP-`bound`, with the key of the server at `endpoint`
    /// from `keys`.
    pub fn install(
        &self,
        bearer: Option<Secret>,
        bound: bool,
        keys: Option<&DpopKeys>,
        endpoint: &str,
    ) -> Result<(), dpop::DpopError> {
        let key = match (bound && bearer.is_some(), keys) {
            (false, _) => None,
            (true, Some(keys)) => Some(keys.key(&dpop::key_id(endpoint))?),
            (true, None) => return Err(dpop::DpopError::Unsupported),
        };
        self.set_token(bearer, key);
        Ok(())
    }

    /// Whether requests prove possession of a key (the token is DPoP-bound).
    pub fn is_dpop(&self) -> bool {
        self.held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .proof_key
            .is_some()
    }

    /// The nonce the next proofs carry.
    pub(crate) fn dpop_nonce(&self) -> Option<String> {
        self.dpop_nonce
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A nonce the server supplied, for the next proofs.
    pub(crate) fn set_dpop_nonce(&self, nonce: &str) {
        *self.dpop_nonce.write().unwrap_or_else(|p| p.into_inner()) = Some(nonce.to_owned());
    }

    /// The `Authorization` value for a request (`method` to `url`) and, for a DPoP-bound token,
    /// its proof; `None` without a token.
    pub(crate) fn authorization(
        &self,
        method: &str,
        url: &str,
    ) -> Option<(String, Option<String>)> {
        let Held { bearer, proof_key } = self.held();
        let bearer = bearer?;
        let Some(key) = proof_key else {
            return Some((format!("Bearer {}", bearer.expose()), None));
        };
        let request = ProofRequest {
            key_id: String::new(),
            htm: method.to_owned(),
            url: url.to_owned(),
            nonce: self.dpop_nonce(),
            access_token: Some(bearer.clone()),
        };
        let proof = key.prove(&request, SystemClock.now_unix(), &OsEntropy);
        Some((format!("{} {}", dpop::SCHEME, bearer.expose()), Some(proof)))
    }

    /// A request sent with `bearer` succeeded.
    pub fn accept(&self, bearer: Option<Secret>) {
        if bearer.is_some() {
            *self.accepted.write().unwrap_or_else(|p| p.into_inner()) = bearer;
        }
    }

    /// Whether `bearer` is a token a request succeeded with.
    pub fn was_accepted(&self, bearer: Option<&Secret>) -> bool {
        bearer.is_some()
            && self
                .accepted
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                == bearer
    }

    pub fn bearer(&self) -> Option<Secret> {
        self.held().bearer
    }

    pub(super) fn changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}
