//! The seam with cucumber-rs: a parser that hands over the features contrail already parsed
//! and checked, one catch-all step that dispatches into contrail's own registry (so cucumber
//! never "skips" an unknown step), and the composed writers.

use super::RunError;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cucumber::writer::Coloring;
use cucumber::{WriterExt as _, gherkin};
use futures::future::LocalBoxFuture;
use regex::Regex;

use crate::exit::Exit;
use crate::steps::report::{Redactor, render_failure};
use crate::steps::{FailureKind, Suite, World};

/// Every scenario's identity, by feature file and (expanded) line: worked out once per feature
/// as it is parsed, since numbering repeated outline rows needs the whole feature.
type Identities = std::collections::HashMap<(Option<PathBuf>, usize), crate::scenario::Identity>;

/// What one run shares with cucumber's callbacks. cucumber builds each World with
/// `World::new()`, which takes no arguments, and calls steps through a plain `fn`: the run's
/// state reaches them as a task-local set around `cucumber.run` (cucumber polls every scenario
/// and the writer inside that one future), so two runs in one process never see each other's.
pub(super) struct RunState {
    suite: Arc<Suite>,
    redactor: Arc<Redactor>,
    identities: Mutex<Identities>,
    /// Steps that failed because the harness or a target could not run (exit 3).
    harness_failures: AtomicUsize,
    /// Exchanges steps made, waiting for their step's result event (the step function sees the
    /// World, the writer does not).
    attachments: Mutex<Vec<(super::events::StepKey, String)>>,
}

tokio::task_local! {
    static RUN: Arc<RunState>;
}

/// The run in progress, when called from inside one.
fn this_run() -> Option<Arc<RunState>> {
    RUN.try_with(Arc::clone).ok()
}

/// Keeps what a step attaches (its request and response) for the reports.
pub(super) fn attach(key: super::events::StepKey, text: String) {
    if let Some(run) = this_run()
        && let Ok(mut a) = run.attachments.lock()
    {
        a.push((key, text));
    }
}

/// What steps attached at `key`, taken (each is reported once).
pub(super) fn take_attachments(key: &super::events::StepKey) -> Vec<String> {
    let Some(run) = this_run() else {
        return Vec::new();
    };
    let Ok(mut a) = run.attachments.lock() else {
        return Vec::new();
    };
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut *a).into_iter().partition(|(k, _)| k == key);
    *a = rest;
    mine.into_iter().map(|(_, t)| t).collect()
}

impl cucumber::World for World {
    type Error = String;

    async fn new() -> Result<Self, String> {
        let run = this_run().ok_or("no suite: World created outside contrail run")?;
        Ok(World::new(run.suite.clone()))
    }
}

/// cucumber silences the panic hook while scenarios run and puts the previous one back when
/// the run completes; a run dropped half-way (a caller's timeout) would leave every later panic
/// in the process silent. So the hook in place before the run is kept here, and cucumber is
/// handed a stand-in that calls it; dropped while armed, the guard puts the caller's own hook
/// back (what cucumber saved is the stand-in, which cannot be had back from it).
struct PanicHookGuard {
    before: Option<Arc<PanicHook>>,
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

impl PanicHookGuard {
    fn arm() -> PanicHookGuard {
        let before: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        let stand_in = before.clone();
        std::panic::set_hook(Box::new(move |info| stand_in(info)));
        PanicHookGuard { before: Some(before) }
    }

    /// The run completed: cucumber put the stand-in back itself, which calls the same hook.
    fn disarm(&mut self) {
        self.before = None;
    }
}

impl Drop for PanicHookGuard {
    fn drop(&mut self) {
        // Not while unwinding: the hook cannot be changed from a panicking thread.
        if let Some(before) = self.before.take()
            && !std::thread::panicking()
        {
            std::panic::set_hook(Box::new(move |info| before(info)));
        }
    }
}

/// Feeds pre-parsed features to cucumber, noting each scenario's identity for the run.
struct PreParsed(Arc<RunState>);

impl cucumber::Parser<Vec<gherkin::Feature>> for PreParsed {
    type Cli = cucumber::cli::Empty;
    type Output = futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _: Self::Cli) -> Self::Output {
        // Outlines are expanded already (crate::feature), one scenario per Examples row.
        let features: Vec<_> = input
            .into_iter()
            .map(|mut f| {
                super::sut::serialize(&mut f);
                if let Ok(mut ids) = self.0.identities.lock() {
                    for (identity, line) in crate::scenario::of_expanded(&f) {
                        ids.insert((f.path.clone(), line), identity);
                    }
                }
                Ok(f)
            })
            .collect();
        futures::stream::iter(features)
    }
}

