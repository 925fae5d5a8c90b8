//! The connect-time sign-in's stages as separate calls, for the guided sign-in
//! ([`crate::doctor::guided`]), which runs them one at a time and shows each. Each is the code
//! [`OAuthClient::connect_authorization`] and [`OAuthClient::complete_authorization`] run — the
//! discovery functions, the client identity, the callback checks — exposed, not copied.
//! (Discovery's second half is [`OAuthClient::read_authorization_server`], in `client.rs`.)

use super::authorize::CallbackParams;
use super::client::OAuthClient;
use super::discovery::{Fetched, ProtectedResourceMetadata, fetch_protected_resource};
use super::identity::ClientRegistration;
use super::{CallbackError, OAuthClientError};
use crate::http::HttpClient;
use crate::random::Entropy;
use crate::recovery::Clock;
use crate::store::OAuthStore;

/// The client identity the sign-in will use.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub registration: ClientRegistration,
    /// Registered (RFC 7591) by this call.
    pub registered_now: bool,
}

/// What the authorization response was checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackCheck {
    /// The issuer the request was sent to.
    pub issuer: String,
    /// Whether that issuer announced RFC 9207 `iss` (so its absence is refused).
    pub iss_required: bool,
    /// The `iss` the response carried.
    pub iss: Option<String>,
}

impl<H, S, C, E> OAuthClient<H, S, C, E>
where
    H: HttpClient,
    S: OAuthStore,
    C: Clock,
    E: Entropy,
{
    /// Discovery's first half: the protected-resource metadata of `server_url` (`hint`: the
    /// challenge's `resource_metadata`), refused when its `resource` is another server's.
    pub async fn read_protected_resource(
        &self,
        server_url: &str,
        hint: Option<&str>,
    ) -> Result<Option<Fetched<ProtectedResourceMetadata>>, OAuthClientError> {
        fetch_protected_resource(self.http(), server_url, hint).await
    }

    /// The client identity for `server_url`'s authorization server: configured, stored, a
    /// metadata document, else a dynamic registration (made now and stored).
    pub async fn client_identity(
        &self,
        server_url: &str,
    ) -> Result<ClientIdentity, OAuthClientError> {
        let discovery = self.discover(server_url, None).await?;
        let client = self.client_for(&discovery).await?;
        Ok(ClientIdentity {
            registration: client.registration,
            registered_now: client.registered_now,
        })
    }

    /// The checks [`Self::complete_authorization`] makes of an authorization response before it
    /// exchanges anything (`state` known, `iss`, error), without using up the pending request.
    pub async fn check_callback(&self, callback: &str) -> Result<CallbackCheck, OAuthClientError> {
        let params = CallbackParams::parse(callback);
        let state = params.state.clone().ok_or(CallbackError::MissingState)?;
        let document = self.store().read().await?;
        let pending = document
            .pending_for(&state)
            .ok_or(CallbackError::UnknownState)?;
        let check = CallbackCheck {
            issuer: pending.issuer.to_string(),
            iss_required: pending.iss_required,
            iss: params.iss.clone(),
        };
        params.into_code(pending)?;
        Ok(check)
    }
}
