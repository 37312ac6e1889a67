//! `contrail run`: pre-flight checks, services, then the scenarios through cucumber, with the
//! terminal, JUnit and Cucumber JSON writers fed by the same events.

mod cucumber_glue;
pub mod drift;
mod dry_run;
mod error;
mod events;
pub mod processes;
mod progress;
pub mod reporting;
mod resend;
pub(crate) mod select;
pub mod services;
pub mod sut;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::client::HttpClient;
use crate::client::auth::TokenCache;
use crate::exit::Exit;
use crate::lint::{self, Loaded};
use crate::server::{self, MockServer};
use crate::steps::Suite;
use crate::workspace::Workspace;
pub use error::RunError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The partners' live sandboxes.
    Live,
    /// Recorded interactions served by contrail's mock server.
    Replay,
    /// Live, recording what is seen.
    Record,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub tags: Option<String>,
    pub name: Option<String>,
    /// Only scenarios that reach this partner (`run::select`).
    pub partner: Option<String>,
    pub jobs: Option<usize>,
    pub fail_fast: bool,
    /// None: replay when the workspace has recordings, live otherwise.
    pub target: Option<Target>,
    /// Replay what is recorded and record what is not (needs the live sandbox).
    pub record_missing: bool,
    pub base_urls: Vec<(String, String)>,
    pub junit: Option<PathBuf>,
    pub cucumber_json: Option<PathBuf>,
    pub messages: Option<PathBuf>,
    /// List what would run; start nothing.
    pub dry_run: bool,
    /// Pending steps fail the run (undefined and ambiguous ones always do).
    pub strict: bool,
    pub color: cucumber::writer::Coloring,
    pub verbose: u8,
    /// Only what failed and the summary: no passing scenarios, no progress, no chatter.
    pub quiet: bool,
    /// With drift: after the scenarios, send again the recordings none of them sent
    /// (`run::resend`; `contrail verify`).
    pub resend: bool,
    /// Partner -> the URL that sets up a named state on its side (`contrail verify`).
    pub state_setup: BTreeMap<String, Url>,
    /// Run reports, the format by extension (`.json`, `.md`, `.html`).
    pub reports: Vec<PathBuf>,
    /// A short Markdown summary, appended (for `$GITHUB_STEP_SUMMARY`).
    pub summary: Option<PathBuf>,
    /// The history file (else contrail.toml's `[history] path`).
    pub history: Option<PathBuf>,
    /// This machine's slice: (I, N), 1-based.
    pub shard: Option<(usize, usize)>,
}

/// What `contrail run` does with no flags: every scenario, replay when there are recordings,
/// strict (a pending step fails), colour when the terminal has it.
impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            paths: Vec::new(),
            tags: None,
            name: None,
            partner: None,
            jobs: None,
            fail_fast: false,
            target: None,
            record_missing: false,
            base_urls: Vec::new(),
            junit: None,
            cucumber_json: None,
            messages: None,
            dry_run: false,
            strict: true,
            color: cucumber::writer::Coloring::Auto,
            verbose: 0,
            quiet: false,
            resend: false,
            state_setup: BTreeMap::new(),
            reports: Vec::new(),
            summary: None,
            history: None,
            shard: None,
        }
    }
}

