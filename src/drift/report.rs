//! How a drift run reads: on the terminal, and as the drift part of the run report (its
//! Markdown sections and JSON). All come from one `Report`, so they never disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{Checked, Class, Outcome, Stale, Unrecorded};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Summary {
    /// `breaking`, `compatible` or `none`: the worst drift finding (the run's verdict, which
    /// also counts failed scenarios and unreachable partners, is the report's).
    pub verdict: String,
    pub replayed: usize,
    pub unchanged: usize,
    pub drifted: usize,
    pub breaking: usize,
    pub compatible: usize,
    pub volatile_ignored: usize,
    /// Keys the contract allows without declaring them, once per operation and place.
    pub undeclared: usize,
    pub accepted: usize,
    pub unrecorded: usize,
    pub not_exercised: usize,
    pub stale: usize,
    pub scenarios_failed: bool,
}

/// One rule of a named schema (a component) that live answers break, wherever it showed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Cause {
    /// `ticketing.yaml#/components/schemas/Ticket/properties/severity/type`.
    pub rule: String,
    /// What the first finding said.
    pub message: String,
    /// `partner operation place`, once each.
    pub seen: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Report {
    pub generated_at: String,
    /// Partner -> the live base URL the run compared against.
    pub targets: BTreeMap<String, String>,
    pub summary: Summary,
    /// Schema changes at the partner, each with every operation and place it showed in.
    pub causes: Vec<Cause>,
    /// Every replayed interaction, drifted or not (files relative to the workspace).
    pub interactions: Vec<Checked>,
    pub unrecorded: Vec<Unrecorded>,
    pub not_exercised: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_after_days: Option<u64>,
    pub stale: Vec<Stale>,
    /// Partners whose sandbox could not be reached.
    #[serde(default)]
    pub unreachable: Vec<super::Unreachable>,
}

fn relative(p: &Path, root: &Path) -> std::path::PathBuf {
    crate::diag::display_path(p, root)
}

impl Report {
    pub fn new(
        outcome: Outcome,
        root: &Path,
        targets: BTreeMap<String, String>,
        stale_after_days: Option<u64>,
        stale: Vec<Stale>,
        scenarios_failed: bool,
    ) -> Report {
        let count = |c: Class| outcome.count(c);
        let (breaking, compatible, volatile_ignored) = (
            count(Class::Breaking),
            count(Class::Compatible),
            count(Class::VolatileIgnored),
        );
        let drifted = outcome.checked.iter().filter(|c| c.drifted()).count();
        let summary = Summary {
            verdict: if breaking > 0 {
                "breaking"
            } else if compatible > 0 {
                "compatible"
            } else {
                "none"
            }
            .to_string(),
            replayed: outcome.checked.len(),
            unchanged: outcome.checked.len() - drifted,
            drifted,
            breaking,
            compatible,
            volatile_ignored,
            undeclared: places_of(&outcome.checked, Class::Undeclared).len(),
            accepted: outcome.checked.iter().filter(|c| c.accepted).count(),
            unrecorded: outcome.unrecorded.len(),
            not_exercised: outcome.not_exercised.len(),
            stale: stale.len(),
            scenarios_failed,
        };
        let interactions: Vec<Checked> = outcome
            .checked
            .into_iter()
            .map(|mut c| {
                c.file = relative(&c.file, root);
                c
            })
            .collect();
        let stale = stale
            .into_iter()
            .map(|mut s| {
                s.file = relative(&s.file, root);
                s
            })
            .collect();
        let causes = causes_of(&interactions);
        Report {
            causes,
            generated_at: crate::clock::now_rfc3339(false),
            targets,
            summary,
            interactions,
            unrecorded: outcome.unrecorded,
            not_exercised: outcome
                .not_exercised
                .iter()
                .map(|f| relative(f, root).display().to_string())
                .collect(),
            stale_after_days,
            stale,
            unreachable: outcome.unreachable,
        }
    }

