//! One report from the JSON reports of several shards (`contrail report merge`): every
//! scenario once (shards that overlap are refused: a scenario counted twice would hide a
//! failure behind a pass), drift merged, and the verdict, partner rows and advice made again
//! from the merged facts, never copied from one shard.

use std::collections::{BTreeMap, BTreeSet};

use super::{ContractInfo, PartnerInfo, Report, SCHEMA, findings_of};

/// A shard's report and where it came from (the file, for messages).
pub struct Part {
    pub label: String,
    pub report: Report,
}

/// Reads a shard's JSON report.
pub fn read(path: &std::path::Path) -> Result<Part, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: not JSON: {e}", path.display(), e.line(), e.column()))?;
    match value.get("schema").and_then(|s| s.as_u64()) {
        Some(v) if v == u64::from(SCHEMA) => {}
        Some(v) => {
            return Err(format!(
                "{}: a report of schema {v}; this contrail reads schema {SCHEMA} (merge reports made by the same contrail)",
                path.display()
            ));
        }
        None => {
            return Err(format!(
                "{}: not a contrail run report (no \"schema\"); merge the files written by `--report FILE.json`",
                path.display()
            ));
        }
    }
    let report: Report =
        serde_json::from_value(value).map_err(|e| format!("{}: not a contrail run report: {e}", path.display()))?;
    Ok(Part {
        label: path.display().to_string(),
        report,
    })
}

pub fn merge(parts: Vec<Part>) -> Result<Report, String> {
    let Some(first) = parts.first() else {
        return Err("nothing to merge: name the shards' JSON reports".into());
    };
    let command = first.report.command.clone();
    if let Some(other) = parts.iter().find(|p| p.report.command != command) {
        return Err(format!(
            "{} is a `{}` report and {} a `{command}` report: merge the shards of one run",
            other.label, other.report.command, first.label
        ));
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for p in &parts {
        for s in &p.report.scenarios {
            if let Some(before) = seen.insert(s.id.clone(), p.label.clone()) {
                return Err(format!(
                    "the scenario {:?} ({}:{}) is in both {before} and {}: the shards overlap (give each machine its own --shard I/N with the same N)",
                    s.name, s.uri, s.line, p.label
                ));
            }
        }
    }

    // Shards of one plan: the same plan, and together every scenario it spread.
    let plans: BTreeSet<(Option<&String>, Option<usize>)> = parts
        .iter()
        .map(|p| (p.report.meta.shard_plan.as_ref(), p.report.meta.shard_total))
        .collect();
    if plans.len() > 1 {
        return Err(format!(
            "the shards were planned differently ({}): every machine must run the same contrail on the same features, \
             with the same --tags/--name/--partner and the same history file (or none)",
            parts
                .iter()
                .map(|p| format!(
                    "{} plan {}",
                    p.label,
                    p.report.meta.shard_plan.as_deref().unwrap_or("none")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some((Some(_), Some(total))) = plans.iter().next().copied()
        && seen.len() != total
    {
        let have: Vec<&str> = parts.iter().filter_map(|p| p.report.meta.shard.as_deref()).collect();
        return Err(format!(
            "the shards hold {} of the plan's {total} scenario(s): a shard is missing (merged: {})",
            seen.len(),
            have.join(", ")
        ));
    }
    let mut meta = first.report.meta.clone();
    meta.shard = None;
    meta.shard_plan = None;
    meta.shard_total = None;
    meta.generated_at = crate::clock::now_rfc3339(false);
    meta.merged_from = parts
        .iter()
        .map(|p| match &p.report.meta.shard {
            Some(s) => format!("{} (shard {s})", p.label),
            None => p.label.clone(),
        })
        .collect();
    let mut versions = BTreeSet::new();
    let mut contracts: BTreeMap<String, ContractInfo> = BTreeMap::new();
    let mut partners: BTreeMap<String, PartnerInfo> = BTreeMap::new();
    let mut scenarios = Vec::new();
    let mut drifts = Vec::new();
    let mut steps = 0;
    let mut exit = 0;
    let mut errors = Vec::new();
    let mut strict = true;
    for p in parts {
        let r = p.report;
        versions.insert(r.meta.contrail_version.clone());
        meta.started_at = meta.started_at.min(r.meta.started_at.clone());
        // Shards run side by side: the run took as long as the slowest.
        meta.duration_ms = meta.duration_ms.max(r.meta.duration_ms);
        for c in r.contracts {
            contracts.entry(c.name.clone()).or_insert(c);
        }
        for row in r.partners {
            partners.entry(row.name.clone()).or_insert(row.info);
        }
        scenarios.extend(r.scenarios);
        drifts.extend(r.drift);
        steps += r.counts.steps;
        exit = exit.max(r.exit_code);
        strict &= r.strict;
        if let Some(e) = r.error {
            errors.push(format!("{}: {e}", p.label));
        }
    }
    if versions.len() > 1 {
        return Err(format!(
            "the shards were made by different contrail versions ({}): run every shard with the same one",
            versions.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    scenarios.sort_by(|a, b| (&a.uri, a.line).cmp(&(&b.uri, b.line)));
    let drift = (!drifts.is_empty()).then(|| crate::drift::report::Report::merge(drifts));
    let unreachable = drift.as_ref().map(|d| d.unreachable.clone()).unwrap_or_default();
    let mut report = Report {
        schema: SCHEMA,
        command,
        verdict: super::Verdict::Passed,
        exit_code: exit,
        error: (!errors.is_empty()).then(|| errors.join("\n")),
        strict,
        meta,
        contracts: contracts.into_values().collect(),
        partners: Vec::new(),
        counts: super::Counts {
            steps,
            ..Default::default()
        },
        scenarios,
        findings: findings_of(drift.as_ref(), &unreachable),
        fixed: Vec::new(),
        unreachable,
        drift,
        trend: Vec::new(),
        next_steps: Vec::new(),
    };
    report.settle(&partners);
    Ok(report)
}
