//! The tabs' UI state (active tab, selected item, form values, filters) as the resume snapshot
//! carries it across a full-page OAuth redirect (see ARCHITECTURE.md, “Resume after a redirect”).
//!
//! Each tab registers a *capture* function when it mounts; right before a redirect
//! [`UiState::capture`] asks all of them. After the callback, [`UiState::restore_from`] keeps the
//! saved state until each tab takes its part with [`UiState::take`] while mounting.

use std::collections::BTreeMap;
use std::sync::Arc;

use keyhole_shared::resume::TabState;
use leptos::prelude::*;
use serde_json::Value;

use crate::flows::session::RpcError;

type Capture = Arc<dyn Fn() -> TabState + Send + Sync>;

/// `Copy`; one per connection (it lives in the [`Session`](crate::flows::session::Session)).
#[derive(Clone, Copy)]
pub struct UiState {
    /// The active tab's slug (`tools`, `resources`, …).
    pub active_tab: RwSignal<String>,
    captures: StoredValue<BTreeMap<String, Capture>>,
    restore: StoredValue<BTreeMap<String, TabState>>,
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState")
            .field("active_tab", &self.active_tab.get_untracked())
            .finish_non_exhaustive()
    }
}

impl UiState {
    pub fn new() -> Self {
        Self {
            active_tab: RwSignal::new("tools".to_owned()),
            captures: StoredValue::new(BTreeMap::new()),
            restore: StoredValue::new(BTreeMap::new()),
        }
    }

    /// Registers how `tab` describes its state (replacing an earlier registration).
    pub fn register(&self, tab: &str, capture: impl Fn() -> TabState + Send + Sync + 'static) {
        self.captures
            .update_value(|c| _ = c.insert(tab.to_owned(), Arc::new(capture)));
    }

    /// The active tab and every mounted tab's state, for the resume snapshot.
    pub fn capture(&self) -> (String, BTreeMap<String, TabState>) {
        let mut tabs = BTreeMap::new();
        for (tab, capture) in self.captures.get_value() {
            tabs.insert(tab, capture());
        }
        (self.active_tab.get_untracked(), tabs)
    }

    /// Puts back what a snapshot saved: the active tab now, each tab's state when it mounts.
    pub fn restore_from(&self, active_tab: &str, tabs: BTreeMap<String, TabState>) {
        self.active_tab.set(active_tab.to_owned());
        self.restore.set_value(tabs);
    }

    /// The saved state of `tab`, once.
    pub fn take(&self, tab: &str) -> Option<TabState> {
        self.restore.try_update_value(|r| r.remove(tab)).flatten()
    }
}

/// The text fields of an argument form (prompt arguments, URI template variables), for the
/// resume snapshot; restored values wait in `pending` until the form exists.
#[derive(Clone, Copy)]
pub struct FieldsSlot {
    current: StoredValue<Vec<(String, RwSignal<String>)>>,
    pending: StoredValue<Option<BTreeMap<String, String>>>,
}

impl FieldsSlot {
    pub fn new() -> Self {
        Self {
            current: StoredValue::new(Vec::new()),
            pending: StoredValue::new(None),
        }
    }

    /// Values to put into the next form that attaches.
    pub fn restore_later(&self, values: BTreeMap<String, String>) {
        self.pending.set_value(Some(values));
    }

    /// The form now shown; fills it with pending restored values.
    pub fn attach(&self, fields: &[(String, RwSignal<String>)]) {
        if let Some(saved) = self.pending.try_update_value(Option::take).flatten() {
            for (name, value) in fields {
                if let Some(text) = saved.get(name) {
                    value.set(text.clone());
                }
            }
        }
        self.current.set_value(fields.to_vec());
    }

    /// The non-empty values of the form now shown.
    pub fn texts(&self) -> BTreeMap<String, String> {
        let mut texts = BTreeMap::new();
        self.current.with_value(|fields| {
            for (name, value) in fields {
                let text = value.get_untracked();
                if !text.is_empty() {
                    texts.insert(name.clone(), text);
                }
            }
        });
        texts
    }
}

/// Once `list` has loaded, selects the item named `wanted` (a selection saved before a redirect).
pub fn select_when_listed(
    list: LocalResource<Result<Vec<Value>, RpcError>>,
    wanted: Option<String>,
    selected: RwSignal<Option<Value>>,
) {
    let pending = StoredValue::new(wanted);
    Effect::new(move |_| {
        let Some(Ok(items)) = list.get() else {
            return;
        };
        if let Some(name) = pending.try_update_value(Option::take).flatten()
            && let Some(item) = items.iter().find(|i| i["name"] == name.as_str())
        {
            selected.set(Some(item.clone()));
        }
    });
}

/// The `name` of the selected tool, prompt or template.
pub fn selected_name(selected: RwSignal<Option<Value>>) -> Option<String> {
    selected.with_untracked(|s| s.as_ref()?.get("name")?.as_str().map(str::to_owned))
}
