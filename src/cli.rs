//! The command line: argument parsing and dispatch, nothing else.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::exit::Exit;
use crate::run::{RunOptions, Target};
use crate::workspace::Workspace;

#[derive(Debug, Parser)]
#[command(
    name = "contrail",
    version,
    about = "Executable integration contracts for SaaS integrations",
    propagate_version = true
)]
pub struct Cli {
    /// Where to look for contrail.toml (searched upward from here; default: the current folder).
    #[arg(long, short = 'C', global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run feature files against a target.
    Run(RunArgs),
    /// Check features, declarative steps and contracts without running anything.
    Lint {
        /// Feature files or folders (default: the workspace's features folder).
        paths: Vec<PathBuf>,
        /// Accept what the secret scan flags at this JSON pointer of a recording (a false
        /// positive); repeatable.
        #[arg(long = "allow-secret", value_name = "POINTER")]
        allow_secret: Vec<String>,
        /// Also list recordings made for steps their scenario no longer has, and recordings
        /// of scenarios that are gone (exit 2 when there is any).
        #[arg(long)]
        stale: bool,
        /// Warnings (what loads but is likely wrong) fail too, with exit 2.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Serve a partner's recordings on 127.0.0.1 (or record them from a live URL) until stopped.
    Mock {
        /// The partner, as the contracts name it.
        partner: String,
        /// Port on 127.0.0.1 (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Record from this live base URL instead of replaying.
        #[arg(long, value_name = "URL")]
        record_from: Option<url::Url>,
        /// Replay what is recorded and record the rest from this live base URL.
        #[arg(long, value_name = "URL", conflicts_with = "record_from")]
        record_missing_from: Option<url::Url>,
        /// Requests the journal keeps, oldest dropped first (default: contrail.toml's
        /// [mock] journal_cap, else 10000). The admin API under /__contrail/ reads it.
        #[arg(long, value_name = "N")]
        journal_cap: Option<usize>,
        /// Play the partner for requests nothing recorded: an OAuth server, token, scope and
        /// rate-limit checks, and answers made from the contract.
        #[arg(long)]
        simulate: bool,
        /// Require `Authorization: Bearer TOKEN` on the admin API under /__contrail/.
        #[arg(long, value_name = "TOKEN", env = "CONTRAIL_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Serve HTTPS with this certificate (PEM chain) ...
        #[arg(
            long,
            value_name = "PEM",
            requires = "tls_key",
            conflicts_with = "tls_generate",
            group = "https"
        )]
        tls_cert: Option<PathBuf>,
        /// ... and this key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve HTTPS with a certificate generated now for 127.0.0.1, ::1 and localhost,
        /// signed by a throwaway CA whose certificate is written for clients to trust.
        #[arg(long, group = "https")]
        tls_generate: bool,
        /// Write the generated certificate's CA here (default: a temporary file, printed).
        #[arg(long, value_name = "FILE", requires = "tls_generate")]
        tls_ca_out: Option<PathBuf>,
        /// Require client certificates signed by this CA (mutual TLS).
        #[arg(long, value_name = "PEM", requires = "https")]
        tls_client_ca: Option<PathBuf>,
    },
    /// Run the features against the live sandboxes and report where live answers no longer
    /// match the recordings or the contract (exit 1 on breaking drift).
    Drift(DriftArgs),
    /// Work with run reports: merge the shards' JSON reports into one.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The runs the history remembers, newest first, with a trend; or prune old ones.
    History(crate::report_cli::HistoryArgs),
    /// Make one file that a partner runs against their own API (`contrail verify`): what this
    /// integration relies on from them and nothing else; or list what a bundle holds.
    Bundle(BundleArgs),
    /// Run a bundle a consumer gave you against your own API, with your own credentials (as
    /// the environment variables the bundle names); writes a verification result to send
    /// back. In the consumer's workspace, `--import RESULT` reads one.
    Verify(VerifyArgs),
    /// Start a workspace: a blank one whose example runs green against contrail's own mock,
    /// or one from a partner's OpenAPI document (auth from its security schemes, smoke
    /// features per tag).
    Init(InitArgs),
    /// Generated conformance of a partner's live API to its contract: valid requests made from
    /// the schemas (no 5xx, a declared status, an answer that matches), each accepted one broken
    /// one rule at a time (must be refused), and tokens without the needed scopes (must be
    /// refused). Failures are shrunk and printed as curl and as a scenario.
    Conform(ConformArgs),
    /// Turn traffic you already have into recordings of a partner.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the step vocabulary (built-in and declarative) the runner understands.
    Steps {
        /// Machine-readable output.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Markdown (docs/steps.md is this with --builtin).
        #[arg(long)]
        markdown: bool,
        /// Only the built-in steps, not the workspace's declarative ones.
        #[arg(long)]
        builtin: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    /// The partner the bundle is for.
    #[arg(long, short = 'p', required_unless_present = "list")]
    pub partner: Option<String>,
    /// Where to write it (default: PARTNER.contrail).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The consumer's name in the manifest (default: the workspace folder's name).
    #[arg(long, value_name = "NAME")]
    pub consumer: Option<String>,
    /// Accept what the secret scan flags at this JSON pointer of a recording (a false
    /// positive); repeatable.
    #[arg(long = "allow-secret", value_name = "POINTER")]
    pub allow_secret: Vec<String>,
    /// Show what a bundle holds (its manifest and files, checked against their hashes).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["partner", "out", "consumer", "allow_secret"])]
    pub list: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A HAR 1.2 file (browser developer tools, mitmproxy, Charles, ...): its requests to the
    /// partner become recordings, redacted by the contract's policy and matched to its
    /// operations.
    Har {
        file: PathBuf,
        /// The partner the traffic went to.
        #[arg(long, short = 'p')]
        partner: String,
        /// Only requests under this URL (default: the partner's live URL in contrail.toml,
        /// else the one origin all the file's requests share).
        #[arg(long, value_name = "URL")]
        base_url: Option<url::Url>,
        /// Give the recordings to this scenario (`Feature name: Scenario name`); by default any
        /// scenario may replay them.
        #[arg(long, value_name = "ID")]
        scenario: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ConformArgs {
    /// The partner whose API is checked.
    #[arg(long, short = 'p')]
    pub partner: String,
    /// Only this operation (repeatable; default: all of the partner's).
    #[arg(long = "operation", value_name = "ID")]
    pub operations: Vec<String>,
    /// Valid requests generated per operation.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_examples: u32,
    /// The seed of the generated requests (printed by every run; the same seed repeats it).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The partner's sandbox (default: its live URL in contrail.toml).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<url::Url>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where (default: the current folder).
    pub dir: Option<PathBuf>,
    /// Start from this OpenAPI 3.0/3.1 document (YAML or JSON); it is copied into the
    /// workspace.
    #[arg(long, value_name = "SPEC", requires = "partner")]
    pub from_openapi: Option<PathBuf>,
    /// The partner's name in the contract (with --from-openapi).
    #[arg(long, requires = "from_openapi")]
    pub partner: Option<String>,
    /// The partner's sandbox (default: the document's first absolute server URL).
    #[arg(long, value_name = "URL", requires = "from_openapi")]
    pub base_url: Option<url::Url>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle (`contrail bundle --out`).
    #[arg(required_unless_present = "import")]
    pub bundle: Option<PathBuf>,
    /// Your API's base URL (a sandbox, never production: the scenarios create data).
    #[arg(long, value_name = "URL", required_unless_present = "import")]
    pub base_url: Option<url::Url>,
    /// Your endpoint that puts your sandbox in a named state (POSTed `{"state": ..., "params":
    /// {...}, "action": "setup"}`, as Pact's provider states); without it, scenarios that ask
    /// for a state are reported as needing state setup, not failed.
    #[arg(long, value_name = "URL")]
    pub state_setup_url: Option<url::Url>,
    /// Write the verification result here (default: verification-PARTNER.json).
    #[arg(long, value_name = "FILE")]
    pub result: Option<PathBuf>,
    /// Also write the run report here; the format follows the extension (.json, .md, .html).
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Colours in the terminal output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Only what did not pass, the findings and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Generated requests per operation the bundle uses, for generated conformance (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub conform_examples: u32,
    /// The seed of the generated requests (printed; the same seed repeats them).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// In the consumer's workspace: read a partner's verification result, say what it
    /// verified, and remember it in the history.
    #[arg(long, value_name = "RESULT", conflicts_with_all = ["bundle", "base_url", "state_setup_url", "result", "report", "junit"])]
    pub import: Option<PathBuf>,
    /// The history to remember an imported result in (default: contrail.toml's [history] path).
    #[arg(long, value_name = "FILE", requires = "import")]
    pub history: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// One report from the shards' `--report X.json` files (exit as the whole run would).
    Merge(crate::report_cli::MergeArgs),
}

/// Which scenarios run and how the run reads: shared by `run` and `drift`.
#[derive(Debug, clap::Args)]
pub struct Scenarios {
    /// Feature files or folders (default: the workspace's features folder).
    pub paths: Vec<PathBuf>,
    /// Only scenarios whose tags satisfy this expression, e.g. "@smoke and not @slow".
    #[arg(long, short = 't')]
    pub tags: Option<String>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    /// Only scenarios that reach this partner (their steps name it or its operations, or its
    /// recordings were made by them); drift compares only its recordings.
    #[arg(long, short = 'p')]
    pub partner: Option<String>,
    /// How many scenarios run at once (scenarios tagged @serial or @sut run alone).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Override a partner's base URL: --base-url ticketing=http://127.0.0.1:8080 (repeatable).
    #[arg(long = "base-url", value_name = "PARTNER=URL", value_parser = parse_base_url)]
    pub base_urls: Vec<(String, String)>,
    /// Colours in the terminal output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// More output (-v: the World of failed scenarios; for drift, unchanged interactions too).
    #[arg(long, short = 'v', action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// For CI logs: print only the scenarios that did not pass, the findings and the summary
    /// (no progress bar or progress lines, no set-up lines).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the run report here; the format follows the extension: .json (for tools and
    /// `contrail report merge`), .md or .html (repeatable). Written whatever the verdict.
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,
    /// Append a short Markdown summary here (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Remember this run in this SQLite file (default: contrail.toml's [history] path), and
    /// say per finding whether it is new, still present or fixed.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Run only this machine's slice of the scenarios: I of N (e.g. 2/3), balanced by partner
    /// and by the durations the history knows.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenarios: Scenarios,
    /// Stop starting scenarios after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// What the scenarios talk to (default: replay when recordings/ holds recordings, else live).
    #[arg(long, value_enum)]
    pub target: Option<Target>,
    /// With --target replay: replay what is recorded, record what is not from the live sandbox.
    #[arg(long)]
    pub record_missing: bool,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Cucumber JSON report here.
    #[arg(long, value_name = "FILE")]
    pub cucumber_json: Option<PathBuf>,
    /// Also write Cucumber Messages (NDJSON) here, for Cucumber's HTML formatter and report
    /// services.
    #[arg(long, value_name = "FILE")]
    pub messages: Option<PathBuf>,
    /// Parse, expand outlines, resolve every step and list the scenarios that would run, with
    /// undefined and ambiguous steps shown; starts nothing and sends nothing (exit 1 when a
    /// step is undefined or ambiguous).
    #[arg(long)]
    pub dry_run: bool,
    /// A pending step (`this scenario is pending "..."`) fails the run (the default, as in
    /// Cucumber).
    #[arg(long, overrides_with = "no_strict")]
    pub strict: bool,
    /// A pending step is reported but does not fail the run.
    #[arg(long, overrides_with = "strict")]
    pub no_strict: bool,
}

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub scenarios: Scenarios,
    /// Re-record the drifted interactions: keep the recorded request, store the live answer.
    #[arg(long)]
    pub accept: bool,
    /// Fail when a recording is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub fail_stale: Option<u64>,
}

impl Scenarios {
    fn options(self, target: Option<Target>) -> RunOptions {
        RunOptions {
            paths: self.paths,
            tags: self.tags,
            name: self.name,
            partner: self.partner,
            jobs: self.jobs,
            fail_fast: false,
            target,
            record_missing: false,
            base_urls: self.base_urls,
            junit: None,
            cucumber_json: None,
            messages: None,
            dry_run: false,
            strict: true,
            color: self.color.coloring(),
            verbose: self.verbose,
            quiet: self.quiet,
            resend: false,
            state_setup: Default::default(),
            reports: self.report,
            summary: self.summary,
            history: self.history,
            shard: self.shard,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    fn coloring(self) -> cucumber::writer::Coloring {
        match self {
            Color::Auto => cucumber::writer::Coloring::Auto,
            Color::Always => cucumber::writer::Coloring::Always,
            Color::Never => cucumber::writer::Coloring::Never,
        }
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, e.g. 2/3")?;
    let i: usize = i.trim().parse().map_err(|_| format!("{i:?} is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("{n:?} is not a number"))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i} of {n}: I counts from 1 to N"));
    }
    Ok((i, n))
}

fn parse_base_url(s: &str) -> Result<(String, String), String> {
    let (p, u) = s.split_once('=').ok_or("expected PARTNER=URL")?;
    // Credentials in it are refused later (`run::refuse_userinfo`), since clap would print
    // the whole value with its error.
    url::Url::parse(u).map_err(|e| format!("not a URL: {e}"))?;
    Ok((p.to_string(), u.to_string()))
}

pub fn main() -> Exit {
    crate::panics::inject("cli");
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::BadInput } else { Exit::Passed };
        }
    };
    // Starting a workspace needs none.
    if let Command::Init(args) = &cli.command {
        let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        return match (&args.from_openapi, &args.partner) {
            (Some(spec), Some(partner)) => crate::init::from_openapi(
                &dir,
                &crate::init::FromOpenApi {
                    spec: spec.clone(),
                    partner: partner.clone(),
                    base_url: args.base_url.clone(),
                },
            ),
            _ => crate::init::blank(&dir),
        };
    }
    // Reading or verifying a bundle needs no workspace: a partner has none.
    if let Command::Bundle(BundleArgs { list: Some(file), .. }) = &cli.command {
        return crate::bundle::list(file);
    }
    if let Command::Verify(args) = &cli.command
        && args.import.is_none()
    {
        let (Some(bundle), Some(base_url)) = (args.bundle.clone(), args.base_url.clone()) else {
            eprintln!("error: contrail verify needs a bundle and --base-url");
            return Exit::BadInput;
        };
        let options = crate::verify::Options {
            bundle,
            base_url,
            state_setup: args.state_setup_url.clone(),
            result: args.result.clone(),
            reports: args.report.clone(),
            junit: args.junit.clone(),
            color: args.color.coloring(),
            quiet: args.quiet,
            verbose: 0,
            conform_examples: args.conform_examples,
            seed: args.seed,
        };
        let Some(runtime) = runtime() else { return Exit::Harness };
        return runtime.block_on(async {
            crate::run::processes::on_signal_stop_all();
            crate::verify::verify(options).await
        });
    }
    let start = match cli.workspace.clone().map(Ok).unwrap_or_else(std::env::current_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read the current folder: {e}");
            return Exit::BadInput;
        }
    };
    let ws = match Workspace::discover(&start) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            return Exit::BadInput;
        }
    };
    match cli.command {
        Command::Lint {
            paths,
            allow_secret,
            stale,
            deny_warnings,
        } => crate::lint::lint(&ws, &paths, &allow_secret, stale, deny_warnings),
        Command::Report(ReportCommand::Merge(args)) => crate::report_cli::merge(&ws, args),
        Command::History(args) => crate::report_cli::history(&ws, args),
        Command::Init(_) => Exit::BadInput,
        Command::Conform(args) => {
            let Some(runtime) = runtime() else { return Exit::Harness };
            runtime.block_on(crate::conform::conform(
                ws,
                crate::conform::Options {
                    partner: args.partner,
                    operations: args.operations,
                    max_examples: args.max_examples,
                    seed: args.seed,
                    base_url: args.base_url,
                },
            ))
        }
        Command::Import(ImportCommand::Har {
            file,
            partner,
            base_url,
            scenario,
        }) => crate::import::har_file(
            &ws,
            &file,
            &crate::import::HarOptions {
                partner,
                base_url,
                scenario,
            },
        ),
        Command::Verify(args) => match args.import {
            Some(file) => crate::verify::import(&ws, &file, args.history),
            None => Exit::BadInput,
        },
        Command::Bundle(args) => {
            let partner = args.partner.unwrap_or_default();
            let out = args.out.unwrap_or_else(|| PathBuf::from(format!("{partner}.contrail")));
            let options = crate::bundle::build::Options {
                partner,
                consumer: args.consumer,
                allow_secrets: args.allow_secret,
            };
            crate::bundle::make(&ws, &options, &out)
        }
        Command::Steps {
            json,
            markdown,
            builtin,
        } => {
            let format = if json {
                crate::vocabulary::Format::Json
            } else if markdown {
                crate::vocabulary::Format::Markdown
            } else {
                crate::vocabulary::Format::Text
            };
            crate::vocabulary::print(&ws, format, builtin)
        }
        Command::Mock {
            partner,
            port,
            record_from,
            record_missing_from,
            journal_cap,
            simulate,
            admin_token,
            tls_cert,
            tls_key,
            tls_generate,
            tls_ca_out,
            tls_client_ca,
        } => {
            let Some(runtime) = runtime() else { return Exit::Harness };
            let mode = match (record_from, record_missing_from) {
                (Some(upstream), _) => crate::server::Mode::Record { upstream },
                (None, Some(upstream)) => crate::server::Mode::ReplayOrRecord { upstream },
                (None, None) => crate::server::Mode::Replay,
            };
            let served = runtime.block_on(crate::server::serve_until_stopped(
                &ws,
                crate::server::MockOptions {
                    partner,
                    port,
                    mode,
                    journal_cap,
                    simulate,
                    admin_token,
                    tls: match (tls_cert.zip(tls_key), tls_generate) {
                        (Some((cert, key)), _) => Some(crate::server::tls::ServeTls::Given {
                            cert,
                            key,
                            ca: None,
                            client_ca: tls_client_ca,
                        }),
                        (None, true) => Some(crate::server::tls::ServeTls::Generated {
                            client_ca: tls_client_ca,
                        }),
                        (None, false) => None,
                    },
                    ca_out: tls_ca_out,
                },
            ));
            match served {
                Ok(()) => Exit::Passed,
                Err(e) => {
                    eprintln!("{e}");
                    match e {
                        crate::server::ServeError::BadInput(_) => Exit::BadInput,
                        crate::server::ServeError::Harness(_) => Exit::Harness,
                    }
                }
            }
        }
        Command::Run(args) => {
            let Some(runtime) = runtime() else { return Exit::Harness };
            let opts = RunOptions {
                fail_fast: args.fail_fast,
                record_missing: args.record_missing,
                junit: args.junit,
                cucumber_json: args.cucumber_json,
                messages: args.messages,
                dry_run: args.dry_run,
                strict: !args.no_strict,
                ..args.scenarios.options(args.target)
            };
            runtime.block_on(async {
                crate::run::processes::on_signal_stop_all();
                crate::run::run(ws, opts).await
            })
        }
        Command::Drift(args) => {
            let Some(runtime) = runtime() else { return Exit::Harness };
            let opts = crate::run::drift::DriftOptions {
                run: args.scenarios.options(Some(Target::Live)),
                accept: args.accept,
                fail_stale: args.fail_stale,
                command: "drift",
            };
            runtime.block_on(async {
                crate::run::processes::on_signal_stop_all();
                crate::run::drift::drift(ws, opts).await
            })
        }
    }
}
