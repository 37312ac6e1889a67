//! Faults a scenario programs on a mock server: for the next N calls of an operation, answer
//! with a status (429 + Retry-After in seconds or as an HTTP-date, 503, ...), after a delay,
//! with the body cut short, with an oversized body, or by dropping the connection.
//! A fault belongs to the scenario that programmed it, so concurrent scenarios never see each
//! other's faults.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// Answer with this instead of the recording.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// A `Retry-After` header, worked out when the answer is sent.
        retry_after: Option<RetryAfter>,
    },
    /// Wait, then answer as usual.
    Delay(Duration),
    /// Close the connection without an answer.
    Reset,
    /// Answer as usual, but send only the first half of the body (its full length announced).
    Truncate,
    /// Answer as usual, with a JSON body of this many bytes instead.
    Oversized(usize),
}

/// 9999-12-31T23:59:59Z, the last instant an HTTP-date can say.
pub const LAST_HTTP_DATE: u64 = 253_402_300_799;

#[derive(Debug, Clone, Copy)]
pub enum RetryAfter {
    Seconds(u64),
    /// An HTTP-date this many seconds from the answer, rounded up to the next whole second so
    /// that a client that honours it waits at least that long.
    HttpDate(u64),
}

impl RetryAfter {
    pub fn header_value(self, now: std::time::SystemTime) -> String {
        match self {
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::HttpDate(s) => {
                let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                // An HTTP-date ends with year 9999; programming refuses later dates, and this
                // never overflows whatever it is given.
                let at = since
                    .as_secs()
                    .saturating_add(s)
                    .saturating_add(u64::from(since.subsec_nanos() > 0))
                    .min(LAST_HTTP_DATE);
                httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(at))
            }
        }
    }
}

/// Grows a JSON object to `size` bytes with a `"padding"` field (an oversized answer, an
/// oversized webhook); it stays valid JSON. Left as it is when it is not an object or already
/// bigger.
pub fn pad_object(body: &mut Vec<u8>, size: usize) {
    if body.last() != Some(&b'}') {
        return;
    }
    body.pop();
    let prefix: &[u8] = if body.len() > 1 {
        b",\"padding\":\""
    } else {
        b"\"padding\":\""
    };
    body.extend_from_slice(prefix);
    let fill = size.saturating_sub(body.len() + 2);
    body.resize(body.len() + fill, b'x');
    body.extend_from_slice(b"\"}");
}

#[derive(Debug, Clone)]
pub struct Fault {
    /// The scenario it belongs to (None: every request, e.g. from a system under test).
    pub scenario: Option<String>,
    /// `METHOD path-template` of the operation it applies to.
    pub method: String,
    pub template: String,
    pub remaining: u32,
    pub kind: FaultKind,
}

#[derive(Default)]
pub struct Faults {
    list: Mutex<Vec<Fault>>,
    /// How many faults the list holds, kept under its lock: every request the mock answers
    /// asks for a fault, and almost none is programmed, so the answer "none" is read without
    /// taking the lock the two worker threads would otherwise contend for.
    armed: AtomicUsize,
}

impl Faults {
    pub fn add(&self, f: Fault) {
        if let Ok(mut l) = self.list.lock() {
            l.push(f);
            self.armed.store(l.len(), Ordering::Release);
        }
    }

    /// The fault the next request of this scenario to this method + path triggers, if any;
    /// counts it down.
    pub fn take(&self, scenario: Option<&str>, method: &str, path: &str) -> Option<FaultKind> {
        // A fault programmed while this request is under way may or may not meet it, as with
        // the lock: the two are concurrent.
        if self.armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut l = self.list.lock().ok()?;
        let i = l.iter().position(|f| {
            f.remaining > 0
                // A request without a scenario is the system under test's: the faults of the
                // scenario running now (one at a time, with a SUT) apply to it.
                && (f.scenario.is_none() || scenario.is_none() || f.scenario.as_deref() == scenario)
                && f.method.eq_ignore_ascii_case(method)
                && crate::contract::operation::match_template(&f.template, path).is_some()
        })?;
        l[i].remaining -= 1;
        let kind = l[i].kind.clone();
        if l[i].remaining == 0 {
            l.remove(i);
            self.armed.store(l.len(), Ordering::Release);
        }
        Some(kind)
    }

    /// Drops every fault (the admin API's reset).
    pub fn clear(&self) {
        if let Ok(mut l) = self.list.lock() {
            l.clear();
            self.armed.store(0, Ordering::Release);
        }
    }

    /// Drops the faults of a scenario that has finished.
    pub fn forget(&self, scenario: &str) {
        if let Ok(mut l) = self.list.lock() {
            l.retain(|f| f.scenario.as_deref() != Some(scenario));
            self.armed.store(l.len(), Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_exactly_the_size_asked_and_valid_json() {
        for n in [14, 100, 1_000_000] {
            let mut p = b"{}".to_vec();
            pad_object(&mut p, n);
            assert_eq!(p.len(), n);
            assert!(serde_json::from_slice::<serde_json::Value>(&p).is_ok());
        }
    }

    #[test]
    fn an_http_date_retry_after_is_never_sooner_than_asked() {
        // However far ahead, an HTTP-date (year 9999 at most), never an overflow.
        let v = RetryAfter::HttpDate(u64::MAX).header_value(std::time::SystemTime::now());
        assert!(v.ends_with("9999 23:59:59 GMT"), "{v}");
        let now = std::time::UNIX_EPOCH + Duration::from_millis(1_795_426_200_400);
        let v = RetryAfter::HttpDate(2).header_value(now);
        assert_eq!(v, "Mon, 23 Nov 2026 09:30:03 GMT");
        let at = httpdate::parse_http_date(&v).expect("an HTTP-date");
        assert!(at.duration_since(now).expect("later") >= Duration::from_secs(2));
        assert_eq!(RetryAfter::Seconds(2).header_value(now), "2");
    }
}