    /// One report of the drift runs of several shards: every replay once, a recording "not
    /// replayed" only when no shard replayed it, the counts and causes made again.
    pub fn merge(parts: Vec<Report>) -> Report {
        let mut checked = Vec::new();
        let mut unrecorded = Vec::new();
        let mut not_exercised = BTreeSet::new();
        let mut stale: BTreeMap<std::path::PathBuf, Stale> = BTreeMap::new();
        let mut targets = BTreeMap::new();
        let mut unreachable: BTreeMap<String, super::Unreachable> = BTreeMap::new();
        let mut stale_after_days = None;
        let mut scenarios_failed = false;
        for p in parts {
            checked.extend(p.interactions);
            unrecorded.extend(p.unrecorded);
            not_exercised.extend(p.not_exercised);
            for s in p.stale {
                stale.insert(s.file.clone(), s);
            }
            targets.extend(p.targets);
            for u in p.unreachable {
                unreachable
                    .entry(u.partner.clone())
                    .and_modify(|e| e.requests += u.requests)
                    .or_insert(u);
            }
            stale_after_days = stale_after_days.or(p.stale_after_days);
            scenarios_failed |= p.summary.scenarios_failed;
        }
        let replayed: BTreeSet<String> = checked.iter().map(|c| c.file.display().to_string()).collect();
        checked.sort_by(|a, b| (&a.partner, &a.file).cmp(&(&b.partner, &b.file)));
        let outcome = Outcome {
            checked,
            unrecorded,
            not_exercised: not_exercised
                .into_iter()
                .filter(|f| !replayed.contains(f))
                .map(std::path::PathBuf::from)
                .collect(),
            unreachable: unreachable.into_values().collect(),
        };
        let mut merged = Report::new(
            outcome,
            Path::new(""),
            targets,
            stale_after_days,
            stale.into_values().collect(),
            scenarios_failed,
        );
        merged.generated_at = crate::clock::now_rfc3339(false);
        merged
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Places of volatile fields that changed, once each.
    fn volatile_places(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .interactions
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| f.class == Class::VolatileIgnored)
            .map(|f| f.place.as_str())
            .collect();
        set.into_iter().collect()
    }

    /// Drifted interactions that drifted alike (same operation, same places, same kinds of
    /// change), breaking ones first: nine tickets missing `customer_id` read as one finding.
    fn groups(&self) -> Vec<Vec<&Checked>> {
        type Key<'a> = (bool, &'a str, Option<&'a str>, Vec<(Class, String, super::Change)>);
        let mut groups: BTreeMap<Key<'_>, Vec<&Checked>> = BTreeMap::new();
        for c in self.interactions.iter().filter(|c| c.drifted()) {
            let shape = c
                .findings
                .iter()
                .filter(|f| f.class.is_drift())
                .map(|f| (f.class, super::compare::normalize(&f.place), f.change))
                .collect();
            groups
                .entry((!c.breaking(), c.partner.as_str(), c.operation.as_deref(), shape))
                .or_default()
                .push(c);
        }
        groups.into_values().collect()
    }

    fn headline(&self) -> String {
        let s = &self.summary;
        format!(
            "{} recorded interaction(s) replayed against live: {} unchanged, {} drifted ({} breaking, {} compatible finding(s)); {} volatile change(s) ignored",
            s.replayed, s.unchanged, s.drifted, s.breaking, s.compatible, s.volatile_ignored
        )
    }

