//! Short-lived notifications (`data-testid="toast"` with `data-kind`), provided as context.

use std::time::Duration;

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Success,
    Warning,
    Error,
}

impl ToastKind {
    fn as_attr(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

/// The toasts on screen, without signals or timers (so it is tested natively).
#[derive(Debug, Clone, Default, PartialEq)]
struct ToastQueue {
    items: Vec<Toast>,
    next: u64,
}

impl ToastQueue {
    /// Adds a toast at the bottom; returns its id and how long it stays (errors stay longer).
    fn push(&mut self, kind: ToastKind, text: String) -> (u64, Duration) {
        let id = self.next;
        self.next += 1;
        self.items.push(Toast { id, kind, text });
        let linger = if kind == ToastKind::Error { 12 } else { 6 };
        (id, Duration::from_secs(linger))
    }

    /// Removes one toast (dismissed, or its time is up); the others stay in order.
    fn dismiss(&mut self, id: u64) {
        self.items.retain(|t| t.id != id);
    }
}

/// The toast queue; `Copy`, get it with `use_context::<Toasts>()`.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    queue: RwSignal<ToastQueue>,
}

impl Toasts {
    pub fn new() -> Self {
        Self {
            queue: RwSignal::new(ToastQueue::default()),
        }
    }

    /// Shows a toast; it goes away after a while or when dismissed.
    pub fn show(&self, kind: ToastKind, text: impl Into<String>) {
        let mut shown = None;
        self.queue
            .update(|queue| shown = Some(queue.push(kind, text.into())));
        let Some((id, linger)) = shown else { return };
        let queue = self.queue;
        set_timeout(
            move || {
                let _ = queue.try_update(|queue| queue.dismiss(id));
            },
            linger,
        );
    }

    fn dismiss(&self, id: u64) {
        self.queue.update(|queue| queue.dismiss(id));
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

/// The toast stack, bottom right.
#[component]
pub fn ToastStack(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toasts.queue.with(|q| q.items.clone()) key=|t| t.id let:toast>
                <div class="toast" data-testid="toast" data-kind=toast.kind.as_attr()>
                    <span>{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="link"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(queue: &ToastQueue) -> Vec<&str> {
        queue.items.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn toasts_stack_in_order_and_a_dismissed_one_leaves_the_others() {
        let mut queue = ToastQueue::default();
        let (first, _) = queue.push(ToastKind::Info, "one".into());
        let (second, _) = queue.push(ToastKind::Success, "two".into());
        queue.push(ToastKind::Warning, "three".into());
        assert_ne!(first, second);
        assert_eq!(texts(&queue), ["one", "two", "three"]);
        queue.dismiss(second);
        assert_eq!(texts(&queue), ["one", "three"]);
        queue.dismiss(second);
        assert_eq!(
            texts(&queue),
            ["one", "three"],
            "dismissing twice is harmless"
        );
        let (again, _) = queue.push(ToastKind::Info, "four".into());
        assert!(again > second, "ids are never reused");
    }

    #[test]
    fn errors_stay_longer_than_the_rest() {
        let mut queue = ToastQueue::default();
        let (_, info) = queue.push(ToastKind::Info, String::new());
        let (_, error) = queue.push(ToastKind::Error, String::new());
        assert!(error > info);
        assert_eq!(info, Duration::from_secs(6));
    }
}
