//! The state of the connection to an MCP server, and the header badge that shows it.

use leptos::prelude::*;

/// What the header shows; its `data-status` values are part of the automation contract.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionStatus {
    Disconnected,
    Connecting { url: String },
    Connected { url: String },
    Error { message: String },
}

impl ConnectionStatus {
    /// The `data-status` attribute value (ARCHITECTURE.md, “Automation attributes”).
    pub fn as_attr(&self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting { .. } => "connecting",
            Self::Connected { .. } => "connected",
            Self::Error { .. } => "error",
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Disconnected => "Not connected".to_owned(),
            Self::Connecting { url } => format!("Connecting to {url}…"),
            Self::Connected { url } => format!("Connected to {url}"),
            Self::Error { message } => message.clone(),
        }
    }
}

/// The badge. `trouble` (the server refuses requests without a challenge) marks a connection
/// that is up but failing: `data-trouble="true"`, and the label says what fails, until a request
/// succeeds again.
#[component]
pub fn StatusBadge(
    status: RwSignal<ConnectionStatus>,
    trouble: RwSignal<Option<String>>,
) -> impl IntoView {
    let troubled = move || {
        status
            .with(|s| matches!(s, ConnectionStatus::Connected { .. }))
            .then(|| trouble.get())
            .flatten()
    };
    view! {
        <span
            class="status"
            class:status-trouble=move || troubled().is_some()
            data-testid="connection-status"
            data-status=move || status.with(ConnectionStatus::as_attr)
            data-trouble=move || troubled().map(|_| "true")
            role="status"
        >
            {move || status.with(ConnectionStatus::label)}
            {move || troubled().map(|what| format!(", but {what}"))}
        </span>
    }
}