pub async fn run(ws: Workspace, opts: RunOptions) -> Exit {
    let outputs = match reporting::outputs(&ws, &opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    let root = ws.root.clone();
    let ws_for_report = ws.clone();
    let done = execute(ws, opts.clone(), None).await;
    // A live run over recorded partners says where live no longer answers as recorded; the
    // verdict stays the scenarios' (`contrail drift` is the command whose verdict is drift).
    let drift = done.drift.as_ref().map(|session| {
        crate::drift::report::Report::new(
            session.outcome(),
            &root,
            done.live_urls.clone(),
            None,
            Vec::new(),
            false,
        )
    });
    if let Some(report) = &drift {
        eprint!(
            "{}",
            crate::secrets::mask_text(&report.terminal(false, false), crate::secrets::MASK)
        );
    }
    if !outputs.wanted() {
        return done.exit;
    }
    let mut outputs = outputs;
    let command = if opts.dry_run {
        // A dry run is no night to remember.
        outputs.history = None;
        "run --dry-run"
    } else {
        "run"
    };
    let mut report = reporting::build(&ws_for_report, command, &opts, &done, drift);
    match reporting::finish(&mut report, &outputs) {
        Ok(()) => done.exit,
        Err(e) => {
            eprintln!("error: {e}");
            // The verdict stands; a report that could not be written is the harness's failure.
            if done.exit == Exit::Passed {
                Exit::Harness
            } else {
                done.exit
            }
        }
    }
}

/// What a run leaves behind for the command that started it.
pub(crate) struct Done {
    pub exit: Exit,
    /// Why the run stopped before its scenarios, when it did.
    pub error: Option<String>,
    /// The comparing proxies' findings, when the run compared live answers with recordings.
    pub drift: Option<Arc<crate::drift::Session>>,
    /// Partner -> the live base URL used (empty for replay).
    pub live_urls: BTreeMap<String, String>,
    pub target: Option<Target>,
    pub started: std::time::SystemTime,
    pub scenarios: Vec<crate::results::ScenarioOutcome>,
    /// (feature file as shown, line) -> the scenario's identity and the partners it reaches.
    pub reach: select::Reached,
    pub contracts: Vec<crate::report::ContractInfo>,
    pub partners: BTreeMap<String, crate::report::PartnerInfo>,
    /// `--shard`: the plan every shard shares.
    pub plan: Option<select::Plan>,
}

impl From<Exit> for Done {
    fn from(exit: Exit) -> Done {
        Done {
            exit,
            error: None,
            drift: None,
            live_urls: BTreeMap::new(),
            target: None,
            started: std::time::SystemTime::now(),
            scenarios: Vec::new(),
            reach: Default::default(),
            contracts: Vec::new(),
            partners: BTreeMap::new(),
            plan: None,
        }
    }
}

/// Runs the scenarios. `drift` makes every partner's traffic go through a comparing proxy
/// (`contrail drift`); without it, a live run over recorded partners compares anyway, unpaced.
pub(crate) async fn execute(ws: Workspace, opts: RunOptions, drift: Option<Arc<crate::drift::Session>>) -> Done {
    let mut started = Started::default();
    let began = std::time::SystemTime::now();
    let result = prepare_and_run(ws, opts, drift, &mut started).await;
    // One way down, whatever happened: the SUT first (it calls the mocks), then the mocks, then
    // the services.
    started.stop().await;
    match result {
        Ok(done) => done,
        Err(e) => {
            eprintln!("{e}");
            let mut done = Done::from(e.exit());
            done.error = Some(e.to_string());
            done.started = began;
            done
        }
    }
}

/// What a run has started so far: the guard that takes it down. `execute` stops it gracefully
/// (`stop`: waits for each piece) however the run ended; if the run's future is dropped
/// instead (a caller's timeout, a panic unwinding), dropping the guard still takes everything
/// down, in the same order: each piece stops itself when dropped (a service's process group
/// gets SIGTERM then SIGKILL, a mock's shutdown channel closes, the CA file is removed), and
/// Rust drops fields in the order they are declared here.
#[derive(Default)]
struct Started {
    /// First: the system under test calls the mocks.
    sut: Option<Arc<sut::SutRunner>>,
    mocks: Vec<MockServer>,
    /// Last but the file: the partners' sandboxes the mocks may be proxying to.
    services: BTreeMap<String, services::RunningService>,
    /// The mocks' CA certificate as a file for the SUT; removed when dropped.
    mock_ca: Option<server::tls::CaFile>,
}

impl Started {
    async fn stop(self) {
        if let Some(r) = &self.sut {
            r.stop().await;
        }
        for m in self.mocks {
            m.stop().await;
        }
        services::stop_all(self.services).await;
    }
}

async fn prepare_and_run(
    ws: Workspace,
    opts: RunOptions,
    drift: Option<Arc<crate::drift::Session>>,
    started: &mut Started,
) -> Result<Done, RunError> {
    let configured = match ws.config.run.target.as_deref() {
        None => None,
        Some("replay") => Some(Target::Replay),
        Some("live") => Some(Target::Live),
        Some("record") => Some(Target::Record),
        Some(other) => {
            return Err(RunError::BadInput(format!(
                "contrail.toml [run] target = {other:?}: expected \"replay\", \"live\" or \"record\""
            )));
        }
    };
    let target = opts.target.or(configured).unwrap_or_else(|| {
        if has_recordings(&ws) {
            Target::Replay
        } else {
            Target::Live
        }
    });
    if opts.record_missing && target != Target::Replay {
        return Err(RunError::BadInput(
            "--record-missing goes with --target replay (it replays what is recorded and records the rest)".into(),
        ));
    }
    let tags = opts
        .tags
        .as_deref()
        .map(str::parse::<cucumber::gherkin::tagexpr::TagOperation>)
        .transpose()
        .map_err(|e| RunError::BadInput(format!("--tags {:?}: {e}", opts.tags.clone().unwrap_or_default())))?;
    let name = opts
        .name
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| RunError::BadInput(format!("--name: {e}")))?;

    // The scenarios are chosen before anything is checked; a run leaves undefined steps to be
    // reported as such when their scenario runs.
    let selection = crate::feature::Selection {
        tags: tags.clone(),
        name: name.clone(),
    };
    let mode = lint::Mode {
        deep: false,
        selection: &selection,
        undefined_is_problem: false,
    };
    let mut loaded = lint::load(&ws, &opts.paths, mode).map_err(RunError::Problems)?;
    let reach = select::reach(&ws, &loaded);
    if let Some(p) = &opts.partner {
        select::only_partner(&ws, &mut loaded, &reach, p)?;
    }
    let plan = opts.shard.map(|s| {
        let durations = select::known_durations(&ws, opts.history.as_deref());
        select::shard(&ws, &mut loaded, &reach, s, &durations)
    });
    let (contracts, partner_info) = select::contracts(&ws, &loaded);
    if opts.dry_run {
        let (exit, scenarios) = dry_run::report(&ws, &loaded, &opts)?;
        return Ok(Done {
            scenarios,
            reach,
            contracts,
            partners: partner_info,
            plan,
            target: Some(target),
            ..Done::from(exit)
        });
    }
    let seed = crate::seed::init().map_err(RunError::BadInput)?;
    eprintln!("seed {seed} (CONTRAIL_SEED={seed} repeats this run's made-up data)");

    crate::client::auth::remember_catalog_secrets(&loaded.catalog);
    let mut partner_tls = BTreeMap::new();
    for (partner, t) in &ws.config.partners {
        if let Some(cfg) = &t.tls {
            let tls = crate::client::tls::PartnerTls::load(partner, cfg, &ws.root).map_err(RunError::BadInput)?;
            partner_tls.insert(partner.clone(), tls);
        }
    }
    let offline = target == Target::Replay && !opts.record_missing;
    let live_urls = if offline {
        BTreeMap::new()
    } else {
        let (templates, needed) = base_urls(&ws, &loaded, &opts.base_urls)?;
        started.services = services::start_all(&ws, &needed).await?;
        let service_urls: BTreeMap<String, String> = started
            .services
            .iter()
            .map(|(k, s)| (k.clone(), s.url.clone()))
            .collect();
        resolve_service_urls(templates, &service_urls)?
    };
    let drift = match (drift, target) {
        (Some(d), _) => Some(d),
        (None, Target::Live) if has_recordings(&ws) => Some(Arc::new(crate::drift::Session::new(false, None, false))),
        _ => None,
    };
    let through_mocks = target != Target::Live || drift.is_some();
    let sut_needed = sut::needed(&loaded.features);
    if sut_needed && ws.config.sut.is_none() {
        return Err(RunError::BadInput(
            "scenarios tagged @sut need a system under test: add [sut] to contrail.toml".into(),
        ));
    }
    let (base_urls, mock_ca_pem) = if through_mocks {
        let simulate = sut_needed && target == Target::Replay;
        let Mocks {
            servers,
            urls,
            ca_pem,
            said,
        } = start_mocks(
            &ws,
            &loaded,
            target,
            opts.record_missing,
            &live_urls,
            drift.as_ref(),
            simulate,
            &partner_tls,
        )
        .await?;
        if !opts.quiet {
            eprint!("{}", said.concat());
        }
        started.mocks = servers;
        (urls, ca_pem)
    } else {
        (live_urls.clone(), None)
    };

    if sut_needed {
        if let Some(pem) = &mock_ca_pem {
            started.mock_ca = Some(server::tls::CaFile::write(pem, None).map_err(RunError::Harness)?);
        }
        let ca = started.mock_ca.as_ref().map(|f| f.path.as_path());
        let runner = sut::SutRunner::start(&ws, &loaded.catalog, &base_urls, ca).await?;
        if !opts.quiet {
            eprintln!(
                "system under test: {}{}",
                runner.url().await,
                if runner.per_scenario {
                    " (a fresh one per scenario)"
                } else {
                    ""
                }
            );
        }
        started.sut = Some(Arc::new(runner));
    }

    let timeout = ws
        .config
        .run
        .request_timeout
        .as_deref()
        .map(humantime::parse_duration)
        .transpose()
        .map_err(|e| RunError::BadInput(format!("[run] request_timeout: {e}")))?;
    let mut client = HttpClient::new(
        timeout.unwrap_or(Duration::from_secs(30)),
        crate::client::DEFAULT_MAX_BODY,
        through_mocks,
    )
    .map_err(RunError::Harness)?;
    // The mocks over HTTPS: trusted by their CA (the system's roots when contrail has none).
    if let Some(pem) = &mock_ca_pem {
        let trust =
            crate::client::tls::PartnerTls::trusting("the mocks", pem.as_bytes()).map_err(RunError::BadInput)?;
        for url in base_urls.values() {
            client.with_mock_tls(url, &trust).map_err(RunError::Harness)?;
        }
    }
    // Talking to live sandboxes directly: each with its own TLS settings.
    if !through_mocks {
        for (partner, url) in &base_urls {
            client.name_partner(url, partner);
        }
        for (partner, tls) in &partner_tls {
            if let Some(url) = base_urls.get(partner) {
                client.with_partner_tls(url, tls).map_err(RunError::BadInput)?;
            }
        }
    }
    client.loopback_only = offline;
    let jobs = opts.jobs.or(ws.config.run.jobs).unwrap_or(8).max(1);
    let Loaded {
        catalog,
        registry,
        features,
    } = loaded;
    let sut_runner = started.sut.clone();
    let root = ws.root.clone();
    let suite = Arc::new(Suite {
        workspace: ws,
        catalog,
        registry,
        client,
        tokens: TokenCache::default(),
        base_urls,
        via_mock: through_mocks,
        mocks: started
            .mocks
            .iter()
            .map(|m| (m.partner.clone(), m.control.clone()))
            .collect(),
        live: !offline,
        state_setup: opts.state_setup.clone(),
        sut: sut_runner.as_ref().map(|r| {
            let mut handle = r.handle.clone();
            let runner = r.clone();
            handle.restarter = Some(crate::steps::world::Restarter(Arc::new(move || {
                let runner = runner.clone();
                Box::pin(async move { runner.restart().await })
            })));
            handle
        }),
    });
    let began = std::time::SystemTime::now();
    let suite_after = suite.clone();
    let (exit, scenarios) = cucumber_glue::run(
        suite,
        features,
        cucumber_glue::Settings {
            jobs,
            fail_fast: opts.fail_fast,
            junit: opts.junit,
            cucumber_json: opts.cucumber_json,
            messages: opts.messages,
            color: opts.color,
            verbose: opts.verbose,
            quiet: opts.quiet,
            strict: opts.strict,
            root,
            sut: sut_runner,
        },
    )
    .await?;
    if opts.resend
        && let Some(session) = &drift
    {
        let r = resend::unexercised(&suite_after, session).await;
        if !opts.quiet {
            eprintln!(
                "sent again {} recorded interaction(s) no scenario here sent; {} not sent again",
                r.sent,
                r.skipped.len()
            );
            for (file, why) in &r.skipped {
                eprintln!(
                    "  {}: {why}",
                    crate::diag::display_path(file, &suite_after.workspace.root).display()
                );
            }
        }
    }
    Ok(Done {
        exit,
        error: None,
        drift,
        live_urls: live_urls.into_iter().map(|(p, u)| (p, u.to_string())).collect(),
        target: Some(target),
        started: began,
        scenarios,
        reach,
        contracts,
        partners: partner_info,
        plan,
    })
}

