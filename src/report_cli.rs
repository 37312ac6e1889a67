//! `contrail report merge` and `contrail history`: the commands over stored run reports and
//! the history file, thin over `report` and `history`.

use std::path::PathBuf;

use crate::exit::Exit;
use crate::run::reporting::{Format, Outputs};
use crate::workspace::Workspace;

/// `contrail report merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[arg(long = "md", value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Append a short Markdown summary here (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Remember the merged run in this history file (default: [history] path).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// Merges the shards' JSON reports; exit as the whole run would have (the worst shard's class,
/// else the merged verdict).
pub fn merge(ws: &Workspace, args: MergeArgs) -> Exit {
    let mut parts = Vec::new();
    for p in &args.inputs {
        match crate::report::merge::read(p) {
            Ok(part) => parts.push(part),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput;
            }
        }
    }
    let mut report = match crate::report::merge::merge(parts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    let mut reports = Vec::new();
    for (path, format) in [
        (&args.json, Format::Json),
        (&args.markdown, Format::Markdown),
        (&args.html, Format::Html),
    ] {
        if let Some(p) = path {
            if let Err(e) = crate::run::reporting::writable(p) {
                eprintln!("error: {e}");
                return Exit::BadInput;
            }
            reports.push((p.clone(), format));
        }
    }
    let outputs = Outputs {
        reports,
        summary: args.summary,
        history: args
            .history
            .or_else(|| ws.config.history.path.as_ref().map(|p| ws.root.join(p))),
        flaky_window: ws.config.history.flaky_window.unwrap_or(crate::history::FLAKY_WINDOW),
        quiet: false,
        remember: true,
    };
    let mut failed_to_write = false;
    if let Err(e) = crate::run::reporting::finish(&mut report, &outputs) {
        eprintln!("error: {e}");
        failed_to_write = true;
    }
    if let Some(p) = &args.junit {
        let text = crate::secrets::mask_text(&crate::report::junit::render(&report), crate::secrets::MASK).into_owned();
        match crate::recording::write_atomic(p, text.as_bytes()) {
            Ok(()) => eprintln!("JUnit written to {}", p.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", p.display());
                failed_to_write = true;
            }
        }
    }
    println!("{}", report.headline());
    match report.exit_code {
        3 => Exit::Harness,
        2 => Exit::BadInput,
        _ if !report.unreachable.is_empty() => Exit::Harness,
        _ if failed_to_write => Exit::Harness,
        _ if report.verdict.fails() => Exit::Failed,
        _ => Exit::Passed,
    }
}

/// `contrail history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The history file (default: contrail.toml's [history] path).
    #[arg(long = "history", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Forget runs older than this (e.g. 90d) instead of listing.
    #[arg(long, value_name = "AGE")]
    pub prune_older_than: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Lists the last runs with a trend line, or prunes old ones.
pub fn history(ws: &Workspace, args: HistoryArgs) -> Exit {
    let Some(path) = args
        .file
        .or_else(|| ws.config.history.path.as_ref().map(|p| ws.root.join(p)))
    else {
        eprintln!("error: no history: pass --history FILE, or set [history] path in contrail.toml");
        return Exit::BadInput;
    };
    if !path.is_file() {
        eprintln!(
            "error: {} does not exist yet: runs with --history (or [history] path) make it",
            path.display()
        );
        return Exit::BadInput;
    }
    let mut h = match crate::history::History::open(&path) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    if let Some(age) = &args.prune_older_than {
        let age = match humantime::parse_duration(age) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: --prune-older-than {age:?}: {e} (e.g. 90d, 12w)");
                return Exit::BadInput;
            }
        };
        let cutoff = std::time::SystemTime::now()
            .checked_sub(age)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| crate::clock::format_unix(d.as_secs() as i64, None))
            .unwrap_or_default();
        return match h.prune_before(&cutoff) {
            Ok(n) => {
                println!("pruned {n} run(s) that started before {cutoff} from {}", path.display());
                Exit::Passed
            }
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Harness
            }
        };
    }
    let runs = match h.runs(args.limit) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Harness;
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs).unwrap_or_default());
        return Exit::Passed;
    }
    // What partners verified with their bundles, the latest per partner.
    let verified = h.verifications().unwrap_or_default();
    let verified_lines = || {
        if !verified.is_empty() {
            println!("\npartner verifications (latest each):");
            for v in &verified {
                println!("  {}", v.headline());
            }
        }
    };
    if runs.is_empty() {
        println!("{} holds no runs yet", path.display());
        verified_lines();
        return Exit::Passed;
    }
    println!(
        "{:<20}  {:<6} {:<7} {:<21} {:>9} {:>6} {:>8} {:>10} {:>11} {:>8}  commit",
        "started", "cmd", "target", "verdict", "scenarios", "failed", "breaking", "compatible", "unreachable", "took"
    );
    for r in &runs {
        println!(
            "{:<20}  {:<6} {:<7} {:<21} {:>9} {:>6} {:>8} {:>10} {:>11} {:>7.1}s  {}",
            r.started_at,
            r.command,
            r.target,
            crate::history::verdict_label(&r.verdict),
            r.scenarios,
            r.failed,
            r.breaking,
            r.compatible,
            r.unreachable,
            r.duration_ms as f64 / 1000.0,
            r.git_commit.as_deref().map(|c| &c[..c.len().min(10)]).unwrap_or("-")
        );
    }
    // Oldest to newest, one mark per run: what a glance at the last nights should tell.
    let trend: String = runs
        .iter()
        .rev()
        .map(|r| match r.verdict.as_str() {
            "passed" => '.',
            "compatible" => 'c',
            "failed" => 'F',
            "breaking" => 'B',
            "unreachable" => 'U',
            _ => 'E',
        })
        .collect();
    println!(
        "\ntrend, oldest to newest: {trend}   (. passed, c compatible, F failed, B breaking, U unreachable, E error)"
    );
    verified_lines();
    Exit::Passed
}
