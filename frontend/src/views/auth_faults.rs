//! The Auth tab's fault injection: break, on purpose, what this connection holds — send no token or
//! a corrupted one, refresh now, revoke the token at the authorization server, drop the refresh
//! token, mark the token expired — then watch the server's answer and Keyhole's recovery in the
//! Network tab and the OAuth exchanges below. Connection faults change only what the backend
//! session sends (`/api/mcp/auth-state`); the others go through the shared OAuth client
//! ([`keyhole_shared::oauth_client::faults`]).
//!
//! Test ids: `auth-faults`, `auth-fault-select` (values: the fault names, e.g. `corrupt-token`),
//! `auth-fault-inject`, `auth-fault-result` (`data-state` ok|error, `data-seq` counting the faults
//! injected in this tab).

use keyhole_shared::api::mcp::{AuthState, BearerToken};
use keyhole_shared::oauth_client::Fault;
use keyhole_shared::secret::Secret;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::oauth;
use crate::flows::session::Session;

/// Applies `fault` to `session`; what happened, for people.
async fn inject(session: Session, fault: Fault) -> Result<String, String> {
    match fault {
        Fault::ForgetAccessToken => {
            session.set_connection_token(None).await?;
            Ok("The connection now sends no access token: its next request meets the server's challenge.".into())
        }
        Fault::CorruptToken => {
            let held = session
                .bearer()
                .ok_or_else(|| "The connection holds no access token to corrupt.".to_owned())?;
            let corrupted = BearerToken {
                access_token: Secret::new(Fault::corrupt(held.expose())),
                token_type: Some("Bearer".into()),
            };
            session
                .set_connection_token(Some(AuthState { tokens: corrupted }))
                .await?;
            Ok("The connection now sends a corrupted token (the store keeps the good one).".into())
        }
        _ => {
            let client = oauth::client_in(Some(session.id()));
            let outcome = client
                .inject(&session.url(), fault)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(tokens) = &outcome.tokens {
                session.push_tokens(tokens).await?;
            }
            Ok(outcome.message)
        }
    }
}

#[component]
pub fn FaultControls(
    session: Session,
    /// Called once a fault was applied (the tab reloads what it shows).
    on_injected: Callback<()>,
) -> impl IntoView {
    let chosen = RwSignal::new(Fault::ALL[0].name().to_owned());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<String, String>>);
    let seq = RwSignal::new(0u32);
    let run = move |_| {
        let Some(fault) = Fault::parse(&chosen.get_untracked()) else {
            return;
        };
        busy.set(true);
        result.set(None);
        spawn_local(async move {
            let outcome = inject(session, fault).await;
            seq.update(|n| *n += 1);
            result.set(Some(outcome));
            busy.set(false);
            on_injected.run(());
        });
    };
    let options = Fault::ALL.map(|fault| {
        view! { <option value=fault.name()>{fault.name()} " — " {fault.describe()}</option> }
    });
    view! {
        <div class="log-toolbar" data-testid="auth-faults">
            <label for="auth-fault-select" class="muted">"Inject a fault:"</label>
            <select id="auth-fault-select" class="fault-select" data-testid="auth-fault-select"
                on:change=move |ev| chosen.set(event_target_value(&ev))>
                {options}
            </select>
            <button type="button" class="small" data-testid="auth-fault-inject"
                disabled=move || busy.get() on:click=run>"Inject"</button>
        </div>
        {move || result.get().map(|outcome| {
            let (state, text) = match outcome {
                Ok(text) => ("ok", text),
                Err(text) => ("error", format!("Nothing was changed: {text}")),
            };
            view! {
                <p class="muted" data-testid="auth-fault-result" data-state=state
                    data-seq=seq.get_untracked().to_string() role="status">{text}</p>
            }
        })}
    }
}
