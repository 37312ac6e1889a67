//! Why a step failed, with everything a person needs to see to act on it: a headline, the
//! individual findings (by JSON pointer), an expected/actual diff, and the exchange that
//! produced it. Rendering happens in `steps::report`.

use crate::client::{Exchange, TransportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The target did not do what the contract or the scenario says (exit 1).
    Assertion,
    /// The step itself is wrong: unknown operation, bad JSON in a doc string (exit 1, but the
    /// message says to fix the feature).
    Usage,
    /// The target could not be reached or the harness could not work (exit 3).
    Harness,
    /// The request a step was about to send breaks the contract, and the scenario did not say
    /// it meant to (exit 1; nothing was sent).
    InvalidRequest,
    /// No phrase matches the step (its scenario is undefined; exit 1).
    Undefined,
    /// Several phrases match the step (exit 1).
    Ambiguous,
    /// The scenario says the rest is not written yet (a failure under --strict only).
    Pending,
    /// The scenario skips the rest on purpose (not a failure).
    Skipped,
}

/// Boxed: a step result is `Err` rarely, and a small `Result` keeps the passing path cheap.
#[derive(Debug, Clone)]
pub struct StepFailure(Box<FailureDetail>);

#[derive(Debug, Clone)]
pub struct FailureDetail {
    pub kind: FailureKind,
    pub message: String,
    pub findings: Vec<String>,
    /// (expected, actual), pretty-printed, for a line diff.
    pub diff: Option<(String, String)>,
    pub exchange: Option<Box<Exchange>>,
    /// Declarative steps this failure happened inside, outermost first.
    pub within: Vec<String>,
}

impl StepFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self(Box::new(FailureDetail {
            kind,
            message: message.into(),
            findings: Vec::new(),
            diff: None,
            exchange: None,
            within: Vec::new(),
        }))
    }
    pub fn assertion(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Assertion, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Usage, message)
    }
    pub fn harness(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Harness, message)
    }
    /// A step no phrase matches, with the closest phrase when there is one: the run and
    /// `--dry-run` say it alike.
    pub fn undefined(text: &str, suggestion: Option<String>) -> Self {
        let f = Self::new(FailureKind::Undefined, format!("undefined step: {text}"));
        match suggestion {
            Some(s) => f.findings([format!("did you mean: {s}")]),
            None => f,
        }
    }
    /// A step several phrases match, naming them.
    pub fn ambiguous(text: &str, phrases: Vec<String>) -> Self {
        Self::new(
            FailureKind::Ambiguous,
            format!("ambiguous step: {text:?} matches more than one definition"),
        )
        .findings(phrases)
    }
    pub fn findings(mut self, f: impl IntoIterator<Item = impl ToString>) -> Self {
        self.0.findings.extend(f.into_iter().map(|x| x.to_string()));
        self
    }
    pub fn diff(mut self, expected: String, actual: String) -> Self {
        self.0.diff = Some((expected, actual));
        self
    }
    pub fn exchange(mut self, e: Option<&Exchange>) -> Self {
        self.0.exchange = e.map(|e| Box::new(e.clone()));
        self
    }
}

impl std::ops::Deref for StepFailure {
    type Target = FailureDetail;
    fn deref(&self) -> &FailureDetail {
        &self.0
    }
}

impl std::ops::DerefMut for StepFailure {
    fn deref_mut(&mut self) -> &mut FailureDetail {
        &mut self.0
    }
}

impl From<TransportError> for StepFailure {
    fn from(e: TransportError) -> Self {
        match e {
            // An oversized answer is the partner's doing, not the harness's.
            TransportError::TooLarge { .. } => StepFailure::assertion(e.to_string()),
            // So is a body that breaks off after the answer began.
            TransportError::Truncated { .. } => StepFailure::assertion(e.to_string()),
            // The scenario tried to leave the machine in an offline run: the feature's doing.
            TransportError::Offline { .. } => StepFailure::usage(e.to_string()),
            other => StepFailure::harness(other.to_string()),
        }
    }
}

pub type StepResult = Result<(), StepFailure>;
