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
    pub run: RunOptions,
    /// Only this partner's recordings are compared.
    pub partner: Option<String>,
    /// Where to write the report: `.json` or `.md` by extension.
    pub reports: Vec<PathBuf>,
    pub accept: bool,
    pub fail_stale: Option<u64>,
}

enum Format {
    Json,
    Markdown,
}

fn format_of(p: &std::path::Path) -> Result<Format, String> {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Ok(Format::Json),
        Some("md" | "markdown") => Ok(Format::Markdown),
        _ => Err(format!(
            "--report {}: the report format comes from the extension: .json or .md",
            p.display()
        )),
    }
}

pub async fn drift(ws: Workspace, opts: DriftOptions) -> Exit {
    let formats: Result<Vec<Format>, String> = opts.reports.iter().map(|p| format_of(p)).collect();
    let formats = match formats {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    let recordings = ws.recordings_dir();
    let partners: Vec<PathBuf> = crate::workspace::subfolders(&recordings)
        .into_iter()
        .filter(|d| !crate::workspace::files_in(d, &["json"]).is_empty())
        .filter(|d| {
            opts.partner
                .as_deref()
                .is_none_or(|p| d.file_name().is_some_and(|n| n == p))
        })
        .collect();
    if partners.is_empty() {
        let root = crate::diag::display_path(&recordings, &ws.root);
        match &opts.partner {
            Some(p) => eprintln!(
                "error: no recordings of {p:?} under {} to compare with live; record them first with `contrail run --target record`",
                root.display()
            ),
            None => eprintln!(
                "error: {} holds no recordings to compare with live; record them first with `contrail run --target record`",
                root.display()
            ),
        }
        return Exit::BadInput;
    }

    let mut stale = Vec::new();
    if let Some(days) = opts.fail_stale {
        for dir in &partners {
            let (items, errors) = crate::recording::load_dir(dir);
            if !errors.is_empty() {
                eprintln!("{errors}");
                return Exit::BadInput;
            }
            stale.extend(crate::drift::stale(&items, days, std::time::SystemTime::now()));
        }
    }

    let verbose = opts.run.verbose > 0;
    let session = Arc::new(Session::new(opts.accept, opts.partner.clone(), true));
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
    let done = super::execute(ws, run, Some(session.clone())).await;
    if matches!(done.exit, Exit::BadInput | Exit::Harness) {
        return done.exit;
    }
    let report = Report::new(
        session.outcome(),
        &root,
        done.live_urls,
        opts.fail_stale,
        stale,
        done.exit == Exit::Failed,
    );
    // Reports are uploaded as CI artifacts: masked like everything contrail writes.
    let masked = |text: String| crate::secrets::mask_text(&text, crate::secrets::MASK).into_owned();
    print!("{}", masked(report.terminal(verbose, true)));
    for (path, format) in opts.reports.iter().zip(formats) {
        let text = masked(match format {
            Format::Json => report.to_json(),
            Format::Markdown => report.markdown(),
        });
        if let Err(e) = crate::recording::write_atomic(path, text.as_bytes()) {
            eprintln!("error: {e}");
            return Exit::Harness;
        }
        println!("report written to {}", path.display());
    }
    if report.failed() { Exit::Failed } else { Exit::Passed }
}
