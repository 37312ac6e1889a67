//! What a run found, scenario by scenario, and the reports made of it: the terminal view,
//! JUnit XML and Cucumber JSON. No I/O and no cucumber-rs types here: the run turns its
//! events into these values (`run::events`), and each report is a function of them, so every
//! report says the same thing with the same statuses and counts.

pub mod cucumber_json;
pub mod junit;
pub mod messages;
pub mod terminal;

use std::time::Duration;

/// A step's status, as Cucumber names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    /// With the failure's class: `assertion`, `invalid request`, `unauthenticated`,
    /// `forbidden`, `replay miss`, `harness`.
    Failed(&'static str),
    /// Not run: a step before it did not pass, or the scenario skipped itself on purpose
    /// (`this scenario is skipped "why"`).
    Skipped,
    /// No definition matches the step.
    Undefined,
    /// Several definitions match the step.
    Ambiguous,
    /// The scenario says this part is not written yet (`this scenario is pending "..."`).
    Pending,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed(_) => "failed",
            Status::Skipped => "skipped",
            Status::Undefined => "undefined",
            Status::Ambiguous => "ambiguous",
            Status::Pending => "pending",
        }
    }

    /// The failure's class where a report has room for one (JUnit `type`).
    pub fn class(&self) -> &'static str {
        match self {
            Status::Failed(c) => c,
            other => other.word(),
        }
    }

    /// How bad it is, for the scenario's status (the worst of its steps).
    fn rank(&self) -> u8 {
        match self {
            Status::Passed => 0,
            Status::Skipped => 1,
            Status::Pending => 2,
            Status::Undefined => 3,
            Status::Ambiguous => 4,
            Status::Failed(_) => 5,
        }
    }
}

/// The class of an assertion's message, by the words contrail starts those messages with
/// (the other classes come from the failure's kind).
pub fn class_of(message: &str) -> &'static str {
    let m = message.trim_start();
    if m.starts_with("invalid request") {
        "invalid request"
    } else if m.starts_with("unauthenticated") {
        "unauthenticated"
    } else if m.starts_with("forbidden") {
        "forbidden"
    } else if m.starts_with("replay:") {
        "replay miss"
    } else if m.starts_with("internal error in contrail") {
        "harness"
    } else {
        "assertion"
    }
}

#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub keyword: String,
    pub text: String,
    pub line: usize,
    pub column: usize,
    pub docstring: Option<String>,
    pub table: Option<Vec<Vec<String>>>,
    /// A step of the feature's or rule's Background.
    pub background: bool,
    pub status: Status,
    /// What went wrong, as the terminal shows it (masked by the writer that prints it).
    pub message: Option<String>,
    /// `-v`: the scenario's state when the step failed.
    pub world: Option<String>,
    pub duration: Duration,
    /// When it started (not for steps that did not run).
    pub started: Option<std::time::SystemTime>,
    /// What the step sent and got back, as text (masked), one per request.
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    /// The feature file, as shown (relative to the workspace).
    pub uri: String,
    pub feature: Heading,
    pub rule: Option<Heading>,
    pub scenario: Heading,
    /// Tags of the feature, the rule and the scenario (and its Examples), without `@`.
    pub tags: Vec<String>,
    /// The Background whose steps ran first (the rule's when it has one), if any.
    pub background: Option<Heading>,
    /// When it started and finished (a dry run has neither).
    pub started: Option<std::time::SystemTime>,
    pub finished: Option<std::time::SystemTime>,
    pub steps: Vec<StepOutcome>,
}

/// A keyword line: `Feature: name`, with where it is and what it says below it.
#[derive(Debug, Clone, Default)]
pub struct Heading {
    pub keyword: String,
    pub name: String,
    pub line: usize,
    pub description: String,
    /// Its own tags, without `@`.
    pub tags: Vec<String>,
}

impl ScenarioOutcome {
    /// The worst status of its steps (a scenario with no steps passed).
    pub fn status(&self) -> Status {
        self.steps
            .iter()
            .map(|s| s.status.clone())
            .max_by_key(Status::rank)
            .unwrap_or(Status::Passed)
    }

    pub fn duration(&self) -> Duration {
        self.steps.iter().map(|s| s.duration).sum()
    }
}

/// Counts as the summary and every report give them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub undefined: usize,
    pub ambiguous: usize,
    pub pending: usize,
}

impl Counts {
    pub fn add(&mut self, s: &Status) {
        match s {
            Status::Passed => self.passed += 1,
            Status::Failed(_) => self.failed += 1,
            Status::Skipped => self.skipped += 1,
            Status::Undefined => self.undefined += 1,
            Status::Ambiguous => self.ambiguous += 1,
            Status::Pending => self.pending += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped + self.undefined + self.ambiguous + self.pending
    }

    /// `(1 passed, 1 failed)`, in Cucumber's order, zeros left out.
    pub fn detail(&self) -> String {
        let parts: Vec<String> = [
            (self.passed, "passed"),
            (self.failed, "failed"),
            (self.ambiguous, "ambiguous"),
            (self.undefined, "undefined"),
            (self.pending, "pending"),
            (self.skipped, "skipped"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}

/// Scenario and step counts of a run.
pub fn counts(outcomes: &[ScenarioOutcome]) -> (Counts, Counts) {
    let mut scenarios = Counts::default();
    let mut steps = Counts::default();
    for o in outcomes {
        scenarios.add(&o.status());
        for s in &o.steps {
            steps.add(&s.status);
        }
    }
    (scenarios, steps)
}

/// Whether the run failed: a failed, undefined or ambiguous step does; a pending one only
/// under `--strict`.
pub fn failed(outcomes: &[ScenarioOutcome], strict: bool) -> bool {
    outcomes.iter().any(|o| match o.status() {
        Status::Failed(_) | Status::Undefined | Status::Ambiguous => true,
        Status::Pending => strict,
        Status::Passed | Status::Skipped => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_classes_come_from_their_words() {
        assert_eq!(class_of("forbidden: missing scope a"), "forbidden");
        assert_eq!(
            class_of("unauthenticated (WWW-Authenticate: Bearer)"),
            "unauthenticated"
        );
        assert_eq!(class_of("replay: no recording"), "replay miss");
        assert_eq!(class_of("expected 200, got 500"), "assertion");
    }

    #[test]
    fn a_scenario_is_as_bad_as_its_worst_step_and_pending_fails_only_strict_runs() {
        let step = |status| StepOutcome {
            keyword: "Given ".into(),
            text: "x".into(),
            line: 1,
            column: 1,
            docstring: None,
            table: None,
            background: false,
            status,
            message: None,
            world: None,
            duration: Duration::ZERO,
            started: None,
            attachments: Vec::new(),
        };
        let o = ScenarioOutcome {
            uri: "f.feature".into(),
            feature: Heading::default(),
            rule: None,
            scenario: Heading::default(),
            tags: Vec::new(),
            background: None,
            started: None,
            finished: None,
            steps: vec![step(Status::Passed), step(Status::Pending), step(Status::Skipped)],
        };
        assert_eq!(o.status(), Status::Pending);
        assert!(failed(std::slice::from_ref(&o), true));
        assert!(!failed(&[o], false));
    }

    #[test]
    fn counts_read_like_cucumber() {
        let mut c = Counts::default();
        for s in [
            Status::Passed,
            Status::Failed("assertion"),
            Status::Skipped,
            Status::Skipped,
        ] {
            c.add(&s);
        }
        assert_eq!(c.detail(), " (1 passed, 1 failed, 2 skipped)");
        assert_eq!(c.total(), 4);
    }
}