    /// `verbose` adds unchanged interactions and volatile findings; `lists` the recordings
    /// not replayed and the requests not recorded (noise when a run was filtered on purpose).
    pub fn terminal(&self, verbose: bool, lists: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nDrift: {}", self.headline());
        for u in &self.unreachable {
            let _ = writeln!(
                out,
                "\nUNREACHABLE  {}  {}\n  {} request(s) got no answer: {}",
                u.partner, u.target, u.requests, u.error
            );
        }
        for c in &self.causes {
            let _ = writeln!(
                out,
                "\nCAUSE  {}\n  {}\n  seen in {} place(s): {}",
                c.rule,
                c.message,
                c.seen.len(),
                c.seen.join("; ")
            );
        }
        for group in self.groups() {
            let c = group[0];
            let label = if c.breaking() { "BREAKING" } else { "COMPATIBLE" };
            let alike = if group.len() > 1 {
                format!("  ({} replays drifted alike; the first is shown)", group.len())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "\n{label}  {} {}  {}{alike}",
                c.partner,
                c.operation.as_deref().unwrap_or("-"),
                c.request
            );
            let _ = writeln!(out, "  recording: {}", c.file.display());
            if let Some(s) = &c.scenario {
                let _ = writeln!(out, "  scenario:  {s}");
            }
            let width = c.findings.iter().map(|f| f.place.len()).max().unwrap_or(0);
            for f in c.findings.iter().filter(|f| f.class.is_drift() || verbose) {
                let _ = writeln!(out, "  {:<16} {:<width$}  {}", f.class.label(), f.place, f.message);
            }
            if let Some(d) = &c.diff {
                let _ = writeln!(out, "  --- recorded\n  +++ live");
                for line in d.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            let mut others: Vec<String> = Vec::new();
            for o in &group[1..] {
                let f = o.file.display().to_string();
                if o.file != c.file && !others.contains(&f) {
                    others.push(f);
                }
            }
            if !others.is_empty() {
                let shown = if verbose { others.len() } else { others.len().min(5) };
                let _ = writeln!(out, "  also: {}", others[..shown].join(", "));
                if shown < others.len() {
                    let _ = writeln!(out, "        and {} more (-v lists them all)", others.len() - shown);
                }
            }
            let accepted = group.iter().filter(|g| g.accepted).count();
            if accepted > 0 {
                let _ = writeln!(out, "  accepted: {accepted} recording(s) now hold the live answer");
            }
        }
        if verbose {
            for c in self.interactions.iter().filter(|c| !c.drifted()) {
                let _ = writeln!(
                    out,
                    "\nUNCHANGED  {} {}  {}",
                    c.partner,
                    c.operation.as_deref().unwrap_or("-"),
                    c.request
                );
                for f in &c.findings {
                    let _ = writeln!(out, "  {:<16} {}  {}", f.class.label(), f.place, f.message);
                }
            }
        }
        let volatile = self.volatile_places();
        if !volatile.is_empty() {
            let _ = writeln!(out, "\nVolatile fields that changed (ignored): {}", volatile.join(", "));
        }
        let undeclared = places_of(&self.interactions, Class::Undeclared);
        if !undeclared.is_empty() {
            let _ = writeln!(
                out,
                "\nKeys the contract allows but does not declare (not drift; declare them, or say additionalProperties): {}",
                undeclared.join(", ")
            );
        }
        let formats = places_of(&self.interactions, Class::Format);
        if !formats.is_empty() {
            let _ = writeln!(
                out,
                "\nValues that miss their format (formats: warn; not drift): {}",
                formats.join(", ")
            );
        }
        if lists && !self.unrecorded.is_empty() {
            let _ = writeln!(
                out,
                "\nSent but not recorded ({}; record them with `contrail run --target replay --record-missing`):",
                self.unrecorded.len()
            );
            for u in &self.unrecorded {
                let _ = writeln!(out, "  {} {} -> {}", u.partner, u.request, u.status);
            }
        }
        if lists && !self.not_exercised.is_empty() {
            let _ = writeln!(
                out,
                "\nRecorded but not replayed ({}; their scenario stopped early, was filtered out, or no longer sends them):",
                self.not_exercised.len()
            );
            for f in &self.not_exercised {
                let _ = writeln!(out, "  {f}");
            }
        }
        if let Some(days) = self.stale_after_days {
            if self.stale.is_empty() {
                let _ = writeln!(out, "\nNo recording is older than {days} day(s).");
            } else {
                let _ = writeln!(
                    out,
                    "\nStale: {} recording(s) older than {days} day(s):",
                    self.stale.len()
                );
                for s in &self.stale {
                    let _ = writeln!(out, "  {} (recorded {})", s.file.display(), s.recorded_at);
                }
            }
        }
        if self.summary.scenarios_failed {
            let _ = writeln!(out, "\nSome scenarios failed against live (see above).");
        }
        let _ = writeln!(
            out,
            "\nVerdict: {}",
            match self.summary.verdict.as_str() {
                "breaking" => "BREAKING drift",
                "compatible" => "compatible drift only",
                _ => "no drift",
            }
        );
        out
    }

    /// What the run report lists beside its findings (which carry the causes, the drifted
    /// recordings and their diffs): what was ignored or is not drift, and what was not
    /// compared. Each is (title, a word of advice, items); the Markdown and HTML reports
    /// render the same lists.
    pub fn notes(&self) -> Vec<Note> {
        let mut notes = Vec::new();
        let mut add = |title: &'static str, advice: &'static str, items: Vec<String>| {
            if !items.is_empty() {
                notes.push(Note { title, advice, items });
            }
        };
        add(
            "Volatile fields that changed (ignored)",
            "",
            self.volatile_places().into_iter().map(str::to_string).collect(),
        );
        add(
            "Keys the contract allows but does not declare (not drift)",
            "Declare them in the schema, or say `additionalProperties`, so that a consumer knows it may rely on them.",
            places_of(&self.interactions, Class::Undeclared),
        );
        add(
            "Values that miss their format (formats: warn; not drift)",
            "",
            places_of(&self.interactions, Class::Format),
        );
        add(
            "Sent but not recorded",
            "",
            self.unrecorded
                .iter()
                .map(|u| format!("{} {} -> {}", u.partner, u.request, u.status))
                .collect(),
        );
        add("Recorded but not replayed", "", self.not_exercised.clone());
        add(
            "Stale recordings",
            "",
            self.stale
                .iter()
                .map(|st| format!("{} (recorded {})", st.file.display(), st.recorded_at))
                .collect(),
        );
        notes
    }
}

/// A list the run report shows beside the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub title: &'static str,
    pub advice: &'static str,
    pub items: Vec<String>,
}

