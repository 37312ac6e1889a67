//! Runs remembered in one SQLite file, so a report can say what is new tonight, what has been
//! there since when, what was fixed, and which scenarios flip between passing and failing.
//!
//! Each run is appended in one transaction (SQLite's rollback journal, `synchronous=FULL`): a
//! run killed while writing leaves the file as it was after the last whole run. The schema is
//! versioned by `PRAGMA user_version` and moved forward by `MIGRATIONS`, one transaction
//! each; a file from a newer contrail is refused rather than misread.
//!
//! Runs are compared only with runs of the same command against the same target (a replay run
//! says nothing about what live did last night), and a finding only with runs that checked
//! its partner.

mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::report::{Finding, Report, Seen, TrendPoint, Verdict};
pub use store::MIGRATIONS;

/// How many earlier runs the trend shows.
pub const TREND_RUNS: usize = 14;
/// How many recent runs decide whether a scenario is flaky, unless `[history] flaky_window`:
/// it passed and failed within them, counting only runs where no partner broke or was down.
pub const FLAKY_WINDOW: usize = 10;

pub struct History {
    conn: rusqlite::Connection,
    path: PathBuf,
}

/// One stored run, as `contrail history` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    pub command: String,
    pub target: String,
    pub verdict: String,
    pub exit_code: u8,
    pub duration_ms: u64,
    pub contrail_version: String,
    pub git_commit: Option<String>,
    pub scenarios: usize,
    pub failed: usize,
    pub breaking: usize,
    pub compatible: usize,
    pub unreachable: usize,
}

fn err(path: &Path, what: &str, e: impl std::fmt::Display) -> String {
    format!("history {}: {what}: {e}", path.display())
}

