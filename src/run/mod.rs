//! `contrail run`: pre-flight checks, services, then the scenarios through cucumber, with the
//! terminal, JUnit and Cucumber JSON writers fed by the same events.

mod cucumber_glue;
pub mod drift;
pub mod processes;
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
    pub jobs: Option<usize>,
    pub fail_fast: bool,
    /// None: replay when the workspace has recordings, live otherwise.
    pub target: Option<Target>,
    /// Replay what is recorded and record what is not (needs the live sandbox).
    pub record_missing: bool,
    pub base_urls: Vec<(String, String)>,
    pub junit: Option<PathBuf>,
    pub cucumber_json: Option<PathBuf>,
    pub color: cucumber::writer::Coloring,
    pub verbose: u8,
}

pub async fn run(ws: Workspace, opts: RunOptions) -> Exit {
    let root = ws.root.clone();
    let done = execute(ws, opts, None).await;
    // A live run over recorded partners says where live no longer answers as recorded; the
    // verdict stays the scenarios' (`contrail drift` is the command whose verdict is drift).
    if let Some(session) = done.drift {
        let report =
            crate::drift::report::Report::new(session.outcome(), &root, done.live_urls, None, Vec::new(), false);
        eprint!(
            "{}",
            crate::secrets::mask_text(&report.terminal(false, false), crate::secrets::MASK)
        );
    }
    done.exit
}

/// What a run leaves behind for the command that started it.
pub(crate) struct Done {
    pub exit: Exit,
    /// The comparing proxies' findings, when the run compared live answers with recordings.
    pub drift: Option<Arc<crate::drift::Session>>,
    /// Partner -> the live base URL used (empty for replay).
    pub live_urls: BTreeMap<String, String>,
}

impl From<Exit> for Done {
    fn from(exit: Exit) -> Done {
        Done {
            exit,
            drift: None,
            live_urls: BTreeMap::new(),
        }
    }
}

