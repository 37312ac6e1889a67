//! Idle connections, closed by one watcher thread per server rather than by a timer beside
//! each connection.
//!
//! Why a thread: a pending tokio timer makes every park of a worker read the clock and walk
//! the timer wheel, and a sleep polled beside the connection is polled with every request.
//! Under `bench/replay_profile.sh` the per-connection watchdog cost the replay path ~650
//! instructions per request (17,664 with it, 17,019 without), a fifth of what contrail spent
//! beyond the bare hyper baseline. The watcher reads the clock once per tick for all the
//! connections, off the workers; a connection pays two atomic additions per request and a
//! load per poll (its waker is registered once).
//!
//! The rule is the one the per-connection watchdog had: a connection is quiet from the first
//! tick that sees no request under way and none answered since the tick before. Quiet for the
//! idle timeout, it is told to close gracefully (at once when idle, after the request under way
//! otherwise); still open at twice that (a slowloris half-way through its headers), it is told
//! to drop. So it closes between `idle` and `idle` + two ticks after its last answer, never
//! before.

use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

/// What the watcher has told a connection, in rising order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Order {
    Open = 0,
    /// Finish what is under way, take nothing new.
    Close = 1,
    /// Drop the connection now.
    Drop = 2,
}

impl Order {
    fn of(n: u8) -> Order {
        match n {
            0 => Order::Open,
            1 => Order::Close,
            _ => Order::Drop,
        }
    }
}

/// One connection's side: counters its requests write, the order the watcher gives.
#[derive(Default)]
pub(super) struct Activity {
    in_flight: AtomicUsize,
    answered: AtomicU64,
    order: AtomicU8,
    waker: AtomicWaker,
}

impl Activity {
    pub(super) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn request_answered(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Resolves to the watcher's order once it is past `acted` (the last one acted on).
    ///
    /// Polled beside the connection, so with every request: after the first poll it costs a
    /// load. The waker is registered again only when the task's waker is another one; the one
    /// registered stays until an order wakes it, and an order always resolves this future.
    pub(super) fn order_past(&self, acted: Order) -> impl Future<Output = Order> + '_ {
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            let now = Order::of(self.order.load(Ordering::Acquire));
            if now > acted {
                return Poll::Ready(now);
            }
            if registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            self.waker.register(cx.waker());
            registered = Some(cx.waker().clone());
            // Read again: an order given between the first read and the registration woke
            // nobody.
            match Order::of(self.order.load(Ordering::Acquire)) {
                now if now > acted => Poll::Ready(now),
                _ => Poll::Pending,
            }
        })
    }

    fn give(&self, order: Order) {
        self.order.fetch_max(order as u8, Ordering::Release);
        self.waker.wake();
    }
}

/// The watcher's view of one connection.
struct Watched {
    activity: Weak<Activity>,
    answered: u64,
    quiet_since: Instant,
    closing: bool,
}

impl Watched {
    /// `activity`, quiet since `at`.
    fn new(activity: &Arc<Activity>, at: Instant) -> Watched {
        Watched {
            activity: Arc::downgrade(activity),
            answered: 0,
            quiet_since: at,
            closing: false,
        }
    }

    /// One tick of the rule in the module comment.
    fn tick(&mut self, a: &Activity, now: Instant, idle: Duration) {
        let answered = a.answered.load(Ordering::Relaxed);
        if a.in_flight.load(Ordering::Relaxed) > 0 || answered != self.answered {
            (self.answered, self.quiet_since) = (answered, now);
            return;
        }
        let quiet_for = now.saturating_duration_since(self.quiet_since);
        if quiet_for < idle {
            return;
        }
        if self.closing && quiet_for >= idle * 2 {
            a.give(Order::Drop);
        } else if !self.closing {
            a.give(Order::Close);
            self.closing = true;
        }
    }
}

