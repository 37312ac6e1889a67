//! Pacing: a drift run must not trip the sandbox's rate limit, or it would report 429s it
//! caused itself. The contract's `rate_limit` is a per-client budget, so each client (told
//! apart by its credentials) gets a token bucket of that size: a burst up to the budget goes
//! out at once, then one request per `per / requests`.
//!
//! Callers reserve a slot and sleep for the returned wait, so concurrent scenarios queue up in
//! order without a lock held across the sleep.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Pacer {
    capacity: f64,
    /// Tokens per second.
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    /// May go negative: requests already promised a later slot.
    tokens: f64,
    at: Instant,
}

impl Pacer {
    /// `None` for a budget that allows nothing or a zero window (nothing to pace).
    pub fn new(requests: u32, per: Duration) -> Option<Pacer> {
        if requests == 0 || per.is_zero() {
            return None;
        }
        Some(Pacer {
            capacity: f64::from(requests),
            rate: f64::from(requests) / per.as_secs_f64(),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes the next slot of `client`'s budget; returns how long to wait before sending.
    pub fn reserve(&self, client: &str, now: Instant) -> Duration {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let b = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.capacity);
        b.at = now.max(b.at);
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_budget_then_one_per_interval() {
        let p = Pacer::new(5, Duration::from_secs(1)).expect("a budget");
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..8).map(|_| p.reserve("a", t0)).collect();
        assert!(waits[..5].iter().all(|w| w.is_zero()), "{waits:?}");
        let ms: Vec<u128> = waits[5..].iter().map(|w| w.as_millis()).collect();
        assert_eq!(ms, vec![200, 400, 600]);
        // Another client has its own budget.
        assert!(p.reserve("b", t0).is_zero());
        // After a quiet second the budget is back.
        let later = t0 + Duration::from_secs(3);
        assert!(p.reserve("a", later).is_zero());
    }

    #[test]
    fn no_budget_means_no_pacing() {
        assert!(Pacer::new(0, Duration::from_secs(1)).is_none());
        assert!(Pacer::new(5, Duration::ZERO).is_none());
    }
}