/// Runs the scenarios. `drift` makes every partner's traffic go through a comparing proxy
/// (`contrail drift`); without it, a live run over recorded partners compares anyway, unpaced.
pub(crate) async fn execute(ws: Workspace, opts: RunOptions, drift: Option<Arc<crate::drift::Session>>) -> Done {
    let target = opts.target.unwrap_or_else(|| {
        if has_recordings(&ws) {
            Target::Replay
        } else {
            Target::Live
        }
    });
    if opts.record_missing && target != Target::Replay {
        eprintln!(
            "error: --record-missing goes with --target replay (it replays what is recorded and records the rest)"
        );
        return Exit::BadInput.into();
    }
    let tags = match opts
        .tags
        .as_deref()
        .map(str::parse::<cucumber::gherkin::tagexpr::TagOperation>)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --tags {:?}: {e}", opts.tags.unwrap_or_default());
            return Exit::BadInput.into();
        }
    };
    let name = match opts.name.as_deref().map(regex::Regex::new).transpose() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: --name: {e}");
            return Exit::BadInput.into();
        }
    };

    match crate::seed::init() {
        Ok(seed) => eprintln!("seed {seed} (CONTRAIL_SEED={seed} repeats this run's made-up data)"),
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput.into();
        }
    }
    let loaded = match lint::load(&ws, &opts.paths, false) {
        Ok(l) => l,
        Err(d) => {
            eprintln!("{d}");
            eprintln!("error: {} problem(s) found before running; nothing was run", d.len());
            return Exit::BadInput.into();
        }
    };

    crate::client::auth::remember_catalog_secrets(&loaded.catalog);
    let mut partner_tls = BTreeMap::new();
    for (partner, t) in &ws.config.partners {
        if let Some(cfg) = &t.tls {
            match crate::client::tls::PartnerTls::load(partner, cfg, &ws.root) {
                Ok(tls) => {
                    partner_tls.insert(partner.clone(), tls);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::BadInput.into();
                }
            }
        }
    }
    let offline = target == Target::Replay && !opts.record_missing;
    let (running, live_urls) = if offline {
        (BTreeMap::new(), BTreeMap::new())
    } else {
        let (templates, needed) = match base_urls(&ws, &loaded, &opts.base_urls) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput.into();
            }
        };
        let running = match services::start_all(&ws, &needed).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return e.exit().into();
            }
        };
        let service_urls: BTreeMap<String, String> = running.iter().map(|(k, s)| (k.clone(), s.url.clone())).collect();
        match resolve_service_urls(templates, &service_urls) {
            Ok(b) => (running, b),
            Err(e) => {
                services::stop_all(running).await;
                eprintln!("error: {e}");
                return Exit::BadInput.into();
            }
        }
    };
    let drift = match (drift, target) {
        (Some(d), _) => Some(d),
        (None, Target::Live) if has_recordings(&ws) => Some(Arc::new(crate::drift::Session::new(false, None, false))),
        _ => None,
    };
    let through_mocks = target != Target::Live || drift.is_some();
    let sut_needed = sut::needed(&loaded.features, tags.as_ref(), name.as_ref());
    if sut_needed && ws.config.sut.is_none() {
        services::stop_all(running).await;
        eprintln!("error: scenarios tagged @sut need a system under test: add [sut] to contrail.toml");
        return Exit::BadInput.into();
    }
    let Mocks {
        servers: mocks,
        urls: base_urls,
        ca_pem: mock_ca_pem,
    } = match through_mocks {
        false => Mocks {
            servers: Vec::new(),
            urls: live_urls.clone(),
            ca_pem: None,
        },
        true => match start_mocks(
            &ws,
            &loaded,
            target,
            opts.record_missing,
            &live_urls,
            drift.as_ref(),
            sut_needed && target == Target::Replay,
            &partner_tls,
        )
        .await
        {
            Ok(x) => x,
            Err(server::StartError::Recordings(d)) => {
                services::stop_all(running).await;
                eprintln!("{d}");
                eprintln!("error: {} broken recording(s); nothing was run", d.len());
                return Exit::BadInput.into();
            }
            Err(server::StartError::Config(e)) => {
                services::stop_all(running).await;
                eprintln!("error: {e}");
                return Exit::BadInput.into();
            }
            Err(e) => {
                services::stop_all(running).await;
                eprintln!("error: {e}");
                return Exit::Harness.into();
            }
        },
    };
    // The mocks' CA as a file, for the system under test; removed when the run ends.
    let mock_ca = match (&mock_ca_pem, sut_needed) {
        (Some(pem), true) => match server::tls::CaFile::write(pem, None) {
            Ok(f) => Some(f),
            Err(e) => {
                stop(running, mocks).await;
                eprintln!("error: {e}");
                return Exit::Harness.into();
            }
        },
        _ => None,
    };

    let mut sut_runner = None;
    if sut_needed {
        match sut::SutRunner::start(
            &ws,
            &loaded.catalog,
            &base_urls,
            mock_ca.as_ref().map(|f| f.path.as_path()),
        )
        .await
        {
            Ok(runner) => {
                eprintln!(
                    "system under test: {}{}",
                    runner.url().await,
                    if runner.per_scenario {
                        " (a fresh one per scenario)"
                    } else {
                        ""
                    }
                );
                sut_runner = Some(Arc::new(runner));
            }
            Err(e) => {
                stop(running, mocks).await;
                eprintln!("error: {e}");
                return e.exit().into();
            }
        }
    }

    let timeout = ws
        .config
        .run
        .request_timeout
        .as_deref()
        .map(humantime::parse_duration)
        .transpose();
    let client = match timeout.map_err(|e| e.to_string()).and_then(|t| {
        let mut c = HttpClient::new(
            t.unwrap_or(Duration::from_secs(30)),
            crate::client::DEFAULT_MAX_BODY,
            through_mocks,
        )?;
        // The mocks over HTTPS: trusted by their CA (the system's roots when contrail has none).
        if let Some(pem) = &mock_ca_pem {
            let trust = crate::client::tls::PartnerTls::trusting("the mocks", pem.as_bytes())?;
            for url in base_urls.values() {
                c.with_mock_tls(url, &trust)?;
            }
        }
        // Talking to live sandboxes directly: each with its own TLS settings.
        if !through_mocks {
            for (partner, url) in &base_urls {
                c.name_partner(url, partner);
            }
            for (partner, tls) in &partner_tls {
                if let Some(url) = base_urls.get(partner) {
                    c.with_partner_tls(url, tls)?;
                }
            }
        }
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            if let Some(r) = &sut_runner {
                r.stop().await;
            }
            stop(running, mocks).await;
            eprintln!("error: {e}");
            return Exit::BadInput.into();
        }
    };
    let mut client = client;
    client.loopback_only = offline;
    let jobs = opts.jobs.or(ws.config.run.jobs).unwrap_or(8).max(1);
    let Loaded {
        catalog,
        registry,
        features,
    } = loaded;
    let suite = Arc::new(Suite {
        workspace: ws,
        catalog,
        registry,
        client,
        tokens: TokenCache::default(),
        base_urls,
        via_mock: through_mocks,
        mocks: mocks.iter().map(|m| (m.partner.clone(), m.control.clone())).collect(),
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
    let outcome = cucumber_glue::run(
        suite,
        features,
        cucumber_glue::Settings {
            tags,
            name,
            jobs,
            fail_fast: opts.fail_fast,
            junit: opts.junit,
            cucumber_json: opts.cucumber_json,
            color: opts.color,
            verbose: opts.verbose,
            sut: sut_runner.clone(),
        },
    )
    .await;
    if let Some(r) = &sut_runner {
        r.stop().await;
    }
    stop(running, mocks).await;
    let exit = match outcome {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Harness
        }
    };
    Done {
        exit,
        drift,
        live_urls: live_urls.into_iter().map(|(p, u)| (p, u.to_string())).collect(),
    }
}

async fn stop(running: BTreeMap<String, services::RunningService>, mocks: Vec<MockServer>) {
    for m in mocks {
        m.stop().await;
    }
    services::stop_all(running).await;
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
        eprintln!("{partner}: {what} (mock on {})", mock.url);
        urls.insert(partner, Url::parse(&mock.url).map_err(|e| e.to_string())?);
        mocks.push(mock);
    }
    Ok(Mocks {
        servers: mocks,
        urls,
        ca_pem: https.and_then(|h| h.ca_pem),
    })
}

/// The run's mock servers, each partner's base URL on them, and the CA certificate (PEM) of
/// their HTTPS certificate when they serve HTTPS from one contrail knows.
struct Mocks {
    servers: Vec<MockServer>,
    urls: BTreeMap<String, Url>,
    ca_pem: Option<String>,
}

/// Base URL templates per partner, and the services they need started.
fn base_urls(
    ws: &Workspace,
    loaded: &Loaded,
    overrides: &[(String, String)],
) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
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
            return Err(format!(
                "--base-url {partner}=...: no contract has a partner {partner:?} (partners: {})",
                known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
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
) -> Result<BTreeMap<String, Url>, String> {
    let mut out = BTreeMap::new();
    for (partner, t) in templates {
        let mut s = t.clone();
        for (name, url) in services {
            s = s.replace(&format!("{{services.{name}.url}}"), url);
        }
        let url = Url::parse(&s).map_err(|e| format!("the base URL {t:?} of {partner:?} is not a URL: {e}"))?;
        refuse_userinfo(&partner, &url)?;
        out.insert(partner, url);
    }
    Ok(out)
}
