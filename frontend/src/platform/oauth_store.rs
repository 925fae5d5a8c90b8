//! The backend's OAuth store as the page's `OAuthStore` (`GET/PUT /api/store/oauth`,
//! compare-and-swap on `revision`; no tokens in browser storage), and the one document a
//! recovery works from.
//!
//! A silent recovery asks the store several times (the stored tokens, the client registration,
//! then the save), and each ask was a round trip to the backend: most of what a recovered call
//! cost beyond a plain one (#25). While a recovery holds its server's lock ([`holding`], entered
//! from `Surface::exclusive`), the document read first is kept and later reads are answered from
//! it; a write sends the kept document, changed, and keeps what the backend wrote.
//!
//! Why that is safe: nobody else changes this server's tokens meanwhile (its Web Lock covers
//! every tab), and every recovery that enters starts from a fresh read (so a tab that waited for
//! the lock sees what the tab before it saved; a request already under way when it entered is not
//! kept for it). Others may still write the document meanwhile
//! (another server's recovery in another tab, the CLI): the backend then refuses the write (its
//! revision check) and answers with the current document, to which the change is applied once
//! more. The document is let go as soon as no recovery holds a lock, so everything else (the Auth
//! view, a connect) reads the store afresh.

use std::cell::RefCell;
use std::future::Future;

use keyhole_shared::store::{OAuthStore, StoreDocument, StoreError};

use crate::platform::api;

/// The document kept while recoveries hold their locks.
#[derive(Debug, Default)]
struct Kept {
    /// How many recoveries hold a lock now (one per server at most, several servers at once).
    holders: usize,
    document: Option<StoreDocument>,
    /// Bumped by every recovery that enters: a read or write that started before then may
    /// predate what that recovery must see (another tab's save), and is not kept.
    generation: u64,
}

impl Kept {
    fn cached(&self) -> Option<StoreDocument> {
        self.document.clone()
    }

    /// Keeps `document` (as read or written by a request that started at `generation`) while
    /// anyone holds; otherwise keeps nothing.
    fn keep(&mut self, generation: u64, document: Option<StoreDocument>) {
        if self.holders == 0 {
            self.document = None;
        } else if generation == self.generation {
            self.document = document;
        }
    }

    /// A recovery took its lock: it reads the store afresh.
    fn enter(&mut self) {
        self.holders += 1;
        self.generation += 1;
        self.document = None;
    }

    fn leave(&mut self) {
        self.holders = self.holders.saturating_sub(1);
        if self.holders == 0 {
            self.document = None;
        }
    }
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept::default());
}

/// Leaves the holding when dropped, also when the recovery's future is dropped half-way.
struct Holding;

impl Drop for Holding {
    fn drop(&mut self) {
        KEPT.with(|kept| kept.borrow_mut().leave());
    }
}

/// Runs `work` (a recovery, inside its server's lock) answering the store's reads from one
/// document (see the module doc).
pub async fn holding<F: Future>(work: F) -> F::Output {
    KEPT.with(|kept| kept.borrow_mut().enter());
    let _holding = Holding;
    work.await
}

/// Writes refused because someone else wrote first, retried before giving up.
const MAX_CONFLICTS: usize = 2;

fn store_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Io(error.to_string())
}

/// The backend's OAuth store.
pub struct WebStore;

impl OAuthStore for WebStore {
    async fn read(&self) -> Result<StoreDocument, StoreError> {
        let (cached, generation) = KEPT.with(|kept| {
            let kept = kept.borrow();
            (kept.cached(), kept.generation)
        });
        if let Some(document) = cached {
            return Ok(document);
        }
        let document: StoreDocument = api::get_json("/api/store/oauth")
            .await
            .map_err(store_error)?;
        KEPT.with(|kept| kept.borrow_mut().keep(generation, Some(document.clone())));
        Ok(document)
    }

