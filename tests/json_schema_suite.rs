//! The official JSON-Schema-Test-Suite (required tests of draft 2020-12 and draft 4, vendored
//! in tests/json-schema-test-suite with its licence) run through the contract path: each
//! schema becomes an inline operation's response schema in a contract file, the contract is
//! loaded as `contrail` loads it, and each instance is judged by `Schemas::validate`, as the
//! "matches the contract" step and drift judge an answer. Draft 4 schemas say their dialect
//! with `$schema`, as a contract author would.
//!
//! The figures are printed (`cargo test --test json_schema_suite -- --nocapture`) and each
//! draft must keep at least the pass rate written in docs/decisions.md; the failures left are
//! listed there with their reason.

use std::path::Path;

use serde_json::{Value, json};

/// How a suite schema reaches contrail.
#[derive(Clone, Copy)]
enum Via {
    /// As an operation's inline response schema in the contract file.
    Contract,
    /// As a schema file that an OpenAPI document of this version `$ref`s from a response, as
    /// partners split large specs. The file is a resource of its own (its own base URI), so
    /// `#` and `#/$defs/...` inside it mean what the suite means.
    OpenApi(&'static str),
}

struct Tally {
    passed: usize,
    failed: Vec<String>,
}

fn run_draft(dir: &str, dialect: Option<&str>, via: Via) -> Tally {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/json-schema-test-suite")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("the vendored suite")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let work = tempfile::tempdir().expect("temp dir");
    let mut tally = Tally {
        passed: 0,
        failed: Vec::new(),
    };
    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let groups: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("suite JSON");
        for (g, group) in groups.iter().enumerate() {
            let mut schema = group["schema"].clone();
            if let (Some(d), Value::Object(m)) = (dialect, &mut schema)
                && !m.contains_key("$schema")
            {
                m.insert("$schema".into(), json!(d));
            }
            let stem = format!("{name}-{g}");
            let contract = match via {
                Via::Contract => json!({
                    "contract": "suite",
                    "version": "1",
                    "partners": { "p": { "operations": [
                        { "id": "op", "method": "GET", "path": "/x", "responses": { "200": { "schema": schema } } }
                    ] } }
                }),
                Via::OpenApi(version) => {
                    let schema_file = format!("{stem}.schema.json");
                    std::fs::write(work.path().join(&schema_file), schema.to_string()).expect("write");
                    let spec = json!({
                        "openapi": version,
                        "info": { "title": "suite", "version": "1" },
                        "paths": { "/x": { "get": { "operationId": "op", "responses": { "200": {
                            "description": "ok",
                            "content": { "application/json": { "schema": { "$ref": schema_file } } }
                        } } } } }
                    });
                    let spec_file = format!("{stem}.openapi.json");
                    std::fs::write(work.path().join(&spec_file), spec.to_string()).expect("write");
                    json!({ "contract": "suite", "version": "1", "partners": { "p": { "openapi": spec_file } } })
                }
            };
            let path = work.path().join(format!("{stem}.yaml"));
            std::fs::write(&path, contract.to_string()).expect("write");
            // The suite's remote documents (http://localhost:1234/...) from their local copies,
            // as `[schemas] remote` maps them in a workspace: nothing is fetched.
            let remotes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/json-schema-test-suite/remotes");
            let roots = contrail::files::Roots::new([work.path().to_path_buf(), remotes.clone()])
                .with_remote("http://localhost:1234/", remotes);
            let loaded = contrail::contract::Contract::load_within(&path, &roots);
            let tests = group["tests"].as_array().cloned().unwrap_or_default();
            let describe = |t: &Value, why: &str| {
                format!(
                    "{name}: {} / {}: {why}",
                    group["description"].as_str().unwrap_or("?"),
                    t["description"].as_str().unwrap_or("?")
                )
            };
            let contract = match loaded {
                Ok(c) => c,
                Err(e) => {
                    for t in &tests {
                        tally
                            .failed
                            .push(describe(t, &format!("does not load: {}", first_line(&e.to_string()))));
                    }
                    continue;
                }
            };
            let Some(schema) = contract.partner("p").and_then(|p| p.operation("op")).and_then(|op| {
                match op.response_schema(200, "application/json") {
                    contrail::contract::operation::ResponseSchema::Schema { schema, .. } => Some(schema.clone()),
                    _ => None,
                }
            }) else {
                for t in &tests {
                    tally.failed.push(describe(t, "no schema"));
                }
                continue;
            };
            for t in &tests {
                let want = t["valid"].as_bool().unwrap_or(false);
                match contract.schemas.validate(&schema, &t["data"]) {
                    Ok(v) if v.is_empty() == want => tally.passed += 1,
                    Ok(v) => tally.failed.push(describe(
                        t,
                        &if want {
                            format!("refused: {}", v.first().map(|v| v.to_string()).unwrap_or_default())
                        } else {
                            "accepted".into()
                        },
                    )),
                    Err(e) => tally.failed.push(describe(t, &format!("error: {}", first_line(&e)))),
                }
            }
        }
    }
    tally
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().chars().take(160).collect()
}

fn report(draft: &str, t: &Tally, floor: f64) {
    let total = t.passed + t.failed.len();
    let rate = 100.0 * t.passed as f64 / total.max(1) as f64;
    println!("{draft}: {}/{total} passed ({rate:.1} %)", t.passed);
    for f in &t.failed {
        println!("  FAIL {f}");
    }
    assert!(rate >= floor, "{draft}: {rate:.1} % is below the floor of {floor} %");
}

#[test]
fn draft2020_12_through_the_contract_path() {
    let t = run_draft("draft2020-12", None, Via::Contract);
    report("draft2020-12", &t, 99.5);
}

#[test]
fn draft4_through_the_contract_path() {
    let t = run_draft("draft4", Some("http://json-schema.org/draft-04/schema#"), Via::Contract);
    report("draft4", &t, 99.5);
}

#[test]
fn draft2020_12_through_an_openapi_3_1_document() {
    let t = run_draft("draft2020-12", None, Via::OpenApi("3.1.0"));
    report("draft2020-12 via OAS 3.1", &t, 99.5);
}

#[test]
fn draft4_through_an_openapi_3_0_document() {
    let t = run_draft(
        "draft4",
        Some("http://json-schema.org/draft-04/schema#"),
        Via::OpenApi("3.0.3"),
    );
    // OAS 3.0's Schema Object is not draft 4: it has no `id` (so no base changes or
    // location-independent identifiers) and ignores a `$ref`'s siblings; those tests fail by
    // design (docs/decisions.md lists them).
    report("draft4 via OAS 3.0", &t, 95.0);
}
