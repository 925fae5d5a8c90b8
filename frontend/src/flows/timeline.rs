//! The auth timeline: every auth incident of a connection as one entry — the challenge (status,
//! `WWW-Authenticate`, reason, the scopes it requires, the request it refused), each step recovery
//! took, the outcome, how long it took, and the scopes and fingerprint of the token it ended with
//! (a short hash, never the token). The page's recovery surface ([`super::recovery`]) records it
//! through the engine's `Surface::challenged` hook; the Auth tab shows it with the OAuth exchanges
//! made meanwhile. It lives in the page; a sign-in that leaves for the authorization server takes
//! it along ([`super::carried`]), and the page that comes back puts it on the resumed session and
//! finishes the incident that left ([`Recorder::resumed`]).

use keyhole_shared::ScopeSet;
use keyhole_shared::challenge::{AuthChallenge, ChallengeReason};
use keyhole_shared::tokens::Tokens;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::session::{Session, now_ms};

/// The incidents a connection keeps (the oldest go first).
const KEPT: usize = 100;

/// One incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub started_ms: f64,
    pub ended_ms: f64,
    pub status: u16,
    pub reason: ChallengeReason,
    pub www_authenticate: Vec<String>,
    /// What was refused: `tools/call echo`, or the event stream.
    pub request: String,
    pub required: ScopeSet,
    /// What recovery did, in order.
    pub steps: Vec<String>,
    /// `None` while under way; `Ok`/`Err` with the outcome for people.
    pub outcome: Option<Result<String, String>>,
    /// The scopes and fingerprint of the token recovery installed.
    pub granted: Option<ScopeSet>,
    pub fingerprint: Option<String>,
}

impl Incident {
    fn of(challenge: &AuthChallenge, now: f64) -> Self {
        let context = &challenge.context;
        let request = match (&context.method, &context.tool_name) {
            (Some(method), Some(tool)) => format!("{method} {tool}"),
            (Some(method), None) => method.clone(),
            (None, _) => "the event stream".into(),
        };
        Self {
            started_ms: now,
            ended_ms: now,
            status: challenge.raw.http_status,
            reason: challenge.reason,
            www_authenticate: challenge.raw.www_authenticate.clone(),
            request,
            required: challenge.required_scopes.clone(),
            steps: Vec::new(),
            outcome: None,
            granted: None,
            fingerprint: None,
        }
    }

    /// `pending`, `recovered` or `failed`.
    pub fn state(&self) -> &'static str {
        match &self.outcome {
            None => "pending",
            Some(Ok(_)) => "recovered",
            Some(Err(_)) => "failed",
        }
    }
}

/// Writes one recovery's incident into its session's timeline.
pub struct Recorder {
    session: Session,
    /// Which entry is this recovery's (by start time: older entries may be dropped meanwhile).
    started: Option<f64>,
}

impl Recorder {
    pub fn new(session: Session) -> Self {
        Self {
            session,
            started: None,
        }
    }

    /// A challenge is being answered: a new incident (a second one in the same recovery, after a
    /// step-up, is a new entry too).
    pub fn start(&mut self, challenge: &AuthChallenge) {
        let now = now_ms();
        self.started = Some(now);
        self.session.timeline.update(|timeline| {
            timeline.push(Incident::of(challenge, now));
            let excess = timeline.len().saturating_sub(KEPT);
            timeline.drain(..excess);
        });
    }

    /// One non-generic way to change the entry (the main wasm module pays for each copy of the
    /// signal's update, so every change goes through this one).
    fn change(&self, change: &mut dyn FnMut(&mut Incident)) {
        let Some(started) = self.started else { return };
        self.session.timeline.update(|timeline| {
            if let Some(incident) = timeline.iter_mut().rev().find(|i| i.started_ms == started) {
                change(incident);
                incident.ended_ms = now_ms();
            }
        });
    }

    /// The incident a sign-in redirect left pending (the newest without an outcome), on the session
    /// the page picked up again after the return.
    pub fn resumed(session: Session) -> Self {
        let started = session.timeline.with_untracked(|timeline| {
            timeline
                .iter()
                .rev()
                .find(|i| i.outcome.is_none())
                .map(|i| i.started_ms)
        });
        Self { session, started }
    }

    pub fn step(&self, text: impl Into<String>) {
        let mut text = Some(text.into());
        self.change(&mut |incident| incident.steps.extend(text.take()));
    }

    pub fn tokens(&self, tokens: &Tokens) {
        let (scopes, fingerprint) = (tokens.scopes.clone(), tokens.access_token.fingerprint());
        self.change(&mut |incident| {
            incident.granted = Some(scopes.clone());
            incident.fingerprint = Some(fingerprint.clone());
        });
    }

    /// The outcome, unless one was set already.
    pub fn finish(&self, outcome: Result<String, String>) {
        let mut outcome = Some(outcome);
        self.change(&mut |incident| {
            if incident.outcome.is_none() {
                incident.outcome = outcome.take();
            }
        });
    }
}
