//! Strings and documents steps take from a feature file: expectations with markers, `${...}`
//! interpolation, and the webhook signatures contrail computes for a delivery.

use std::collections::BTreeMap;

use contrail::contract::model::SignatureDoc;
use contrail::interpolate::{Scope, interpolate, interpolate_env};
use contrail::matching::{self, Marker, Mode};
use contrail::webhook::sign::Scheme;
use serde_json::Value;

/// `expected NUL actual`. An expected part that is not JSON is tried as a marker string.
pub fn matching(data: &[u8]) {
    let p = super::parts(data, 2);
    for part in &p {
        raw_key_agrees(part);
        tree_agrees(part, part);
    }
    if let [recorded, sent, ..] = p[..] {
        tree_agrees(recorded, sent);
    }
    let expected_text = super::text(p[0]);
    let actual = json_or_null(p.get(1));
    let expected: Value = match serde_json::from_str(&expected_text) {
        Ok(v) => v,
        Err(_) => {
            if let Ok(Some(marker)) = Marker::parse(&expected_text) {
                let _ = marker.check(Some(&actual));
                let _ = marker.check(None);
                let _ = marker.name();
            }
            Value::String(expected_text)
        }
    };
    let _ = matching::check_expected(&expected);
    for mode in [Mode::Contains, Mode::Equals] {
        let _ = matching::compare(&expected, &actual, mode);
        let _ = matching::diff_views(&expected, &actual, mode);
    }
    // A document without markers matches itself exactly: otherwise a scenario that expects
    // exactly what the partner sent would fail.
    if !has_marker(&actual) {
        let mismatches = matching::compare(&actual, &actual, Mode::Equals).expect("no marker, no marker error");
        assert!(mismatches.is_empty(), "{actual} does not match itself: {mismatches:?}");
    }
}

/// The replay key's two roads (`FieldPolicy::write_exact_raw` from bytes, `write_exact` from
/// serde_json's `Value`) write one text, and the raw road never reads what serde_json refuses.
fn raw_key_agrees(bytes: &[u8]) {
    let policy = contrail::policy::FieldPolicy::default();
    let mut raw = String::new();
    if !policy.write_exact_raw(None, bytes, &mut raw) {
        return;
    }
    let parsed: Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "the raw road read what serde_json refuses ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    });
    assert_eq!(
        raw,
        policy.exact_key(None, &parsed),
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
}

/// The replay index's tree road (`compare_exact` of `sent`'s tape with `recorded`'s tree)
/// says what comparing the two canonical texts says, unless it is unsure; and the road the
/// mock takes, reading `sent` as it compares (`compare_exact_text`), says what the tape's says,
/// or `Unsure` where no tape can be read.
fn tree_agrees(recorded: &[u8], sent: &[u8]) {
    use contrail::policy::Verdict;
    let policy = contrail::policy::FieldPolicy::default();
    let Ok(recorded) = serde_json::from_slice::<Value>(recorded) else {
        return;
    };
    let tree = policy.exact_body(None, &recorded);
    let streamed = policy.compare_exact_text(None, sent, &tree);
    let Some(tape) = contrail::matching::tape::Tape::read(sent) else {
        assert_eq!(
            streamed,
            Verdict::Unsure,
            "no tape: {:?}",
            String::from_utf8_lossy(sent)
        );
        return;
    };
    let mut sent_text = String::new();
    assert!(policy.write_exact_raw(None, sent, &mut sent_text), "the tape read it");
    let same = sent_text == policy.exact_key(None, &recorded);
    let verdict = policy.compare_exact(None, &tape, &tree);
    let show = || format!("{recorded} vs {:?}", String::from_utf8_lossy(sent));
    assert_eq!(streamed, verdict, "read as it goes: {}", show());
    match verdict {
        Verdict::Same => assert!(same, "said the same: {}", show()),
        Verdict::Different => assert!(!same, "said different: {}", show()),
        Verdict::Unsure => {}
    }
}

/// The second part of an input as JSON (null when missing or not JSON).
fn json_or_null(part: Option<&&[u8]>) -> Value {
    part.and_then(|a| serde_json::from_slice(a).ok()).unwrap_or(Value::Null)
}

fn has_marker(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with('#') || s.starts_with("\\#"),
        Value::Array(a) => a.iter().any(has_marker),
        Value::Object(o) => o.values().any(has_marker),
        _ => false,
    }
}

/// `template NUL variable-json`: the variable is known as `v` and `ticket`.
pub fn interpolate_text(data: &[u8]) {
    let p = super::parts(data, 2);
    let template = super::text(p[0]);
    let var = json_or_null(p.get(1));
    let vars: BTreeMap<String, Value> = [("v".to_string(), var.clone()), ("ticket".to_string(), var)].into();
    let params: BTreeMap<String, String> = [("p".to_string(), "param".to_string())].into();
    let scope = Scope {
        params: Some(&params),
        vars: &vars,
    };
    let out = interpolate(&template, &scope);
    // Text with no `$` is left as it is: a doc string's JSON must reach the partner unchanged.
    if !template.contains('$') {
        assert_eq!(out.as_deref(), Ok(template.as_str()), "text without `$` changed");
    }
    let _ = interpolate_env(&template);
}

/// `style NUL secret NUL header NUL delivery id NUL body`; the style's first byte picks one.
pub fn webhook_sign(data: &[u8]) {
    let p = super::parts(data, 5);
    let field = |i: usize| p.get(i).map(|b| super::text(b)).unwrap_or_default();
    let styles = ["github", "stripe", "slack", "standard-webhooks", "generic", "other"];
    let pick = p[0].first().copied().unwrap_or(0);
    let doc = SignatureDoc {
        style: styles[usize::from(pick) % styles.len()].to_string(),
        secret: String::new(),
        header: (pick & 0x40 != 0).then(|| field(2)),
        signed_payload: Some(if pick & 0x80 != 0 { "timestamp.body" } else { "body" }.to_string()),
        tolerance: None,
    };
    let Ok(scheme) = Scheme::from_doc(&doc, field(1)) else {
        return;
    };
    let body = p.get(4).copied().unwrap_or_default();
    // Delivery ids are contrail's own (a UUID, `msg_` + hex), never the user's: keep those
    // characters only, so a finding is about what a contract can say.
    let id: String = field(3)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let ts = 1_700_000_000 + u64::from(pick);
    let headers = scheme.headers(body, ts, &id);
    // What from_doc accepts must be sendable: a header HTTP cannot carry would fail the
    // delivery with a client error far from the contract line that caused it.
    for (name, value) in &headers {
        assert!(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).is_ok(),
            "signature header name {name:?} cannot be sent"
        );
        assert!(
            hyper::header::HeaderValue::from_str(value).is_ok(),
            "signature header {name}: {value:?} cannot be sent"
        );
    }
    assert_eq!(headers, scheme.headers(body, ts, &id), "signing is not deterministic");
    let mut changed = body.to_vec();
    match changed.first_mut() {
        Some(b) => *b ^= 1,
        None => changed.push(b'x'),
    }
    assert_ne!(
        headers,
        scheme.headers(&changed, ts, &id),
        "a changed body kept its signature"
    );
}
