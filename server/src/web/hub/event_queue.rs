//! The events waiting for a session's page, bounded in bytes.
//!
//! The MCP server decides how many notifications it sends and how large they are; the page decides
//! how fast it reads. A count-bounded channel (tokio's `broadcast` with 256 slots) still held 393 MB
//! when the notifications were large and the page was not reading. This queue keeps at most
//! its budget in bytes of encoded events (plus the newest one, which is itself bounded by the
//! caller); the oldest go first. Each reader has its own position: one that fell behind learns how
//! many events — and how many of them server messages — it missed, as one `dropped` event, so the
//! Protocol view can say "N messages dropped" instead of silently showing fewer.
//!
//! Events every reader has read are let go at once (once the first reader has come: until then
//! everything is kept for it), so a session whose page keeps up holds next to nothing, however
//! long it runs. A page that reconnects reads from the moment it does (and the network log from
//! `/api/mcp/log`), so nothing it needs is lost.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

/// One event as the page receives it: the SSE event name and its JSON data.
#[derive(Debug)]
pub struct Frame {
    pub name: &'static str,
    pub data: String,
}

impl Frame {
    /// What the frame costs to keep: its text plus bookkeeping.
    fn cost(&self) -> usize {
        self.data.len() + self.name.len() + 64
    }
}

/// What a reader gets next.
#[derive(Debug)]
pub enum Delivery {
    Frame(Arc<Frame>),
    /// The reader was too slow: this many events (of which `messages` were server messages) were
    /// dropped before it read them.
    Dropped {
        events: u64,
        messages: u64,
    },
}

struct Queued {
    seq: u64,
    /// Server messages published before this event (a running count).
    messages_before: u64,
    is_message: bool,
    frame: Arc<Frame>,
}

#[derive(Default)]
struct Ring {
    events: VecDeque<Queued>,
    bytes: usize,
    next_seq: u64,
    messages_published: u64,
    /// The next event of each reader (a reader that went away leaves an entry that is dead).
    readers: Vec<Weak<AtomicU64>>,
    /// A reader from the start has come: what every reader has read may go.
    first_reader_came: bool,
}

impl Ring {
    /// The position of the oldest retained event (or the next one, when empty).
    fn oldest(&self) -> (u64, u64) {
        match self.events.front() {
            Some(first) => (first.seq, first.messages_before),
            None => (self.next_seq, self.messages_published),
        }
    }

    /// Lets go of the events every reader has read (with no reader left, of all of them: a
    /// reader that comes later starts with the next event).
    fn forget_read(&mut self) {
        if !self.first_reader_came {
            return;
        }
        self.readers.retain(|reader| reader.strong_count() > 0);
        let slowest = self
            .readers
            .iter()
            .filter_map(Weak::upgrade)
            .map(|position| position.load(Ordering::SeqCst))
            .min()
            .unwrap_or(self.next_seq);
        while self.events.front().is_some_and(|first| first.seq < slowest) {
            if let Some(read) = self.events.pop_front() {
                self.bytes -= read.frame.cost();
            }
        }
    }

    /// A new reader whose next event is `next_seq`.
    fn reader_at(&mut self, next_seq: u64) -> Arc<AtomicU64> {
        let position = Arc::new(AtomicU64::new(next_seq));
        self.readers.push(Arc::downgrade(&position));
        position
    }
}

pub struct EventQueue {
    ring: Mutex<Ring>,
    published: watch::Sender<u64>,
    budget: usize,
}

impl EventQueue {
    pub fn new(budget: usize) -> Self {
        Self {
            ring: Mutex::new(Ring::default()),
            published: watch::channel(0).0,
            budget,
        }
    }

    /// The bytes currently held.
    pub fn retained_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a frame, dropping the oldest ones past the budget.
    pub fn push(&self, frame: Frame, is_message: bool) {
        let seq = {
            let mut ring = self.lock();
            let seq = ring.next_seq;
            ring.next_seq += 1;
            ring.bytes += frame.cost();
            let messages_before = ring.messages_published;
            ring.messages_published += u64::from(is_message);
            ring.events.push_back(Queued {
                seq,
                messages_before,
                is_message,
                frame: Arc::new(frame),
            });
            while ring.bytes > self.budget && ring.events.len() > 1 {
                if let Some(old) = ring.events.pop_front() {
                    ring.bytes -= old.frame.cost();
                }
            }
            ring.forget_read();
            seq
        };
        self.published.send_replace(seq + 1);
    }

