//! Polls a connection again at once when it wakes itself while being polled, instead of handing
//! that wake to the runtime.
//!
//! Why: hyper hands a request body to the handler through a channel whose two ends live in the
//! same task (the connection's). When the handler takes the body, the channel wakes the reading
//! end, i.e. the connection task *while it is being polled*. tokio treats such a wake as a yield:
//! the task goes to the back of the run queue and another worker is woken to share the work
//! (a `futex` wake, and on a 2-core machine a context switch the page's request pays for). Every
//! `POST /api/mcp/send` did this once (measured with `perf record -e syscalls:sys_enter_futex`,
//! #25). A wake during the poll only means "poll me again", so [`RepollOnSelfWake`] does that
//! within the same turn, a bounded number of times, and gives the runtime only the wakes that
//! come from elsewhere (an upstream answer, an event for a stream) or that remain after
//! [`MAX_ROUNDS`] or once the task's cooperative budget is spent (then the runtime's yield is
//! what is wanted).
//!
//! Written here because no crate offers it: tokio's own yield path is the behaviour being avoided.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// How many times one turn polls the inner future before a remaining self-wake goes to the
/// runtime. A body read ends in three (take the body, see its end, settle).
pub const MAX_ROUNDS: usize = 8;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN_WHILE_POLLING: u8 = 2;

/// The waker the inner future sees.
struct Relay {
    state: AtomicU8,
    /// The task's own waker, for wakes that arrive between polls.
    task: AtomicWaker,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let noted = self.state.compare_exchange(
            POLLING,
            WOKEN_WHILE_POLLING,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        match noted {
            // The poll in progress will poll again.
            Ok(_) | Err(WOKEN_WHILE_POLLING) => {}
            Err(_) => self.task.wake(),
        }
    }
}

pin_project_lite::pin_project! {
    /// `inner`, polled again in the same turn when it wakes itself during a poll.
    pub struct RepollOnSelfWake<F> {
        #[pin]
        inner: F,
        relay: Arc<Relay>,
        waker: Waker,
    }
}

impl<F: Future> RepollOnSelfWake<F> {
    pub fn new(inner: F) -> Self {
        let relay = Arc::new(Relay {
            state: AtomicU8::new(IDLE),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(Arc::clone(&relay));
        Self {
            inner,
            relay,
            waker,
        }
    }
}

impl<F: Future> Future for RepollOnSelfWake<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        this.relay.task.register(cx.waker());
        let mut inner_cx = Context::from_waker(this.waker);
        for round in 1..=MAX_ROUNDS {
            this.relay.state.store(POLLING, Ordering::Release);
            let polled = this.inner.as_mut().poll(&mut inner_cx);
            let was_woken = this.relay.state.swap(IDLE, Ordering::AcqRel) == WOKEN_WHILE_POLLING;
            if polled.is_ready() {
                return polled;
            }
            if !was_woken {
                return Poll::Pending;
            }
            let runtime_should_decide =
                round == MAX_ROUNDS || !tokio::task::coop::has_budget_remaining();
            if runtime_should_decide {
                break;
            }
        }
        // Still woken: let the runtime schedule it like any yield.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A task waker that counts its wakes.
    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<CountingWaker>, Waker) {
        let count = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    /// Wakes itself on each of its first `self_wakes` polls, then is ready; counts its polls.
    struct WakesItself {
        self_wakes: usize,
        polls: usize,
    }

    impl Future for WakesItself {
        type Output = usize;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            self.polls += 1;
            if self.polls > self.self_wakes {
                return Poll::Ready(self.polls);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn a_future_that_wakes_itself_is_polled_again_in_the_same_turn() {
        let (count, waker) = counting();
        let mut future = std::pin::pin!(RepollOnSelfWake::new(WakesItself {
            self_wakes: 2,
            polls: 0,
        }));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Ready(3));
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "the runtime was not asked"
        );
    }

    #[test]
    fn a_future_that_keeps_waking_itself_goes_back_to_the_runtime_after_the_bound() {
        let (count, waker) = counting();
        let mut future = std::pin::pin!(RepollOnSelfWake::new(WakesItself {
            self_wakes: usize::MAX,
            polls: 0,
        }));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending());
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "one yield to the runtime"
        );
        assert_eq!(future.inner.polls, MAX_ROUNDS);
    }

    #[test]
    fn a_wake_between_polls_reaches_the_task_once_per_wait() {
        let (count, waker) = counting();
        let (sender, receiver) = tokio::sync::oneshot::channel::<u8>();
        let mut future = std::pin::pin!(RepollOnSelfWake::new(receiver));
        assert!(
            future
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "nothing woke it yet");
        sender.send(7).unwrap();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the answer woke the task"
        );
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(matches!(polled, Poll::Ready(Ok(7))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wakes_from_another_thread_during_polls_are_never_lost() {
        // Each round the other thread answers while the future may be mid-poll; a lost wake
        // would hang the test.
        for _ in 0..2_000 {
            let (sender, receiver) = tokio::sync::oneshot::channel::<u32>();
            let answer = tokio::spawn(async move { sender.send(1).ok() });
            let got = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                RepollOnSelfWake::new(receiver),
            )
            .await
            .expect("the wake was lost");
            assert_eq!(got.unwrap(), 1);
            answer.await.unwrap();
        }
    }
}
