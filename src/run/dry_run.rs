//! `contrail run --dry-run`: what a run would do, without doing it. The features are parsed,
//! outlines expanded and every step (background steps included) looked up in the vocabulary;
//! the scenarios that would run are shown as a run shows them, each step skipped, undefined
//! (with the closest phrase) or ambiguous (with the phrases it matches), with the same counts.
//! Nothing is started and nothing is sent. `--junit` and `--cucumber-json` are written from
//! the same results as a run's, so a pipeline can be tried before anything runs.

use super::events::{outcome_of, scenarios_of, write_reports};
use super::{RunError, RunOptions};
use crate::exit::Exit;
use crate::lint::Loaded;
use crate::results::{self, ScenarioOutcome, Status};
use crate::steps::registry::Lookup;
use crate::workspace::Workspace;

/// Every scenario that would run, each step's status as far as can be known without running.
fn outcomes(ws: &Workspace, loaded: &Loaded) -> Vec<ScenarioOutcome> {
    let mut out = Vec::new();
    for (_, feature) in &loaded.features {
        for (rule, scenario) in scenarios_of(feature) {
            let (mut o, _) = outcome_of(&ws.root, feature, rule, scenario);
            for step in &mut o.steps {
                match loaded.registry.lookup(&step.text) {
                    Lookup::Found(_) => {}
                    Lookup::Undefined { suggestion } => {
                        step.status = Status::Undefined;
                        let mut m = format!("undefined step: {}", step.text);
                        if let Some(s) = suggestion {
                            m.push_str(&format!("\n  - did you mean: {s}"));
                        }
                        step.message = Some(m);
                    }
                    Lookup::Ambiguous(phrases) => {
                        step.status = Status::Ambiguous;
                        step.message = Some(format!(
                            "ambiguous step: {:?} matches more than one definition\n  - {}",
                            step.text,
                            phrases.join("\n  - ")
                        ));
                    }
                }
            }
            out.push(o);
        }
    }
    out
}

pub fn report(ws: &Workspace, loaded: &Loaded, opts: &RunOptions) -> Result<Exit, RunError> {
    let outcomes = outcomes(ws, loaded);
    let mut text = String::new();
    let mut last: Option<(String, Option<String>)> = None;
    for o in &outcomes {
        let this = (o.uri.clone(), o.rule.as_ref().map(|r| r.name.clone()));
        let new_feature = last.as_ref().is_none_or(|(u, _)| *u != this.0);
        let new_rule = last.as_ref().is_none_or(|l| *l != this);
        text.push_str(&results::terminal::headings(o, new_feature, new_rule));
        text.push_str(&results::terminal::scenario(o, false, false));
        last = Some(this);
    }
    text.push_str(&results::terminal::summary(&outcomes));
    text.push_str("[Dry run: nothing was started or sent; every defined step is shown as skipped]\n");
    print!("{}", crate::secrets::mask_text(&text, crate::secrets::MASK));
    let files = super::events::ReportFiles {
        junit: opts.junit.clone(),
        cucumber_json: opts.cucumber_json.clone(),
        messages: opts.messages.clone(),
    };
    write_reports(
        &outcomes,
        &ws.root,
        opts.strict,
        &files,
        &loaded.registry,
        std::time::SystemTime::now(),
    )
    .map_err(RunError::BadInput)?;
    Ok(if results::failed(&outcomes, opts.strict) {
        Exit::Failed
    } else {
        Exit::Passed
    })
}
