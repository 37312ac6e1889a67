//! The run report a team reads the morning after: one value made from a run (or a drift run,
//! or shards merged), rendered as JSON (for tools and for `report merge`), Markdown (a CI job
//! summary, an issue) and HTML (a CI artifact). No I/O here: the run hands over what it saw
//! (`Facts`), `history` adds what earlier nights said, and each format is a function of the
//! one `Report`, so the files never disagree with each other or with the exit code.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod verification;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::drift::report::Report as DriftReport;
use crate::drift::{Class, Unreachable};
use crate::results::{ScenarioOutcome, Status};

/// Findings shown per cause in the HTML and Markdown reports, and how many of them with their
/// diff: past a few, more of one cause tells a reader nothing new, and 10,000 findings must
/// still make a page a browser opens (the JSON report always has them all).
pub const ROWS_PER_CAUSE: usize = 20;
pub const DIFFS_PER_CAUSE: usize = 3;

/// Bumped when a field changes meaning; `report merge` refuses other versions.
pub const SCHEMA: u32 = 1;

/// The run's verdict, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The run could not start (bad input, a service that would not start).
    Error,
    /// A partner's sandbox could not be reached: what it would have said is unknown.
    Unreachable,
    /// The live API breaks the contract or what the recordings rely on.
    Breaking,
    /// Scenarios failed (or recordings are older than `--fail-stale` allows).
    Failed,
    /// Only changes the contract allows.
    Compatible,
    Passed,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Error => "could not run",
            Verdict::Unreachable => "partner unreachable",
            Verdict::Breaking => "breaking drift",
            Verdict::Failed => "scenarios failed",
            Verdict::Compatible => "compatible drift only",
            Verdict::Passed => "passed",
        }
    }

    /// Whether the run fails on it (exit 1 or 3).
    pub fn fails(self) -> bool {
        !matches!(self, Verdict::Passed | Verdict::Compatible)
    }
}

/// A partner's row: green (all well), amber (worth a look), red (act).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Red,
    Amber,
    Green,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Red => "red",
            Health::Amber => "amber",
            Health::Green => "green",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub generated_at: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub contrail_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// `replay`, `live` or `record`.
    pub target: String,
    /// `I/N` when this run was one shard of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `--shard`: the hash of the plan all shards share, and how many scenarios it spreads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_total: Option<usize>,
    /// The shards a merged report was made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// `--partner`, when the run took only that partner's scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInfo {
    pub name: String,
    pub version: String,
    /// Relative to the workspace.
    pub file: String,
}

/// What the contracts say about a partner, for its row and the advice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerInfo {
    pub contract: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRow {
    pub name: String,
    pub health: Health,
    #[serde(flatten)]
    pub info: PartnerInfo,
    pub scenarios_passed: usize,
    pub scenarios_failed: usize,
    pub breaking: usize,
    pub compatible: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
    /// Why the row has its colour, in a few words each.
    pub why: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub undefined: usize,
    pub ambiguous: usize,
    pub steps: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioRow {
    /// The scenario's identity (`scenario::Identity::id`): stable across edits and runs.
    pub id: String,
    pub uri: String,
    pub line: usize,
    pub name: String,
    /// `Feature: name` (and ` > Rule: name`), as JUnit's classname.
    #[serde(default)]
    pub feature: String,
    /// `passed`, `failed`, `skipped`, `pending`, `undefined`, `ambiguous`.
    pub status: String,
    /// The failure's class (`assertion`, `harness`, ...), when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The failing step and what it said (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub duration_ms: u64,
    pub partners: Vec<String>,
    /// Passed and failed within the last runs the history knows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
}

impl ScenarioRow {
    pub fn failed(&self, strict: bool) -> bool {
        matches!(self.status.as_str(), "failed" | "undefined" | "ambiguous") || (strict && self.status == "pending")
    }
}

/// Where a finding stands against earlier runs (from the history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Seen {
    /// Not in the last run that checked this partner.
    New,
    /// In every run since `since`, `runs` runs in all (this one included).
    StillPresent { since: String, runs: usize },
    /// In the last run that checked this partner, and not in this one.
    Fixed { last_seen: String },
}