fn any_step(world: &mut World, ctx: cucumber::step::Context) -> LocalBoxFuture<'_, ()> {
    Box::pin(async move {
        let table = ctx.step.table.as_ref().map(|t| t.rows.clone());
        let sent_before = world.sent;
        let step = world.run_step(&ctx.step.value, ctx.step.docstring.as_deref(), table.as_deref());
        // A panic in a step is a bug in contrail, not a failed expectation: said so, and the
        // run ends with exit 3 (cucumber would report it as an ordinary failure).
        let result = match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(step)).await {
            Ok(r) => r,
            Err(payload) => {
                let doing = format!("the step {:?}", ctx.step.value);
                let message = crate::panics::caught(payload.as_ref(), &doing);
                std::panic::resume_unwind(Box::new(format!(
                    "internal error in contrail (a bug, not your input): {message}"
                )));
            }
        };
        let run = this_run();
        let redactor = run.as_ref().map(|r| r.redactor.clone()).unwrap_or_default();
        // The exchange a step made goes to the reports with its result (masked as failures are).
        if world.sent > sent_before
            && let (Some(e), Some((path, line))) = (&world.last, &world.place)
        {
            let text = crate::steps::report::render_exchange(e, &redactor);
            attach(
                (path.clone(), *line, ctx.step.position.line, ctx.step.position.col),
                crate::secrets::mask_text(&text, crate::secrets::MASK).into_owned(),
            );
        }
        if let Err(failure) = result {
            if failure.kind == FailureKind::Harness
                && let Some(run) = &run
            {
                run.harness_failures.fetch_add(1, Ordering::SeqCst);
            }
            let mut text = render_failure(&failure, &redactor);
            if world.uses_sut
                && let Some(sut) = &world.suite.sut
            {
                text.push_str(&format!(
                    "\n--- the system under test's last output ---\n{}",
                    sut.output_tail(20)
                ));
                for (partner, mock) in &world.suite.mocks {
                    if let Some((n, why)) = mock.tls_failures() {
                        text.push_str(&format!(
                            "\n--- the {partner:?} mock refused {n} TLS handshake(s); the last: {why}. A system \
                             under test must trust the mocks' CA: it gets the file as {{mock.ca}} and \
                             CONTRAIL_MOCK_CA ---"
                        ));
                    }
                }
            }
            // resume_unwind fails the step without running the panic hook (no "thread panicked");
            // the writer reads the status from the failure's kind, not from its words.
            let status = super::events::status_of(failure.kind, &text);
            std::panic::resume_unwind(Box::new(super::events::StepPayload { status, text }));
        }
    })
}

pub struct Settings {
    pub jobs: usize,
    pub fail_fast: bool,
    pub junit: Option<PathBuf>,
    pub cucumber_json: Option<PathBuf>,
    pub messages: Option<PathBuf>,
    pub color: Coloring,
    pub verbose: u8,
    pub quiet: bool,
    pub strict: bool,
    /// The workspace: feature files are named relative to it.
    pub root: PathBuf,
    /// Restarts the system under test between @sut scenarios when it is `per_scenario`.
    pub sut: Option<Arc<super::sut::SutRunner>>,
}

/// The report files asked for, checked before any scenario runs (`reporting::writable`).
fn writable(path: &Option<PathBuf>) -> Result<(), RunError> {
    match path {
        Some(p) => super::reporting::writable(p).map_err(RunError::BadInput),
        None => Ok(()),
    }
}

