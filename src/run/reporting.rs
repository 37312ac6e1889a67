//! The run report's files: checked before anything runs (format by extension, writable),
//! built from what the run left (`Done`), joined with the history, then written masked and
//! atomically, whatever the run's verdict, so a night with a partner down still leaves its
//! reports. The history gets the run last, in one transaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Done, RunOptions, Target};
use crate::report::{self, Facts, Meta, Report};
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Html,
}

pub fn format_of(p: &Path) -> Result<Format, String> {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Ok(Format::Json),
        Some("md" | "markdown") => Ok(Format::Markdown),
        Some("html" | "htm") => Ok(Format::Html),
        _ => Err(format!(
            "--report {}: the report format comes from the extension: .json, .md or .html",
            p.display()
        )),
    }
}

/// The files a run writes about itself, checked before it starts.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub reports: Vec<(PathBuf, Format)>,
    pub summary: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub flaky_window: usize,
    /// `--quiet`: no "report written" lines.
    pub quiet: bool,
    /// Whether this run is added to the history. A shard's run is not: it is a part of the
    /// night, and remembering it alone would make the other shards' findings look fixed. Its
    /// findings are still marked from the history; `contrail report merge --history` remembers
    /// the whole night.
    pub remember: bool,
}

impl Outputs {
    pub fn wanted(&self) -> bool {
        !self.reports.is_empty() || self.summary.is_some() || self.history.is_some()
    }
}

/// A report path that cannot be written (a folder that is a file, no permission) is the
/// user's to fix, found before any scenario runs; the report itself is written at the end,
/// atomically.
pub fn writable(p: &Path) -> Result<(), String> {
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .map(drop)
        .map_err(|e| format!("cannot write {}: {e}", p.display()))
}

pub fn outputs(ws: &Workspace, opts: &RunOptions) -> Result<Outputs, String> {
    let mut reports = Vec::new();
    for p in &opts.reports {
        let f = format_of(p)?;
        writable(p)?;
        reports.push((p.clone(), f));
    }
    if let Some(s) = &opts.summary {
        writable(s)?;
    }
    let history = opts
        .history
        .clone()
        .or_else(|| ws.config.history.path.as_ref().map(|p| ws.root.join(p)));
    Ok(Outputs {
        reports,
        summary: opts.summary.clone(),
        history,
        flaky_window: ws.config.history.flaky_window.unwrap_or(crate::history::FLAKY_WINDOW),
        quiet: opts.quiet,
        remember: opts.shard.is_none(),
    })
}

/// The report of a finished (or failed-to-start) run.
pub(crate) fn build(
    ws: &Workspace,
    command: &str,
    opts: &RunOptions,
    done: &Done,
    drift: Option<crate::drift::report::Report>,
) -> Report {
    let target = match done.target.or(opts.target) {
        Some(Target::Live) => "live",
        Some(Target::Record) => "record",
        Some(Target::Replay) => "replay",
        None => "unknown",
    };
    let scenarios = done
        .scenarios
        .iter()
        .map(|o| {
            let (id, partners) = match done.reach.get(&(o.uri.clone(), o.scenario.line)) {
                Some(sc) => (sc.id.clone(), sc.reach.partners.iter().cloned().collect()),
                None => (format!("{}: {}", o.feature.name, o.scenario.name), Vec::new()),
            };
            report::scenario_row(o, id, partners)
        })
        .collect();
    let mut partners: BTreeMap<String, report::PartnerInfo> = done.partners.clone();
    for (p, url) in &done.live_urls {
        if let Some(info) = partners.get_mut(p) {
            info.live_url = Some(crate::recording::safe_target(url));
        }
    }
    let started = done.started;
    let finished = std::time::SystemTime::now();
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    };
    let mut facts_steps = 0;
    for o in &done.scenarios {
        facts_steps += o.steps.len();
    }
    let mut r = Report::build(Facts {
        command: command.to_string(),
        meta: Meta {
            generated_at: crate::clock::format_unix(secs(finished), None),
            started_at: crate::clock::format_unix(secs(started), None),
            duration_ms: finished.duration_since(started).unwrap_or_default().as_millis() as u64,
            contrail_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: crate::provenance::git_commit(&ws.root),
            target: target.to_string(),
            shard: opts.shard.map(|(i, n)| format!("{i}/{n}")),
            shard_plan: done.plan.as_ref().map(|p| p.hash.clone()),
            shard_total: done.plan.as_ref().map(|p| p.total),
            merged_from: Vec::new(),
            partner: opts.partner.clone(),
        },
        strict: opts.strict,
        exit_code: done.exit.code(),
        error: done.error.clone(),
        contracts: done.contracts.clone(),
        partners,
        scenarios,
        drift,
    });
    r.counts.steps = facts_steps;
    r
}

/// Adds the history, writes every file asked for, then stores the run. Problems are said and
/// returned; the files that could be written are.
pub fn finish(report: &mut Report, out: &Outputs) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut history = match &out.history {
        Some(path) => match crate::history::History::open(path) {
            Ok(h) => Some(h),
            Err(e) => {
                problems.push(e);
                None
            }
        },
        None => None,
    };
    if let Some(h) = &history
        && let Err(e) = h.annotate(report, out.flaky_window)
    {
        problems.push(e);
    }
    let masked = |text: String| crate::secrets::mask_text(&text, crate::secrets::MASK).into_owned();
    for (path, format) in &out.reports {
        let text = masked(match format {
            Format::Json => report.to_json(),
            Format::Markdown => report::markdown::render(report),
            Format::Html => report::html::render(report),
        });
        match crate::recording::write_atomic(path, text.as_bytes()) {
            Ok(()) if !out.quiet => eprintln!("report written to {}", path.display()),
            Ok(()) => {}
            Err(e) => problems.push(format!("cannot write {}: {e}", path.display())),
        }
    }
    if let Some(path) = &out.summary {
        // $GITHUB_STEP_SUMMARY is appended to: other steps write there too.
        let text = masked(report::markdown::summary(report));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        if let Err(e) = written {
            problems.push(format!("cannot write the summary {}: {e}", path.display()));
        }
    }
    if let Some(h) = history.as_ref().filter(|_| !out.remember && !out.quiet) {
        eprintln!(
            "a shard's run is not added to the history {} (`contrail report merge --history` adds the whole run)",
            h.path().display()
        );
    }
    if let Some(h) = history.as_mut().filter(|_| out.remember) {
        match h.append(report) {
            Ok(_) if !out.quiet => eprintln!("run added to the history {}", h.path().display()),
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
