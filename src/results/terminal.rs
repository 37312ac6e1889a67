//! The terminal view: each scenario as it finishes, every step with its status (steps after a
//! failure shown as skipped), a failure as `Step failed (class): file:line:col` and its text,
//! then the summary counts. Colour only when asked for (or a terminal is there).

use std::fmt::Write as _;

use super::{Counts, ScenarioOutcome, Status, counts};

const RESET: &str = "\u{1b}[0m";

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\u{1b}[{code}m{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn mark(status: &Status) -> (&'static str, &'static str) {
    match status {
        Status::Passed => ("✔", "32"),
        Status::Failed(_) => ("✘", "31"),
        Status::Skipped => ("-", "36"),
        Status::Undefined => ("?", "33"),
        Status::Ambiguous => ("!", "31"),
        Status::Pending => ("P", "33"),
    }
}

/// Scenarios one after the other, each under its feature's (and rule's) heading, given once
/// per run of scenarios of the same feature and rule.
#[derive(Default)]
pub struct Printer {
    /// The feature file and rule of the scenario printed last.
    last: Option<(String, Option<String>)>,
}

impl Printer {
    pub fn scenario(&mut self, o: &ScenarioOutcome, color: bool, verbose: bool) -> String {
        let this = (o.uri.clone(), o.rule.as_ref().map(|r| r.name.clone()));
        let new_feature = self.last.as_ref().is_none_or(|(uri, _)| *uri != this.0);
        let new_rule = self.last.as_ref() != Some(&this);
        let mut out = String::new();
        if new_feature {
            let _ = writeln!(out, "{}: {}", o.feature.keyword, o.feature.name);
        }
        if let (Some(r), true) = (&o.rule, new_rule) {
            let _ = writeln!(out, "  {}: {}", r.keyword, r.name);
        }
        out.push_str(&scenario(o, color, verbose));
        self.last = Some(this);
        out
    }
}

/// One finished scenario.
fn scenario(o: &ScenarioOutcome, color: bool, verbose: bool) -> String {
    let indent = if o.rule.is_some() { "    " } else { "  " };
    let mut out = format!("{indent}{}: {}\n", o.scenario.keyword, o.scenario.name);
    for s in &o.steps {
        let (m, code) = mark(&s.status);
        let line = format!("{}{}", s.keyword, s.text);
        let _ = write!(out, "{indent} {}  {}", paint(color, code, m), paint(color, code, &line));
        if matches!(s.status, Status::Skipped | Status::Pending) {
            let _ = write!(out, "  ({})", s.status.word());
        }
        out.push('\n');
        if let Some(msg) = &s.message {
            let what = match &s.status {
                Status::Failed(class) => format!("Step failed ({class})"),
                other => format!("Step {}", other.word()),
            };
            let _ = writeln!(out, "{indent}    {what}: {}:{}:{}", o.uri, s.line, s.column);
            for l in msg.lines() {
                let _ = writeln!(out, "{indent}    {l}");
            }
            if verbose && let Some(w) = &s.world {
                let _ = writeln!(out, "{indent}    the scenario's state:");
                for l in w.lines() {
                    let _ = writeln!(out, "{indent}      {l}");
                }
            }
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The counts at the end: features, scenarios and steps by status.
pub fn summary(outcomes: &[ScenarioOutcome]) -> String {
    let (scenarios, steps): (Counts, Counts) = counts(outcomes);
    let mut features: Vec<&str> = outcomes.iter().map(|o| o.uri.as_str()).collect();
    features.dedup();
    features.sort_unstable();
    features.dedup();
    format!(
        "[Summary]\n{}\n{}{}\n{}{}\n",
        plural(features.len(), "feature"),
        plural(scenarios.total(), "scenario"),
        scenarios.detail(),
        plural(steps.total(), "step"),
        steps.detail()
    )
}
