//! Every sentence Keyhole shows a person about authorization, in one place.
//!
//! The web app, the CLI and the recovery errors all word the same situation the same way, and a
//! wording change is one edit. Messages explain what happened and what happens next; they never
//! contain tokens, and OAuth errors are rendered as prose, never as raw JSON.

use crate::scopes::ScopeSet;
use crate::tokens::OAuthErrorResponse;

/// How a challenge was answered without the user seeing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SilentRecovery {
    /// Credentials already in storage (another tab or the CLI) answered the challenge.
    Storage,
    /// The refresh token produced a new access token.
    Refresh,
    /// A new access token was minted through the enterprise IdP.
    EmaRemint,
    /// The client obtained a token for itself (client-credentials grant, the CLI's
    /// `--client-credentials`).
    ClientCredentials,
    /// The client exchanged its workload's identity token (RFC 7523 JWT-bearer grant, SEP-1933;
    /// the CLI's `--workload-token-file`).
    Workload,
}

/// "a", "a and b", "a, b and c".
pub fn scope_list(scopes: &ScopeSet) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn plural(scopes: &ScopeSet) -> &'static str {
    if scopes.len() == 1 { "scope" } else { "scopes" }
}

/// Shown in the step-up prompt; `new_scopes` are the scopes not granted yet.
pub fn step_up_needed(tool: Option<&str>, new_scopes: &ScopeSet) -> String {
    let what = match tool {
        Some(tool) => format!("The tool \"{tool}\""),
        None => "This request".to_owned(),
    };
    if new_scopes.is_empty() {
        return format!(
            "{what} needs more access than the current sign-in allows, but the server did not say \
             which. Authorizing again lets the server grant it."
        );
    }
    format!(
        "{what} needs the {} {}, which this session has not been granted yet. Authorize to add \
         {}; the access you already have is kept.",
        plural(new_scopes),
        scope_list(new_scopes),
        if new_scopes.len() == 1 { "it" } else { "them" },
    )
}

/// Shown just before leaving the page for a step-up authorization.
pub fn redirecting_for_step_up(requested: &ScopeSet) -> String {
    if requested.is_empty() {
        return "Taking you to the authorization server to grant more access…".to_owned();
    }
    format!(
        "Taking you to the authorization server to grant {}. You will come back here afterwards.",
        scope_list(requested)
    )
}

pub fn session_expired_reauthenticating() -> String {
    "Your sign-in to this server has expired and could not be renewed silently. Signing you in \
     again; your session and form will be kept."
        .to_owned()
}

pub fn recovered_silently(how: SilentRecovery) -> String {
    match how {
        SilentRecovery::Storage => {
            "Picked up a newer sign-in made elsewhere and retried the request.".to_owned()
        }
        SilentRecovery::Refresh => "Renewed the access token and retried the request.".to_owned(),
        SilentRecovery::EmaRemint => {
            "Obtained a fresh token from your organization's sign-in and retried the request."
                .to_owned()
        }
        SilentRecovery::ClientCredentials => {
            "Obtained a token with the client's own credentials and sent the request.".to_owned()
        }
        SilentRecovery::Workload => {
            "Exchanged the workload's identity token for an access token and sent the request."
                .to_owned()
        }
    }
}

/// New tokens work for this session but could not be written to the store (`error` says why);
/// the next run or page will not find them.
pub fn token_not_saved(error: impl std::fmt::Display) -> String {
    format!("The new token works but could not be saved: {error}")
}

pub fn recovered_after_redirect(tool: Option<&str>) -> String {
    match tool {
        Some(tool) => format!(
            "Authorization complete. You are back where you were; run \"{tool}\" again when ready."
        ),
        None => "Authorization complete. You are back where you were.".to_owned(),
    }
}

