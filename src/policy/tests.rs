use super::*;
use serde_json::json;

fn policy(rules: &[(&str, &str, &str, Option<&str>)]) -> FieldPolicy {
    let docs: Vec<PolicyDoc> = rules
        .iter()
        .map(|(kind, name, action, op)| PolicyDoc {
            header: (*kind == "header").then(|| name.to_string()),
            query: (*kind == "query").then(|| name.to_string()),
            body: (*kind == "body").then(|| name.to_string()),
            action: action.to_string(),
            operation: op.map(str::to_string),
        })
        .collect();
    FieldPolicy::from_docs(&[], &docs).unwrap()
}

#[test]
fn defaults_redact_secrets_and_make_dates_volatile() {
    let p = FieldPolicy::default();
    assert!(matches!(p.header(None, "Authorization"), Some(Action::Redact)));
    assert!(matches!(p.header(None, "Set-Cookie"), Some(Action::Redact)));
    assert!(matches!(p.header(None, "Date"), Some(Action::Volatile)));
    assert!(p.header(None, "Content-Type").is_none());
    let mut body = json!({"access_token": "S1", "nested": [{"refresh_token": "S2"}], "ok": 1});
    p.redact_json(None, &mut body);
    assert_eq!(
        body,
        json!({"access_token": PLACEHOLDER, "nested": [{"refresh_token": PLACEHOLDER}], "ok": 1})
    );
    let form = p.redact_form(None, "grant_type=client_credentials&client_secret=S3");
    assert!(
        !form.contains("S3") && form.contains("grant_type=client_credentials"),
        "{form}"
    );
}

#[test]
fn body_comparison_follows_the_policy() {
    let p = policy(&[
        ("body", "/created_at", "volatile", None),
        ("body", "/items/*/id", "type-only", None),
        ("body", "/ref", "regex T-\\d+", None),
        ("body", "/note", "ignore", Some("createTicket")),
    ]);
    let rec = json!({"a": 1, "created_at": "x", "items": [{"id": 1}], "ref": "T-1", "note": "a"});
    let same = json!({"ref": "T-99", "items": [{"id": 7}], "created_at": "y", "a": 1, "note": "a"});
    assert!(p.body_differences(None, &rec, &same).is_empty());
    let bad = json!({"a": 2, "created_at": "y", "items": [{"id": "7"}], "ref": "X", "note": "b"});
    let d: Vec<String> = p
        .body_differences(None, &rec, &bad)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(d, ["/a", "/items/0/id", "/note", "/ref"]);
    // The `ignore` rule is limited to createTicket.
    let d: Vec<String> = p
        .body_differences(Some("createTicket"), &rec, &bad)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(d, ["/a", "/items/0/id", "/ref"]);
}

#[test]
fn exact_part_drops_what_is_not_compared_exactly() {
    let p = policy(&[
        ("body", "/created_at", "volatile", None),
        ("body", "id", "type-only", None),
    ]);
    let v = json!({"created_at": "x", "title": "t", "customer": {"id": 3, "name": "n"}});
    assert_eq!(
        p.exact_key(None, &v),
        r#"{"customer":{"name":"n"},"title":"t"}"#,
        "sorted keys, no whitespace"
    );
    let q = json!({"title": "t\"\\\n", "n": [1.50, 2, -0, 1e2]});
    assert_eq!(p.exact_key(None, &q), r#"{"n":[1.5,2,0,100],"title":"t\"\\\u000a"}"#);
}

/// A system that writes a recorded amount another way (`19.90` for `19.9`) still finds its
/// recording, and nothing rounds: two ids past 2^64 that differ in the last digit differ.
#[test]
fn numbers_compare_by_value_and_exactly() {
    let p = policy(&[]);
    let parse = |t: &str| -> serde_json::Value { serde_json::from_str(t).unwrap() };
    let (a, b) = (parse(r#"{"amount": 19.90}"#), parse(r#"{"amount": 19.9}"#));
    assert_eq!(p.exact_key(None, &a), p.exact_key(None, &b));
    assert!(p.body_differences(None, &a, &b).is_empty());
    let (a, b) = (
        parse(r#"{"id": 12345678901234567890123}"#),
        parse(r#"{"id": 12345678901234567890124}"#),
    );
    assert_ne!(p.exact_key(None, &a), p.exact_key(None, &b));
    assert_eq!(p.body_differences(None, &a, &b).len(), 1);
}

#[test]
fn later_rules_override_defaults_and_bad_actions_are_errors() {
    let p = policy(&[("header", "Date", "ignore", None)]);
    assert!(matches!(p.header(None, "date"), Some(Action::Ignore)));
    assert!(Action::parse("fuzzy").unwrap_err().contains("unknown policy action"));
    assert!(Action::parse("regex (").is_err());
}
