//! Starting a stdio server from a command line typed in the page. The backend runs it (anyone
//! holding Keyhole's API token may), so the form shows, before anything runs, the exact command
//! line it will start — split into words as a POSIX shell would, no shell involved — and the names
//! of the environment variables it sets, never their values. A separate wasm chunk (`#[lazy]`),
//! fetched when the user opens the form.
//!
//! Test ids: `command-form-open` (in the servers view), `command-line-input`, `command-env-input`, `command-cwd-input`, `command-preview`,
//! `command-problem`, `command-start`.

use std::collections::BTreeMap;

use keyhole_shared::api::StdioEntry;
use leptos::prelude::*;

/// The form; `on_start` gets the server to start.
#[lazy]
pub fn command_form(on_start: Callback<StdioEntry>) -> AnyView {
    view! { <CommandForm on_start=on_start /> }.into_any()
}

#[component]
fn CommandForm(on_start: Callback<StdioEntry>) -> impl IntoView {
    let line = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let cwd = RwSignal::new(String::new());
    let entry = Memo::new(move |_| line.with(|l| env.with(|e| cwd.with(|c| entry_of(l, e, c)))));
    let start = move || {
        if let Ok(entry) = entry.get_untracked() {
            on_start.run(entry);
        }
    };
    view! {
        <form class="connect-form" on:submit=move |ev| {
            ev.prevent_default();
            start();
        }>
            <label for="command-line">"Command line"</label>
            <input id="command-line" type="text" class="mono" placeholder="npx -y @modelcontextprotocol/server-everything"
                data-testid="command-line-input" autocomplete="off" bind:value=line />
            <label for="command-env">"Environment, one " <code>"NAME=value"</code> " per line (values are never shown or logged)"</label>
            <textarea id="command-env" rows="2" class="mono" data-testid="command-env-input" bind:value=env></textarea>
            <label for="command-cwd">"Working directory (optional)"</label>
            <input id="command-cwd" type="text" class="mono" data-testid="command-cwd-input" bind:value=cwd />
            {move || match entry.get() {
                Ok(entry) => view! {
                    <p>"Runs on this machine: " <code data-testid="command-preview">{entry.display}</code></p>
                }.into_any(),
                Err(problem) => view! { <p class="muted" data-testid="command-problem">{problem}</p> }.into_any(),
            }}
            <button type="submit" data-testid="command-start" disabled=move || entry.with(Result::is_err)>
                "Start"
            </button>
        </form>
    }
}

/// The server the fields describe, with the command line shown as it will run; or what is
/// missing or wrong.
fn entry_of(line: &str, env: &str, cwd: &str) -> Result<StdioEntry, String> {
    let words = shlex::split(line).ok_or("A quote is not closed.")?;
    let (command, args) = words
        .split_first()
        .ok_or("Type the command that starts the server.")?;
    let mut variables = BTreeMap::new();
    for pair in env.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                variables.insert(name.trim().to_owned(), value.to_owned());
            }
            _ => return Err("Each environment line is NAME=value.".into()),
        }
    }
    let shown = shlex::try_join(words.iter().map(String::as_str))
        .map_err(|_| "The command line cannot contain a NUL character.")?;
    let names: Vec<&str> = variables.keys().map(String::as_str).collect();
    let display = if names.is_empty() {
        shown
    } else {
        format!("{shown} (with {} set)", names.join(", "))
    };
    Ok(StdioEntry {
        command: command.clone(),
        args: args.to_vec(),
        env: variables,
        cwd: Some(cwd.trim().to_owned()).filter(|c| !c.is_empty()),
        display,
    })
}

#[cfg(test)]
mod tests {
    use super::entry_of;

    #[test]
    fn the_line_is_split_like_a_shell_and_shown_without_env_values() {
        let entry = entry_of(
            "python3 'my server.py' --flag",
            "TOKEN=s3cret\n\nMODE=a=b",
            "",
        )
        .unwrap();
        assert_eq!(entry.command, "python3");
        assert_eq!(entry.args, ["my server.py", "--flag"]);
        assert_eq!(entry.env["MODE"], "a=b");
        assert_eq!(
            entry.display,
            "python3 'my server.py' --flag (with MODE, TOKEN set)"
        );
        assert!(!entry.display.contains("s3cret"));
        assert_eq!(entry.cwd, None);
        assert!(entry_of("python3 'open", "", "").is_err());
        assert!(entry_of("  ", "", "").is_err());
        assert!(entry_of("x", "=v", "").is_err());
        assert_eq!(
            entry_of("x", "", " /tmp ").unwrap().cwd.as_deref(),
            Some("/tmp")
        );
    }
}