/// One thing wrong, once, however many replays showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// sha-256 of partner, operation, place, class and cause: the same finding tomorrow has
    /// the same fingerprint.
    pub fingerprint: String,
    pub partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// A JSON pointer (`*` for any item), `status`, `header NAME`, or empty.
    pub place: String,
    /// `breaking`, `compatible` or `unreachable`.
    pub class: String,
    /// The schema rule it breaks, or the kind of change.
    pub cause: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Recorded vs live (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// How many replays showed it.
    pub occurrences: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<Seen>,
}

/// One earlier run, for the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub started_at: String,
    pub verdict: Verdict,
    pub breaking: usize,
    pub compatible: usize,
    pub failed: usize,
    pub unreachable: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    /// `run`, `drift` or `merge`.
    pub command: String,
    pub verdict: Verdict,
    pub exit_code: u8,
    /// Why the run could not start, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub strict: bool,
    pub meta: Meta,
    pub contracts: Vec<ContractInfo>,
    pub partners: Vec<PartnerRow>,
    pub counts: Counts,
    pub scenarios: Vec<ScenarioRow>,
    /// Breaking and compatible drift and unreachable partners, once each.
    pub findings: Vec<Finding>,
    /// Findings of the last comparable run that this run no longer sees (from the history).
    #[serde(default)]
    pub fixed: Vec<Finding>,
    pub unreachable: Vec<Unreachable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftReport>,
    /// Earlier runs, oldest first, then this one (from the history).
    #[serde(default)]
    pub trend: Vec<TrendPoint>,
    pub next_steps: Vec<String>,
}

/// What a run hands over to be reported.
pub struct Facts {
    pub command: String,
    pub meta: Meta,
    pub strict: bool,
    pub exit_code: u8,
    pub error: Option<String>,
    pub contracts: Vec<ContractInfo>,
    pub partners: BTreeMap<String, PartnerInfo>,
    pub scenarios: Vec<ScenarioRow>,
    pub drift: Option<DriftReport>,
}

/// A scenario's row from its outcome; `id` and `partners` come from the run's reach.
pub fn scenario_row(o: &ScenarioOutcome, id: String, partners: Vec<String>) -> ScenarioRow {
    let status = o.status();
    let failing = o.steps.iter().find(|s| s.status == status && status != Status::Passed);
    let failure = failing.map(|s| {
        let mut text = format!("{}{} (line {})", s.keyword, s.text, s.line);
        if let Some(m) = &s.message {
            // The first lines say what went wrong; the report links nothing bigger.
            let lines: Vec<&str> = m.lines().take(12).collect();
            text.push('\n');
            text.push_str(&lines.join("\n"));
        }
        crate::secrets::mask_text(&text, crate::secrets::MASK).into_owned()
    });
    // An outline's rows share a name; the identity's ` [k=v]` (and ` #2`) tells them apart.
    let row = id
        .rfind(o.scenario.name.trim())
        .map(|at| id[at + o.scenario.name.trim().len()..].to_string())
        .unwrap_or_default();
    ScenarioRow {
        name: format!("{}{row}", o.scenario.name.trim()),
        feature: match &o.rule {
            Some(r) => format!("{}: {} > {}: {}", o.feature.keyword, o.feature.name, r.keyword, r.name),
            None => format!("{}: {}", o.feature.keyword, o.feature.name),
        },
        uri: o.uri.clone(),
        line: o.scenario.line,
        id,
        status: status.word().to_string(),
        class: matches!(status, Status::Failed(_)).then(|| status.class().to_string()),
        failure,
        duration_ms: o.duration().as_millis() as u64,
        partners,
        flaky: false,
    }
}