/// The authorization server granted less than was asked (the user unticked some scopes).
pub fn partial_consent(granted: &ScopeSet, missing: &ScopeSet) -> String {
    let granted_part = if granted.is_empty() {
        "no scopes".to_owned()
    } else {
        scope_list(granted)
    };
    format!(
        "Only part of the requested access was granted ({granted_part}). Still missing: {}. \
         Requests that need {} will keep being refused.",
        scope_list(missing),
        if missing.len() == 1 { "it" } else { "them" },
    )
}

pub fn abandoned_sign_in() -> String {
    "A sign-in was started but never finished, so this server may be missing access. \
     Re-authenticate to continue; your session is still connected."
        .to_owned()
}

pub fn lost_authorization_state() -> String {
    "The sign-in could not be completed because its saved state was lost (for example, it was \
     finished in another tab or the browser storage was cleared). Please start it again."
        .to_owned()
}

pub fn issuer_mismatch(expected: &str, received: Option<&str>) -> String {
    match received {
        Some(received) => format!(
            "The authorization response came from \"{received}\", but \"{expected}\" was \
             expected. It was rejected to protect your credentials."
        ),
        None => format!(
            "The authorization response did not say which server issued it, although \
             \"{expected}\" announces that it does. It was rejected to protect your credentials."
        ),
    }
}

pub fn ema_in_progress() -> String {
    "Getting a token through your organization's identity provider…".to_owned()
}

pub fn ema_succeeded() -> String {
    "Your organization's identity provider issued a new token for this server.".to_owned()
}

pub fn ema_failed(detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!(
            "Your organization's identity provider could not issue a token for this server: {detail}"
        ),
        None => "Your organization's identity provider could not issue a token for this server."
            .to_owned(),
    }
}

/// A 403 that re-authorizing cannot fix.
pub fn forbidden(description: Option<&str>) -> String {
    match description {
        Some(d) => format!("The server refused this request: {d}"),
        None => "The server refused this request, and signing in again would not change that."
            .to_owned(),
    }
}

/// The browser has no Web Locks, so recoveries are coordinated within one tab only.
pub fn web_locks_unavailable() -> String {
    "This browser offers no Web Locks, so Keyhole coordinates sign-in recoveries within this tab \
     only: another tab on the same server may renew its token separately."
        .to_owned()
}

/// The replayed request was challenged again.
pub fn challenged_after_retry() -> String {
    "The request was refused again right after authorization was renewed, so it was not retried \
     a second time."
        .to_owned()
}

/// Why the web app's automatic sign-ins kept coming back (see `sign_in_guard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopCause {
    /// The sign-ins completed, but the server refused (or soon expired) every token.
    TokensRefused,
    /// The sign-ins never came back from the authorization server.
    SignInsNotCompleted,
}

/// The web app stopped signing in automatically (see `sign_in_guard`).
pub fn sign_in_loop_stopped(sign_ins: usize, window_secs: u64, cause: LoopCause) -> String {
    let minutes = window_secs / 60;
    match cause {
        LoopCause::TokensRefused => format!(
            "Keyhole had to sign in to this server {sign_ins} times in the last {minutes} \
             minutes, so it stopped signing in by itself to avoid a loop: the server keeps \
             refusing the tokens it gets, or they expire within seconds and come without a \
             refresh token. Check how the server validates tokens (audience, issuer, clock); \
             \"Authorize again\" signs in once more."
        ),
        LoopCause::SignInsNotCompleted => format!(
            "Keyhole sent you to this server's authorization server {sign_ins} times in the last \
             {minutes} minutes without a sign-in coming back, so it stopped doing so by itself: \
             the authorization server may not know Keyhole's client registration any more (it \
             forgets it when it restarts). \"Start over with a new registration\" registers \
             again and signs in."
        ),
    }
}

/// A request that carried a token the server accepted before was refused without a challenge.
pub fn token_maybe_not_recognised(http_status: u16) -> String {
    format!(
        "The server answered HTTP {http_status} to a request carrying the token it accepted \
         before. It may no longer recognise that token (for example, it restarted and forgot \
         it). Authorizing again gets a new one."
    )
}

