//! `contrail verify`: a partner runs the bundle a consumer gave them against their own API,
//! with their own credentials, and gets the consumer's verdict without the consumer's
//! repository. The bundle is checked (`bundle::archive`), unpacked into a temporary
//! workspace, and run as `contrail drift` runs: the bundled scenarios live, each recorded
//! interaction they send compared with the live answer by the contract and its policy. What
//! comes out is the usual run report and a verification result (`result`) the consumer can
//! import (`contrail verify --import`).

// The result is a report's data (the history stores it): it lives in report/, below run/.
pub use crate::report::verification as result;

use std::path::{Path, PathBuf};

use crate::exit::Exit;
use crate::run::{RunOptions, Target};
use result::VerificationResult;

pub struct Options {
    pub bundle: PathBuf,
    pub base_url: url::Url,
    /// Where the partner sets up the states scenarios ask for (`the partner is in state ...`);
    /// without it those scenarios are reported as needing state setup, not failed.
    pub state_setup: Option<url::Url>,
    /// The verification result (default: `verification-PARTNER.json`).
    pub result: Option<PathBuf>,
    pub reports: Vec<PathBuf>,
    pub junit: Option<PathBuf>,
    pub color: cucumber::writer::Coloring,
    pub quiet: bool,
    pub verbose: u8,
    /// Generated requests per operation the bundle uses (0: no generated conformance).
    pub conform_examples: u32,
    pub seed: Option<u64>,
}

pub async fn verify(o: Options) -> Exit {
    let bundle = match crate::bundle::archive::read(&o.bundle) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    let partner = bundle.manifest.partner.clone();
    let missing: Vec<&str> = bundle
        .manifest
        .credentials
        .iter()
        .map(String::as_str)
        .filter(|n| std::env::var_os(n).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: {} not set: the scenarios that need them will fail (set them to your sandbox's credentials; \
             they are read, never stored)",
            missing.join(", ")
        );
    }
    let dir = match tempfile::Builder::new().prefix("contrail-verify-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot make a temporary folder: {e}");
            return Exit::Harness;
        }
    };
    if let Err(e) = bundle.unpack(dir.path()) {
        eprintln!("error: {e}");
        return Exit::Harness;
    }
    let ws = match crate::workspace::Workspace::load(&dir.path().join("contrail.toml")) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: the bundle's contrail.toml: {e}");
            return Exit::BadInput;
        }
    };
    let api_version = api_version(&bundle);
    if !o.quiet {
        eprintln!(
            "verifying bundle {} for {partner:?} from {} against {}",
            &bundle.sha256[..12],
            bundle.manifest.consumer.name,
            safe(&o.base_url)
        );
    }
    let result_path = o
        .result
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("verification-{partner}.json")));
    if let Err(e) = crate::run::reporting::writable(&result_path) {
        eprintln!("error: {e}");
        return Exit::BadInput;
    }
    let run = RunOptions {
        paths: Vec::new(),
        tags: None,
        name: None,
        partner: Some(partner.clone()),
        jobs: None,
        fail_fast: false,
        target: Some(Target::Live),
        record_missing: false,
        base_urls: vec![(partner.clone(), o.base_url.to_string())],
        junit: o.junit.clone(),
        cucumber_json: None,
        messages: None,
        dry_run: false,
        strict: true,
        color: o.color,
        verbose: o.verbose,
        quiet: o.quiet,
        resend: true,
        state_setup: o.state_setup.iter().map(|u| (partner.clone(), u.clone())).collect(),
        reports: o.reports.clone(),
        summary: None,
        history: None,
        shard: None,
    };
    let opts = crate::run::drift::DriftOptions {
        run,
        accept: false,
        fail_stale: None,
        command: "verify",
    };
    let ws_again = ws.clone();
    let (mut exit, report) = crate::run::drift::judged(ws, opts).await;
    let Some(report) = report else { return exit };
    let conformance = if o.conform_examples > 0 && exit != Exit::BadInput {
        conformance(&ws_again, &o, &partner).await
    } else {
        None
    };
    if let Some((c, conform_exit)) = &conformance {
        if !o.quiet || !c.findings.is_empty() {
            eprintln!(
                "generated conformance of {} operation(s): {} request(s), {} finding(s)",
                c.operations.len(),
                c.requests,
                c.findings.len()
            );
        }
        // The worse of the two: a harness failure, then a failure.
        exit = match (exit, *conform_exit) {
            (Exit::Harness, _) | (_, Exit::Harness) => Exit::Harness,
            (Exit::Passed, e) => e,
            (e, _) => e,
        };
    }
    let mut result = VerificationResult::new(result::Facts {
        manifest: &bundle.manifest,
        bundle_sha256: &bundle.sha256,
        target: &o.base_url,
        api_version,
        report: &report,
        exit_code: i32::from(exit.code()),
    });
    result.conformance = conformance.map(|(c, _)| c);
    let json = serde_json::to_string_pretty(&result).unwrap_or_default();
    let masked = crate::secrets::mask_text(&json, crate::secrets::MASK);
    match crate::recording::write_atomic(&result_path, masked.as_bytes()) {
        Ok(()) => eprintln!(
            "{}\nverification result written to {} (send it to {}; they import it with `contrail verify --import`)",
            result.headline(),
            result_path.display(),
            bundle.manifest.consumer.name
        ),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", result_path.display());
            return if exit == Exit::Passed { Exit::Harness } else { exit };
        }
    }
    exit
}

