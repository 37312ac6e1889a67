//! Cucumber JSON, in the shape of the official schema for it (cucumber/cucumber-json-schema,
//! `cucumber-jvm.json`, the form report tools read; vendored in tests/fixtures): features with
//! `uri`, `id`, `line`, `description`, tags with `@` and their place, elements with a
//! description and inherited tags, a Background element before each scenario that has one,
//! steps with `doc_string` and `rows`. The legacy format has no `ambiguous`: such a step is
//! `failed` with its reason in `error_message`. No hooks are listed (contrail's own
//! bookkeeping around scenarios is not a user's hook).

use serde_json::{Value, json};

use super::{Heading, ScenarioOutcome, Status, StepOutcome};

fn slug(s: &str) -> String {
    let s: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

fn status(s: &Status) -> &'static str {
    match s {
        Status::Ambiguous => "failed",
        other => other.word(),
    }
}

fn step(s: &StepOutcome) -> Value {
    let mut result = json!({
        "status": status(&s.status),
        "duration": s.duration.as_nanos() as u64,
    });
    if let Some(m) = &s.message {
        result["error_message"] = json!(m);
    }
    let mut v = json!({
        "keyword": s.keyword,
        "name": s.text,
        "line": s.line,
        "result": result,
        "match": { "location": format!("contrail:{}:{}", s.line, s.column) },
    });
    if let Some(d) = &s.docstring {
        v["doc_string"] = json!({ "value": d, "line": s.line + 1 });
    }
    if let Some(rows) = &s.table {
        v["rows"] = Value::Array(rows.iter().map(|r| json!({ "cells": r })).collect());
    }
    if !s.attachments.is_empty() {
        v["output"] = json!(s.attachments);
    }
    v
}

fn element(o: &ScenarioOutcome, feature_id: &str, kind: &str, steps: Vec<Value>, index: usize) -> Value {
    let (keyword, name, line, description) = if let (true, Some(b)) = (kind == "background", &o.background) {
        (b.keyword.clone(), b.name.clone(), b.line, b.description.clone())
    } else {
        (
            o.scenario.keyword.clone(),
            o.scenario.name.clone(),
            o.scenario.line,
            o.scenario.description.clone(),
        )
    };
    let mut v = json!({
        "id": format!("{feature_id};{};{index}{}", slug(&o.scenario.name), if kind == "background" { ";background" } else { "" }),
        "keyword": keyword,
        "name": name,
        "line": line,
        "description": description,
        "type": kind,
        "steps": steps,
    });
    if kind == "scenario" {
        v["tags"] = Value::Array(o.tags.iter().map(|t| json!({ "name": format!("@{t}") })).collect());
    }
    v
}

/// A feature's own tag: its name (with `@`), line and column.
pub type TagPlace = (String, usize, usize);

/// `tag_places`: where a feature file's own tags are (the caller reads the file again).
pub fn render(outcomes: &[ScenarioOutcome], tag_places: &dyn Fn(&str) -> Vec<TagPlace>) -> Value {
    let mut features: Vec<(&str, &Heading, Vec<&ScenarioOutcome>)> = Vec::new();
    for o in outcomes {
        match features.iter_mut().find(|(uri, _, _)| *uri == o.uri) {
            Some((_, _, list)) => list.push(o),
            None => features.push((&o.uri, &o.feature, vec![o])),
        }
    }
    Value::Array(
        features
            .into_iter()
            .map(|(uri, feature, list)| {
                let id = slug(&feature.name);
                let mut elements = Vec::new();
                for (i, o) in list.iter().enumerate() {
                    let background: Vec<Value> = o.steps.iter().filter(|s| s.background).map(step).collect();
                    if !background.is_empty() {
                        elements.push(element(o, &id, "background", background, i));
                    }
                    let own: Vec<Value> = o.steps.iter().filter(|s| !s.background).map(step).collect();
                    elements.push(element(o, &id, "scenario", own, i));
                }
                json!({
                    "uri": uri,
                    "id": id,
                    "keyword": feature.keyword,
                    "name": feature.name,
                    "description": feature.description,
                    "line": feature.line,
                    "tags": tag_places(uri).into_iter().map(|(name, line, column)| json!({
                        "name": name,
                        "type": "Tag",
                        "location": { "line": line, "column": column },
                    })).collect::<Vec<_>>(),
                    "elements": elements,
                })
            })
            .collect(),
    )
}