    async fn modify<R>(
        &self,
        mut change: impl FnMut(&mut StoreDocument) -> R,
    ) -> Result<R, StoreError> {
        let mut document = self.read().await?;
        let mut conflicts = 0;
        loop {
            let result = change(&mut document);
            let generation = KEPT.with(|kept| kept.borrow().generation);
            let reply = api::send_json("PUT", "/api/store/oauth", &document)
                .await
                .map_err(|error| {
                    KEPT.with(|kept| kept.borrow_mut().keep(generation, None));
                    store_error(error)
                })?;
            let (held, outcome) = written(reply.status, &reply.text);
            KEPT.with(|kept| kept.borrow_mut().keep(generation, held.clone()));
            match (outcome, held) {
                (Ok(()), _) => return Ok(result),
                // Someone else wrote first: the same change, once more, on what they wrote.
                (Err(StoreError::Conflict { .. }), Some(current)) if conflicts < MAX_CONFLICTS => {
                    conflicts += 1;
                    document = current;
                }
                (Err(error), _) => return Err(error),
            }
        }
    }
}

/// The backend's 409 to a `PUT`: `{error, message, current}`.
#[derive(serde::Deserialize)]
struct Refused {
    current: StoreDocument,
}

/// What the backend answered a `PUT`: the document it now holds (the one written, or the current
/// one after a conflict), and whether the write went through.
fn written(status: u16, text: &str) -> (Option<StoreDocument>, Result<(), StoreError>) {
    match status {
        200..=299 => (serde_json::from_str(text).ok(), Ok(())),
        409 => {
            // Read straight from the text: going through a `Value` would compile the document's
            // whole deserializer a second time into the wasm.
            let document = serde_json::from_str::<Refused>(text)
                .ok()
                .map(|r| r.current);
            let current = document.as_ref().map_or(0, |d| d.revision);
            (document, Err(StoreError::Conflict { current }))
        }
        status => (
            None,
            Err(StoreError::Io(format!(
                "the backend answered {status} when saving the OAuth store"
            ))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(revision: u64) -> StoreDocument {
        StoreDocument {
            revision,
            ..StoreDocument::default()
        }
    }

    #[test]
    fn nothing_is_kept_outside_a_recovery() {
        let mut kept = Kept::default();
        kept.keep(0, Some(document(3)));
        assert_eq!(kept.cached(), None);
    }

    #[test]
    fn the_document_is_kept_until_the_last_holder_leaves() {
        let mut kept = Kept::default();
        kept.enter();
        kept.enter();
        kept.keep(kept.generation, Some(document(3)));
        assert_eq!(kept.cached().map(|d| d.revision), Some(3));
        kept.leave();
        assert_eq!(kept.cached().map(|d| d.revision), Some(3));
        kept.leave();
        assert_eq!(kept.cached(), None);
        // A holder that left twice does not make the next one's document outlive it.
        kept.leave();
        kept.enter();
        kept.keep(kept.generation, Some(document(4)));
        kept.leave();
        assert_eq!(kept.cached(), None);
    }

    #[test]
    fn a_recovery_that_takes_its_lock_reads_afresh() {
        let mut kept = Kept::default();
        kept.enter();
        kept.keep(kept.generation, Some(document(3)));
        // A read starts, then another server's recovery enters (it may have waited for another
        // tab's save): what that read brings back is not kept for it.
        let started = kept.generation;
        kept.enter();
        assert_eq!(kept.cached(), None);
        kept.keep(started, Some(document(4)));
        assert_eq!(kept.cached(), None);
        kept.keep(kept.generation, Some(document(5)));
        assert_eq!(kept.cached().map(|d| d.revision), Some(5));
    }

    #[test]
    fn a_write_keeps_what_the_backend_wrote_or_holds() {
        let written_text = serde_json::to_string(&document(8)).unwrap();
        let (kept, outcome) = written(200, &written_text);
        assert_eq!(kept.map(|d| d.revision), Some(8));
        assert_eq!(outcome, Ok(()));

        let conflict = serde_json::json!({ "error": "conflict", "current": document(9) });
        let (kept, outcome) = written(409, &conflict.to_string());
        assert_eq!(kept.map(|d| d.revision), Some(9));
        assert_eq!(outcome, Err(StoreError::Conflict { current: 9 }));

        let (kept, outcome) = written(503, "{}");
        assert_eq!(kept, None);
        assert!(matches!(outcome, Err(StoreError::Io(message)) if message.contains("503")));
    }
}