/// Runs the features; the exit and every scenario's outcome.
pub async fn run(
    suite: Arc<Suite>,
    features: Vec<(PathBuf, gherkin::Feature)>,
    s: Settings,
) -> Result<(Exit, Vec<crate::results::ScenarioOutcome>), RunError> {
    let redactor = Arc::new(Redactor::for_contracts(
        suite.catalog.contracts.values().map(|c| c.as_ref()),
    ));
    let state = Arc::new(RunState {
        suite: suite.clone(),
        redactor,
        identities: Mutex::default(),
        harness_failures: AtomicUsize::new(0),
        attachments: Mutex::default(),
    });

    writable(&s.junit)?;
    writable(&s.cucumber_json)?;
    writable(&s.messages)?;
    let color = match s.color {
        Coloring::Always => true,
        Coloring::Never => false,
        // https://no-color.org: any non-empty NO_COLOR turns colour off unless asked for.
        Coloring::Auto => {
            std::io::IsTerminal::is_terminal(&io::stdout()) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let total = features
        .iter()
        .map(|(_, f)| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
        .sum();
    let writer = super::events::Collector::new(super::events::Settings {
        color,
        verbose: s.verbose > 0,
        progress: super::progress::Progress::new(total, s.quiet),
        quiet: s.quiet,
        strict: s.strict,
        root: s.root.clone(),
        files: super::events::ReportFiles {
            junit: s.junit.clone(),
            cucumber_json: s.cucumber_json.clone(),
            messages: s.messages.clone(),
        },
        suite,
    })
    .normalized();

    let sut_runner = s.sut.clone();
    let before_state = state.clone();
    let sut_after = s.sut.clone();
    let any = Regex::new("(?s)^.*$").map_err(|e| RunError::Harness(e.to_string()))?;
    let mut cucumber: cucumber::Cucumber<_, _, _, _, _, cucumber::cli::Empty> = cucumber::Cucumber::custom(
        PreParsed(state.clone()),
        cucumber::runner::Basic::<World>::default(),
        writer,
    )
    .given(any.clone(), any_step)
    .when(any.clone(), any_step)
    .then(any, any_step)
    .before(move |feature, rule, scenario, world| {
        // Who is asking, for the mock servers: by name and outline row, never by line.
        let identity = before_state
            .identities
            .lock()
            .ok()
            .and_then(|ids| ids.get(&(feature.path.clone(), scenario.position.line)).cloned());
        // Never missing (every feature was parsed above); if it were, a name no recording
        // has keeps the scenario from being answered with another's recordings.
        world.scenario = Some(identity.as_ref().map_or_else(
            || {
                format!(
                    "{}: {} (not indexed, line {})",
                    feature.name, scenario.name, scenario.position.line
                )
            },
            |i| i.id.clone(),
        ));
        world.steps_hash = identity.map(|i| i.steps);
        world.place = Some((feature.path.clone(), scenario.position.line));
        let runner = sut_runner
            .clone()
            .filter(|_| super::sut::tagged(feature, rule, scenario));
        let fresh = super::sut::fresh(feature, rule, scenario);
        Box::pin(async move {
            if let Some(r) = runner {
                r.before_scenario(fresh).await;
            }
            world.started = std::time::Instant::now();
        })
    })
    .after(move |_feature, _rule, _scenario, finished, world| {
        if let (Some(runner), cucumber::event::ScenarioFinished::StepFailed(..)) = (&sut_after, finished)
            && world.as_ref().is_some_and(|w| w.uses_sut)
        {
            runner.scenario_failed();
        }
        // A finished scenario's faults must not fire for anyone else.
        if let Some(w) = world
            && let Some(id) = &w.scenario
        {
            for m in w.suite.mocks.values() {
                m.faults().forget(id);
                if let Some(sim) = m.simulator() {
                    sim.reset_changes();
                }
            }
        }
        Box::pin(async {})
    })
    .max_concurrent_scenarios(s.jobs)
    .with_default_cli();
    if s.fail_fast {
        cucumber = cucumber.fail_fast();
    }
    // The features hold only the scenarios --tags and --name chose (crate::feature::Selection).
    let features: Vec<gherkin::Feature> = features.into_iter().map(|(_, f)| f).collect();
    let mut hook = PanicHookGuard::arm();
    let result = RUN.scope(state.clone(), cucumber.run(features)).await;
    hook.disarm();

    let collector = result.inner_writer();
    if let Some(e) = &collector.write_error {
        return Err(RunError::BadInput(e.clone()));
    }
    let exit = if state.harness_failures.load(Ordering::SeqCst) > 0 {
        Exit::Harness
    } else if collector.failed() {
        Exit::Failed
    } else {
        Exit::Passed
    };
    Ok((exit, collector.outcomes.clone()))
}
