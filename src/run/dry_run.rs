//! `contrail run --dry-run`: what a run would do, without doing it. The features are parsed,
//! outlines expanded and every step (background steps included) looked up in the vocabulary;
//! the scenarios that would run are shown as a run shows them, each step skipped, undefined
//! (with the closest phrase) or ambiguous (with the phrases it matches), with the same counts.
//! Nothing is started and nothing is sent. `--junit` and `--cucumber-json` are written from
//! the same results as a run's, so a pipeline can be tried before anything runs.

use super::events::{outcome_of, status_of, write_reports};
use super::{RunError, RunOptions};
use crate::exit::Exit;
use crate::lint::Loaded;
use crate::results::{self, ScenarioOutcome};
use crate::steps::StepFailure;
use crate::steps::registry::Lookup;
use crate::steps::report::{Redactor, render_failure};
use crate::workspace::Workspace;

/// Every scenario that would run, each step's status as far as can be known without running.
fn outcomes(ws: &Workspace, loaded: &Loaded) -> Vec<ScenarioOutcome> {
    let mut out = Vec::new();
    for (_, feature) in &loaded.features {
        for (rule, scenario) in crate::feature::scenarios(feature) {
            let (mut o, _) = outcome_of(&ws.root, feature, rule, scenario);
            for step in &mut o.steps {
                // The same failure a run would give the step, so both read alike.
                let failure = match loaded.registry.lookup(&step.text) {
                    Lookup::Found(_) => continue,
                    Lookup::Undefined { suggestion } => StepFailure::undefined(&step.text, suggestion),
                    Lookup::Ambiguous(phrases) => StepFailure::ambiguous(&step.text, phrases),
                };
                step.message = Some(render_failure(&failure, &Redactor::default()));
                step.status = status_of(failure.kind, "");
            }
            out.push(o);
        }
    }
    out
}

pub fn report(ws: &Workspace, loaded: &Loaded, opts: &RunOptions) -> Result<(Exit, Vec<ScenarioOutcome>), RunError> {
    let outcomes = outcomes(ws, loaded);
    let mut text = String::new();
    let mut printer = results::terminal::Printer::default();
    for o in &outcomes {
        text.push_str(&printer.scenario(o, false, false));
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
    let exit = if results::failed(&outcomes, opts.strict) {
        Exit::Failed
    } else {
        Exit::Passed
    };
    Ok((exit, outcomes))
}
