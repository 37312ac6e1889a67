use super::*;
use serde_json::json;

fn ok(expected: Value, actual: Value) {
    let m = compare(&expected, &actual, Mode::Contains).unwrap();
    assert!(m.is_empty(), "expected {expected} to match {actual}, got {m:?}");
}

fn bad(expected: Value, actual: Value) -> Vec<Mismatch> {
    let m = compare(&expected, &actual, Mode::Contains).unwrap();
    assert!(!m.is_empty(), "expected {expected} NOT to match {actual}");
    m
}

#[test]
fn every_marker_passes_and_fails() {
    let cases: Vec<(&str, Value, Value)> = vec![
        ("#string", json!("x"), json!(1)),
        ("#number", json!(1.5), json!("1.5")),
        ("#integer", json!(3), json!(3.5)),
        ("#boolean", json!(false), json!("false")),
        ("#null", json!(null), json!(0)),
        ("#notnull", json!(0), json!(null)),
        ("#object", json!({}), json!([])),
        ("#array", json!([]), json!({})),
        ("#[]", json!([1, 2]), json!("[]")),
        ("#[2]", json!([1, 2]), json!([1])),
        ("#[] #string", json!(["a", "b"]), json!(["a", 1])),
        ("#[1] #object", json!([{}]), json!([{}, {}])),
        (
            "#uuid",
            json!("123e4567-e89b-12d3-a456-426614174000"),
            json!("123e4567-e89b-12d3-a456-42661417400"),
        ),
        (
            "#date-time",
            json!("2026-11-23T09:30:00.123+01:00"),
            json!("2026-13-23T09:30:00Z"),
        ),
        ("#date", json!("2026-11-23"), json!("23/11/2026")),
        ("#email", json!("qa@example.com"), json!("not an email")),
        ("#uri", json!("https://t.example/tickets/1"), json!("/tickets/1")),
        ("#regex T-\\d+", json!("T-42"), json!("T-42x")),
        ("#present", json!(null), json!(null)),
    ];
    for (marker, good, wrong) in cases {
        ok(json!({ "f": marker }), json!({ "f": good }));
        if marker != "#present" {
            let m = bad(json!({ "f": marker }), json!({ "f": wrong }));
            assert_eq!(m[0].pointer, "/f", "{marker}");
        }
    }
    // #present fails only on a missing field.
    let m = bad(json!({ "f": "#present" }), json!({}));
    assert!(m[0].message.contains("missing"), "{m:?}");
}

#[test]
fn presence_markers() {
    ok(json!({ "f": "#ignore" }), json!({}));
    ok(json!({ "f": "#notpresent" }), json!({}));
    bad(json!({ "f": "#notpresent" }), json!({ "f": 1 }));
    ok(json!({ "f": "##string" }), json!({}));
    ok(json!({ "f": "##string" }), json!({ "f": null }));
    ok(json!({ "f": "##string" }), json!({ "f": "x" }));
    bad(json!({ "f": "##string" }), json!({ "f": 2 }));
    // A missing field fails a type marker with "missing".
    let m = bad(json!({ "f": "#string" }), json!({}));
    assert!(m[0].message.starts_with("missing"), "{m:?}");
}

#[test]
fn nested_objects_report_pointers_and_values() {
    let m = bad(
        json!({ "incident": { "severity": 1, "link": "#string", "tags": ["a", "#string"] } }),
        json!({ "incident": { "severity": 2, "link": 7, "tags": ["a", 3], "extra": true } }),
    );
    let pointers: Vec<&str> = m.iter().map(|x| x.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        vec!["/incident/link", "/incident/severity", "/incident/tags/1"]
    );
    assert_eq!(m[1].message, "expected 1, got 2");
    assert!(m[0].message.contains("7 (an integer)"), "{}", m[0].message);
}

#[test]
fn equals_mode_rejects_extra_keys_contains_does_not() {
    let exp = json!({ "a": 1 });
    let act = json!({ "a": 1, "b": 2 });
    assert!(compare(&exp, &act, Mode::Contains).unwrap().is_empty());
    let m = compare(&exp, &act, Mode::Equals).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].pointer, "/b");
}

#[test]
fn arrays_compare_in_order_with_length() {
    ok(json!([1, "#string"]), json!([1, "x"]));
    let m = bad(json!([1, 2]), json!([2, 1]));
    assert_eq!(m.len(), 2);
    let m = bad(json!([1]), json!([1, 2]));
    assert!(m[0].message.contains("1 item(s), got 2"));
}

#[test]
fn exact_values_and_numbers() {
    ok(json!({ "n": 1 }), json!({ "n": 1.0 }));
    bad(json!({ "s": "a" }), json!({ "s": "b" }));
    bad(json!({ "b": true }), json!({ "b": "true" }));
    ok(json!({ "lit": "\\#hash" }), json!({ "lit": "#hash" }));
}

