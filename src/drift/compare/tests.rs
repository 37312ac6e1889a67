//! The verdicts, each both ways: what the contract allows is not breaking, what it forbids is.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::compare;
use crate::contract::Contract;
use crate::drift::{Change, Class, Finding};
use crate::recording::{Body, RecordedResponse};

const CONTRACT: &str = r#"contract: c
version: "1"
partners:
  p:
    operations:
      - id: getTicket
        method: get
        path: /tickets/{id}
        responses:
          "200":
            schema:
              type: object
              required: [id, status, customer_id]
              properties:
                id: { type: string }
                status: { type: string, enum: [open, escalated] }
                customer_id: { type: string }
                priority: { type: [string, "null"] }
                note: { type: string }
                severity: { type: integer }
                created_at: { type: string }
                tags: { type: array, items: { type: object, properties: { name: { type: string } } } }
                homepage: { type: string, format: uri }
      - id: getShapes
        method: get
        path: /shapes
        responses:
          "200":
            schema:
              type: object
              properties:
                labels:
                  type: object
                  additionalProperties: { type: string }
                counts:
                  type: object
                  patternProperties:
                    "^[a-z]+$": { type: integer }
                free:
                  type: object
                  additionalProperties: true
                owner:
                  oneOf:
                    - type: object
                      required: [kind, login]
                      properties:
                        kind: { const: user }
                        login: { type: string }
                    - type: object
                      required: [kind, slug]
                      properties:
                        kind: { const: team }
                        slug: { type: string }
                        members: { type: array, items: { type: object, properties: { id: { type: integer } } } }
      - id: getLoose
        method: get
        path: /loose
        responses:
          "200": {}
policy:
  - body: /created_at
    action: volatile
  - body: /etag
    action: ignore
  - body: /code
    action: regex [A-Z]{3}
"#;

fn contract() -> (tempfile::TempDir, Contract) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("c.yaml"), CONTRACT).expect("write");
    let c = Contract::load(&dir.path().join("c.yaml")).expect("contract loads");
    (dir, c)
}

fn response(status: u16, body: Value) -> RecordedResponse {
    let mut headers = BTreeMap::new();
    headers.insert("content-type".to_string(), "application/json".to_string());
    headers.insert("date".to_string(), "Mon, 23 Nov 2026 11:00:00 GMT".to_string());
    RecordedResponse {
        status,
        headers,
        body: Body::Json(body),
    }
}

fn findings(op: &str, rec: RecordedResponse, live: RecordedResponse) -> Vec<Finding> {
    let (_dir, c) = contract();
    let operation = c.partner("p").and_then(|p| p.operation(op));
    compare(&c, operation, &rec, &live).expect("compares")
}

