//! Pacing: a drift run must not trip the sandbox's rate limit, or it would report 429s it
//! caused itself. The contract's `rate_limit` is a per-client budget ("5 requests per 1s"), so
//! each client gets a log of its send times, and a request goes out only when fewer than the
//! budget went out in the last window. That holds for any window the partner counts in, fixed
//! or sliding (a token bucket would not: it lets up to twice the budget into one fixed window).
//! The window is widened by 5% (at least 10 ms) for the jitter between sending and arriving.
//!
//! Callers reserve a slot and sleep for the returned wait, so concurrent scenarios queue up in
//! order without a lock held across the sleep.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Pacer {
    budget: usize,
    window: Duration,
    /// Client -> send times reserved within the last window (some may be in the future).
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Pacer {
    /// `None` for a budget that allows nothing or a zero window (nothing to pace).
    pub fn new(requests: u32, per: Duration) -> Option<Pacer> {
        if requests == 0 || per.is_zero() {
            return None;
        }
        let margin = (per / 20).max(Duration::from_millis(10));
        Some(Pacer {
            budget: requests as usize,
            window: per + margin,
            sent: Mutex::new(HashMap::new()),
        })
    }

    /// Takes the next slot of `client`'s budget; returns how long to wait before sending.
    pub fn reserve(&self, client: &str, now: Instant) -> Duration {
        let mut sent = match self.sent.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let log = sent.entry(client.to_string()).or_default();
        while log.front().is_some_and(|t| *t + self.window <= now) {
            log.pop_front();
        }
        let at = if log.len() < self.budget {
            now
        } else {
            (log[log.len() - self.budget] + self.window).max(now)
        };
        log.push_back(at);
        at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most sends any window of `per` holds.
    fn busiest(times: &[Duration], per: Duration) -> usize {
        times
            .iter()
            .map(|start| times.iter().filter(|t| **t >= *start && **t < *start + per).count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn never_more_than_the_budget_in_any_window() {
        let per = Duration::from_secs(1);
        let p = Pacer::new(5, per).expect("a budget");
        let t0 = Instant::now();
        // 20 requests asked for at once, then 10 more spread over the next seconds.
        let mut times: Vec<Duration> = (0..20).map(|_| p.reserve("a", t0)).collect();
        for i in 0..10 {
            let now = t0 + Duration::from_millis(300 * i);
            times.push(now - t0 + p.reserve("a", now));
        }
        assert!(
            times[..5].iter().all(|w| w.is_zero()),
            "a burst up to the budget goes at once"
        );
        assert_eq!(busiest(&times, per), 5, "{times:?}");
        // Another client has its own budget.
        assert!(p.reserve("b", t0).is_zero());
        // After a quiet spell the budget is back.
        let later = t0 + Duration::from_secs(60);
        assert!(p.reserve("a", later).is_zero());
    }

    #[test]
    fn no_budget_means_no_pacing() {
        assert!(Pacer::new(0, Duration::from_secs(1)).is_none());
        assert!(Pacer::new(5, Duration::ZERO).is_none());
    }
}
