//! The report as Markdown: the whole of it (`--report FILE.md`, for an issue or a wiki) and a
//! short job summary (`--summary FILE`, for `$GITHUB_STEP_SUMMARY`), both from one `Report`.

use std::fmt::Write as _;

use super::{Finding, Health, Report, ScenarioRow, Seen};

/// A table cell: no line breaks, no bare pipes.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\r', "").replace('\n', "<br>")
}

fn dot(h: Health) -> &'static str {
    match h {
        Health::Red => "🔴 red",
        Health::Amber => "🟠 amber",
        Health::Green => "🟢 green",
    }
}

/// A fence long enough for any text inside it.
fn fence(text: &str) -> String {
    let mut n = 3;
    while text.contains(&"`".repeat(n)) {
        n += 1;
    }
    "`".repeat(n)
}

pub fn seen(s: &Option<Seen>) -> String {
    match s {
        None => String::new(),
        Some(Seen::New) => "new".into(),
        Some(Seen::StillPresent { since, runs }) => format!("still present since {} ({runs} runs)", day(since)),
        Some(Seen::Fixed { last_seen }) => format!("fixed (last seen {})", day(last_seen)),
    }
}

/// `2026-11-28` of an RFC 3339 time.
pub fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

/// `4.2s`, `3m 05s`.
pub fn duration(ms: u64) -> String {
    if ms >= 60_000 {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

fn head(out: &mut String, r: &Report) {
    let _ = writeln!(out, "# contrail {}: {}\n", r.command, r.verdict.label());
    let _ = writeln!(out, "{}.\n", r.headline());
}

fn partners(out: &mut String, r: &Report) {
    if r.partners.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| Partner | Health | Scenarios | Breaking | Compatible | Why | Contact |\n|---|---|---|---|---|---|---|"
    );
    for p in &r.partners {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} passed, {} failed | {} | {} | {} | {} |",
            p.name,
            dot(p.health),
            p.scenarios_passed,
            p.scenarios_failed,
            p.breaking,
            p.compatible,
            cell(&p.why.join("; ")),
            cell(p.info.contact.as_deref().unwrap_or("")),
        );
    }
    out.push('\n');
}

fn next_steps(out: &mut String, r: &Report) {
    if r.next_steps.is_empty() {
        return;
    }
    let _ = writeln!(out, "## What to do next\n");
    for s in &r.next_steps {
        let _ = writeln!(out, "- {}", s.replace('\n', " "));
    }
    out.push('\n');
}

fn failed_scenarios(out: &mut String, r: &Report, with_failure: bool) {
    let failed: Vec<&ScenarioRow> = r.scenarios.iter().filter(|s| s.failed(r.strict)).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Failed scenarios ({})\n", failed.len());
    for s in failed {
        let _ = writeln!(
            out,
            "- **{}** `{}:{}` {}{}",
            s.name.replace('*', "\\*"),
            s.uri,
            s.line,
            s.class.as_deref().unwrap_or(&s.status),
            if s.flaky { " (flaky)" } else { "" }
        );
        if with_failure && let Some(f) = &s.failure {
            let fence = fence(f);
            let _ = writeln!(out, "\n  {fence}text");
            for line in f.lines() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  {fence}\n");
        }
    }
    out.push('\n');
}

fn finding_rows(out: &mut String, list: &[&Finding]) {
    let shown = list.len().min(super::ROWS_PER_CAUSE);
    let _ = writeln!(
        out,
        "| Partner | Operation | Where | What | Seen | Recording | Scenario |\n|---|---|---|---|---|---|---|"
    );
    for f in &list[..shown] {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} | {} | {} |",
            f.partner,
            f.operation.as_deref().map(|o| format!("`{o}`")).unwrap_or_default(),
            cell(&f.place),
            cell(&f.message),
            seen(&f.seen),
            f.recording.as_deref().map(|r| format!("`{r}`")).unwrap_or_default(),
            cell(f.scenario.as_deref().unwrap_or("")),
        );
    }
    if list.len() > shown {
        let _ = writeln!(
            out,
            "\nand {} more finding(s) of this cause; every one is in the JSON report.",
            list.len() - shown
        );
    }
}

fn findings(out: &mut String, r: &Report, with_diffs: bool) {
    if r.findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Findings ({})\n", r.findings.len());
    for (cause, list) in r.findings_by_cause() {
        let _ = writeln!(out, "### {} — `{}`\n", list[0].class, cause);
        finding_rows(out, &list);
        if with_diffs {
            for f in list.iter().filter(|f| f.diff.is_some()).take(super::DIFFS_PER_CAUSE) {
                let d = f.diff.as_deref().unwrap_or_default();
                let fence = fence(d);
                let _ = writeln!(
                    out,
                    "\n<details><summary>recorded vs live: {}</summary>\n\n{fence}diff\n--- recorded\n+++ live\n{d}{fence}\n\n</details>",
                    f.request.as_deref().unwrap_or("")
                );
            }
        }
        out.push('\n');
    }
}

