//! `contrail run --dry-run`: what a run would do, without doing it. The features are parsed,
//! outlines expanded and every step (background steps included) looked up in the vocabulary;
//! the scenarios that would run are listed with each step's status (defined, undefined with
//! the closest phrase, ambiguous with the phrases it matches). Nothing is started and nothing
//! is sent. `--junit` and `--cucumber-json` are written as for a run, every scenario skipped
//! (or failed as undefined / ambiguous), so a pipeline can be tried out before it runs.

use std::fmt::Write as _;

use cucumber::gherkin;
use serde_json::{Value, json};

use super::{RunError, RunOptions};
use crate::exit::Exit;
use crate::lint::Loaded;
use crate::steps::registry::Lookup;
use crate::workspace::Workspace;

/// A step's status when nothing runs.
enum Status {
    Defined,
    Undefined(Option<String>),
    Ambiguous(Vec<String>),
}

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Defined => "skipped",
            Status::Undefined(_) => "undefined",
            Status::Ambiguous(_) => "ambiguous",
        }
    }

    fn detail(&self) -> String {
        match self {
            Status::Defined => String::new(),
            Status::Undefined(Some(s)) => format!("did you mean: {s}"),
            Status::Undefined(None) => String::new(),
            Status::Ambiguous(p) => format!("matches: {}", p.join(" | ")),
        }
    }
}

struct StepLine<'a> {
    step: &'a gherkin::Step,
    status: Status,
}

struct ScenarioPlan<'a> {
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
    steps: Vec<StepLine<'a>>,
}

impl ScenarioPlan<'_> {
    /// The scenario's status: its first step that is not defined decides.
    fn status(&self) -> &'static str {
        self.steps
            .iter()
            .map(|s| s.status.word())
            .find(|w| *w != "skipped")
            .unwrap_or("skipped")
    }
}

fn plan<'a>(loaded: &'a Loaded, feature: &'a gherkin::Feature) -> Vec<ScenarioPlan<'a>> {
    let lookup = |step: &'a gherkin::Step| StepLine {
        step,
        status: match loaded.registry.lookup(&step.value) {
            Lookup::Found(_) => Status::Defined,
            Lookup::Undefined { suggestion } => Status::Undefined(suggestion),
            Lookup::Ambiguous(p) => Status::Ambiguous(p),
        },
    };
    let containers =
        std::iter::once((None, &feature.scenarios)).chain(feature.rules.iter().map(|r| (Some(r), &r.scenarios)));
    let mut out = Vec::new();
    for (rule, scenarios) in containers {
        for scenario in scenarios {
            let background = feature
                .background
                .iter()
                .chain(rule.and_then(|r| r.background.as_ref()))
                .flat_map(|b| &b.steps);
            out.push(ScenarioPlan {
                rule,
                scenario,
                steps: background.chain(&scenario.steps).map(lookup).collect(),
            });
        }
    }
    out
}

pub fn report(ws: &Workspace, loaded: &Loaded, opts: &RunOptions) -> Result<Exit, RunError> {
    let mut text = String::new();
    let (mut scenarios, mut blocked, mut steps, mut undefined, mut ambiguous) = (0, 0, 0, 0, 0);
    let mut plans = Vec::new();
    for (file, feature) in &loaded.features {
        let shown = crate::diag::display_path(file, &ws.root);
        let p = plan(loaded, feature);
        if p.is_empty() {
            // No scenario of it is taken (--tags, --name).
            continue;
        }
        let _ = writeln!(text, "{}: {}", feature.keyword, feature.name);
        for s in &p {
            scenarios += 1;
            if s.status() != "skipped" {
                blocked += 1;
            }
            let rule = s
                .rule
                .map(|r| format!("{}: {} > ", r.keyword, r.name))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "  {rule}{}: {}  ({}:{})  {}",
                s.scenario.keyword,
                s.scenario.name,
                shown.display(),
                s.scenario.position.line,
                match s.status() {
                    "skipped" => "would run",
                    other => other,
                }
            );
            for l in &s.steps {
                steps += 1;
                let mark = match &l.status {
                    Status::Defined => "-",
                    Status::Undefined(_) => {
                        undefined += 1;
                        "?"
                    }
                    Status::Ambiguous(_) => {
                        ambiguous += 1;
                        "!"
                    }
                };
                let _ = write!(text, "    {mark} {}{}", l.step.keyword, l.step.value);
                if !matches!(l.status, Status::Defined) {
                    let _ = write!(text, "   {}", l.status.word());
                    let d = l.status.detail();
                    if !d.is_empty() {
                        let _ = write!(text, " ({d})");
                    }
                }
                text.push('\n');
            }
        }
        plans.push((shown, feature, p));
    }
    let _ = writeln!(
        text,
        "[Dry run: nothing was started or sent]\n{} feature(s)\n{scenarios} scenario(s) ({} would run{})\n{steps} step(s) ({} defined{}{})",
        plans.len(),
        scenarios - blocked,
        if blocked > 0 {
            format!(", {blocked} undefined or ambiguous")
        } else {
            String::new()
        },
        steps - undefined - ambiguous,
        if undefined > 0 {
            format!(", {undefined} undefined")
        } else {
            String::new()
        },
        if ambiguous > 0 {
            format!(", {ambiguous} ambiguous")
        } else {
            String::new()
        },
    );
    print!("{}", crate::secrets::mask_text(&text, crate::secrets::MASK));
    if let Some(path) = &opts.junit {
        write_report(path, &junit(&plans))?;
    }
    if let Some(path) = &opts.cucumber_json {
        let json =
            serde_json::to_string_pretty(&cucumber_json(&plans)).map_err(|e| RunError::Harness(e.to_string()))?;
        write_report(path, &json)?;
    }
    Ok(if blocked > 0 { Exit::Failed } else { Exit::Passed })
}

