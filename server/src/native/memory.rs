//! Giving memory back to the system after connections end.
//!
//! glibc's allocator keeps the pages it freed for later use: after a thousand connections had come
//! and gone, Keyhole still held ~135 KiB for each (`cargo bench -p keyhole-e2e --bench
//! connections`), although its heap was back near where it started. `malloc_trim` hands those
//! pages back. It walks the whole heap, so a burst of sessions ending asks for one trim, a moment
//! after the last of them, rather than one each. No crate does this; other allocators (mimalloc
//! was measured) kept even more. Elsewhere than glibc, nothing is done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long after a session ended memory is given back (more may end meanwhile).
const TRIM_DELAY: Duration = Duration::from_millis(500);

static TRIM_SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Something large was freed (a session or a connection ended): give free memory back to the
/// system shortly.
/// Outside a tokio runtime, nothing is done.
pub fn trim_soon() {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if TRIM_SCHEDULED.swap(true, Ordering::SeqCst) {
        return;
    }
    runtime.spawn(async {
        tokio::time::sleep(TRIM_DELAY).await;
        TRIM_SCHEDULED.store(false, Ordering::SeqCst);
        // Off the runtime's threads: a large heap takes a few milliseconds to walk.
        let _ = tokio::task::spawn_blocking(trim).await;
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: `malloc_trim` only releases free pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