/// The authorization server did not know the client registration Keyhole held.
pub fn client_forgotten_registering_again() -> String {
    "The authorization server no longer knows Keyhole's client registration (it probably \
     restarted). Keyhole registered again and is signing you in."
        .to_owned()
}

/// The authorization server refused a client registered for this very sign-in.
pub fn client_refused_after_registering(detail: &str) -> String {
    format!(
        "The authorization server refused the client Keyhole registered for this sign-in: \
         {detail} Registering once more would not help; check the authorization server."
    )
}

/// Why a terminal sign-in is starting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInReason {
    /// Nothing was held for this server.
    First,
    /// The held token was refused or expired and could not be renewed silently.
    Expired,
    /// The server refused the held token without a challenge (see [`token_maybe_not_recognised`]).
    NotRecognised,
}

/// What the CLI says before a sign-in (the web app keeps the session and form; a terminal
/// command has neither).
pub fn cli_signing_in(reason: SignInReason) -> String {
    match reason {
        SignInReason::First => "This server needs authorization: signing in.".to_owned(),
        SignInReason::Expired => {
            "Your sign-in to this server has expired and could not be renewed silently: signing \
             in again."
                .to_owned()
        }
        SignInReason::NotRecognised => {
            "The server no longer seems to accept the stored token: signing in again.".to_owned()
        }
    }
}

/// The CLI signed in and goes on with the command.
pub fn cli_signed_in() -> String {
    "Signed in.".to_owned()
}

/// `--non-interactive` met an authorization server that wants a person.
pub fn non_interactive_needs_a_person(what: &str) -> String {
    format!(
        "The authorization server {what}: --non-interactive only works with authorization \
         servers that approve at once. Run without --non-interactive to sign in with a browser."
    )
}

/// After an interactive sign-in, the command that needed it was not sent again.
pub fn not_sent_again(tool: &str) -> String {
    format!(
        "Authorization complete. The call to \"{tool}\" was not sent again, because a tool may \
         have side effects: press Run again to send it."
    )
}

pub fn step_up_limit_reached(attempts: u32) -> String {
    format!(
        "Stopped after {attempts} attempts to obtain the access this request needs; the server \
         keeps asking for more. Check the scopes it requires."
    )
}

/// Explanations for the error codes of RFC 6749 §4.1.2.1/§5.2 and OpenID Connect.
fn explain_oauth_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_request" => "The request to the authorization server was malformed",
        "invalid_client" => "The authorization server did not accept this client's identity",
        "invalid_grant" => {
            "The authorization grant or refresh token is no longer valid (expired, revoked or \
             already used)"
        }
        "unauthorized_client" => "This client is not allowed to use this kind of grant",
        "unsupported_grant_type" => "The authorization server does not support this grant type",
        "unsupported_response_type" => {
            "The authorization server does not support this response type"
        }
        "invalid_scope" => "One of the requested scopes is unknown or not allowed",
        "access_denied" => "Access was denied",
        "server_error" => "The authorization server hit an internal error",
        "temporarily_unavailable" => "The authorization server is temporarily unavailable",
        "login_required" => "You need to sign in at the authorization server",
        "consent_required" => "Your consent is required at the authorization server",
        "interaction_required" => "The authorization server needs you to interact with it",
        "invalid_target" => "The authorization server does not accept this resource",
        _ => return None,
    })
}

