//! OAuth scopes and the rules deciding which scopes to ask for and which to remember.
//!
//! Scope handling is where mid-session recovery most easily goes wrong: a step-up that forgets the
//! scopes already held silently downgrades the session, and persisting what was *asked for* instead
//! of what was *granted* makes the next "already satisfied?" check lie. Every such rule lives here,
//! as small pure functions, so the browser, the CLI and the tests share one definition.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One OAuth scope token (RFC 6749 §3.3): non-empty, no whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    /// Wraps `value` when it is a usable scope token (non-empty, no whitespace).
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        let usable = !value.is_empty() && !value.chars().any(char::is_whitespace);
        usable.then_some(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Scope::new(raw.clone())
            .ok_or_else(|| serde::de::Error::custom(format!("not a scope token: {raw:?}")))
    }
}

/// An ordered set of scopes without duplicates; order is first-seen.
///
/// Serialises to JSON as an array of strings; [`ScopeSet::to_scope_string`] gives the
/// space-separated form used on the wire by OAuth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the space-separated form (`"a b  c"`); repeated scopes keep their first position.
    pub fn parse(text: &str) -> Self {
        text.split_whitespace().filter_map(Scope::new).collect()
    }

    /// The space-separated form, e.g. for an authorization request's `scope` parameter.
    pub fn to_scope_string(&self) -> String {
        self.to_string()
    }

    /// Adds `scope` at the end unless already present; returns whether it was added.
    pub fn insert(&mut self, scope: Scope) -> bool {
        if self.contains(&scope) {
            return false;
        }
        self.0.push(scope);
        true
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn contains_str(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Scope> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `self` followed by the scopes of `other` not already present (previous first).
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        self.iter().chain(other.iter()).cloned().collect()
    }

    /// The scopes of `self` that `other` lacks, in `self`'s order.
    pub fn difference(&self, other: &ScopeSet) -> ScopeSet {
        let other = other.lookup();
        self.iter()
            .filter(|s| !other.contains(s.as_str()))
            .cloned()
            .collect()
    }

    /// The scopes present in both, in `self`'s order.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        let other = other.lookup();
        self.iter()
            .filter(|s| other.contains(s.as_str()))
            .cloned()
            .collect()
    }

    /// Every scope of `other` is in `self` (order ignored).
    pub fn is_superset_of(&self, other: &ScopeSet) -> bool {
        let own = self.lookup();
        other.iter().all(|s| own.contains(s.as_str()))
    }

    /// A hash set of the scopes, so set operations stay linear: a server controls the size of a
    /// challenge's `scope`, and comparing every pair of thousands of scopes would stall.
    fn lookup(&self) -> HashSet<&str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// A superset holding at least one scope `other` lacks.
    pub fn is_strict_superset_of(&self, other: &ScopeSet) -> bool {
        self.is_superset_of(other) && self.len() > other.len()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for ScopeSet {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl FromIterator<Scope> for ScopeSet {
    /// Keeps the first occurrence of each scope; linear in the number of scopes.
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut seen = HashSet::new();
        let scopes = iter
            .into_iter()
            .filter(|scope| seen.insert(scope.clone()))
            .collect();
        Self(scopes)
    }
}

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a Scope;
    type IntoIter = std::slice::Iter<'a, Scope>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Why new authorization is being requested; decides between replacing and widening the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantPurpose {
    /// A 401: the token is gone or invalid, so the request starts afresh.
    Relogin,
    /// A 403 `insufficient_scope`: the session keeps what it had and adds what is missing.
    StepUp,
}

/// Everything the scope decision depends on.
#[derive(Clone, Copy, Debug)]
pub struct ScopeInputs<'a> {
    /// Scopes granted to the current session (empty when nothing is held).
    pub previously_granted: &'a ScopeSet,
    /// The challenge's `scope` parameter, parsed.
    pub challenge: &'a ScopeSet,
    /// Scopes configured for this server by the user, if any.
    pub configured: Option<&'a ScopeSet>,
    /// `scopes_supported` from the protected-resource metadata, if known.
    pub supported: Option<&'a ScopeSet>,
}

impl ScopeInputs<'_> {
    /// The challenge's scopes, else the configured ones, else `scopes_supported`.
    fn fresh_request(&self) -> ScopeSet {
        [Some(self.challenge), self.configured, self.supported]
            .into_iter()
            .flatten()
            .find(|set| !set.is_empty())
            .cloned()
            .unwrap_or_default()
    }
}

/// The scopes to request: a 401 re-login **replaces** the set (challenge, else configured, else
/// supported); a step-up asks for the **union** of what was held and what is needed, previous first.
pub fn scopes_to_request(purpose: GrantPurpose, inputs: ScopeInputs<'_>) -> ScopeSet {
    match purpose {
        GrantPurpose::Relogin => inputs.fresh_request(),
        GrantPurpose::StepUp => inputs.previously_granted.union(&inputs.fresh_request()),
    }
}