fn fixed(out: &mut String, r: &Report) {
    if r.fixed.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Fixed since the last run ({})\n", r.fixed.len());
    let list: Vec<&Finding> = r.fixed.iter().collect();
    finding_rows(out, &list);
    out.push('\n');
}

fn trend(out: &mut String, r: &Report) {
    if r.trend.len() < 2 {
        return;
    }
    let _ = writeln!(
        out,
        "## Trend (last {} runs)\n\n| Run | Verdict | Breaking | Compatible | Failed scenarios | Unreachable |\n|---|---|---|---|---|---|",
        r.trend.len()
    );
    for t in &r.trend {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            t.started_at,
            t.verdict.label(),
            t.breaking,
            t.compatible,
            t.failed,
            t.unreachable
        );
    }
    out.push('\n');
}

fn about(out: &mut String, r: &Report) {
    let m = &r.meta;
    let _ = writeln!(out, "## About this run\n\n| | |\n|---|---|");
    let _ = writeln!(out, "| Command | `contrail {}` against {} |", r.command, m.target);
    let _ = writeln!(out, "| Started | {} ({}) |", m.started_at, duration(m.duration_ms));
    let _ = writeln!(out, "| contrail | {} |", m.contrail_version);
    if let Some(c) = &m.git_commit {
        let _ = writeln!(out, "| Commit | `{c}` |");
    }
    for c in &r.contracts {
        let _ = writeln!(out, "| Contract `{}` | {} (`{}`) |", c.name, c.version, c.file);
    }
    for p in &r.partners {
        if let Some(u) = &p.info.live_url {
            let _ = writeln!(out, "| Live target of `{}` | {} |", p.name, u);
        }
    }
    if let Some(s) = &m.shard {
        let _ = writeln!(out, "| Shard | {s} |");
    }
    if !m.merged_from.is_empty() {
        let _ = writeln!(out, "| Merged from | {} |", cell(&m.merged_from.join(", ")));
    }
    if let Some(p) = &m.partner {
        let _ = writeln!(out, "| Only partner | `{p}` |");
    }
    out.push('\n');
}

/// The whole report.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    head(&mut out, r);
    if let Some(e) = &r.error {
        let fence = fence(e);
        let _ = writeln!(out, "The run could not start:\n\n{fence}text\n{e}\n{fence}\n");
    }
    partners(&mut out, r);
    next_steps(&mut out, r);
    failed_scenarios(&mut out, r, true);
    findings(&mut out, r, true);
    fixed(&mut out, r);
    trend(&mut out, r);
    about(&mut out, r);
    if let Some(d) = &r.drift {
        let notes = d.notes();
        if !notes.is_empty() {
            let _ = writeln!(out, "## Drift details\n");
        }
        for n in notes {
            let _ = writeln!(out, "### {} ({})\n", n.title, n.items.len());
            if !n.advice.is_empty() {
                let _ = writeln!(out, "{}\n", n.advice);
            }
            for i in &n.items {
                let _ = writeln!(out, "- `{}`", i.replace('`', "'"));
            }
            out.push('\n');
        }
    }
    out
}

/// A short summary for a CI job page: the verdict, the partners, what to do, and the names of
/// what failed (the details are in the full report).
pub fn summary(r: &Report) -> String {
    let mut out = String::new();
    head(&mut out, r);
    partners(&mut out, r);
    next_steps(&mut out, r);
    failed_scenarios(&mut out, r, false);
    if !r.findings.is_empty() {
        let _ = writeln!(out, "## Findings ({})\n", r.findings.len());
        for f in r.findings.iter().take(30) {
            let _ = writeln!(
                out,
                "- {} `{}` {} `{}`: {}{}",
                f.class,
                f.partner,
                f.operation.as_deref().unwrap_or("-"),
                f.place,
                f.message.lines().next().unwrap_or_default(),
                match seen(&f.seen) {
                    s if s.is_empty() => String::new(),
                    s => format!(" ({s})"),
                }
            );
        }
        if r.findings.len() > 30 {
            let _ = writeln!(out, "- and {} more (see the full report)", r.findings.len() - 30);
        }
        out.push('\n');
    }
    if !r.fixed.is_empty() {
        let _ = writeln!(out, "{} finding(s) fixed since the last run.\n", r.fixed.len());
    }
    out
}
