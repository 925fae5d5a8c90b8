//! Single flight across tabs: recoveries for one server run one at a time in every tab of this
//! origin, through the Web Locks API (`navigator.locks.request`). A tab that waited then finds the
//! first tab's fresh tokens in the shared store instead of redirecting again.
//!
//! `web-sys` exposes `LockManager` only behind its unstable-API flag, so the two calls are made
//! through `js_sys::Reflect`. Without Web Locks (old browsers, some embedded views) recoveries are
//! still serialised within the tab, by a small queue per lock name here, but not across tabs; the
//! page says so once (`messages::web_locks_unavailable`).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Releases the lock when dropped (also when the waiting future is dropped).
struct Held(Rc<RefCell<Option<Function>>>);

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(release) = self.0.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

fn lock_manager() -> Option<(JsValue, Function)> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

/// Whether this browser offers Web Locks.
pub fn available() -> bool {
    lock_manager().is_some()
}

/// Runs `work` while holding the exclusive lock `name` (across tabs with Web Locks, within this
/// tab without).
pub async fn exclusive<F: Future>(name: &str, work: F) -> F::Output {
    let Some((locks, request)) = lock_manager() else {
        return in_this_tab(name, work).await;
    };
    let release = Rc::new(RefCell::new(None::<Function>));
    let slot = release.clone();
    // The lock is held until this promise settles.
    let held = Promise::new(&mut |resolve, _reject| *slot.borrow_mut() = Some(resolve));
    let (granted, on_grant) = oneshot::channel::<()>();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = granted.send(());
        held.into()
    });
    if request
        .call2(&locks, &JsValue::from_str(name), &callback)
        .is_err()
    {
        return in_this_tab(name, work).await;
    }
    let _held = Held(release);
    let _ = on_grant.await;
    work.await
}

thread_local! {
    /// Without Web Locks: the lock names held in this tab, each with the turns waiting for it.
    static HELD_HERE: RefCell<BTreeMap<String, VecDeque<oneshot::Sender<()>>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// One turn at a lock of this tab; dropping it (also while still waiting) passes the lock on.
struct Turn {
    name: String,
    /// `Some` until the lock is handed over.
    waiting: Option<oneshot::Receiver<()>>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let holds = match self.waiting.as_mut() {
            None => true,
            // Handed over, but dropped before it noticed: pass it on all the same.
            Some(handover) => matches!(handover.try_recv(), Ok(Some(()))),
        };
        if holds {
            HELD_HERE.with(|held| {
                let mut held = held.borrow_mut();
                if let Some(queue) = held.get_mut(&self.name) {
                    // A waiter that went away no longer listens: skip it.
                    while let Some(next) = queue.pop_front() {
                        if next.send(()).is_ok() {
                            return;
                        }
                    }
                }
                held.remove(&self.name);
            });
        }
    }
}

/// Runs `work` once no other work holding `name` in this tab is running.
async fn in_this_tab<F: Future>(name: &str, work: F) -> F::Output {
    let waiting = HELD_HERE.with(|held| {
        let mut held = held.borrow_mut();
        match held.get_mut(name) {
            None => {
                held.insert(name.to_owned(), VecDeque::new());
                None
            }
            Some(queue) => {
                let (handover, turn) = oneshot::channel();
                queue.push_back(handover);
                Some(turn)
            }
        }
    });
    let mut turn = Turn {
        name: name.to_owned(),
        waiting,
    };
    if let Some(handover) = turn.waiting.as_mut() {
        let _ = handover.await;
        turn.waiting = None;
    }
    work.await
}