fn write_report(path: &std::path::Path, text: &str) -> Result<(), RunError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| RunError::BadInput(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, crate::secrets::mask_text(text, crate::secrets::MASK).as_bytes())
        .map_err(|e| RunError::BadInput(format!("cannot write {}: {e}", path.display())))
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

type Plans<'a> = [(std::path::PathBuf, &'a gherkin::Feature, Vec<ScenarioPlan<'a>>)];

/// One testsuite per feature, one testcase per scenario (`classname`: feature, and rule):
/// skipped when it would run, a failure of type `undefined` / `ambiguous` when it could not.
fn junit(plans: &Plans<'_>) -> String {
    let total: usize = plans.iter().map(|(_, _, p)| p.len()).sum();
    let failed: usize = plans
        .iter()
        .flat_map(|(_, _, p)| p)
        .filter(|s| s.status() != "skipped")
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"contrail (dry run)\" tests=\"{total}\" failures=\"{failed}\" skipped=\"{}\">\n",
        total - failed
    );
    for (file, feature, p) in plans {
        let failed = p.iter().filter(|s| s.status() != "skipped").count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{}\" file=\"{}\">",
            xml(&format!("{}: {}", feature.keyword, feature.name)),
            p.len(),
            p.len() - failed,
            xml(&file.display().to_string())
        );
        for s in p {
            let mut classname = format!("{}: {}", feature.keyword, feature.name);
            if let Some(r) = s.rule {
                classname.push_str(&format!(" > {}: {}", r.keyword, r.name));
            }
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">",
                xml(&format!("{}: {}", s.scenario.keyword, s.scenario.name)),
                xml(&classname),
                xml(&file.display().to_string()),
                s.scenario.position.line
            );
            match s.steps.iter().find(|l| !matches!(l.status, Status::Defined)) {
                None => out.push_str("<skipped message=\"dry run\"/>"),
                Some(l) => {
                    let _ = write!(
                        out,
                        "<failure type=\"{}\" message=\"{}\">{}</failure>",
                        l.status.word(),
                        xml(&format!("{} step: {}", l.status.word(), l.step.value)),
                        xml(&format!(
                            "{}:{}: {}{} {}",
                            file.display(),
                            l.step.position.line,
                            l.step.keyword,
                            l.step.value,
                            l.status.detail()
                        ))
                    );
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn slug(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-")
}

fn tags(names: &[String], line: usize) -> Vec<Value> {
    names
        .iter()
        .map(|t| json!({ "name": format!("@{t}"), "line": line }))
        .collect()
}

/// Cucumber JSON with every step's result `skipped`, `undefined` or `ambiguous`.
fn cucumber_json(plans: &Plans<'_>) -> Value {
    Value::Array(
        plans
            .iter()
            .map(|(file, feature, p)| {
                let feature_id = slug(&feature.name);
                json!({
                    "uri": file.display().to_string(),
                    "id": feature_id,
                    "keyword": feature.keyword,
                    "name": feature.name,
                    "description": feature.description.clone().unwrap_or_default(),
                    "line": feature.position.line,
                    "tags": tags(&feature.tags, feature.position.line),
                    "elements": p.iter().map(|s| {
                        let mut t = feature.tags.clone();
                        if let Some(r) = s.rule { t.extend(r.tags.iter().cloned()); }
                        t.extend(s.scenario.tags.iter().cloned());
                        json!({
                            "id": format!("{feature_id};{}", slug(&s.scenario.name)),
                            "keyword": s.scenario.keyword,
                            "name": s.scenario.name,
                            "description": s.scenario.description.clone().unwrap_or_default(),
                            "line": s.scenario.position.line,
                            "type": "scenario",
                            "tags": tags(&t, s.scenario.position.line),
                            "steps": s.steps.iter().map(|l| {
                                let mut step = json!({
                                    "keyword": l.step.keyword,
                                    "name": l.step.value,
                                    "line": l.step.position.line,
                                    "result": { "status": l.status.word() },
                                });
                                if let Some(d) = &l.step.docstring {
                                    step["doc_string"] = json!({ "value": d, "line": l.step.position.line + 1 });
                                }
                                if let Some(t) = &l.step.table {
                                    step["rows"] = Value::Array(t.rows.iter().map(|r| json!({ "cells": r })).collect());
                                }
                                step
                            }).collect::<Vec<_>>(),
                        })
                    }).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