/// The fingerprint of a finding: what stays the same while the partner keeps the change.
pub fn fingerprint(partner: &str, operation: Option<&str>, place: &str, class: &str, cause: &str) -> String {
    let mut h = Sha256::new();
    for part in [partner, operation.unwrap_or(""), place, class, cause] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The findings of a drift report, once each by fingerprint, and unreachable partners.
pub fn findings_of(drift: Option<&DriftReport>, unreachable: &[Unreachable]) -> Vec<Finding> {
    let mut by_print: BTreeMap<String, Finding> = BTreeMap::new();
    for c in drift.iter().flat_map(|d| &d.interactions) {
        for f in c.findings.iter().filter(|f| f.class.is_drift()) {
            let place = crate::drift::compare::normalize(&f.place);
            let cause = f.cause.clone().unwrap_or_else(|| {
                serde_json::to_value(f.change)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            });
            let class = f.class.label();
            let print = fingerprint(&c.partner, c.operation.as_deref(), &place, class, &cause);
            by_print
                .entry(print.clone())
                .and_modify(|e| e.occurrences += 1)
                .or_insert_with(|| Finding {
                    fingerprint: print,
                    partner: c.partner.clone(),
                    operation: c.operation.clone(),
                    place,
                    class: class.to_string(),
                    cause,
                    message: f.message.clone(),
                    recording: Some(c.file.display().to_string()),
                    scenario: c.scenario.clone(),
                    request: Some(c.request.clone()),
                    diff: c.diff.clone(),
                    occurrences: 1,
                    seen: None,
                });
        }
    }
    for u in unreachable {
        let print = fingerprint(&u.partner, None, "", "unreachable", "unreachable");
        by_print.insert(
            print.clone(),
            Finding {
                fingerprint: print,
                partner: u.partner.clone(),
                operation: None,
                place: String::new(),
                class: "unreachable".into(),
                cause: "unreachable".into(),
                message: format!("{} could not be reached: {}", u.target, u.error),
                recording: None,
                scenario: None,
                request: None,
                diff: None,
                occurrences: u.requests,
                seen: None,
            },
        );
    }
    let mut out: Vec<Finding> = by_print.into_values().collect();
    out.sort_by(|a, b| {
        (rank(&a.class), &a.partner, &a.operation, &a.place).cmp(&(rank(&b.class), &b.partner, &b.operation, &b.place))
    });
    out
}

fn rank(class: &str) -> u8 {
    match class {
        "unreachable" => 0,
        "breaking" => 1,
        _ => 2,
    }
}

impl Report {
    pub fn build(facts: Facts) -> Report {
        let unreachable = facts.drift.as_ref().map(|d| d.unreachable.clone()).unwrap_or_default();
        let findings = findings_of(facts.drift.as_ref(), &unreachable);
        let mut report = Report {
            schema: SCHEMA,
            command: facts.command,
            verdict: Verdict::Passed,
            exit_code: facts.exit_code,
            error: facts.error,
            strict: facts.strict,
            meta: facts.meta,
            contracts: facts.contracts,
            partners: Vec::new(),
            counts: Counts::default(),
            scenarios: facts.scenarios,
            findings,
            fixed: Vec::new(),
            unreachable,
            drift: facts.drift,
            trend: Vec::new(),
            next_steps: Vec::new(),
        };
        report.settle(&facts.partners);
        report
    }

    /// Counts, verdict, partner rows and advice, from the scenarios and findings (again after
    /// the history marks flaky scenarios, and after a merge).
    pub fn settle(&mut self, partners: &BTreeMap<String, PartnerInfo>) {
        let mut c = Counts::default();
        for s in &self.scenarios {
            c.scenarios += 1;
            match s.status.as_str() {
                "passed" => c.passed += 1,
                "failed" => c.failed += 1,
                "pending" => c.pending += 1,
                "undefined" => c.undefined += 1,
                "ambiguous" => c.ambiguous += 1,
                _ => c.skipped += 1,
            }
        }
        c.steps = self.counts.steps;
        self.counts = c;
        let strict = self.strict;
        let stale = self.drift.as_ref().is_some_and(|d| d.summary.stale > 0);
        let scenarios_failed = self.scenarios.iter().any(|s| s.failed(strict));
        self.verdict = if self.error.is_some() {
            Verdict::Error
        } else if !self.unreachable.is_empty() {
            Verdict::Unreachable
        } else if self.findings.iter().any(|f| f.class == Class::Breaking.label()) {
            Verdict::Breaking
        } else if scenarios_failed || stale {
            Verdict::Failed
        } else if self.findings.iter().any(|f| f.class == Class::Compatible.label()) {
            Verdict::Compatible
        } else {
            Verdict::Passed
        };
        self.partners = self.partner_rows(partners);
        self.next_steps = self.advice();
    }

    fn partner_rows(&self, info: &BTreeMap<String, PartnerInfo>) -> Vec<PartnerRow> {
        let mut names: BTreeSet<String> = info.keys().cloned().collect();
        // A row kept from an earlier settle keeps what it knew (a merge has no contracts).
        let known: BTreeMap<&str, &PartnerInfo> = self.partners.iter().map(|p| (p.name.as_str(), &p.info)).collect();
        names.extend(known.keys().map(|s| s.to_string()));
        if let Some(only) = &self.meta.partner {
            names.retain(|n| n == only);
        }
        names
            .into_iter()
            .map(|name| {
                let info = info
                    .get(&name)
                    .or_else(|| known.get(name.as_str()).copied())
                    .cloned()
                    .unwrap_or_default();
                let reaching: Vec<&ScenarioRow> =
                    self.scenarios.iter().filter(|s| s.partners.contains(&name)).collect();
                let passed = reaching.iter().filter(|s| s.status == "passed").count();
                let failed = reaching.iter().filter(|s| s.failed(self.strict)).count();
                let flaky = reaching.iter().filter(|s| s.flaky).count();
                let of = |class: &str| {
                    self.findings
                        .iter()
                        .filter(|f| f.partner == name && f.class == class)
                        .count()
                };
                let (breaking, compatible) = (of("breaking"), of("compatible"));
                let unreachable = self
                    .unreachable
                    .iter()
                    .find(|u| u.partner == name)
                    .map(|u| format!("{}: {}", u.target, u.error));
                let stale = self.drift.as_ref().map_or(0, |d| {
                    d.stale
                        .iter()
                        .filter(|s| s.file.starts_with(std::path::Path::new("recordings").join(&name)))
                        .count()
                });
                let mut why = Vec::new();
                if unreachable.is_some() {
                    why.push("sandbox unreachable".to_string());
                }
                if breaking > 0 {
                    why.push(format!("{breaking} breaking finding(s)"));
                }
                if failed > 0 {
                    why.push(format!("{failed} scenario(s) failed"));
                }
                if compatible > 0 {
                    why.push(format!("{compatible} compatible finding(s)"));
                }
                if flaky > 0 {
                    why.push(format!("{flaky} flaky scenario(s)"));
                }
                if stale > 0 {
                    why.push(format!("{stale} stale recording(s)"));
                }
                let health = if unreachable.is_some() || breaking > 0 || failed > 0 {
                    Health::Red
                } else if compatible > 0 || flaky > 0 || stale > 0 {
                    Health::Amber
                } else {
                    Health::Green
                };
                PartnerRow {
                    name,
                    health,
                    info,
                    scenarios_passed: passed,
                    scenarios_failed: failed,
                    breaking,
                    compatible,
                    unreachable,
                    why,
                }
            })
            .collect()
    }

    /// What to do next, most urgent first, each a sentence a person can act on.
    /// For `contrail verify`: the reader owns the API and has no consumer workspace.
    fn advice_to_the_partner(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in self.partners.iter().filter(|p| p.breaking > 0) {
            out.push(format!(
                "{}: your API breaks {} thing(s) this integration relies on (below, each with the recorded and the live answer); fix them before you release, or, if the change is intended, tell the consumer and send them the verification result.",
                p.name, p.breaking
            ));
        }
        let failed = self.scenarios.iter().filter(|s| s.failed(self.strict)).count();
        if failed > 0 {
            out.push(format!(
                "{failed} scenario(s) failed against your API; each failure shows the request and the answer. Run `contrail verify` again once fixed."
            ));
        }
        for p in self.partners.iter().filter(|p| p.breaking == 0 && p.compatible > 0) {
            out.push(format!(
                "{}: {} compatible change(s), within the contract: nothing to fix; the consumer will re-record.",
                p.name, p.compatible
            ));
        }
        out
    }

    fn advice(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(format!(
                "Fix what stopped the run, then run it again: {}",
                first_line(e)
            ));
        }
        for p in &self.partners {
            if let Some(u) = &p.unreachable {
                out.push(format!(
                    "{}: the sandbox could not be reached ({u}); check that it is up and that this machine may reach it{}.",
                    p.name,
                    contact_clause(&p.info)
                ));
            }
        }
        if self.command == "verify" {
            out.extend(self.advice_to_the_partner());
            return out;
        }
        for p in self.partners.iter().filter(|p| p.breaking > 0) {
            let since = self
                .findings
                .iter()
                .filter(|f| f.partner == p.name && f.class == "breaking")
                .filter_map(|f| match &f.seen {
                    Some(Seen::StillPresent { since, .. }) => Some(since.clone()),
                    _ => None,
                })
                .min();
            let tell = match &p.info.contact {
                Some(c) => format!("tell {c} (the contract's contact for {})", p.name),
                None => format!(
                    "tell {}'s API owners (add `contact:` to partner {} in the contract {} so this report can name them)",
                    p.name, p.name, p.info.contract
                ),
            };
            out.push(format!(
                "{}: {} breaking change(s){}: {tell}; if the change is intended, update the contract and then re-record with `contrail drift --accept --partner {}`.",
                p.name,
                p.breaking,
                since.map(|s| format!(" present since {s}")).unwrap_or_default(),
                p.name
            ));
        }
        let failed: Vec<&ScenarioRow> = self.scenarios.iter().filter(|s| s.failed(self.strict)).collect();
        if !failed.is_empty() {
            out.push(format!(
                "{} scenario(s) failed; see each one's failure below, and run one alone with `contrail run{} --name \"<its name>\"`.",
                failed.len(),
                if self.meta.target == "replay" {
                    ""
                } else {
                    " --target live"
                }
            ));
        }
        for p in self.partners.iter().filter(|p| p.breaking == 0 && p.compatible > 0) {
            out.push(format!(
                "{}: {} compatible change(s), within the contract: accept them with `contrail drift --accept --partner {}` so the recordings match live again.",
                p.name, p.compatible, p.name
            ));
        }
        let flaky: Vec<&ScenarioRow> = self.scenarios.iter().filter(|s| s.flaky).collect();
        if !flaky.is_empty() {
            out.push(format!(
                "{} scenario(s) passed and failed within the last runs where every partner kept its contract (flaky): {}; look for timing or shared state before trusting their verdicts.",
                flaky.len(),
                {
                    let mut names: Vec<String> = flaky.iter().take(5).map(|s| format!("\"{}\"", s.name)).collect();
                    if flaky.len() > 5 {
                        names.push(format!("and {} more", flaky.len() - 5));
                    }
                    names.join(", ")
                }
            ));
        }
        if let Some(d) = &self.drift
            && d.summary.stale > 0
        {
            out.push(format!(
                "{} recording(s) are older than allowed: record them again with `contrail run --target record`.",
                d.summary.stale
            ));
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The findings grouped as the HTML and Markdown show them: by cause, breaking first.
    pub fn findings_by_cause(&self) -> Vec<(&str, Vec<&Finding>)> {
        let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
        for f in &self.findings {
            match groups
                .iter_mut()
                .find(|(c, list)| *c == f.cause && list[0].class == f.class)
            {
                Some((_, list)) => list.push(f),
                None => groups.push((f.cause.as_str(), vec![f])),
            }
        }
        groups
    }

    /// The headline: verdict and counts, one line.
    pub fn headline(&self) -> String {
        let c = &self.counts;
        let breaking = self.findings.iter().filter(|f| f.class == "breaking").count();
        let compatible = self.findings.iter().filter(|f| f.class == "compatible").count();
        format!(
            "{}: {} scenario(s), {} passed, {} failed; {} breaking, {} compatible finding(s); {} partner(s) unreachable",
            self.verdict.label(),
            c.scenarios,
            c.passed,
            c.failed + c.undefined + c.ambiguous + if self.strict { c.pending } else { 0 },
            breaking,
            compatible,
            self.unreachable.len()
        )
    }
}

fn contact_clause(info: &PartnerInfo) -> String {
    match &info.contact {
        Some(c) => format!(" (contact: {c})"),
        None => String::new(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests;
