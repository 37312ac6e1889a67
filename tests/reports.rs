//! The reports standard tools read: one run with the statuses a feature can produce
//! (passed, failed, skipped, undefined, pending), a Background, a Rule, an outline, a doc string
//! and a table. The terminal names each status (never "panicked"), JUnit gives every testcase a
//! `classname` and each failure its class, and the Cucumber JSON validates against the
//! official schema (tests/fixtures/cucumber-json-schema). Ambiguous steps: tests/statuses.rs.

mod common;
use common::*;

const CONTRACT: &str = "contract: tiny\nversion: \"1\"\npartners: {}\n";

const FEATURE: &str = r#"@statuses
Feature: Every status
  A description of the feature.

  Background:
    Given the variable "base" is "b"

  Scenario: Passes
    Given the variable "a" is "1"
    And the request body has the fields:
      | field | value |
      | title | x     |

  Scenario: Fails
    Given the variable "a" is "1"
    Then the response status is 200
    And the variable "never" is "run"

  Scenario: Undefined
    When the frobnicator spins

  @later
  Scenario: Pending
    Given this scenario is pending "the partner's v2 is not in the sandbox"
    Then the variable "never" is "run"

  Rule: Outlines
    Scenario Outline: Row <n>
      Given the variable "n" is "<n>"
      And the request body is:
        """json
        { "n": "<n>" }
        """

      Examples:
        | n |
        | 1 |
        | 2 |
"#;

fn run(ws: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--color",
        "never",
        "--junit",
        "out/j.xml",
        "--cucumber-json",
        "out/c.json",
    ];
    args.extend(extra);
    contrail(ws, &args)
}

#[test]
fn every_status_in_every_report() {
    let ws = tiny_workspace(CONTRACT, FEATURE);
    let out = run(ws.path(), &[]);
    // A failed, an undefined and (strict, the default) a pending scenario fail the run.
    assert_eq!(out.code, 1, "{}", out.all());
    let text = &out.stdout;
    assert!(
        text.contains("6 scenarios (3 passed, 1 failed, 1 undefined, 1 pending)"),
        "{text}"
    );
    assert!(
        text.contains("Step failed (assertion): features/f.feature:16:5"),
        "{text}"
    );
    assert!(text.contains("Step undefined: features/f.feature:20:5"), "{text}");
    assert!(text.contains("Step pending: features/f.feature:24:5"), "{text}");
    assert!(
        text.contains("-  And the variable \"never\" is \"run\"  (skipped)"),
        "{text}"
    );
    assert!(!out.all().to_lowercase().contains("panicked"), "{}", out.all());

    let xml = std::fs::read_to_string(ws.path().join("out/j.xml")).unwrap();
    assert!(xml.contains("<failure type=\"assertion\""), "{xml}");
    assert!(xml.contains("<failure type=\"undefined\""), "{xml}");
    // Strict by default, as in Cucumber: pending is a failure of its own class.
    assert!(
        xml.contains("<failure type=\"pending\" message=\"pending: the partner&apos;s v2"),
        "{xml}"
    );
    assert!(
        xml.contains("classname=\"Feature: Every status &gt; Rule: Outlines\""),
        "{xml}"
    );
    // Every testcase (an outline row is one) has a classname.
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches(" classname=\"").count(), 6, "{xml}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("out/c.json")).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/cucumber-json-schema/cucumber-jvm.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the official schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
    let statuses: Vec<&str> = report[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "scenario")
        .map(|e| {
            let steps = e["steps"].as_array().unwrap();
            steps
                .iter()
                .map(|s| s["result"]["status"].as_str().unwrap())
                .find(|s| *s != "passed")
                .unwrap_or("passed")
        })
        .collect();
    assert_eq!(
        statuses,
        ["passed", "failed", "undefined", "pending", "passed", "passed"]
    );
    // Backgrounds come before their scenario; tags carry `@`, inherited; the feature's tags
    // have their place.
    assert_eq!(report[0]["elements"][0]["type"], "background");
    assert_eq!(report[0]["tags"][0]["name"], "@statuses");
    assert_eq!(report[0]["tags"][0]["location"]["line"], 1);
    assert_eq!(report[0]["description"], "  A description of the feature.");
    let pending = report[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Pending")
        .unwrap();
    assert_eq!(
        pending["tags"],
        serde_json::json!([{ "name": "@statuses" }, { "name": "@later" }])
    );
    let row = report[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Row 2")
        .unwrap();
    assert_eq!(row["steps"][1]["doc_string"]["value"], "{ \"n\": \"2\" }");

    // Pending fails the run (strict, the default); --no-strict reports it and lets the run
    // pass, JUnit listing it as skipped.
    let out = run(ws.path(), &["--name", "^(Passes|Pending)$"]);
    assert_eq!(out.code, 1, "pending fails a strict run: {}", out.all());
    let out = run(ws.path(), &["--name", "^(Passes|Pending)$", "--no-strict"]);
    assert_eq!(out.code, 0, "--no-strict: {}", out.all());
    assert!(
        out.stdout.contains("2 scenarios (1 passed, 1 pending)"),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(ws.path().join("out/j.xml")).unwrap();
    assert!(
        xml.contains("<skipped message=\"pending: the partner&apos;s v2 is not in the sandbox\"/>"),
        "{xml}"
    );
}

/// `lint`, `--dry-run`, a run and every report count the bundled suite's scenarios alike (an
/// outline row is a scenario): the terminal, JUnit testcases, Cucumber JSON scenario elements
/// and Cucumber Messages test cases.
#[test]
fn counts_agree_across_lint_dry_run_run_and_every_report() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let lint = contrail(ws.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{}", lint.all());
    let n: usize = lint
        .stdout
        .split(" scenario(s)")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("lint counts scenarios");
    assert!(n > 10, "{}", lint.stdout);

    let dry = contrail(ws.path(), &["run", "--dry-run", "--target", "replay"]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.contains(&format!("{n} scenarios ({n} skipped)")),
        "{}",
        dry.stdout
    );

    let out = contrail(
        ws.path(),
        &[
            "run",
            "--target",
            "replay",
            "--color",
            "never",
            "--junit",
            "r/j.xml",
            "--cucumber-json",
            "r/c.json",
            "--messages",
            "r/m.ndjson",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("{n} scenarios ({n} passed)")),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(ws.path().join("r/j.xml")).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), n, "{xml}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("r/c.json")).unwrap()).unwrap();
    let elements = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["elements"].as_array().unwrap())
        .filter(|e| e["type"] == "scenario")
        .count();
    assert_eq!(elements, n);
    let messages = std::fs::read_to_string(ws.path().join("r/m.ndjson")).unwrap();
    assert_eq!(messages.lines().filter(|l| l.starts_with("{\"testCase\":")).count(), n);
    assert_eq!(messages.lines().filter(|l| l.starts_with("{\"pickle\":")).count(), n);
    // Each request a step sent is attached to its step, request and response, masked.
    let exchanges: Vec<&str> = messages
        .lines()
        .filter(|l| l.starts_with("{\"attachment\":") && l.contains("exchange.txt"))
        .collect();
    assert!(exchanges.len() >= n, "{} exchanges for {n} scenarios", exchanges.len());
    assert!(exchanges.iter().all(|l| l.contains("HTTP ")), "{exchanges:?}");
    let invalid = messages_schema_errors(&messages);
    assert!(invalid.is_empty(), "{invalid:#?}");
    assert!(
        json.to_string().contains("\"output\":[\""),
        "Cucumber JSON carries the exchanges"
    );
}
