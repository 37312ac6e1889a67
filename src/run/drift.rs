//! `contrail drift`: the features run against the live sandboxes through comparing proxies
//! (paced to the contracts' rate limits), then a report of where live no longer answers as
//! recorded. Exit 1 on breaking drift, a scenario failing against live, or (with
//! `--fail-stale`) an old recording; 0 otherwise; 2 and 3 as for `run`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{RunOptions, Target};
use crate::drift::{Session, report::Report};
use crate::exit::Exit;
use crate::workspace::Workspace;

#[derive(Debug, Clone)]
pub struct DriftOptions {
    /// The run; its `partner` limits both the scenarios and the comparison, its `reports`
    /// are the run report's files.
    pub run: RunOptions,
    pub accept: bool,
    pub fail_stale: Option<u64>,
    /// The command the report names: `drift`, or `verify` (a partner checking their own API,
    /// whose advice differs).
    pub command: &'static str,
}

pub async fn drift(ws: Workspace, opts: DriftOptions) -> Exit {
    judged(ws, opts).await.0
}

/// The drift run, its exit and its report (none when it could not start; `contrail verify`
/// turns the report into a verification result).
pub async fn judged(ws: Workspace, opts: DriftOptions) -> (Exit, Option<crate::report::Report>) {
    let outputs = match super::reporting::outputs(&ws, &opts.run) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return (Exit::BadInput, None);
        }
    };
    let recordings = ws.recordings_dir();
    let partners: Vec<PathBuf> = crate::workspace::subfolders(&recordings)
        .into_iter()
        .filter(|d| !crate::workspace::files_in(d, &["json"]).is_empty())
        .filter(|d| {
            opts.run
                .partner
                .as_deref()
                .is_none_or(|p| d.file_name().is_some_and(|n| n == p))
        })
        .collect();
    if partners.is_empty() {
        let root = crate::diag::display_path(&recordings, &ws.root);
        match &opts.run.partner {
            Some(p) => eprintln!(
                "error: no recordings of {p:?} under {} to compare with live; record them first with `contrail run --target record`",
                root.display()
            ),
            None => eprintln!(
                "error: {} holds no recordings to compare with live; record them first with `contrail run --target record`",
                root.display()
            ),
        }
        return (Exit::BadInput, None);
    }

    let mut stale = Vec::new();
    if let Some(days) = opts.fail_stale {
        for dir in &partners {
            let (items, errors) = crate::recording::load_dir(dir);
            if !errors.is_empty() {
                eprintln!("{errors}");
                return (Exit::BadInput, None);
            }
            stale.extend(crate::drift::stale(&items, days, std::time::SystemTime::now()));
        }
    }

    let verbose = opts.run.verbose > 0;
    let session = Arc::new(Session::new(opts.accept, opts.run.partner.clone(), true));
    // The partners' APIs drift, not the system under test: @sut scenarios are left out.
    let tags = match &opts.run.tags {
        Some(t) => format!("({t}) and not @{}", super::sut::TAG),
        None => format!("not @{}", super::sut::TAG),
    };
    let run = RunOptions {
        target: Some(Target::Live),
        record_missing: false,
        tags: Some(tags),
        ..opts.run
    };
    let root = ws.root.clone();
    let ws_for_report = ws.clone();
    let run_opts = run.clone();
    let done = super::execute(ws, run, Some(session.clone())).await;
    let drift = done.drift.is_some().then(|| {
        Report::new(
            session.outcome(),
            &root,
            done.live_urls.clone(),
            opts.fail_stale,
            stale,
            done.exit == Exit::Failed,
        )
    });
    // Reports are uploaded as CI artifacts: masked like everything contrail writes.
    if let Some(report) = &drift {
        print!(
            "{}",
            crate::secrets::mask_text(&report.terminal(verbose, true), crate::secrets::MASK)
        );
    }
    let mut report = super::reporting::build(&ws_for_report, opts.command, &run_opts, &done, drift);
    if let Err(e) = super::reporting::finish(&mut report, &outputs) {
        eprintln!("error: {e}");
        if report.verdict != crate::report::Verdict::Error {
            return (Exit::Harness, Some(report));
        }
    }
    eprintln!("\n{}", report.headline());
    // The run's own classes first (bad input, harness, a partner down); then the verdict.
    let exit = match done.exit {
        Exit::BadInput | Exit::Harness => done.exit,
        _ if !report.unreachable.is_empty() => Exit::Harness,
        _ if report.verdict.fails() => Exit::Failed,
        _ => Exit::Passed,
    };
    (exit, Some(report))
}
