//! Drift: where a live sandbox no longer answers as recorded, judged by the contract.
//!
//! A drift run sends the features' requests to the live sandbox through a comparing proxy
//! (the mock server in `Mode::Drift`). Each live answer is paired with the recording of the
//! same request in the same scenario and sequence, compared (`compare`), and noted here. The
//! scenarios create their own state, so a recorded `GET /tickets/T-4` is sent as whatever id
//! the live sandbox gave the ticket this time (`correlate`), and the proxy keeps to the
//! contract's rate limit (`pace`). This module holds the findings; `report` renders them.

pub mod compare;
pub mod correlate;
pub mod pace;
pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;

use serde_json::Value;

use crate::policy::{Action, FieldPolicy};
use crate::recording::{Body, Interaction, RecordedResponse};
use correlate::Correlation;

/// How much a finding matters to a consumer of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The contract is broken, or a consumer relying on the recording would be.
    Breaking,
    /// Different, but within what the contract allows.
    Compatible,
    /// A field the policy calls volatile changed; never drift.
    VolatileIgnored,
    /// A key the schema neither declares nor describes (no `additionalProperties` given):
    /// allowed, so no drift, but worth declaring. Listed once per operation.
    Undeclared,
    /// A value that misses its `format` where the contract says `formats: warn` (the
    /// default): said, never drift.
    Format,
}

impl Class {
    /// Whether a finding of this class is drift (breaking or compatible); the others are said
    /// and never counted.
    pub fn is_drift(self) -> bool {
        matches!(self, Class::Breaking | Class::Compatible)
    }

    pub fn label(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::Compatible => "compatible",
            Class::VolatileIgnored => "volatile-ignored",
            Class::Undeclared => "undeclared",
            Class::Format => "format",
        }
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Status,
    ContentType,
    /// The live body breaks the contract's schema (required field missing, type, enum, ...).
    Schema,
    Removed,
    Added,
    Type,
    Value,
    /// A value no longer matches the policy's regex.
    Pattern,
    /// A key the schema does not declare, sent both then and now.
    Undeclared,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Finding {
    pub class: Class,
    /// A JSON pointer into the body (`*` for any array item), `status` or `header NAME`.
    pub place: String,
    pub change: Change,
    pub message: String,
    /// The named schema rule it broke (see `Violation::cause`): findings in many operations
    /// with one cause are one change at the partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Finding {
    pub fn new(class: Class, place: &str, change: Change, message: String) -> Finding {
        Finding {
            class,
            place: place.to_string(),
            change,
            message,
            cause: None,
        }
    }

    pub fn caused_by(mut self, cause: Option<String>) -> Finding {
        self.cause = cause;
        self
    }
}

/// One recorded interaction, replayed against live.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Checked {
    pub partner: String,
    pub file: PathBuf,
    pub operation: Option<String>,
    /// The scenario that sent the request this run (a recording may answer several).
    pub scenario: Option<String>,
    /// `GET /tickets/T-4`, as recorded.
    pub request: String,
    pub findings: Vec<Finding>,
    /// Recorded vs live response (redacted), when something other than volatile fields changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Re-recorded by `--accept`.
    pub accepted: bool,
}

impl Checked {
    pub fn drifted(&self) -> bool {
        self.findings.iter().any(|f| f.class.is_drift())
    }
    pub fn breaking(&self) -> bool {
        self.findings.iter().any(|f| f.class == Class::Breaking)
    }
}

/// A request the run sent that no recording answers (a scenario took another path, or the
/// recordings are incomplete).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Unrecorded {
    pub partner: String,
    pub scenario: Option<String>,
    pub request: String,
    pub status: u16,
}

/// A partner whose live sandbox could not be reached during the run: its scenarios could not
/// say anything, which is a finding of its own (exit 3), not "no drift".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Unreachable {
    pub partner: String,
    /// The base URL, without credentials.
    pub target: String,
    /// The first reason seen (connection refused, DNS, TLS).
    pub error: String,
    /// Requests that got no answer.
    pub requests: usize,
}

#[derive(Default)]
struct Log {
    checked: Vec<Checked>,
    unrecorded: Vec<Unrecorded>,
    unreachable: BTreeMap<String, Unreachable>,
    /// Recording files per partner, to tell which ones the run never reached.
    known: BTreeMap<String, BTreeSet<PathBuf>>,
}

/// Shared by the comparing proxies of one run.
pub struct Session {
    /// Re-record drifted interactions (recorded request, live response).
    pub accept: bool,
    /// Only this partner's interactions are compared and reported (None: all).
    pub partner: Option<String>,
    /// Keep to each partner's contract rate limit (off for `run --target live`).
    pub pace: bool,
    log: Mutex<Log>,
    correlations: Mutex<HashMap<String, Correlation>>,
}

