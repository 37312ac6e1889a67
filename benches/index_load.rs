//! Index 100,000 recordings: load time, peak memory and lookup time. Prints figures only.
//!
//!     cargo bench --bench index_load

mod common;
use common::peak_rss_mb;

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
    let index = Index::build(&policy, items);
    let total = t.elapsed();
    let t = Instant::now();
    let mut found = 0;
    for i in 0..n {
        let req = Incoming {
            method: "GET".into(),
            path: format!("/items/{}", (i * 7919) % n),
            query: Default::default(),
            body: Body::None.into(),
            scenario: None,
            ..Default::default()
        };
        if let Lookup::Found(_) = index.lookup(&policy, Some("getItem"), &req) {
            found += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    assert_eq!(found, n);
    println!(
        "index_load: {n} recordings (written in {:.1} s): read + parse {:.2} s, + index {:.2} s total; lookup {per:.2} µs; peak RSS {:.0} MB (before loading {rss_before:.0} MB)",
        written.as_secs_f64(),
        loaded.as_secs_f64(),
        total.as_secs_f64(),
        peak_rss_mb()
    );
}