/// Generated conformance of every operation the bundle's recordings use.
async fn conformance(
    ws: &crate::workspace::Workspace,
    o: &Options,
    partner: &str,
) -> Option<(result::Conformance, Exit)> {
    let (recordings, _) = crate::recording::load_dir(&ws.recordings_dir().join(partner));
    let operations: Vec<String> = recordings
        .iter()
        .filter_map(|(_, i)| i.meta.operation.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if operations.is_empty() {
        return None;
    }
    let options = crate::conform::Options {
        partner: partner.to_string(),
        operations: operations.clone(),
        max_examples: o.conform_examples,
        seed: o.seed,
        base_url: Some(o.base_url.clone()),
    };
    match crate::conform::check(ws, &options).await {
        Ok(outcome) => {
            crate::conform::print_findings(&outcome.findings);
            let exit = if outcome.unreachable.is_some() {
                Exit::Harness
            } else if outcome.findings.is_empty() {
                Exit::Passed
            } else {
                Exit::Failed
            };
            if let Some(why) = &outcome.unreachable {
                eprintln!("error: generated conformance stopped: the sandbox did not answer: {why}");
            }
            Some((
                result::Conformance {
                    operations,
                    requests: outcome.sent,
                    seed: outcome.seed,
                    busiest_second: outcome.busiest,
                    rate_limit: outcome.limit.clone(),
                    findings: outcome
                        .findings
                        .iter()
                        .map(|f| result::ConformanceFinding {
                            operation: f.operation.clone(),
                            kind: f.kind.to_string(),
                            message: f.message.clone(),
                            curl: f.curl.clone(),
                        })
                        .collect(),
                },
                exit,
            ))
        }
        Err((exit, e)) => {
            eprintln!("error: generated conformance: {e}");
            Some((
                result::Conformance {
                    operations,
                    requests: 0,
                    seed: o.seed.unwrap_or_default(),
                    busiest_second: 0,
                    rate_limit: None,
                    findings: Vec::new(),
                },
                exit,
            ))
        }
    }
}

/// `contrail verify --import FILE` in the consumer's workspace: says what the partner
/// verified, and remembers it in the history when there is one.
pub fn import(ws: &crate::workspace::Workspace, file: &Path, history: Option<PathBuf>) -> Exit {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Exit::BadInput;
        }
    };
    let result = match VerificationResult::parse(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return Exit::BadInput;
        }
    };
    println!("{}", result.headline());
    for f in &result.findings {
        println!(
            "  {} {} {}: {}",
            f.class,
            f.operation.as_deref().unwrap_or("-"),
            f.place,
            f.message
        );
    }
    for s in result.scenarios.iter().filter(|s| s.status != "passed") {
        println!("  {} {}", s.status, s.scenario);
    }
    let history = history.or_else(|| ws.config.history.path.as_ref().map(|p| ws.root.join(p)));
    match history {
        None => println!("(no history: pass --history FILE or set [history] path to remember it)"),
        Some(path) => match crate::history::History::open(&path).and_then(|mut h| h.add_verification(&result)) {
            Ok(true) => println!("remembered in {}", path.display()),
            Ok(false) => println!("{} already holds this result", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Harness;
            }
        },
    }
    Exit::Passed
}

/// The partner's API version, from `info.version` of its OpenAPI document in the bundle: read
/// from the bundle's files in memory (the contract names the document), without loading and
/// compiling the contracts a third time (the drift run and conformance load them).
fn api_version(bundle: &crate::bundle::archive::Bundle) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Partner {
        openapi: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Contract {
        #[serde(default)]
        partners: std::collections::BTreeMap<String, Partner>,
    }
    #[derive(serde::Deserialize)]
    struct Info {
        version: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct Spec {
        info: Option<Info>,
    }
    let partner = &bundle.manifest.partner;
    bundle.manifest.contracts.iter().find_map(|c| {
        let text = std::str::from_utf8(bundle.files.get(&c.file)?).ok()?;
        let contract: Contract = crate::yaml::from_yaml(Path::new(&c.file), text).ok()?;
        let spec = contract.partners.get(partner)?.openapi.clone()?;
        // As the bundle names its files: relative to the contract's folder, `.` and `..` resolved.
        let mut parts: Vec<&str> = c.file.split('/').collect();
        parts.pop();
        for part in spec.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        let file = parts.join("/");
        let text = std::str::from_utf8(bundle.files.get(&file)?).ok()?;
        let doc: Spec = crate::yaml::from_document(Path::new(&file), text).ok()?;
        match doc.info?.version? {
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    })
}

/// A URL as printed: scheme, host and port only.
fn safe(u: &url::Url) -> String {
    crate::recording::safe_target(u.as_str())
}
