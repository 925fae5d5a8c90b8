//! The server's lists (`tools/list`, `resources/list`, `resources/templates/list`,
//! `prompts/list`), which MCP pages with `nextCursor`: a list is fetched page after page up to a
//! number of items, and a [`Pager`] says whether the server has more and lets the user load them
//! ("Load more"), so a server with tens of thousands of items does not stall the page.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::flows::session::{RpcError, Session};

/// How many more items each load (the first, and each "Load more") asks for.
pub const ITEMS_PER_LOAD: usize = 500;

/// Pages fetched in one load at most, whatever they hold (a server whose pages are empty).
const PAGES_PER_LOAD: usize = 100;

/// How much of one list to load, and whether the server has more than was loaded.
#[derive(Clone, Copy, Debug)]
pub struct Pager {
    pub limit: RwSignal<usize>,
    pub more: RwSignal<bool>,
}

impl Pager {
    pub fn new() -> Self {
        Self {
            limit: RwSignal::new(ITEMS_PER_LOAD),
            more: RwSignal::new(false),
        }
    }

    /// Asks for `ITEMS_PER_LOAD` more items (the list is fetched again, up to the new limit).
    pub fn load_more(&self) {
        self.limit.update(|limit| *limit += ITEMS_PER_LOAD);
    }
}

impl Default for Pager {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// The `key` items of the paginated `method` as a resource, fetched again whenever the
    /// `list_changed` counter that `changed` picks moves or `pager` asks for more. (One function
    /// for every list, so the wasm holds one copy of the resource machinery.)
    pub fn listing(
        self,
        method: &'static str,
        key: &'static str,
        changed: fn(&(u32, u32, u32)) -> u32,
        pager: Pager,
    ) -> LocalResource<Result<Vec<Value>, RpcError>> {
        LocalResource::new(move || {
            self.list_changed.with(changed);
            let limit = pager.limit.get();
            async move {
                let (items, more) = self.list_all(method, key, limit).await?;
                pager.more.set(more);
                Ok(items)
            }
        })
    }

    /// Calls a paginated list method until its last page or `limit` items; returns the `key`
    /// items and whether the server has more.
    pub async fn list_all(
        &self,
        method: &str,
        key: &str,
        limit: usize,
    ) -> Result<(Vec<Value>, bool), RpcError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..PAGES_PER_LOAD {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let result = self.request(method, params).await?;
            if let Some(page) = result[key].as_array() {
                items.extend(page.iter().cloned());
            }
            match result["nextCursor"].as_str() {
                // A cursor that names the page just read would loop forever.
                Some(next) if !next.is_empty() && cursor.as_deref() != Some(next) => {
                    cursor = Some(next.to_owned());
                }
                _ => return Ok((items, false)),
            }
            if items.len() >= limit {
                break;
            }
        }
        Ok((items, true))
    }
}
