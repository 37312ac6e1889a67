//! Index 100,000 recordings: load time, the index's memory, peak memory and lookup time.
//! Prints figures only.
//!
//!     cargo bench --bench index_load

mod common;
use common::peak_rss_mb;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use contrail::policy::FieldPolicy;
use contrail::recording::index::{Incoming, Index, Lookup};
use contrail::recording::{self, Body, Interaction, Meta, Seen};

fn main() {
    let n = 100_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = FieldPolicy::default();
    let started = Instant::now();
    for i in 0..n {
        let path = format!("/items/{i}");
        let body = format!(
            r#"{{"id": "{i}", "name": "item {i}", "status": "open", "tags": ["a", "b"], "owner": {{"id": "u{}", "email": "u@example.com"}}}}"#,
            i % 97
        );
        let seen = Seen {
            method: "GET",
            path: &path,
            query: &[],
            request_headers: &[],
            request_body: b"",
            status: 200,
            response_headers: &[],
            response_body: body.as_bytes(),
        };
        let meta = Meta {
            recorded_at: "2026-11-23T00:00:00Z".into(),
            target: "http://127.0.0.1:1".into(),
            contract: "c".into(),
            contract_version: "1".into(),
            partner: "p".into(),
            operation: Some("getItem".into()),
            scenario: None,
            sequence: 1,
            steps: None,
            took_ms: None,
        };
        recording::save(dir.path(), &Interaction::capture(&policy, &seen, meta)).expect("save");
    }
    let written = started.elapsed();
    let rss_before = peak_rss_mb();
    let t = Instant::now();
    let (items, errors) = recording::load_dir(dir.path());
    assert!(errors.is_empty(), "{errors}");
    let loaded = t.elapsed();
    // Indexing timed three times from copies, the fastest kept: one build is a single figure
    // that the machine's neighbours move by a fifth. The index's own memory is what the
    // allocator holds after a build beyond the recordings it was given (moved in, not copied).
    let mut index_times = Vec::new();
    for _ in 0..3 {
        let copy = items.clone();
        let live = LIVE.load(Ordering::Relaxed);
        let t = Instant::now();
        let index = Index::build(&policy, copy);
        index_times.push(t.elapsed().as_secs_f64());
        drop(index);
        assert!(LIVE.load(Ordering::Relaxed) <= live, "the build left memory behind");
    }
    let before_index = LIVE.load(Ordering::Relaxed);
    let index = Index::build(&policy, items);
    let index_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before_index);
    // The requests are made before the clock starts: only lookups are timed. Five passes in a
    // scattered order, so that no recording is in the caches when asked for; the fastest and
    // the median reported.
    let requests: Vec<Incoming> = (0..n)
        .map(|i| Incoming {
            method: "GET".into(),
            path: format!("/items/{}", (i * 7919) % n),
            query: Default::default(),
            body: Body::None.into(),
            scenario: None,
            ..Default::default()
        })
        .collect();
    let mut passes = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut found = 0;
        for req in &requests {
            if let Lookup::Found(_) = index.lookup(&policy, Some("getItem"), req) {
                found += 1;
            }
        }
        passes.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        assert_eq!(found, n);
    }
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let (index_times, passes) = (sorted(index_times), sorted(passes));
    println!(
        "index_load: {n} recordings (written in {:.1} s): read + parse {:.2} s; index {:.3} s (fastest of 3), {:.0} bytes per recording; lookup {:.2} µs (fastest of 5, median {:.2}); peak RSS {:.0} MB (before loading {rss_before:.0} MB)",
        written.as_secs_f64(),
        loaded.as_secs_f64(),
        index_times[0],
        index_bytes as f64 / n as f64,
        passes[0],
        passes[2],
        peak_rss_mb()
    );
}

/// Counts the bytes the program holds, to tell the index's own memory from the recordings'.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;
