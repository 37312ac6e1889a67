use super::index::{Incoming, Index, Lookup};
use super::*;
use serde_json::json;

fn meta(op: &str, seq: u32) -> Meta {
    Meta {
        recorded_at: "2026-11-23T09:30:00Z".into(),
        target: "http://127.0.0.1:1".into(),
        contract: "c".into(),
        contract_version: "1".into(),
        partner: "p".into(),
        operation: Some(op.into()),
        scenario: None,
        sequence: seq,
    }
}

fn seen<'a>(
    body: &'a [u8],
    resp: &'a [u8],
    headers: &'a [(String, String)],
    query: &'a [(String, String)],
) -> Seen<'a> {
    Seen {
        method: "post",
        path: "/tickets",
        query,
        request_headers: headers,
        request_body: body,
        status: 201,
        response_headers: &[],
        response_body: resp,
    }
}

#[test]
fn capture_redacts_before_anything_is_written() {
    let headers = vec![
        ("Authorization".to_string(), "Bearer SECRET-1".to_string()),
        ("Content-Type".into(), "application/json".into()),
    ];
    let query = vec![("api_key".to_string(), "SECRET-2".to_string())];
    let i = Interaction::capture(
        &FieldPolicy::default(),
        &seen(
            br#"{"client_secret":"SECRET-3","title":"t"}"#,
            br#"{"access_token":"SECRET-4"}"#,
            &headers,
            &query,
        ),
        meta("createTicket", 1),
    );
    let text = i.to_pretty_json().unwrap();
    for s in ["SECRET-1", "SECRET-2", "SECRET-3", "SECRET-4"] {
        assert!(!text.contains(s), "{s} leaked:\n{text}");
    }
    assert!(text.contains("\"title\": \"t\""), "{text}");
}

#[test]
fn files_are_named_by_operation_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let i = Interaction::capture(
        &FieldPolicy::default(),
        &seen(br#"{"a":1}"#, br#"{"id":"T-1"}"#, &[], &[]),
        meta("createTicket", 1),
    );
    let path = save(dir.path(), &i).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("createTicket-") && name.ends_with(".json"), "{name}");
    let (loaded, errors) = load_dir(dir.path());
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(loaded[0].1, i);
    // Stable: saving again writes the same bytes.
    let before = std::fs::read(&path).unwrap();
    save(dir.path(), &i).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_broken_recording_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), "{\n  \"meta\": 3\n}\n").unwrap();
    std::fs::write(dir.path().join(".x.json.tmp-1-1"), "half a fi").unwrap();
    let (loaded, errors) = load_dir(dir.path());
    assert!(loaded.is_empty());
    assert_eq!(errors.len(), 1, "temp files are skipped: {errors}");
    assert_eq!(errors.0[0].span.map(|s| s.line), Some(2), "{errors}");
}

fn incoming(body: Value) -> Incoming {
    Incoming {
        method: "POST".into(),
        path: "/tickets".into(),
        query: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
        body: Body::Json(body),
        scenario: None,
    }
}

fn recorded(body: Value, resp: Value, seq: u32) -> (PathBuf, Interaction) {
    let mut i = Interaction::capture(
        &FieldPolicy::default(),
        &seen(body.to_string().as_bytes(), resp.to_string().as_bytes(), &[], &[]),
        meta("createTicket", seq),
    );
    i.request.query = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
    (PathBuf::from(format!("createTicket-{seq}.json")), i)
}

#[test]
fn key_order_whitespace_and_query_order_do_not_matter() {
    let p = FieldPolicy::default();
    let index = Index::build(
        &p,
        vec![recorded(json!({"title": "t", "tags": ["a"]}), json!({"id": "T-1"}), 1)],
    );
    let req: Value = serde_json::from_str("{ \"tags\" : [ \"a\" ] ,\n \"title\":\"t\" }").unwrap();
    assert!(matches!(
        index.lookup(&p, Some("createTicket"), &incoming(req)),
        Lookup::Found(_)
    ));
}

#[test]
fn a_different_field_is_unmatched_and_the_closest_is_named_with_the_field() {
    let p = FieldPolicy::default();
    let index = Index::build(
        &p,
        vec![recorded(
            json!({"title": "t", "priority": "high"}),
            json!({"id": "T-1"}),
            1,
        )],
    );
    match index.lookup(
        &p,
        Some("createTicket"),
        &incoming(json!({"title": "t", "priority": "low"})),
    ) {
        Lookup::Unmatched {
            closest: Some((entry, diffs)),
        } => {
            assert_eq!(entry.file, PathBuf::from("createTicket-1.json"));
            assert_eq!(
                diffs,
                [(
                    "body /priority".to_string(),
                    "recorded \"high\", got \"low\" (a string)".to_string()
                )]
            );
        }
        _ => panic!("expected no match"),
    }
}

#[test]
fn repeated_requests_replay_their_sequence_then_the_last() {
    let p = FieldPolicy::default();
    let body = json!({"title": "t"});
    let index = Index::build(
        &p,
        vec![
            recorded(body.clone(), json!({"id": "T-2"}), 2),
            recorded(body.clone(), json!({"id": "T-1"}), 1),
        ],
    );
    let ids: Vec<Value> = (0..3)
        .map(
            |_| match index.lookup(&p, Some("createTicket"), &incoming(body.clone())) {
                Lookup::Found(e) => match &e.interaction.response.body {
                    Body::Json(v) => v["id"].clone(),
                    _ => Value::Null,
                },
                _ => Value::Null,
            },
        )
        .collect();
    assert_eq!(ids, [json!("T-1"), json!("T-2"), json!("T-2")]);
}

#[test]
fn a_redacted_field_matches_any_value() {
    let p = FieldPolicy::default();
    let index = Index::build(
        &p,
        vec![recorded(json!({"client_secret": "S", "title": "t"}), json!({}), 1)],
    );
    assert!(matches!(
        index.lookup(
            &p,
            Some("createTicket"),
            &incoming(json!({"client_secret": "other", "title": "t"}))
        ),
        Lookup::Found(_)
    ));
}
