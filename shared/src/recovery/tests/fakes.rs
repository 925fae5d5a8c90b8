//! In-memory implementations of the recovery ports, scripted per test.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::challenge::{AuthChallenge, ChallengeContext};
use crate::oauth_client::OAuthClientError;
use crate::recovery::*;
use crate::scopes::ScopeSet;
use crate::secret::Secret;
use crate::store::StoreError;
use crate::tokens::{TokenResponse, Tokens};

/// Returns `Pending` once, so concurrent futures get a chance to interleave.
pub struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

#[derive(Default)]
pub struct FakeStore {
    pub tokens: RefCell<HashMap<CredentialKey, Tokens>>,
    pub saves: Cell<u32>,
    pub fail_saves: Cell<bool>,
}

impl CredentialStore for FakeStore {
    async fn load(&self, key: &CredentialKey) -> Option<Tokens> {
        self.tokens.borrow().get(key).cloned()
    }
    async fn save(&self, key: &CredentialKey, tokens: &Tokens) -> Result<(), OAuthClientError> {
        if self.fail_saves.get() {
            return Err(OAuthClientError::Store(StoreError::Io("disk full".into())));
        }
        self.saves.set(self.saves.get() + 1);
        self.tokens.borrow_mut().insert(key.clone(), tokens.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct FakeRefresher {
    pub results: RefCell<VecDeque<Result<TokenResponse, GrantError>>>,
    /// The `scope` argument of every call.
    pub calls: RefCell<Vec<Option<String>>>,
}

impl TokenRefresher for FakeRefresher {
    async fn refresh(
        &self,
        _: &CredentialKey,
        _: &Secret,
        scope: Option<&ScopeSet>,
    ) -> Result<TokenResponse, GrantError> {
        self.calls
            .borrow_mut()
            .push(scope.map(ScopeSet::to_scope_string));
        yield_now().await;
        let next = self.results.borrow_mut().pop_front();
        next.unwrap_or_else(|| Err(flow_failure("nothing scripted")))
    }
}

#[derive(Default)]
pub struct FakeEma {
    pub results: RefCell<VecDeque<Result<TokenResponse, EmaError>>>,
    pub calls: RefCell<Vec<String>>,
}

impl EmaReminter for FakeEma {
    async fn remint(&self, _: &CredentialKey, scope: &ScopeSet) -> Result<TokenResponse, EmaError> {
        self.calls.borrow_mut().push(scope.to_scope_string());
        let next = self.results.borrow_mut().pop_front();
        next.unwrap_or(Err(EmaError::IdTokenUnusable))
    }
}

pub struct FakeClock(pub Cell<u64>);

impl Clock for FakeClock {
    fn now_unix(&self) -> u64 {
        self.0.get()
    }
}

#[derive(Default)]
pub struct FakeAuthorizer {
    pub calls: Cell<u32>,
}

impl AuthorizationUrlBuilder for FakeAuthorizer {
    async fn authorization_url(
        &self,
        _: &CredentialKey,
        scope: &ScopeSet,
    ) -> Result<String, GrantError> {
        self.calls.set(self.calls.get() + 1);
        let scope = scope.to_scope_string().replace(' ', "+");
        Ok(format!("https://as.example/authorize?scope={scope}"))
    }
}

pub const NOW: u64 = 1_000_000;

pub struct World {
    pub store: FakeStore,
    pub refresher: FakeRefresher,
    pub ema: FakeEma,
    pub clock: FakeClock,
    pub authorizer: FakeAuthorizer,
    pub server: ServerAuth,
    pub guard: StepUpGuard,
}

pub type FakePorts<'a> = Ports<'a, FakeStore, FakeRefresher, FakeEma, FakeClock, FakeAuthorizer>;

impl World {
    pub fn new(enterprise_managed: bool) -> Self {
        Self {
            store: FakeStore::default(),
            refresher: FakeRefresher::default(),
            ema: FakeEma::default(),
            clock: FakeClock(Cell::new(NOW)),
            authorizer: FakeAuthorizer::default(),
            server: ServerAuth {
                key: CredentialKey {
                    server_url: "https://mcp.example/mcp".into(),
                    issuer: Some("https://as.example".into()),
                },
                configured_scopes: None,
                scopes_supported: None,
                enterprise_managed,
            },
            guard: StepUpGuard::new(),
        }
    }

    pub fn ports(&self) -> FakePorts<'_> {
        Ports {
            store: &self.store,
            refresher: &self.refresher,
            ema: &self.ema,
            clock: &self.clock,
            authorizer: &self.authorizer,
        }
    }

    pub fn hold(&self, tokens: Tokens) {
        let key = self.server.key.clone();
        self.store.tokens.borrow_mut().insert(key, tokens);
    }

    pub fn held(&self) -> Option<Tokens> {
        self.store.tokens.borrow().get(&self.server.key).cloned()
    }

    pub fn script_refresh(&self, result: Result<TokenResponse, GrantError>) {
        self.refresher.results.borrow_mut().push_back(result);
    }

    pub fn script_ema(&self, result: Result<TokenResponse, EmaError>) {
        self.ema.results.borrow_mut().push_back(result);
    }

    pub fn handle(&self, challenge: &AuthChallenge, rejected: Option<&str>) -> RecoveryOutcome {
        let rejected = rejected.map(Secret::new);
        futures::executor::block_on(handle_auth_challenge(
            self.ports(),
            &self.server,
            challenge,
            rejected.as_ref(),
            &self.guard,
        ))
    }
}

pub fn tokens(access: &str, scopes: &str, refresh: Option<&str>) -> Tokens {
    Tokens {
        access_token: Secret::new(access),
        token_type: "Bearer".into(),
        refresh_token: refresh.map(Secret::new),
        scopes: ScopeSet::parse(scopes),
        expires_at: Some(NOW + 3600),
    }
}

pub fn response(access: &str, scope: Option<&str>) -> TokenResponse {
    TokenResponse {
        access_token: Secret::new(access),
        token_type: "Bearer".into(),
        expires_in: Some(3600),
        refresh_token: None,
        scope: scope.map(str::to_owned),
    }
}

pub fn challenge(status: u16, header: &str, tool: Option<&str>) -> AuthChallenge {
    let context = ChallengeContext {
        method: Some("tools/call".into()),
        tool_name: tool.map(str::to_owned),
    };
    AuthChallenge::from_response(status, &[header.as_bytes()], context).expect("a challenge")
}

pub fn step_up_challenge(scope: &str, tool: &str) -> AuthChallenge {
    let header = format!(r#"Bearer error="insufficient_scope", scope="{scope}""#);
    challenge(403, &header, Some(tool))
}

pub fn expired_challenge() -> AuthChallenge {
    challenge(401, r#"Bearer error="invalid_token""#, Some("t"))
}

/// The fakes as the engine's authority, as `OAuthClient` is in the product.
impl Authority for World {
    async fn handle_challenge(
        &self,
        _: &str,
        challenge: &AuthChallenge,
        rejected: Option<&Secret>,
        guard: &StepUpGuard,
    ) -> RecoveryOutcome {
        handle_auth_challenge(self.ports(), &self.server, challenge, rejected, guard).await
    }

    async fn confirm_step_up(&self, _: &str, plan: &StepUpPlan) -> RecoveryOutcome {
        confirm_step_up(self.ports(), &self.server, plan).await
    }
}

/// A grant that failed before any OAuth error (the IdP or the token endpoint did not answer).
pub fn flow_failure(step: &str) -> GrantError {
    GrantError::Flow(Box::new(crate::oauth_client::OAuthClientError::Status {
        step: step.to_owned(),
        status: 503,
    }))
}