/// Whether any partner folder under the recordings folder holds an interaction.
pub fn has_recordings(ws: &Workspace) -> bool {
    crate::workspace::subfolders(&ws.recordings_dir())
        .iter()
        .any(|d| !crate::workspace::files_in(d, &["json"]).is_empty())
}

/// One mock server per partner: replaying `recordings/<partner>/`, or recording into it from
/// the partner's live URL. Returns the servers and each partner's new base URL.
#[allow(clippy::too_many_arguments)]
async fn start_mocks(
    ws: &Workspace,
    loaded: &Loaded,
    target: Target,
    record_missing: bool,
    live: &BTreeMap<String, Url>,
    drift: Option<&Arc<crate::drift::Session>>,
    simulate: bool,
    partner_tls: &BTreeMap<String, crate::client::tls::PartnerTls>,
) -> Result<Mocks, server::StartError> {
    let mut mocks = Vec::new();
    let mut urls = BTreeMap::new();
    let mut said = Vec::new();
    // A partner named in several contracts uses the first contract's policy.
    let mut partners: BTreeMap<String, Arc<crate::contract::Contract>> = BTreeMap::new();
    for c in loaded.catalog.contracts.values() {
        for p in c.partners.keys() {
            partners.entry(p.clone()).or_insert_with(|| c.clone());
        }
    }
    let https = server::tls::ServeTls::from_config(&ws.config.mock, &ws.root)
        .and_then(|t| t.map(|t| t.load()).transpose())
        .map_err(server::StartError::Config)?;
    let limits = server::Limits::from_config(&ws.config.mock).map_err(server::StartError::Config)?;
    for (partner, contract) in partners {
        let upstream = live.get(&partner).cloned();
        let mode = match (target, record_missing, upstream) {
            (Target::Live, _, Some(upstream)) if drift.is_some() => server::Mode::Drift {
                upstream,
                session: drift.cloned().ok_or_else(|| "no drift session".to_string())?,
            },
            (Target::Replay, false, _) => server::Mode::Replay,
            (Target::Replay, true, Some(upstream)) => server::Mode::ReplayOrRecord { upstream },
            (Target::Record, _, Some(upstream)) => server::Mode::Record { upstream },
            (Target::Live, _, None) => continue,
            // No live URL for this partner: nothing can be recorded from it; replay what exists.
            (_, _, None) => server::Mode::Replay,
            (Target::Live, ..) => continue,
        };
        let dir = ws.recordings_dir().join(&partner);
        let started = server::start(server::Config {
            partner: partner.clone(),
            contract,
            dir: dir.clone(),
            mode: mode.clone(),
            port: 0,
            journal_cap: ws.config.mock.journal_cap.unwrap_or(server::journal::DEFAULT_CAP),
            simulate,
            limits: limits.clone(),
            upstream_tls: partner_tls.get(&partner).cloned(),
            tls: https.as_ref().map(|h| h.acceptor.clone()),
        })
        .await;
        let mock = match started {
            Ok(m) => m,
            Err(e) => {
                for m in mocks {
                    MockServer::stop(m).await;
                }
                return Err(e);
            }
        };
        let what = match &mode {
            server::Mode::Replay => format!(
                "replaying {} interaction(s) from {}",
                mock.loaded,
                crate::diag::display_path(&dir, &ws.root).display()
            ),
            server::Mode::ReplayOrRecord { upstream } => format!(
                "replaying {} interaction(s), recording the rest from {upstream}",
                mock.loaded
            ),
            server::Mode::Record { upstream } => format!(
                "recording {upstream} into {}",
                crate::diag::display_path(&dir, &ws.root).display()
            ),
            server::Mode::Drift { upstream, .. } => {
                format!("live {upstream}, compared with {} recorded interaction(s)", mock.loaded)
            }
        };
        said.push(format!("{partner}: {what} (mock on {})\n", mock.url));
        urls.insert(partner, Url::parse(&mock.url).map_err(|e| e.to_string())?);
        mocks.push(mock);
    }
    Ok(Mocks {
        servers: mocks,
        urls,
        ca_pem: https.and_then(|h| h.ca_pem),
        said,
    })
}