    /// A reader for a page: the first one starts with the first event ever published (a server
    /// may speak before the page has opened its event stream), later ones (a page that
    /// reconnects) with the next event.
    pub fn join(self: &Arc<Self>) -> Subscription {
        let mut ring = self.lock();
        let from_start = !ring.first_reader_came;
        self.reader(&mut ring, from_start)
    }

    /// A reader that starts with the first event ever published: what was evicted before it
    /// reads comes as one `Dropped`, so nothing goes missing unannounced. (Pages [`join`]; tests
    /// choose where their readers start.)
    ///
    /// [`join`]: EventQueue::join
    #[cfg(test)]
    pub fn subscribe_from_start(self: &Arc<Self>) -> Subscription {
        self.reader(&mut self.lock(), true)
    }

    /// A reader that starts with the next event published.
    #[cfg(test)]
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        self.reader(&mut self.lock(), false)
    }

    fn reader(self: &Arc<Self>, ring: &mut Ring, from_start: bool) -> Subscription {
        let (next_seq, messages_seen) = if from_start {
            ring.first_reader_came = true;
            (0, 0)
        } else {
            (ring.next_seq, ring.messages_published)
        };
        Subscription {
            queue: self.clone(),
            next_seq,
            messages_seen,
            position: ring.reader_at(next_seq),
            published: self.published.subscribe(),
        }
    }
}

/// One reader's position in the queue.
pub struct Subscription {
    queue: Arc<EventQueue>,
    next_seq: u64,
    messages_seen: u64,
    /// `next_seq`, where the queue sees it (to let go of what every reader has read).
    position: Arc<AtomicU64>,
    published: watch::Receiver<u64>,
}

impl Subscription {
    /// The next event, waiting for one if needed; a `Dropped` first if the reader fell behind.
    pub async fn next(&mut self) -> Delivery {
        loop {
            self.published.borrow_and_update();
            if let Some(delivery) = self.take() {
                return delivery;
            }
            if self.published.changed().await.is_err() {
                // Cannot happen while `self.queue` holds the sender; wait for nothing rather than spin.
                std::future::pending::<()>().await;
            }
        }
    }