/// `operation place` of every finding of `class`, once each.
fn places_of(checked: &[Checked], class: Class) -> Vec<String> {
    let set: BTreeSet<String> = checked
        .iter()
        .flat_map(|c| {
            c.findings.iter().filter(move |f| f.class == class).map(move |f| {
                format!(
                    "{} {}",
                    c.operation.as_deref().unwrap_or("?"),
                    super::compare::normalize(&f.place)
                )
            })
        })
        .collect();
    set.into_iter().collect()
}

/// The findings that name a schema rule, grouped by it: one change at the partner shows in
/// every operation that uses the component, and is one cause to read about.
fn causes_of(checked: &[Checked]) -> Vec<Cause> {
    let mut by_rule: BTreeMap<&str, (String, BTreeSet<String>)> = BTreeMap::new();
    for c in checked {
        for f in &c.findings {
            let Some(rule) = f.cause.as_deref() else { continue };
            let entry = by_rule.entry(rule).or_insert_with(|| {
                // The message without the "breaks the contract's schema for 200: " lead.
                let what = f.message.split_once(": ").map_or(f.message.as_str(), |(_, m)| m);
                (what.to_string(), BTreeSet::new())
            });
            entry.1.insert(format!(
                "{} {} {}",
                c.partner,
                c.operation.as_deref().unwrap_or("-"),
                super::compare::normalize(&f.place)
            ));
        }
    }
    by_rule
        .into_iter()
        .map(|(rule, (message, seen))| Cause {
            rule: rule.to_string(),
            message,
            seen: seen.into_iter().collect(),
        })
        .collect()
}
