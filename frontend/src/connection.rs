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
    /// The `data-status` attribute value (DESIGN.md §4.1).
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

#[component]
pub fn StatusBadge(status: RwSignal<ConnectionStatus>) -> impl IntoView {
    view! {
        <span
            class="status"
            data-testid="connection-status"
            data-status=move || status.with(ConnectionStatus::as_attr)
            role="status"
        >
            {move || status.with(ConnectionStatus::label)}
        </span>
    }
}
