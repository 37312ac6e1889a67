use std::path::PathBuf;

use super::*;
use crate::recording::{Meta, RecordedRequest};

fn recorded_at(at: &str) -> (PathBuf, Interaction) {
    (
        PathBuf::from(format!("r/{at}.json")),
        Interaction {
            meta: Meta {
                recorded_at: at.into(),
                target: "http://127.0.0.1:1/".into(),
                contract: "c".into(),
                contract_version: "1".into(),
                partner: "p".into(),
                operation: None,
                scenario: None,
                sequence: 1,
                steps: None,
                took_ms: None,
            },
            request: RecordedRequest {
                method: "GET".into(),
                path: "/".into(),
                query: vec![],
                headers: Default::default(),
                body: Body::None,
            },
            response: RecordedResponse {
                status: 200,
                headers: Default::default(),
                body: Body::None,
            },
        },
    )
}

#[test]
fn recordings_older_than_the_limit_are_stale() {
    let now = humantime::parse_rfc3339("2026-11-23T12:00:00Z").expect("date");
    let items = vec![
        recorded_at("2026-11-20T12:00:00Z"),
        recorded_at("2026-11-01T00:00:00Z"),
        recorded_at("yesterday"),
    ];
    let stale = stale(&items, 7, now);
    let files: Vec<String> = stale.iter().map(|s| s.file.display().to_string()).collect();
    assert_eq!(files, ["r/2026-11-01T00:00:00Z.json", "r/yesterday.json"]);
    assert_eq!(stale[0].age_days, 22);
    assert!(
        super::stale(&items, 30, now).len() == 1,
        "only the unreadable date at 30 days"
    );
}
