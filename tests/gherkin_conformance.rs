//! contrail's Gherkin parser against the official conformance data (cucumber/gherkin
//! `testdata`, copied into tests/fixtures/gherkin-testdata with its licence): every good file parses to the
//! expected document and pickles, every bad file fails with the expected errors, each at the
//! line and column the official parsers give.

use std::path::{Path, PathBuf};

use contrail::gherkin::{self, Options};
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gherkin-testdata")
}

fn sources(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(testdata().join(dir))
        .expect("the conformance data")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.ends_with(".feature") || n.ends_with(".feature.md")
        })
        .collect();
    out.sort();
    out
}

fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("expected data is JSON"))
        .collect()
}

fn parse(path: &Path, dir: &str) -> Result<gherkin::Parsed, Vec<gherkin::ParseError>> {
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).expect("read");
    gherkin::parse(
        &text,
        &format!("../testdata/{dir}/{name}"),
        Options {
            markdown: gherkin::is_markdown(path),
            ..Options::default()
        },
    )
}

#[test]
fn every_good_file_parses_to_the_expected_document_and_pickles() {
    let mut failures = Vec::new();
    let files = sources("good");
    assert!(files.len() >= 50, "{} good files", files.len());
    for path in &files {
        let name = path.display().to_string();
        let parsed = match parse(path, "good") {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: does not parse: {e:?}"));
                continue;
            }
        };
        let ast = serde_json::json!({ "gherkinDocument": parsed.document });
        let expected_ast = ndjson(&PathBuf::from(format!("{name}.ast.ndjson")));
        if expected_ast.first() != Some(&ast) {
            failures.push(format!(
                "{name}: document differs\n  expected {}\n  got      {}",
                expected_ast.first().map(|v| v.to_string()).unwrap_or_default(),
                ast
            ));
        }
        let mut pickles_file = PathBuf::from(format!("{name}.pickles.ndjson"));
        if !pickles_file.exists() {
            // Upstream spells one of them `.pickes.ndjson`.
            pickles_file = PathBuf::from(format!("{name}.pickes.ndjson"));
        }
        if pickles_file.exists() {
            let expected: Vec<Value> = ndjson(&pickles_file);
            let got: Vec<Value> = parsed
                .pickles
                .iter()
                .map(|p| serde_json::json!({ "pickle": p }))
                .collect();
            if expected != got {
                failures.push(format!(
                    "{name}: pickles differ\n  expected {}\n  got      {}",
                    Value::Array(expected),
                    Value::Array(got)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} good files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_bad_file_fails_with_the_expected_errors_where_expected() {
    let mut failures = Vec::new();
    let files = sources("bad");
    assert!(files.len() >= 12, "{} bad files", files.len());
    for path in &files {
        let name = path.display().to_string();
        let expected: Vec<(u64, u64)> = ndjson(&PathBuf::from(format!("{name}.errors.ndjson")))
            .iter()
            .map(|e| {
                let loc = &e["parseError"]["source"]["location"];
                (loc["line"].as_u64().unwrap_or(0), loc["column"].as_u64().unwrap_or(0))
            })
            .collect();
        match parse(path, "bad") {
            Ok(_) => failures.push(format!("{name}: parsed, expected {expected:?}")),
            Err(errors) => {
                let got: Vec<(u64, u64)> = errors
                    .iter()
                    .map(|e| (e.line as u64, e.column.unwrap_or(0) as u64))
                    .collect();
                if got != expected {
                    failures.push(format!("{name}: errors at {got:?}, expected {expected:?}: {errors:?}"));
                }
                for e in &errors {
                    if e.message.contains('\n') || e.message.contains("#EOF") || e.message.contains("State:") {
                        failures.push(format!("{name}: message is not for people: {:?}", e.message));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
