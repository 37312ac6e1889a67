//! Cucumber Messages (NDJSON), the format Cucumber's own HTML formatter and report services
//! read: meta, then per feature file its source, GherkinDocument and pickles (from contrail's
//! parser, the official shapes), the step definitions, the test cases, and the run as it
//! happened: each test case started and finished, each step's result with its status and
//! duration, a failure's text as the step's message (and as an attachment, where tools show
//! it). Scenarios that did not run (left out by `--tags`) are pickles without a test case.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{ScenarioOutcome, Status};
use crate::gherkin::Parsed;

/// A feature file as the stream needs it.
pub struct Document {
    pub uri: String,
    pub source: String,
    pub markdown: bool,
    pub parsed: Parsed,
}

/// A step definition: its phrase and where it is defined (`steps/x.yaml`, or built in).
pub struct Definition {
    pub phrase: String,
    pub uri: String,
    pub line: Option<usize>,
}

pub struct Run<'a> {
    pub documents: &'a [Document],
    pub definitions: &'a [Definition],
    /// Which definitions a step's text matches.
    pub matches: &'a dyn Fn(&str) -> Vec<usize>,
    pub outcomes: &'a [ScenarioOutcome],
    pub started: SystemTime,
    pub finished: SystemTime,
    pub success: bool,
    /// The first id free after the documents' ids.
    pub next_id: usize,
}

fn timestamp(t: SystemTime) -> Value {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    json!({ "seconds": d.as_secs(), "nanos": d.subsec_nanos() })
}

fn duration(d: Duration) -> Value {
    json!({ "seconds": d.as_secs(), "nanos": d.subsec_nanos() })
}

fn status(s: &Status) -> &'static str {
    match s {
        Status::Passed => "PASSED",
        Status::Failed(_) => "FAILED",
        Status::Skipped => "SKIPPED",
        Status::Undefined => "UNDEFINED",
        Status::Ambiguous => "AMBIGUOUS",
        Status::Pending => "PENDING",
    }
}

/// The whole stream, one JSON message per line.
pub fn render(run: &Run<'_>) -> String {
    let mut next = run.next_id;
    let mut id = || {
        let v = next.to_string();
        next += 1;
        v
    };
    let mut out: Vec<Value> = vec![json!({ "meta": {
        "protocolVersion": "34.2.1",
        "implementation": { "name": "contrail", "version": env!("CARGO_PKG_VERSION") },
        "runtime": { "name": "rust" },
        "os": { "name": std::env::consts::OS },
        "cpu": { "name": std::env::consts::ARCH },
    }})];
    for d in run.documents {
        out.push(json!({ "source": {
            "uri": d.uri,
            "data": d.source,
            "mediaType": if d.markdown { "text/x.cucumber.gherkin+markdown" } else { "text/x.cucumber.gherkin+plain" },
        }}));
        out.push(json!({ "gherkinDocument": d.parsed.document }));
        for p in &d.parsed.pickles {
            out.push(json!({ "pickle": p }));
        }
    }
    let definition_ids: Vec<String> = run.definitions.iter().map(|_| id()).collect();
    for (def, def_id) in run.definitions.iter().zip(&definition_ids) {
        let mut reference = json!({ "uri": def.uri });
        if let Some(line) = def.line {
            reference["location"] = json!({ "line": line });
        }
        out.push(json!({ "stepDefinition": {
            "id": def_id,
            "pattern": { "source": def.phrase, "type": "CUCUMBER_EXPRESSION" },
            "sourceReference": reference,
        }}));
    }
    let run_id = id();
    out.push(json!({ "testRunStarted": { "id": run_id, "timestamp": timestamp(run.started) } }));
    // One test case per pickle that ran, its steps in the pickle's order.
    let mut executions = Vec::new();
    for d in run.documents {
        for p in &d.parsed.pickles {
            let Some(o) = run
                .outcomes
                .iter()
                .find(|o| o.uri == d.uri && o.scenario.line == p.location.line)
            else {
                continue;
            };
            let case_id = id();
            let steps: Vec<(String, &crate::gherkin::pickle::PickleStep)> = p.steps.iter().map(|s| (id(), s)).collect();
            out.push(json!({ "testCase": {
                "id": case_id,
                "pickleId": p.id,
                "testRunStartedId": run_id,
                "testSteps": steps.iter().map(|(step_id, s)| json!({
                    "id": step_id,
                    "pickleStepId": s.id,
                    "stepDefinitionIds": (run.matches)(&s.text).into_iter().filter_map(|i| definition_ids.get(i).cloned()).collect::<Vec<_>>(),
                    "stepMatchArgumentsLists": [ { "stepMatchArguments": [] } ],
                })).collect::<Vec<_>>(),
            }}));
            executions.push((case_id, steps.into_iter().map(|(i, _)| i).collect::<Vec<_>>(), o));
        }
    }
    for (case_id, step_ids, o) in executions {
        let started_id = id();
        let start = o.started.unwrap_or(run.started);
        out.push(json!({ "testCaseStarted": {
            "id": started_id,
            "testCaseId": case_id,
            "attempt": 0,
            "timestamp": timestamp(start),
        }}));
        let mut clock = start;
        for (step_id, s) in step_ids.iter().zip(&o.steps) {
            let at = s.started.unwrap_or(clock);
            out.push(json!({ "testStepStarted": {
                "testCaseStartedId": started_id,
                "testStepId": step_id,
                "timestamp": timestamp(at),
            }}));
            for a in &s.attachments {
                out.push(json!({ "attachment": {
                    "testCaseStartedId": started_id,
                    "testStepId": step_id,
                    "body": a,
                    "contentEncoding": "IDENTITY",
                    "mediaType": "text/plain",
                    "fileName": "exchange.txt",
                    "timestamp": timestamp(at),
                }}));
            }
            if let Some(m) = &s.message {
                out.push(json!({ "attachment": {
                    "testCaseStartedId": started_id,
                    "testStepId": step_id,
                    "body": m,
                    "contentEncoding": "IDENTITY",
                    "mediaType": "text/x.cucumber.log+plain",
                    "timestamp": timestamp(at),
                }}));
            }
            let mut result = json!({ "status": status(&s.status), "duration": duration(s.duration) });
            if let Some(m) = &s.message {
                result["message"] = json!(m);
            }
            clock = at + s.duration;
            out.push(json!({ "testStepFinished": {
                "testCaseStartedId": started_id,
                "testStepId": step_id,
                "testStepResult": result,
                "timestamp": timestamp(clock),
            }}));
        }
        out.push(json!({ "testCaseFinished": {
            "testCaseStartedId": started_id,
            "timestamp": timestamp(o.finished.unwrap_or(clock)),
            "willBeRetried": false,
        }}));
    }
    out.push(json!({ "testRunFinished": {
        "testRunStartedId": run_id,
        "timestamp": timestamp(run.finished),
        "success": run.success,
    }}));
    let mut text = String::new();
    for m in out {
        text.push_str(&m.to_string());
        text.push('\n');
    }
    text
}