/// A readable form of an OAuth error response.
pub fn oauth_error(error: &OAuthErrorResponse) -> String {
    let mut text = match explain_oauth_code(&error.error) {
        Some(explanation) => format!("{explanation} ({}).", error.error),
        None => format!(
            "The authorization server reported an error: {}.",
            error.error
        ),
    };
    if let Some(description) = error.error_description.as_deref().map(str::trim)
        && !description.is_empty()
    {
        text.push_str(&format!(" It said: {description}"));
        if !description.ends_with(['.', '!', '?']) {
            text.push('.');
        }
    }
    if let Some(uri) = &error.error_uri {
        text.push_str(&format!(" More information: {uri}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s)
    }

    #[test]
    fn scope_lists_read_naturally() {
        assert_eq!(scope_list(&set("")), "");
        assert_eq!(scope_list(&set("a")), "a");
        assert_eq!(scope_list(&set("a b")), "a and b");
        assert_eq!(scope_list(&set("a b c")), "a, b and c");
    }

    #[test]
    fn step_up_variants() {
        let tool_and_scopes = step_up_needed(Some("write_file"), &set("files:write"));
        assert!(tool_and_scopes.contains("\"write_file\""));
        assert!(tool_and_scopes.contains("scope files:write"));
        let scopes_only = step_up_needed(None, &set("a b"));
        assert!(scopes_only.starts_with("This request") && scopes_only.contains("a and b"));
        let neither = step_up_needed(None, &set(""));
        assert!(neither.contains("did not say which"));
        assert!(redirecting_for_step_up(&set("a")).contains('a'));
    }

    #[test]
    fn situations_have_distinct_messages() {
        let all = [
            session_expired_reauthenticating(),
            recovered_silently(SilentRecovery::Storage),
            recovered_silently(SilentRecovery::Refresh),
            recovered_silently(SilentRecovery::EmaRemint),
            recovered_silently(SilentRecovery::ClientCredentials),
            token_not_saved("disk full"),
            recovered_after_redirect(Some("t")),
            recovered_after_redirect(None),
            partial_consent(&set("a"), &set("b")),
            abandoned_sign_in(),
            lost_authorization_state(),
            issuer_mismatch("https://as", Some("https://evil")),
            issuer_mismatch("https://as", None),
            ema_in_progress(),
            ema_succeeded(),
            ema_failed(None),
            ema_failed(Some("the ID token expired")),
            forbidden(None),
            challenged_after_retry(),
            step_up_limit_reached(3),
            sign_in_loop_stopped(3, 120, LoopCause::TokensRefused),
            sign_in_loop_stopped(3, 120, LoopCause::SignInsNotCompleted),
            token_maybe_not_recognised(500),
            client_forgotten_registering_again(),
            client_refused_after_registering("no."),
            cli_signing_in(SignInReason::First),
            cli_signing_in(SignInReason::Expired),
            cli_signing_in(SignInReason::NotRecognised),
            non_interactive_needs_a_person("shows a sign-in page"),
            not_sent_again("t"),
            cli_signed_in(),
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(!a.is_empty());
            assert!(
                all[i + 1..].iter().all(|b| a != b),
                "duplicate message: {a}"
            );
        }
        assert!(partial_consent(&set(""), &set("x")).contains("no scopes"));
    }

    #[test]
    fn a_token_that_could_not_be_saved_is_worded_once() {
        assert_eq!(
            token_not_saved("the store is locked"),
            "The new token works but could not be saved: the store is locked"
        );
    }

    #[test]
    fn oauth_errors_are_prose() {
        let e = OAuthErrorResponse {
            error: "invalid_grant".into(),
            error_description: Some("refresh token revoked".into()),
            error_uri: Some("https://as.example/help".into()),
        };
        let text = oauth_error(&e);
        assert!(text.starts_with("The authorization grant or refresh token is no longer valid"));
        assert!(text.contains("It said: refresh token revoked."));
        assert!(text.ends_with("More information: https://as.example/help"));
        assert!(!text.contains('{'));
        let unknown = OAuthErrorResponse {
            error: "weird_thing".into(),
            error_description: None,
            error_uri: None,
        };
        assert_eq!(
            oauth_error(&unknown),
            "The authorization server reported an error: weird_thing."
        );
    }
}
