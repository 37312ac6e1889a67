//! The request journal: what a mock server received, bounded in memory, with event-driven
//! waiting ("within 5 seconds ... receives exactly 1 ...") instead of sleep loops.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use bytes::Bytes;

use crate::recording::{Body, Declared, ReceivedBody};

/// Default number of requests kept per mock server; older ones are dropped first.
pub const DEFAULT_CAP: usize = 10_000;

#[derive(Debug)]
pub struct Entry {
    /// When the request arrived (not when it was answered).
    pub at: Instant,
    pub scenario: Option<String>,
    pub method: std::borrow::Cow<'static, str>,
    /// Owned text: hyper's URI is a slice of the connection's read buffer, and a journal of
    /// thousands of entries sharing it would keep thousands of buffers alive (tried: peak RSS
    /// 92 MB instead of 21 MB under `bench/replay.sh`).
    pub path: String,
    /// The body, or for one over the journal's body limit, its first bytes as text. Shared with
    /// the request as the mock received it: journalling a request copies no body, and parses
    /// it only when a step reads it (`ReceivedBody::parsed`).
    pub body: Arc<ReceivedBody>,
    /// The body's size in bytes as it arrived.
    pub body_bytes: usize,
    /// For a body over the limit, its SHA-256 (hex): what is left to compare it by.
    pub body_sha256: Option<String>,
    /// What the mock answered.
    pub status: u16,
}

impl Entry {
    /// Whether only a prefix of the body was kept.
    pub fn body_cut(&self) -> bool {
        self.body_sha256.is_some()
    }
}

/// What is kept of a body that is over the limit.
const PREFIX_CHARS: usize = 256;

pub struct Journal {
    entries: Mutex<VecDeque<Arc<Entry>>>,
    cap: usize,
    /// Bodies up to this many bytes are kept whole.
    body_limit: usize,
    changed: watch::Sender<u64>,
}

impl Journal {
    pub fn new(cap: usize, body_limit: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            cap: cap.max(1),
            body_limit,
            changed: watch::channel(0).0,
        }
    }

    /// A request body as the request and the journal hold it: (the request's, the journal's,
    /// the SHA-256 of a body kept only in part). Up to the limit, one body both share, copied
    /// once into a buffer of its own: hyper hands a body out as a slice of the connection's read
    /// buffer, and the journal keeping that slice would keep the whole buffer alive. Beyond it,
    /// the request shares the bytes for its own time and the journal keeps their first
    /// characters as text and their SHA-256, so that 30 requests of 10 MB cost kilobytes, not
    /// 300 MB.
    pub fn receive(&self, declared: Declared, raw: &Bytes) -> (Arc<ReceivedBody>, Arc<ReceivedBody>, Option<String>) {
        if raw.len() <= self.body_limit {
            let body = Arc::new(ReceivedBody::received(declared, raw));
            return (body.clone(), body, None);
        }
        use sha2::Digest as _;
        let sha: String = sha2::Sha256::digest(raw).iter().map(|b| format!("{b:02x}")).collect();
        let head = &raw[..raw.len().min(PREFIX_CHARS * 4)];
        let prefix: String = String::from_utf8_lossy(head).chars().take(PREFIX_CHARS).collect();
        (
            Arc::new(ReceivedBody::shared(declared, raw.clone())),
            Arc::new(Body::Text(format!("{prefix}…")).into()),
            Some(sha),
        )
    }

    pub fn push(&self, e: Entry) {
        // Allocated before the lock and the oldest entry freed after it: the lock is taken by
        // every request on every worker thread, so it is held for the two moves alone.
        let e = Arc::new(e);
        let dropped = match self.entries.lock() {
            Ok(mut entries) => {
                let oldest = if entries.len() == self.cap {
                    entries.pop_front()
                } else {
                    None
                };
                entries.push_back(e);
                oldest
            }
            Err(_) => None,
        };
        drop(dropped);
        // Only a step waiting on the journal listens; with none, telling nobody would still take
        // the channel's lock on every request. No wake-up is lost: a waiter subscribes before
        // it reads the entries, so one that subscribes after this check sees this entry.
        if self.changed.receiver_count() > 0 {
            self.changed.send_modify(|n| *n += 1);
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Forgets every entry (the admin API's reset).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries `keep` selects, oldest first.
    pub fn select(&self, keep: &dyn Fn(&Entry) -> bool) -> Vec<Arc<Entry>> {
        self.entries
            .lock()
            .map(|e| e.iter().filter(|x| keep(x)).cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until `done` says the selection is final (`Some(verdict)`), or `timeout` passes;
    /// then returns the selection. Wakes on every new request, never polls.
    pub async fn wait(
        &self,
        keep: &(dyn Fn(&Entry) -> bool + Sync),
        timeout: Duration,
        done: &(dyn Fn(&[Arc<Entry>]) -> bool + Sync),
    ) -> Vec<Arc<Entry>> {
        let deadline = tokio::time::Instant::from_std(crate::clock::deadline(timeout));
        let mut rx = self.changed.subscribe();
        loop {
            rx.borrow_and_update();
            let now = self.select(keep);
            if done(&now) {
                return now;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return self.select(keep),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            at: Instant::now(),
            scenario: None,
            method: "POST".into(),
            path: path.into(),
            body: Arc::new(ReceivedBody::default()),
            body_bytes: 0,
            body_sha256: None,
            status: 200,
        }
    }

    #[test]
    fn big_bodies_are_kept_as_size_hash_and_prefix() {
        let j = Journal::new(10, 1024);
        let small = br#"{"a":1}"#;
        let (received, kept, sha) = j.receive(Declared::of(Some("application/json")), &Bytes::from_static(small));
        assert!(
            Arc::ptr_eq(&kept, &received) && sha.is_none(),
            "kept as received, not copied"
        );
        assert_eq!(kept.parsed(), &Body::Json(serde_json::json!({"a": 1})));
        let big = vec![b'x'; 10 * 1024 * 1024];
        let (_, kept, sha) = j.receive(Declared::of(None), &Bytes::from(big));
        assert_eq!(sha.as_deref().map(str::len), Some(64));
        match kept.parsed() {
            Body::Text(t) => assert!(t.len() < 1024 && t.starts_with("xxx"), "{} bytes", t.len()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_cap_holds() {
        let j = Journal::new(3, 1024);
        for i in 0..1000 {
            j.push(entry(&format!("/{i}")));
        }
        assert_eq!(j.len(), 3);
        assert_eq!(j.select(&|_| true)[0].path, "/997");
    }

    /// On paused time: the clock moves only to the next timer, so waking on the push is seen
    /// exactly (50 ms), and waking on the timeout would be 10 s, however loaded the machine.
    #[tokio::test(start_paused = true)]
    async fn waiting_wakes_on_a_new_request_not_on_a_timer() {
        let j = Arc::new(Journal::new(10, 1024));
        let j2 = j.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            j2.push(entry("/a"));
        });
        let started = tokio::time::Instant::now();
        let got = j.wait(&|_| true, Duration::from_secs(10), &|e| !e.is_empty()).await;
        assert_eq!(got.len(), 1);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(50),
            "woke on the push, not the timeout"
        );
    }
}
