//! Single flight across tabs: recoveries for one server run one at a time in every tab of this
//! origin, through the Web Locks API (`navigator.locks.request`). A tab that waited then finds the
//! first tab's fresh tokens in the shared store instead of redirecting again.
//!
//! `web-sys` exposes `LockManager` only behind its unstable-API flag, so the two calls are made
//! through `js_sys::Reflect`. Without Web Locks (old browsers) the work runs unserialised.

use std::cell::RefCell;
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

/// Runs `work` while holding the exclusive lock `name`.
pub async fn exclusive<F: Future>(name: &str, work: F) -> F::Output {
    let Some((locks, request)) = lock_manager() else {
        return work.await;
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
        return work.await;
    }
    let _held = Held(release);
    let _ = on_grant.await;
    work.await
}