/// The run's mock servers, each partner's base URL on them, and the CA certificate (PEM) of
/// their HTTPS certificate when they serve HTTPS from one contrail knows.
struct Mocks {
    servers: Vec<MockServer>,
    urls: BTreeMap<String, Url>,
    ca_pem: Option<String>,
    /// One line per mock: what it serves and where (not printed with `--quiet`).
    said: Vec<String>,
}

/// Base URL templates per partner, and the services they need started.
fn base_urls(
    ws: &Workspace,
    loaded: &Loaded,
    overrides: &[(String, String)],
) -> Result<(BTreeMap<String, String>, Vec<String>), RunError> {
    let mut urls = BTreeMap::new();
    for (partner, t) in &ws.config.partners {
        if let Some(live) = &t.live {
            urls.insert(partner.clone(), live.clone());
        }
    }
    let known: Vec<&String> = loaded
        .catalog
        .contracts
        .values()
        .flat_map(|c| c.partners.keys())
        .collect();
    for (partner, url) in overrides {
        if !known.contains(&partner) {
            return Err(RunError::BadInput(format!(
                "--base-url {partner}=...: no contract has a partner {partner:?} (partners: {})",
                known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        urls.insert(partner.clone(), url.clone());
    }
    let mut needed = Vec::new();
    for url in urls.values() {
        let mut rest = url.as_str();
        while let Some(i) = rest.find("{services.") {
            let after = &rest[i + "{services.".len()..];
            let name = after.split(['.', '}']).next().unwrap_or_default().to_string();
            if !needed.contains(&name) {
                needed.push(name);
            }
            rest = after;
        }
    }
    Ok((urls, needed))
}

/// Credentials in a base URL would be written into every recording's `meta.target` and every
/// report: they belong in the contract's `auth:`, read from the environment.
pub fn refuse_userinfo(partner: &str, url: &Url) -> Result<(), String> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(());
    }
    let safe = crate::recording::safe_target(url.as_str());
    Err(format!(
        "the base URL of {partner:?} ({safe}) carries credentials (user:password@): put them in the \
         contract's auth (for example `client_secret: ${{env:NAME}}`), never in a URL"
    ))
}

fn resolve_service_urls(
    templates: BTreeMap<String, String>,
    services: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Url>, RunError> {
    let mut out = BTreeMap::new();
    for (partner, t) in templates {
        let mut s = t.clone();
        for (name, url) in services {
            s = s.replace(&format!("{{services.{name}.url}}"), url);
        }
        let url = Url::parse(&s)
            .map_err(|e| RunError::BadInput(format!("the base URL {t:?} of {partner:?} is not a URL: {e}")))?;
        refuse_userinfo(&partner, &url).map_err(RunError::BadInput)?;
        out.insert(partner, url);
    }
    Ok(out)
}
