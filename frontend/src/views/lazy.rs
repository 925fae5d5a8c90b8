//! Showing a part of the page that lives in its own wasm chunk (a Leptos `#[lazy]` function):
//! nothing until the chunk has arrived and built the view, then the view. The view is built under
//! the owner of the place it is shown, so it reaches the same contexts as the rest of the page.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local_scoped;

/// The view `load` builds (a call of a `#[lazy]` function), once it has.
pub fn lazy_view(load: impl Future<Output = AnyView> + 'static) -> impl IntoView {
    let built = StoredValue::new_local(None::<AnyView>);
    let ready = RwSignal::new(false);
    spawn_local_scoped(async move {
        built.set_value(Some(load.await));
        ready.set(true);
    });
    move || {
        ready.track();
        built.try_update_value(Option::take).flatten()
    }
}