impl History {
    /// Opens the file (made, with its folder, when missing) and brings its schema up to date.
    pub fn open(path: &Path) -> Result<History, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(path, "cannot create its folder", e))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| err(path, "cannot open", e))?;
        let mut h = History {
            conn,
            path: path.to_path_buf(),
        };
        store::prepare(&mut h.conn).map_err(|e| err(path, "cannot use it", e))?;
        Ok(h)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds to the report what earlier comparable runs said: each finding new or still
    /// present since when, the findings fixed since the last run that checked their partner,
    /// flaky scenarios, and the trend. The verdict, rows and advice are settled again.
    pub fn annotate(&self, report: &mut Report, flaky_window: usize) -> Result<(), String> {
        let runs = store::comparable_runs(&self.conn, &report.command, &report.meta.target, 400)
            .map_err(|e| err(&self.path, "cannot read earlier runs", e))?;
        let checked_now: BTreeSet<String> = checked_partners(report);
        for partner in &checked_now {
            let seq = store::partner_runs(&self.conn, &runs, partner).map_err(|e| err(&self.path, "cannot read", e))?;
            let reachable_now = !report.unreachable.iter().any(|u| &u.partner == partner);
            for f in report.findings.iter_mut().filter(|f| &f.partner == partner) {
                let mut streak = 0;
                let mut since = None;
                for r in &seq {
                    if r.findings.contains_key(&f.fingerprint) {
                        streak += 1;
                        since = Some(r.started_at.clone());
                    } else if !r.reachable && f.class != "unreachable" {
                        // The sandbox was down that night: whether the finding was there is unknown.
                        continue;
                    } else {
                        break;
                    }
                }
                f.seen = Some(match since {
                    Some(since) => Seen::StillPresent {
                        since,
                        runs: streak + 1,
                    },
                    None => Seen::New,
                });
            }
            if reachable_now && let Some(last) = seq.first() {
                let now: BTreeSet<&str> = report
                    .findings
                    .iter()
                    .filter(|f| &f.partner == partner)
                    .map(|f| f.fingerprint.as_str())
                    .collect();
                for (print, f) in &last.findings {
                    if !now.contains(print.as_str()) {
                        let mut f = f.clone();
                        f.seen = Some(Seen::Fixed {
                            last_seen: last.started_at.clone(),
                        });
                        report.fixed.push(f);
                    }
                }
            }
        }
        let window = flaky_window.max(2);
        let recent: Vec<i64> = runs.iter().take(window - 1).map(|r| r.0).collect();
        let statuses = store::scenario_statuses(&self.conn, &recent).map_err(|e| err(&self.path, "cannot read", e))?;
        // Tonight counts only if no partner broke or was down.
        let explained = !matches!(report.verdict, Verdict::Passed | Verdict::Compatible | Verdict::Failed);
        for s in report.scenarios.iter_mut() {
            let mut seen: BTreeSet<&str> = statuses
                .get(&s.id)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            if !explained {
                seen.insert(s.status.as_str());
            }
            s.flaky = seen.contains("passed") && seen.contains("failed");
        }
        let mut trend: Vec<TrendPoint> =
            store::trend(&self.conn, &runs, TREND_RUNS).map_err(|e| err(&self.path, "cannot read", e))?;
        trend.reverse();
        report.settle(&BTreeMap::new());
        trend.push(point(report));
        report.trend = trend;
        Ok(())
    }

    /// Stores the run, whole or not at all.
    pub fn append(&mut self, report: &Report) -> Result<i64, String> {
        store::append(&mut self.conn, report, &checked_partners(report))
            .map_err(|e| err(&self.path, "cannot write the run", e))
    }

    /// The last runs, newest first.
    /// Remembers what a partner verified (`contrail verify --import`); false when this very
    /// result is there already.
    pub fn add_verification(&mut self, r: &crate::report::verification::VerificationResult) -> Result<bool, String> {
        store::add_verification(&mut self.conn, r).map_err(|e| err(&self.path, "cannot write the verification", e))
    }

    /// Each partner's latest verification, newest first.
    pub fn verifications(&self) -> Result<Vec<crate::report::verification::VerificationResult>, String> {
        store::verifications(&self.conn).map_err(|e| err(&self.path, "cannot read", e))
    }

    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>, String> {
        store::runs(&self.conn, limit).map_err(|e| err(&self.path, "cannot read", e))
    }

    /// Forgets runs that started before `cutoff` (RFC 3339); how many.
    pub fn prune_before(&mut self, cutoff: &str) -> Result<usize, String> {
        store::prune(&mut self.conn, cutoff).map_err(|e| err(&self.path, "cannot prune", e))
    }

    /// Each scenario's duration in the last run that ran it (for balancing shards).
    pub fn durations(&self) -> Result<HashMap<String, u64>, String> {
        store::durations(&self.conn).map_err(|e| err(&self.path, "cannot read", e))
    }
}

/// The partners whose findings this run can speak for: those it compared with live.
fn checked_partners(report: &Report) -> BTreeSet<String> {
    if report.drift.is_none() {
        return BTreeSet::new();
    }
    report.partners.iter().map(|p| p.name.clone()).collect()
}

pub fn point(report: &Report) -> TrendPoint {
    let of = |class: &str| report.findings.iter().filter(|f| f.class == class).count();
    TrendPoint {
        started_at: report.meta.started_at.clone(),
        verdict: report.verdict,
        breaking: of("breaking"),
        compatible: of("compatible"),
        failed: report.scenarios.iter().filter(|s| s.failed(report.strict)).count(),
        unreachable: report.unreachable.len(),
    }
}

/// A stored verdict back as the enum (an unknown word reads as an error, never as a pass).
pub(crate) fn verdict_of(word: &str) -> Verdict {
    serde_json::from_value(serde_json::Value::String(word.to_string())).unwrap_or(Verdict::Error)
}

/// A stored verdict in words.
pub fn verdict_label(word: &str) -> &'static str {
    verdict_of(word).label()
}

/// What one earlier run knew of one partner.
struct PartnerRun {
    started_at: String,
    reachable: bool,
    findings: BTreeMap<String, Finding>,
}

#[cfg(test)]
mod tests;
