//! The Auth tab's way out (`auth-forget-tokens`, `auth-forget-client`, `auth-forget-all`): forget
//! this server's tokens (revoked first where the authorization server allows), the client
//! registration at its authorization server, or both — in the OAuth store shared with the CLI.
//! Useful when a server or its authorization server restarted and forgot them: the next sign-in
//! starts clean. The live session keeps the token it has until then.

use keyhole_shared::oauth_client::ForgetReport;
use keyhole_shared::store::Forget;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::flows::oauth;
use crate::flows::session::Session;
use crate::views::toast::{ToastKind, Toasts};

fn summary(report: &ForgetReport, what: Forget) -> String {
    let mut done = Vec::new();
    if what.tokens || report.credentials > 0 {
        done.push(format!("{} set(s) of tokens", report.credentials));
    }
    if what.client {
        done.push(format!("{} client registration(s)", report.clients));
    }
    let mut text = format!("Forgot {}.", done.join(" and "));
    if report.revoked > 0 {
        text.push_str(&format!(
            " Revoked {} token(s) at the authorization server.",
            report.revoked
        ));
    }
    text.push_str(" The next sign-in starts from there.");
    text
}

#[component]
pub fn ForgetControls(
    session: Session,
    /// Called once the store changed (the tab reloads what it shows).
    on_forgotten: Callback<()>,
) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let busy = RwSignal::new(false);
    let forget = move |what: Forget| {
        busy.set(true);
        spawn_local(async move {
            let client = oauth::client_in(Some(session.id()));
            match client.forget(&session.url(), what).await {
                Ok(report) => toasts.show(ToastKind::Success, summary(&report, what)),
                Err(error) => {
                    toasts.show(ToastKind::Error, format!("Nothing was forgotten: {error}"))
                }
            }
            busy.set(false);
            on_forgotten.run(());
        });
    };
    let button = move |testid: &'static str, what: Forget, label: &'static str| {
        view! {
            <button type="button" class="small" data-testid=testid disabled=move || busy.get()
                on:click=move |_| forget(what)>{label}</button>
        }
    };
    view! {
        <div class="log-toolbar" data-testid="auth-forget">
            <span class="muted">"Forget what Keyhole holds for this server:"</span>
            {button("auth-forget-tokens", Forget::TOKENS, "Tokens")}
            {button("auth-forget-client", Forget::CLIENT, "Client registration")}
            {button("auth-forget-all", Forget::ALL, "Both")}
        </div>
    }
}