fn of(f: &[Finding], class: Class) -> Vec<(String, Change)> {
    let mut v: Vec<(String, Change)> = f
        .iter()
        .filter(|x| x.class == class)
        .map(|x| (x.place.clone(), x.change))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn ticket() -> Value {
    json!({
        "id": "T-4", "status": "open", "customer_id": "C-1", "priority": "high",
        "note": "n", "severity": 1, "created_at": "2026-11-23T11:00:00Z",
        "tags": [{ "name": "a" }]
    })
}

#[test]
fn a_healthy_sample_differs_only_in_ways_the_contract_allows() {
    let mut live = ticket();
    live["id"] = json!("T-9");
    live["priority"] = Value::Null; // nullable
    live["created_at"] = json!("2026-11-24T08:00:00Z"); // volatile
    live["tags"] = json!([{ "name": "x" }, { "name": "y" }, { "name": "z" }]);
    live["extra"] = json!({ "any": true }); // additionalProperties allowed
    live.as_object_mut().expect("object").remove("note"); // optional
    let mut live = response(200, live);
    live.headers
        .insert("date".into(), "Tue, 24 Nov 2026 08:00:00 GMT".into());
    let f = findings("getTicket", response(200, ticket()), live);
    assert!(of(&f, Class::Breaking).is_empty(), "{f:#?}");
    // An optional field gone is another sample; a key the schema never mentions is named as
    // such, not as drift.
    assert!(of(&f, Class::Compatible).is_empty(), "{f:#?}");
    assert_eq!(of(&f, Class::Undeclared), vec![("/extra".to_string(), Change::Added)]);
    assert_eq!(
        of(&f, Class::VolatileIgnored),
        vec![
            ("/created_at".to_string(), Change::Value),
            ("header date".to_string(), Change::Value),
        ]
    );
    assert!(!f.iter().any(|x| x.place == "/id"), "new ids are not drift: {f:#?}");
    assert!(
        !f.iter().any(|x| x.place == "/priority"),
        "null is another sample of a nullable field: {f:#?}"
    );
}

#[test]
fn what_the_contract_forbids_is_breaking() {
    let mut live = ticket();
    live.as_object_mut().expect("object").remove("customer_id");
    live["status"] = json!("triaged");
    live["severity"] = json!("1");
    let f = findings("getTicket", response(200, ticket()), response(200, live));
    let breaking = of(&f, Class::Breaking);
    assert_eq!(
        breaking,
        vec![
            ("/customer_id".to_string(), Change::Schema),
            ("/severity".to_string(), Change::Schema),
            ("/status".to_string(), Change::Schema),
        ],
        "{f:#?}"
    );
    // The same places are not reported twice as structural changes.
    assert!(of(&f, Class::Compatible).is_empty(), "{f:#?}");
}

#[test]
fn status_and_media_type_changes_are_breaking() {
    let f = findings("getTicket", response(200, ticket()), response(404, json!({})));
    assert_eq!(of(&f, Class::Breaking), vec![("status".to_string(), Change::Status)]);
    assert!(f[0].message.contains("recorded 200, now 404"), "{f:#?}");
    assert!(f[0].message.contains("does not declare"), "{f:#?}");

    let mut live = response(200, ticket());
    live.headers
        .insert("content-type".into(), "text/html; charset=utf-8".into());
    let f = findings("getTicket", response(200, ticket()), live);
    assert_eq!(
        of(&f, Class::Breaking),
        vec![("header content-type".to_string(), Change::ContentType)]
    );
    let mut live = response(200, ticket());
    live.headers
        .insert("content-type".into(), "application/json; charset=utf-8".into());
    assert!(
        findings("getTicket", response(200, ticket()), live)
            .iter()
            .all(|x| x.class != Class::Breaking)
    );
}

#[test]
fn without_a_schema_the_recording_is_the_contract() {
    let rec = json!({ "a": 1, "b": "x", "items": [{ "k": 1 }] });
    let live = json!({ "a": "1", "items": [{ "k": 2, "new": true }], "c": 3 });
    let f = findings("getLoose", response(200, rec.clone()), response(200, live));
    assert_eq!(
        of(&f, Class::Breaking),
        vec![("/a".to_string(), Change::Type), ("/b".to_string(), Change::Removed)],
        "{f:#?}"
    );
    assert_eq!(
        of(&f, Class::Compatible),
        vec![
            ("/c".to_string(), Change::Added),
            ("/items/*/new".to_string(), Change::Added)
        ]
    );
    // The same answer again: nothing at all.
    assert!(findings("getLoose", response(200, rec.clone()), response(200, rec)).is_empty());
}

#[test]
fn the_policy_decides_for_the_fields_it_names() {
    let rec = json!({ "etag": "a", "code": "ABC", "created_at": "t1" });
    let live = json!({ "etag": 5, "code": "ABD", "created_at": 7 });
    let f = findings("getLoose", response(200, rec.clone()), response(200, live));
    assert!(!f.iter().any(|x| x.place == "/etag"), "ignored: {f:#?}");
    assert_eq!(
        of(&f, Class::VolatileIgnored),
        vec![("/created_at".to_string(), Change::Type)]
    );
    assert!(of(&f, Class::Breaking).is_empty(), "ABD matches [A-Z]{{3}}: {f:#?}");
    let f = findings(
        "getLoose",
        response(200, rec),
        response(200, json!({ "etag": "a", "code": "abc", "created_at": "t1" })),
    );
    assert_eq!(of(&f, Class::Breaking), vec![("/code".to_string(), Change::Pattern)]);
}

#[test]
fn another_valid_sample_is_never_a_finding() {
    let rec = json!({
        "labels": { "env": "prod", "team": "a" },
        "counts": { "open": 3 },
        "free": { "x": 1 },
        "owner": { "kind": "user", "login": "octocat" }
    });
    // Other map keys, other values, another oneOf branch with its own fields and a list.
    let live = json!({
        "labels": { "region": "eu" },
        "counts": { "closed": 7, "open": 0 },
        "free": { "y": [1, 2] },
        "owner": { "kind": "team", "slug": "core", "members": [{ "id": 1 }, { "id": 2 }] }
    });
    let f = findings("getShapes", response(200, rec.clone()), response(200, live));
    assert!(f.is_empty(), "{f:#?}");

    // A real type change inside a map value is still breaking, and named by its pointer.
    let live = json!({ "labels": { "env": 5 }, "owner": { "kind": "user", "login": "octocat" } });
    let f = findings("getShapes", response(200, rec.clone()), response(200, live));
    assert_eq!(
        of(&f, Class::Breaking),
        vec![("/labels/env".to_string(), Change::Schema)],
        "{f:#?}"
    );

    // A key nothing describes, inside a branch: undeclared, not drift.
    let live = json!({ "owner": { "kind": "user", "login": "octocat", "avatar": "a.png" } });
    let f = findings("getShapes", response(200, rec), response(200, live));
    assert_eq!(
        of(&f, Class::Undeclared),
        vec![("/owner/avatar".to_string(), Change::Added)],
        "{f:#?}"
    );
    assert!(
        of(&f, Class::Compatible).is_empty() && of(&f, Class::Breaking).is_empty(),
        "{f:#?}"
    );
}

#[test]
fn a_oneof_failure_names_the_deepest_place_never_the_whole_object() {
    let rec = json!({ "owner": { "kind": "team", "slug": "core", "members": [{ "id": 1 }] } });
    let live = json!({ "owner": { "kind": "team", "slug": "core", "members": [{ "id": "x" }] } });
    let f = findings("getShapes", response(200, rec), response(200, live));
    let breaking: Vec<&Finding> = f.iter().filter(|x| x.class == Class::Breaking).collect();
    assert_eq!(breaking.len(), 1, "{f:#?}");
    assert_eq!(breaking[0].place, "/owner/members/*/id", "{f:#?}");
    assert!(
        breaking[0].message.contains(r#""x" is not of type "integer""#),
        "{f:#?}"
    );
    assert!(breaking[0].message.contains("branch 2"), "{f:#?}");
    assert!(
        !breaking[0].message.contains("slug"),
        "the whole object is not printed: {f:#?}"
    );
}

#[test]
fn a_format_miss_warns_by_default_and_decides_with_assert() {
    let mut live = ticket();
    live["homepage"] = json!("");
    let f = findings("getTicket", response(200, ticket()), response(200, live.clone()));
    assert!(
        of(&f, Class::Breaking).is_empty(),
        "formats: warn is the default: {f:#?}"
    );
    assert_eq!(
        of(&f, Class::Format),
        vec![("/homepage".to_string(), Change::Schema)],
        "{f:#?}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("c.yaml"), format!("{CONTRACT}formats: assert\n")).expect("write");
    let c = Contract::load(&dir.path().join("c.yaml")).expect("contract loads");
    let op = c.partner("p").and_then(|p| p.operation("getTicket"));
    let f = compare(&c, op, &response(200, ticket()), &response(200, live)).expect("compares");
    assert_eq!(
        of(&f, Class::Breaking),
        vec![("/homepage".to_string(), Change::Schema)],
        "{f:#?}"
    );
    assert!(of(&f, Class::Format).is_empty(), "{f:#?}");
}

#[test]
fn an_undeclared_key_sent_both_times_is_named_once_as_undeclared() {
    let mut rec = ticket();
    rec["extra"] = json!(1);
    let mut live = ticket();
    live["extra"] = json!(2);
    let f = findings("getTicket", response(200, rec), response(200, live));
    assert_eq!(
        of(&f, Class::Undeclared),
        vec![("/extra".to_string(), Change::Undeclared)],
        "{f:#?}"
    );
    assert!(
        of(&f, Class::Compatible).is_empty() && of(&f, Class::Breaking).is_empty(),
        "{f:#?}"
    );
    // A declared key sent both times is nothing.
    let f = findings("getTicket", response(200, ticket()), response(200, ticket()));
    assert!(f.iter().all(|x| x.class != Class::Undeclared), "{f:#?}");
}