/// A refresh grant cannot widen scope, so it is only worth trying when the request stays within
/// what the refresh token was granted.
pub fn refresh_can_cover(requested: &ScopeSet, granted_to_token: &ScopeSet) -> bool {
    granted_to_token.is_superset_of(requested)
}

/// How a grant attempt ended, as far as scope persistence is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantResult<'a> {
    /// The grant failed, was cancelled or abandoned.
    Failed,
    /// Tokens were issued; `response_scope` is the token response's `scope` field, if present.
    Granted { response_scope: Option<&'a str> },
}

/// The scopes to persist after a grant attempt: nothing when it failed (the requested union is
/// never stored speculatively), the token response's `scope` when present (it is authoritative,
/// e.g. after partial consent), else what was requested.
pub fn scopes_to_persist(requested: &ScopeSet, result: GrantResult<'_>) -> Option<ScopeSet> {
    match result {
        GrantResult::Failed => None,
        GrantResult::Granted {
            response_scope: Some(scope),
        } => Some(ScopeSet::parse(scope)),
        GrantResult::Granted {
            response_scope: None,
        } => Some(requested.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s)
    }

    #[test]
    fn parse_dedups_and_keeps_first_position() {
        let s = set("  b a\tb  c a ");
        assert_eq!(s.to_scope_string(), "b a c");
        assert_eq!(s.len(), 3);
        assert!(set("").is_empty());
    }

    #[test]
    fn scope_rejects_blank_and_spaces() {
        assert!(Scope::new("").is_none());
        assert!(Scope::new("a b").is_none());
        assert_eq!(Scope::new("files:read").unwrap().as_str(), "files:read");
    }

    #[test]
    fn union_puts_previous_first() {
        assert_eq!(set("a b").union(&set("c b d")).to_string(), "a b c d");
        assert_eq!(set("").union(&set("x")).to_string(), "x");
    }

    #[test]
    fn superset_tests() {
        assert!(set("a b c").is_superset_of(&set("c a")));
        assert!(set("a b c").is_strict_superset_of(&set("c a")));
        assert!(!set("a b").is_strict_superset_of(&set("b a")));
        assert!(set("a b").is_superset_of(&set("b a")));
        assert!(!set("a").is_superset_of(&set("a b")));
        assert!(set("a").is_superset_of(&set("")));
    }

    #[test]
    fn difference_and_intersection() {
        assert_eq!(set("a b c").difference(&set("b")).to_string(), "a c");
        assert_eq!(set("a b c").intersection(&set("c a")).to_string(), "a c");
    }

    #[test]
    fn json_is_an_array() {
        let json = serde_json::to_string(&set("a b")).unwrap();
        assert_eq!(json, r#"["a","b"]"#);
        let back: ScopeSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set("a b"));
        assert!(serde_json::from_str::<ScopeSet>(r#"["a b"]"#).is_err());
    }

    #[test]
    fn relogin_replaces_with_first_non_empty_source() {
        let prev = set("old extra");
        let (need, conf, sup, empty) = (set("need"), set("conf"), set("s1 s2"), set(""));
        let relogin = |challenge: &ScopeSet, configured: Option<&ScopeSet>, supported| {
            scopes_to_request(
                GrantPurpose::Relogin,
                ScopeInputs {
                    previously_granted: &prev,
                    challenge,
                    configured,
                    supported,
                },
            )
            .to_string()
        };
        assert_eq!(relogin(&need, Some(&conf), Some(&sup)), "need");
        assert_eq!(relogin(&empty, Some(&conf), Some(&sup)), "conf");
        assert_eq!(relogin(&empty, Some(&empty), Some(&sup)), "s1 s2");
        assert_eq!(relogin(&empty, None, None), "");
    }

    #[test]
    fn step_up_unions_previous_first() {
        let prev = set("read write");
        let r = scopes_to_request(
            GrantPurpose::StepUp,
            ScopeInputs {
                previously_granted: &prev,
                challenge: &set("admin read"),
                configured: None,
                supported: None,
            },
        );
        assert_eq!(r.to_string(), "read write admin");
    }

    #[test]
    fn refresh_only_when_within_token_grant() {
        assert!(refresh_can_cover(&set("a"), &set("a b")));
        assert!(!refresh_can_cover(&set("a c"), &set("a b")));
    }

    #[test]
    fn persistence_rule() {
        let requested = set("a b c");
        assert_eq!(scopes_to_persist(&requested, GrantResult::Failed), None);
        assert_eq!(
            scopes_to_persist(
                &requested,
                GrantResult::Granted {
                    response_scope: None
                }
            ),
            Some(requested.clone())
        );
        assert_eq!(
            scopes_to_persist(
                &requested,
                GrantResult::Granted {
                    response_scope: Some("a c")
                }
            ),
            Some(set("a c"))
        );
    }
}