/// The server's watcher: a thread that ticks until the watcher is dropped.
pub(super) struct Watcher {
    watched: Arc<Mutex<Vec<Watched>>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    /// Starts the thread; it ticks every quarter of `idle` (at least every 50 ms).
    pub(super) fn start(idle: Duration) -> std::io::Result<Watcher> {
        let tick = (idle / 4).max(Duration::from_millis(50));
        let watched: Arc<Mutex<Vec<Watched>>> = Arc::default();
        let (stop, stopped) = mpsc::channel::<()>();
        let list = watched.clone();
        let thread = std::thread::Builder::new()
            .name("contrail-idle".into())
            .spawn(move || {
                // Only the sender's drop ends the wait early: nothing is ever sent.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    let now = Instant::now();
                    let Ok(mut list) = list.lock() else { return };
                    list.retain_mut(|w| match w.activity.upgrade() {
                        Some(a) => {
                            w.tick(&a, now, idle);
                            true
                        }
                        None => false,
                    });
                }
            })?;
        Ok(Watcher {
            watched,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A new connection, watched from now.
    pub(super) fn watch(&self) -> Arc<Activity> {
        let activity = Arc::new(Activity::default());
        if let Ok(mut list) = self.watched.lock() {
            list.push(Watched::new(&activity, Instant::now()));
        }
        activity
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // The thread wakes at once when the channel closes, so the join is short.
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(10);

    fn watched(at: Instant) -> (Arc<Activity>, Watched) {
        let a = Arc::new(Activity::default());
        let w = Watched::new(&a, at);
        (a, w)
    }

    fn given(a: &Activity) -> Order {
        Order::of(a.order.load(Ordering::Acquire))
    }

    #[test]
    fn a_quiet_connection_is_closed_at_the_idle_timeout_and_dropped_at_twice_it() {
        let t0 = Instant::now();
        let (a, mut w) = watched(t0);
        w.tick(&a, t0 + IDLE - Duration::from_millis(1), IDLE);
        assert_eq!(given(&a), Order::Open, "closed before the idle timeout");
        w.tick(&a, t0 + IDLE, IDLE);
        assert_eq!(given(&a), Order::Close);
        w.tick(&a, t0 + IDLE * 2 - Duration::from_millis(1), IDLE);
        assert_eq!(given(&a), Order::Close, "dropped before twice the idle timeout");
        w.tick(&a, t0 + IDLE * 2, IDLE);
        assert_eq!(given(&a), Order::Drop);
    }

    #[test]
    fn an_answer_or_a_request_under_way_restarts_the_quiet() {
        let t0 = Instant::now();
        let (a, mut w) = watched(t0);
        a.request_started();
        a.request_answered();
        // Answered since the last tick: quiet only from this tick on.
        w.tick(&a, t0 + IDLE, IDLE);
        w.tick(&a, t0 + IDLE * 2 - Duration::from_millis(1), IDLE);
        assert_eq!(given(&a), Order::Open, "an answer did not restart the quiet");
        a.request_started();
        // A request under way (a slow partner, a long delay fault) is never idle.
        w.tick(&a, t0 + IDLE * 5, IDLE);
        assert_eq!(given(&a), Order::Open, "a request under way was closed");
        a.request_answered();
        w.tick(&a, t0 + IDLE * 6, IDLE);
        w.tick(&a, t0 + IDLE * 7, IDLE);
        assert_eq!(given(&a), Order::Close);
    }

    #[test]
    fn an_order_wakes_the_connection_that_waits_for_it() {
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let a = Activity::default();
        let mut wait = std::pin::pin!(a.order_past(Order::Open));
        // Polled with every request before any order: each poll after the first only looks.
        for _ in 0..3 {
            assert!(wait.as_mut().poll(&mut cx).is_pending());
        }
        a.give(Order::Close);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the order woke nobody");
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(Order::Close));
        // Acted on: the same order does not resolve again; a later one does.
        let mut next = std::pin::pin!(a.order_past(Order::Close));
        assert!(next.as_mut().poll(&mut cx).is_pending());
        // Polled last by another task's waker (a connection moved): that one is woken.
        let moved = Arc::new(Count(AtomicUsize::new(0)));
        let moved_waker = std::task::Waker::from(moved.clone());
        assert!(next.as_mut().poll(&mut Context::from_waker(&moved_waker)).is_pending());
        a.give(Order::Drop);
        assert_eq!(moved.0.load(Ordering::SeqCst), 1, "the waker polled last was not woken");
        assert_eq!(next.as_mut().poll(&mut cx), Poll::Ready(Order::Drop));
    }

    #[test]
    fn the_watcher_forgets_a_closed_connection_and_its_thread_ends_with_it() {
        let watcher = Watcher::start(Duration::from_millis(1)).expect("thread");
        let a = watcher.watch();
        drop(a);
        let deadline = Instant::now() + Duration::from_secs(10);
        while watcher.watched.lock().map(|l| l.len()).unwrap_or(0) > 0 {
            assert!(Instant::now() < deadline, "a closed connection was kept");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Dropping joins the thread; a thread that never ended would hang here.
        drop(watcher);
    }
}