/// Numbers read from text keep their digits: an id past 2^64 and a currency amount past
/// f64's 17 digits are compared as written, not as the nearest float.
#[test]
fn big_integers_and_decimals_compare_exactly() {
    let parse = |t: &str| -> Value { serde_json::from_str(t).unwrap() };
    bad(
        parse(r#"{"id": 12345678901234567890123}"#),
        parse(r#"{"id": 12345678901234567890124}"#),
    );
    ok(
        parse(r#"{"id": 12345678901234567890123}"#),
        parse(r#"{"id": 12345678901234567890123}"#),
    );
    let m = bad(parse(r#"{"amount": 0.1}"#), parse(r#"{"amount": 0.10000000000000001}"#));
    assert_eq!(m[0].to_string(), "/amount: expected 0.1, got 0.10000000000000001");
    ok(parse(r#"{"amount": 19.90}"#), parse(r#"{"amount": 19.9}"#));
    bad(json!({ "lit": "\\#hash" }), json!({ "lit": "hash" }));
}

#[test]
fn bad_markers_are_errors_not_mismatches() {
    assert!(
        compare(&json!("#strng"), &json!("x"), Mode::Contains)
            .unwrap_err()
            .contains("unknown marker")
    );
    assert!(check_expected(&json!({ "a": ["#regex ("] })).is_err());
    assert!(check_expected(&json!({ "a": ["#[x]"] })).is_err());
    assert!(check_expected(&json!({ "a": "#[2] #uuid" })).is_ok());
}

#[test]
fn diff_views_hide_what_matched() {
    let exp = json!({ "id": "#uuid", "severity": 1, "link": "#ignore" });
    let act = json!({ "id": "123e4567-e89b-12d3-a456-426614174000", "severity": 2, "other": true });
    let (e, a) = diff_views(&exp, &act, Mode::Contains);
    assert_eq!(
        e,
        json!({ "id": "123e4567-e89b-12d3-a456-426614174000", "severity": 1 })
    );
    assert_eq!(
        a,
        json!({ "id": "123e4567-e89b-12d3-a456-426614174000", "severity": 2 })
    );
}

#[test]
fn array_lengths_item_templates_numbers_and_media_types() {
    let ok = |e: Value, a: Value| compare(&e, &a, Mode::Contains).expect("well formed").is_empty();
    // Lengths.
    assert!(ok(json!("#[>=1]"), json!([1])));
    assert!(!ok(json!("#[>=1]"), json!([])));
    assert!(ok(json!("#[<=2] #integer"), json!([1, 2])));
    assert!(!ok(json!("#[<=2]"), json!([1, 2, 3])));
    assert!(ok(json!("#[2..3]"), json!([1, 2, 3])) && !ok(json!("#[2..3]"), json!([1])));
    assert!(check_expected(&json!("#[3..2]")).is_err());
    // Every item matches a pattern, objects included.
    let each = json!(["#each >=1", { "id": "#integer", "name": "#string" }]);
    assert!(ok(
        each.clone(),
        json!([{ "id": 1, "name": "a", "extra": true }, { "id": 2, "name": "b" }])
    ));
    let bad = compare(
        &each,
        &json!([{ "id": 1, "name": "a" }, { "id": "2", "name": "b" }]),
        Mode::Contains,
    )
    .unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].pointer, "/1/id");
    assert!(!ok(each.clone(), json!([])), "at least one item");
    assert!(ok(json!(["#each", "#uuid"]), json!([])));
    assert!(check_expected(&json!(["#each", "#nonsense"])).is_err());
    assert!(check_expected(&json!(["#each", 1, 2])).is_err());
    // A regex over a number's text.
    assert!(ok(json!("#regex 20[0-9]{2}"), json!(2026)));
    assert!(!ok(json!("#regex 20[0-9]{2}"), json!(1999)));
    // Media types, charset and case aside.
    assert!(ok(
        json!("#media application/json"),
        json!("Application/JSON ; charset=utf-8")
    ));
    assert!(!ok(json!("#media application/json"), json!("application/problem+json")));
    assert!(check_expected(&json!("#media json")).is_err());
    // Integers beyond i64 compare exactly.
    assert!(!ok(json!(18446744073709551615u64), json!(18446744073709551614u64)));
    assert!(ok(json!(18446744073709551615u64), json!(18446744073709551615u64)));
    // A literal leading '#'.
    assert!(ok(json!("\\#heading"), json!("#heading")));
    assert!(check_expected(&json!({ "title": "\\#heading" })).is_ok());
}
