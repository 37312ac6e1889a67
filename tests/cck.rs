//! The Cucumber Compatibility Kit (tests/fixtures/cck): each case's feature runs under
//! contrail with declarative steps that do what the kit's step code does (pass, skip, be
//! pending), and `--messages` must say what a conforming Cucumber says: the same source,
//! GherkinDocument and pickles, one test case per pickle with its steps, every step's status
//! in order, the run's success. Ids, times, durations, uris, step definitions and the text of
//! messages are implementation details and are left out of the comparison. Every message must
//! also be valid against the official schema of messages.

mod common;
use common::*;

use serde_json::{Map, Value};

const STEPS: &str = r#"steps:
  - phrase: I have {n:int} cukes in my belly
    do:
      - the variable "cukes" is "${n}"
  - phrase: an order for {item}
    do:
      - the variable "item" is "${item}"
  - phrase: an action
    do:
      - the variable "acted" is "yes"
  - phrase: an outcome
    do:
      - the variable "outcome" is "yes"
  - phrase: 'a doc string:'
    docstring: true
    do:
      - the variable "doc" is "${docstring}"
  - phrase: a step that does not skip
    do:
      - the variable "a" is "1"
  - phrase: a step that is skipped
    do:
      - the variable "a" is "1"
  - phrase: I skip a step
    do:
      - this scenario is skipped "the kit's step says so"
  - phrase: an implemented step
    do:
      - the variable "a" is "1"
  - phrase: a step that will be skipped
    do:
      - the variable "a" is "1"
  - phrase: an implemented non-pending step
    do:
      - the variable "a" is "1"
  - phrase: an implemented step that is skipped
    do:
      - the variable "a" is "1"
  - phrase: an unimplemented pending step
    do:
      - this scenario is pending "the kit's step says so"
  - phrase: 'the following table is transposed:'
    table: true
    do:
      - step: 'the variable "transposed" is the table transposed:'
        table: ${table}
  - phrase: 'it should be:'
    table: true
    do:
      - step: 'the variable "transposed" equals the table:'
        table: ${table}
"#;

fn drop_keys(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(m) => {
            for k in keys {
                m.remove(*k);
            }
            for c in m.values_mut() {
                drop_keys(c, keys);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| drop_keys(c, keys)),
        _ => {}
    }
}

/// The messages with what may differ between implementations taken out.
fn normalized(ndjson: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let m: Map<String, Value> = serde_json::from_str(line).expect("a message");
        let Some((kind, body)) = m.into_iter().next() else {
            continue;
        };
        let mut body = body;
        let kept = match kind.as_str() {
            "source" => serde_json::json!({ "data": body["data"], "mediaType": body["mediaType"] }),
            "gherkinDocument" | "pickle" => {
                drop_keys(&mut body, &["id", "uri", "astNodeIds", "astNodeId"]);
                body
            }
            "testCase" => {
                let steps = body["testSteps"]
                    .as_array()
                    .map(|s| s.iter().filter(|s| s.get("pickleStepId").is_some()).count())
                    .unwrap_or(0);
                serde_json::json!({ "pickleSteps": steps })
            }
            "testRunStarted" | "testCaseStarted" | "testStepStarted" | "testCaseFinished" => Value::Null,
            "testStepFinished" => body["testStepResult"]["status"].clone(),
            "testRunFinished" => body["success"].clone(),
            // meta, stepDefinition, suggestion, attachment, hooks, parameter types: not compared.
            _ => continue,
        };
        out.push(serde_json::json!({ kind: kept }));
    }
    out
}

fn run_case(name: &str) -> (Vec<Value>, Vec<Value>, Output) {
    let fixtures = repo().join("tests/fixtures/cck");
    let feature = std::fs::read_to_string(fixtures.join(format!("{name}.feature"))).unwrap();
    let ws = tiny_workspace("contract: cck\nversion: \"1\"\npartners: {}\n", "");
    std::fs::remove_file(ws.path().join("features/f.feature")).unwrap();
    std::fs::write(ws.path().join(format!("features/{name}.feature")), feature).unwrap();
    std::fs::create_dir_all(ws.path().join("steps")).unwrap();
    std::fs::write(ws.path().join("steps/cck.yaml"), STEPS).unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never", "--messages", "m.ndjson"]);
    let ours = std::fs::read_to_string(ws.path().join("m.ndjson")).unwrap_or_default();
    let invalid = messages_schema_errors(&ours);
    assert!(invalid.is_empty(), "{name}: messages the schema refuses: {invalid:#?}");
    let expected = std::fs::read_to_string(fixtures.join(format!("{name}.ndjson"))).unwrap();
    (normalized(&ours), normalized(&expected), out)
}

#[test]
fn the_compatibility_kit_cases_contrail_can_express() {
    let mut failures = Vec::new();
    for name in [
        "minimal",
        "backgrounds",
        "data-tables",
        "doc-strings",
        "rules-backgrounds",
        "skipped",
        "undefined",
        "pending",
        "empty",
    ] {
        let (ours, expected, out) = run_case(name);
        if ours != expected {
            let first = ours
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(expected.len()));
            failures.push(format!(
                "{name}: messages differ at #{first} (ours {} messages, expected {}):\n  ours     {}\n  expected {}\n{}",
                ours.len(),
                expected.len(),
                ours.get(first).map(|v| v.to_string()).unwrap_or_default(),
                expected.get(first).map(|v| v.to_string()).unwrap_or_default(),
                out.all()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The table steps that make the kit's data-tables case Rust-free fail when the table is not
/// what was kept, with a diff.
#[test]
fn a_transposed_table_that_differs_fails_with_a_diff() {
    let feature = "Feature: Tables\n  Scenario: transposed\n    When the following table is transposed:\n      | a | b |\n      | 1 | 2 |\n    Then it should be:\n      | a | 2 |\n      | b | 1 |\n";
    let ws = tiny_workspace("contract: cck\nversion: \"1\"\npartners: {}\n", feature);
    std::fs::create_dir_all(ws.path().join("steps")).unwrap();
    std::fs::write(ws.path().join("steps/cck.yaml"), STEPS).unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("the variable \"transposed\" is not the table below the step"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("diff (- expected, + actual)"), "{}", out.stdout);
}