    fn take(&mut self) -> Option<Delivery> {
        let mut ring = self.queue.lock();
        let (oldest_seq, messages_before_oldest) = ring.oldest();
        if self.next_seq < oldest_seq {
            let dropped = Delivery::Dropped {
                events: oldest_seq - self.next_seq,
                messages: messages_before_oldest - self.messages_seen,
            };
            self.next_seq = oldest_seq;
            self.messages_seen = messages_before_oldest;
            self.position.store(self.next_seq, Ordering::SeqCst);
            return Some(dropped);
        }
        let index = usize::try_from(self.next_seq - oldest_seq).ok()?;
        let queued = ring.events.get(index)?;
        let frame = queued.frame.clone();
        self.next_seq = queued.seq + 1;
        self.messages_seen = queued.messages_before + u64::from(queued.is_message);
        self.position.store(self.next_seq, Ordering::SeqCst);
        ring.forget_read();
        Some(Delivery::Frame(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(size: usize) -> Frame {
        Frame {
            name: "message",
            data: "x".repeat(size),
        }
    }

    fn now<T>(future: impl std::future::Future<Output = T>) -> T {
        futures_util::FutureExt::now_or_never(future).expect("ready")
    }

    #[test]
    fn the_budget_bounds_what_is_kept_and_a_slow_reader_learns_what_it_missed() {
        let queue = Arc::new(EventQueue::new(10_000));
        let mut reader = queue.subscribe();
        for _ in 0..1_000 {
            queue.push(frame(1_000), true);
            queue.push(frame(10), false);
        }
        assert!(queue.retained_bytes() <= 10_000);
        match now(reader.next()) {
            Delivery::Dropped { events, messages } => {
                assert!(events > 1_900, "{events}");
                assert_eq!(events - messages, events / 2, "half were server messages");
            }
            other => panic!("{other:?}"),
        }
        let mut frames = 0;
        while let Some(delivery) = futures_util::FutureExt::now_or_never(reader.next()) {
            assert!(matches!(delivery, Delivery::Frame(_)));
            frames += 1;
        }
        assert!(frames > 0 && frames < 100, "{frames}");
    }

    #[test]
    fn a_reader_that_keeps_up_misses_nothing_and_the_newest_event_always_stays() {
        let queue = Arc::new(EventQueue::new(100));
        let mut reader = queue.subscribe();
        for round in 0..10 {
            queue.push(frame(500 + round), true);
            match now(reader.next()) {
                Delivery::Frame(frame) => assert_eq!(frame.data.len(), 500 + round),
                other => panic!("{other:?}"),
            }
        }
        assert!(futures_util::FutureExt::now_or_never(reader.next()).is_none());
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_up_for_a_new_event() {
        let queue = Arc::new(EventQueue::new(1_000));
        let mut reader = queue.subscribe();
        let waiting = tokio::spawn(async move { reader.next().await });
        tokio::task::yield_now().await;
        queue.push(frame(3), false);
        let delivered = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(delivered, Delivery::Frame(f) if f.data == "xxx"));
    }

    #[test]
    fn a_reader_from_the_start_gets_what_came_before_it_and_hears_of_what_was_evicted() {
        let queue = Arc::new(EventQueue::new(2_500));
        queue.push(frame(1_000), true);
        queue.push(frame(1_000), true);
        queue.push(frame(1_000), false);
        let mut late = queue.subscribe();
        let mut first = queue.subscribe_from_start();
        match now(first.next()) {
            Delivery::Dropped { events, messages } => assert_eq!((events, messages), (1, 1)),
            other => panic!("{other:?}"),
        }
        for _ in 0..2 {
            assert!(matches!(now(first.next()), Delivery::Frame(_)));
        }
        assert!(futures_util::FutureExt::now_or_never(first.next()).is_none());
        assert!(futures_util::FutureExt::now_or_never(late.next()).is_none());
    }

    #[test]
    fn before_the_first_reader_everything_is_kept_and_what_every_reader_read_is_let_go() {
        let queue = Arc::new(EventQueue::new(1_000_000));
        for _ in 0..3 {
            queue.push(frame(100), true);
        }
        let kept = queue.retained_bytes();
        assert_eq!(kept, 3 * frame(100).cost(), "nobody has read yet");
        let mut first = queue.subscribe_from_start();
        assert!(matches!(now(first.next()), Delivery::Frame(_)));
        assert_eq!(queue.retained_bytes(), 2 * frame(100).cost());
        // A second reader, from now on: what it has not read stays, whatever the first read.
        let mut second = queue.subscribe();
        for _ in 0..2 {
            assert!(matches!(now(first.next()), Delivery::Frame(_)));
        }
        assert_eq!(queue.retained_bytes(), 0);
        queue.push(frame(7), true);
        assert!(matches!(now(first.next()), Delivery::Frame(f) if f.data.len() == 7));
        assert_eq!(
            queue.retained_bytes(),
            frame(7).cost(),
            "the second has not read it"
        );
        assert!(matches!(now(second.next()), Delivery::Frame(f) if f.data.len() == 7));
        assert_eq!(queue.retained_bytes(), 0);
    }

    #[test]
    fn a_reader_that_went_away_holds_nothing_back() {
        let queue = Arc::new(EventQueue::new(1_000_000));
        let first = queue.subscribe_from_start();
        queue.push(frame(100), true);
        assert_eq!(queue.retained_bytes(), frame(100).cost());
        drop(first);
        queue.push(frame(100), true);
        assert_eq!(queue.retained_bytes(), 0, "no reader is left to read them");
        let mut later = queue.subscribe();
        assert!(futures_util::FutureExt::now_or_never(later.next()).is_none());
        queue.push(frame(5), true);
        assert!(matches!(now(later.next()), Delivery::Frame(f) if f.data.len() == 5));
    }

    #[test]
    fn the_first_page_to_join_gets_what_came_before_it_and_a_later_one_the_next_event() {
        let queue = Arc::new(EventQueue::new(1_000_000));
        queue.push(frame(1), true);
        let mut first = queue.join();
        let mut later = queue.join();
        queue.push(frame(2), true);
        assert!(matches!(now(first.next()), Delivery::Frame(f) if f.data.len() == 1));
        assert!(matches!(now(first.next()), Delivery::Frame(f) if f.data.len() == 2));
        assert!(matches!(now(later.next()), Delivery::Frame(f) if f.data.len() == 2));
    }
}