impl Session {
    pub fn new(accept: bool, partner: Option<String>, pace: bool) -> Session {
        Session {
            accept,
            partner,
            pace,
            log: Mutex::new(Log::default()),
            correlations: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this partner's interactions are compared.
    pub fn compares(&self, partner: &str) -> bool {
        self.partner.as_deref().is_none_or(|p| p == partner)
    }

    pub fn register(&self, partner: &str, files: impl IntoIterator<Item = PathBuf>) {
        if let Ok(mut log) = self.log.lock() {
            log.known.entry(partner.to_string()).or_default().extend(files);
        }
    }

    pub fn checked(&self, c: Checked) {
        if let Ok(mut log) = self.log.lock() {
            log.checked.push(c);
        }
    }

    /// A request to the partner's sandbox got no answer at all.
    pub fn unreachable(&self, partner: &str, target: &str, error: &str) {
        if let Ok(mut log) = self.log.lock() {
            log.unreachable
                .entry(partner.to_string())
                .or_insert_with(|| Unreachable {
                    partner: partner.to_string(),
                    target: target.to_string(),
                    error: error.to_string(),
                    requests: 0,
                })
                .requests += 1;
        }
    }

    pub fn unrecorded(&self, u: Unrecorded) {
        if let Ok(mut log) = self.log.lock() {
            log.unrecorded.push(u);
        }
    }

    /// Runs `f` on the scenario's correlation (live values -> recorded values).
    pub fn correlation<T>(&self, scenario: Option<&str>, f: impl FnOnce(&mut Correlation) -> T) -> T {
        let mut map = match self.correlations.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(map.entry(scenario.unwrap_or_default().to_string()).or_default())
    }

    /// What the run found, sorted so that reports are stable.
    pub fn outcome(&self) -> Outcome {
        let log = match self.log.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut checked = log.checked.clone();
        checked.sort_by(|a, b| (&a.partner, &a.file).cmp(&(&b.partner, &b.file)));
        let reached: BTreeSet<&PathBuf> = checked.iter().map(|c| &c.file).collect();
        let not_exercised = log
            .known
            .iter()
            .filter(|(p, _)| self.compares(p))
            .flat_map(|(_, files)| files.iter())
            .filter(|f| !reached.contains(f))
            .cloned()
            .collect();
        Outcome {
            checked,
            unrecorded: log.unrecorded.clone(),
            not_exercised,
            unreachable: log.unreachable.values().cloned().collect(),
        }
    }
}

/// Everything a drift run saw.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub checked: Vec<Checked>,
    pub unrecorded: Vec<Unrecorded>,
    pub not_exercised: Vec<PathBuf>,
    pub unreachable: Vec<Unreachable>,
}

impl Outcome {
    pub fn count(&self, class: Class) -> usize {
        self.checked
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| f.class == class)
            .count()
    }
}

/// Recorded vs live response as a line diff (`-` recorded, `+` live): status, media type and
/// the pretty-printed body. Both sides are already redacted; volatile fields show their
/// recorded value on both sides, so the diff shows only what matters.
pub fn response_diff(
    policy: &FieldPolicy,
    op: Option<&str>,
    recorded: &RecordedResponse,
    live: &RecordedResponse,
) -> String {
    fn settle(policy: &FieldPolicy, op: Option<&str>, rec: &Value, live: &mut Value, path: &mut Vec<String>) {
        if !path.is_empty() && matches!(policy.body(op, path), Some(Action::Volatile)) {
            *live = rec.clone();
            return;
        }
        match (rec, live) {
            (Value::Object(r), Value::Object(l)) => {
                for (k, lv) in l.iter_mut() {
                    if let Some(rv) = r.get(k) {
                        path.push(k.clone());
                        settle(policy, op, rv, lv, path);
                        path.pop();
                    }
                }
            }
            (Value::Array(r), Value::Array(l)) => {
                for (i, (rv, lv)) in r.iter().zip(l.iter_mut()).enumerate() {
                    path.push(i.to_string());
                    settle(policy, op, rv, lv, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut live = live.clone();
    if let (Body::Json(r), Body::Json(l)) = (&recorded.body, &mut live.body) {
        settle(policy, op, r, l, &mut Vec::new());
    }
    let live = &live;
    fn text(r: &RecordedResponse) -> String {
        let ct = r
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())
            .unwrap_or("none");
        let body = match &r.body {
            Body::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            Body::None => String::new(),
            other => String::from_utf8_lossy(&other.to_bytes()).into_owned(),
        };
        format!("status {}\ncontent-type: {ct}\n\n{body}\n", r.status)
    }
    crate::matching::line_diff(&text(recorded), &text(live))
}

/// A recording older than the limit.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Stale {
    pub file: PathBuf,
    pub recorded_at: String,
    pub age_days: u64,
}

/// Recordings older than `days` (by their `recorded_at`), or whose date cannot be read.
pub fn stale(items: &[(PathBuf, Interaction)], days: u64, now: std::time::SystemTime) -> Vec<Stale> {
    let mut out: Vec<Stale> = items
        .iter()
        .filter_map(|(file, i)| {
            let at = humantime::parse_rfc3339_weak(&i.meta.recorded_at).ok();
            let age = at.map(|at| now.duration_since(at).unwrap_or_default().as_secs() / 86_400);
            match age {
                Some(a) if a < days => None,
                _ => Some(Stale {
                    file: file.clone(),
                    recorded_at: i.meta.recorded_at.clone(),
                    age_days: age.unwrap_or(u64::MAX),
                }),
            }
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

#[cfg(test)]
mod tests;
