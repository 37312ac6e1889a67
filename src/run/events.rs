//! cucumber-rs's events turned into `results::ScenarioOutcome`s: every step of a scenario is
//! known when it starts (background steps included), each is marked as its event comes
//! (a step never reached stays skipped), and its failure text says its status (undefined,
//! ambiguous, pending, failed with its class), with the exchanges it made attached. Each
//! finished scenario is printed at once (with `--quiet` only one that did not pass), the
//! progress (`run::progress`) kept below it; at the end the summary is printed and the JUnit,
//! Cucumber JSON and Cucumber Messages files are written, all masked. cucumber-rs keeps
//! scheduling the scenarios; what they mean is ours.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use cucumber::event::{self, Cucumber};
use cucumber::{Event, gherkin, parser};

use crate::results::{self, Heading, ScenarioOutcome, Status, StepOutcome};
use crate::secrets::MaskingWriter;
use crate::steps::{FailureKind, World};

pub struct Collector {
    out: MaskingWriter<std::io::Stdout>,
    color: bool,
    verbose: bool,
    quiet: bool,
    progress: super::progress::Progress,
    strict: bool,
    root: PathBuf,
    files: ReportFiles,
    suite: Arc<crate::steps::Suite>,
    started: std::time::SystemTime,
    /// Scenarios running, by (feature file, line).
    running: Vec<Running>,
    pub outcomes: Vec<ScenarioOutcome>,
    printer: results::terminal::Printer,
    /// A report file that could not be written.
    pub write_error: Option<String>,
}

struct Running {
    key: (Option<PathBuf>, usize),
    outcome: ScenarioOutcome,
    /// (background?, line, column) of each step, in outcome order.
    places: Vec<(bool, usize, usize)>,
    started: Option<Instant>,
}

pub struct Settings {
    pub color: bool,
    pub verbose: bool,
    /// Print only the scenarios that did not pass.
    pub quiet: bool,
    pub progress: super::progress::Progress,
    pub strict: bool,
    pub root: PathBuf,
    pub files: ReportFiles,
    /// For the step definitions the messages list.
    pub suite: Arc<crate::steps::Suite>,
}

/// The report files asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportFiles {
    pub junit: Option<PathBuf>,
    pub cucumber_json: Option<PathBuf>,
    pub messages: Option<PathBuf>,
}

fn heading(keyword: &str, name: &str, line: usize, description: &Option<String>, tags: &[String]) -> Heading {
    Heading {
        keyword: keyword.to_string(),
        name: name.to_string(),
        line,
        description: description.clone().unwrap_or_default(),
        tags: tags.to_vec(),
    }
}

fn step_outcome(s: &gherkin::Step, background: bool) -> StepOutcome {
    StepOutcome {
        keyword: s.keyword.clone(),
        text: s.value.clone(),
        line: s.position.line,
        column: s.position.col,
        docstring: s.docstring.clone(),
        table: s.table.as_ref().map(|t| t.rows.clone()),
        background,
        status: Status::Skipped,
        message: None,
        world: None,
        duration: std::time::Duration::ZERO,
        started: None,
        attachments: Vec::new(),
    }
}

/// A scenario before it runs: every step (background steps first) skipped until it runs,
/// and each step's (background?, line, column) to find it again by its events.
pub(super) fn outcome_of(
    root: &Path,
    f: &gherkin::Feature,
    r: Option<&gherkin::Rule>,
    sc: &gherkin::Scenario,
) -> (ScenarioOutcome, Vec<(bool, usize, usize)>) {
    let background = f
        .background
        .iter()
        .chain(r.and_then(|r| r.background.as_ref()))
        .flat_map(|b| &b.steps)
        .map(|s| (true, s));
    let steps: Vec<(bool, &gherkin::Step)> = background.chain(sc.steps.iter().map(|s| (false, s))).collect();
    let mut tags = f.tags.clone();
    if let Some(r) = r {
        tags.extend(r.tags.iter().cloned());
    }
    tags.extend(sc.tags.iter().cloned());
    let uri = f
        .path
        .as_ref()
        .map(|p| crate::diag::display_path(p, root).display().to_string())
        .unwrap_or_else(|| f.name.clone());
    let outcome = ScenarioOutcome {
        uri,
        feature: heading(&f.keyword, &f.name, f.position.line, &f.description, &f.tags),
        rule: r.map(|r| heading(&r.keyword, &r.name, r.position.line, &r.description, &r.tags)),
        scenario: heading(&sc.keyword, &sc.name, sc.position.line, &sc.description, &sc.tags),
        tags,
        background: r
            .and_then(|r| r.background.as_ref())
            .or(f.background.as_ref())
            .map(|b| heading(&b.keyword, &b.name, b.position.line, &b.description, &[])),
        steps: steps.iter().map(|(b, s)| step_outcome(s, *b)).collect(),
        started: None,
        finished: None,
    };
    let places = steps
        .iter()
        .map(|(b, s)| (*b, s.position.line, s.position.col))
        .collect();
    (outcome, places)
}

/// The report files of a run (or a dry run), masked and written atomically.
pub(super) fn write_reports(
    outcomes: &[ScenarioOutcome],
    root: &Path,
    strict: bool,
    files: &ReportFiles,
    registry: &crate::steps::Registry,
    started: std::time::SystemTime,
) -> Result<(), String> {
    let write = |path: &Path, text: &str| {
        let masked = crate::secrets::mask_text(text, crate::secrets::MASK);
        crate::recording::write_atomic(path, masked.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(path) = &files.junit {
        write(path, &results::junit::render(outcomes, strict))?;
    }
    if let Some(path) = &files.cucumber_json {
        let places = |uri: &str| tag_places(&root.join(uri));
        let json = results::cucumber_json::render(outcomes, &places);
        write(path, &serde_json::to_string_pretty(&json).unwrap_or_default())?;
    }
    if let Some(path) = &files.messages {
        write(path, &messages(outcomes, root, strict, registry, started))?;
    }
    Ok(())
}

/// The Cucumber Messages stream: each feature file that ran is read again (source, document
/// and pickles, ids unique across files), then the definitions and what ran.
fn messages(
    outcomes: &[ScenarioOutcome],
    root: &Path,
    strict: bool,
    registry: &crate::steps::Registry,
    started: std::time::SystemTime,
) -> String {
    use crate::results::messages::{Definition, Document, Run};
    let mut uris: Vec<&str> = outcomes.iter().map(|o| o.uri.as_str()).collect();
    uris.sort_unstable();
    uris.dedup();
    let mut next_id = 0;
    let mut documents = Vec::new();
    for uri in uris {
        let path = root.join(uri);
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        let markdown = crate::gherkin::is_markdown(&path);
        let options = crate::gherkin::Options {
            markdown,
            first_id: next_id,
            ..Default::default()
        };
        if let Ok(parsed) = crate::gherkin::parse(&source, uri, options) {
            next_id = parsed.next_id;
            documents.push(Document {
                uri: uri.to_string(),
                source,
                markdown,
                parsed,
            });
        }
    }
    let definitions: Vec<Definition> = registry
        .defs()
        .iter()
        .map(|d| match &d.origin {
            crate::steps::registry::Origin::File { path, line } => Definition {
                phrase: d.phrase.text.clone(),
                uri: crate::diag::display_path(path, root).display().to_string(),
                line: Some(*line),
            },
            crate::steps::registry::Origin::Builtin => Definition {
                phrase: d.phrase.text.clone(),
                uri: "contrail:built-in".into(),
                line: None,
            },
        })
        .collect();
    let matches = |text: &str| match registry.lookup(text) {
        crate::steps::registry::Lookup::Found(f) => vec![f.index],
        _ => Vec::new(),
    };
    results::messages::render(&Run {
        documents: &documents,
        definitions: &definitions,
        matches: &matches,
        outcomes,
        started,
        finished: std::time::SystemTime::now(),
        success: !results::failed(outcomes, strict),
        next_id,
    })
}

/// Where a step ran: (feature file, scenario line, step line, step column).
pub(super) type StepKey = (Option<PathBuf>, usize, usize, usize);

/// What a step that did not pass hands to the writer: its status, decided from the failure's
/// kind where the failure is made, and its text as the terminal shows it.
pub(super) struct StepPayload {
    pub status: Status,
    pub text: String,
}

/// A failure's status: its kind says it; an assertion's class (unauthenticated, forbidden,
/// replay miss) is in the words its message starts with.
pub(super) fn status_of(kind: FailureKind, text: &str) -> Status {
    match kind {
        FailureKind::Undefined => Status::Undefined,
        FailureKind::Ambiguous => Status::Ambiguous,
        FailureKind::Pending => Status::Pending,
        FailureKind::Skipped => Status::Skipped,
        FailureKind::Harness => Status::Failed("harness"),
        FailureKind::InvalidRequest => Status::Failed("invalid request"),
        FailureKind::Assertion | FailureKind::Usage => Status::Failed(results::class_of(text)),
    }
}

/// A failed step's status and text: contrail's payload, or a panic that is a bug (harness).
fn failure_of(err: &event::StepError) -> (Status, String) {
    match err {
        event::StepError::Panic(info) => match info.downcast_ref::<StepPayload>() {
            Some(p) => (p.status.clone(), p.text.clone()),
            None => {
                let text = crate::panics::message_of(info.as_ref());
                (Status::Failed(results::class_of(&text)), text)
            }
        },
        event::StepError::NotFound => (Status::Undefined, "undefined step".into()),
        event::StepError::AmbiguousMatch(e) => (Status::Ambiguous, format!("ambiguous step: {e}")),
    }
}

impl Collector {
    pub fn new(s: Settings) -> Collector {
        Collector {
            out: MaskingWriter::new(std::io::stdout()),
            color: s.color,
            verbose: s.verbose,
            quiet: s.quiet,
            progress: s.progress,
            strict: s.strict,
            root: s.root,
            files: s.files,
            suite: s.suite,
            started: std::time::SystemTime::now(),
            running: Vec::new(),
            outcomes: Vec::new(),
            printer: Default::default(),
            write_error: None,
        }
    }

    fn start(&mut self, f: &gherkin::Feature, r: Option<&gherkin::Rule>, sc: &gherkin::Scenario) {
        let (mut outcome, places) = outcome_of(&self.root, f, r, sc);
        outcome.started = Some(std::time::SystemTime::now());
        self.running.push(Running {
            key: (f.path.clone(), sc.position.line),
            places,
            outcome,
            started: None,
        });
    }

    fn running(&mut self, f: &gherkin::Feature, sc: &gherkin::Scenario) -> Option<&mut Running> {
        let key = (f.path.clone(), sc.position.line);
        self.running.iter_mut().find(|r| r.key == key)
    }

    fn step(
        &mut self,
        f: &gherkin::Feature,
        sc: &gherkin::Scenario,
        background: bool,
        step: &gherkin::Step,
        ev: event::Step<World>,
    ) {
        let verbose = self.verbose;
        let Some(run) = self.running(f, sc) else { return };
        let place = (background, step.position.line, step.position.col);
        let Some(i) = run.places.iter().position(|p| *p == place) else {
            return;
        };
        let elapsed = run.started.map(|t| t.elapsed()).unwrap_or_default();
        let key = (f.path.clone(), sc.position.line, step.position.line, step.position.col);
        let s = &mut run.outcome.steps[i];
        if !matches!(ev, event::Step::Started) {
            s.attachments.extend(super::cucumber_glue::take_attachments(&key));
        }
        match ev {
            event::Step::Started => {
                run.started = Some(Instant::now());
                s.started = Some(std::time::SystemTime::now());
            }
            event::Step::Passed(..) => {
                s.status = Status::Passed;
                s.duration = elapsed;
            }
            event::Step::Skipped => s.status = Status::Skipped,
            event::Step::Failed(_, _, world, err) => {
                let (status, text) = failure_of(&err);
                s.status = status;
                s.message = Some(text);
                s.duration = elapsed;
                if verbose {
                    s.world = world.map(|w| format!("{w:#?}"));
                }
            }
        }
    }

    /// A hook that failed before the steps: the first step says so (nothing after it ran).
    fn hook_failed(&mut self, f: &gherkin::Feature, sc: &gherkin::Scenario, info: &event::Info) {
        let text = info
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "a hook around the scenario failed".into());
        if let Some(run) = self.running(f, sc)
            && let Some(first) = run.outcome.steps.first_mut()
        {
            first.status = Status::Failed("harness");
            first.message = Some(format!("internal error in contrail (a bug, not your input): {text}"));
        }
    }

    fn finish(&mut self, f: &gherkin::Feature, sc: &gherkin::Scenario) {
        let key = (f.path.clone(), sc.position.line);
        let Some(i) = self.running.iter().position(|r| r.key == key) else {
            return;
        };
        let run = self.running.remove(i);
        let mut o = run.outcome;
        o.finished = Some(std::time::SystemTime::now());
        let passed = o.status() == Status::Passed;
        // Counted first: printing redraws the bar, which then shows this scenario too.
        self.progress
            .finished(results::failed(std::slice::from_ref(&o), self.strict));
        if !(self.quiet && passed) {
            let text = self.printer.scenario(&o, self.color, self.verbose);
            let out = &mut self.out;
            self.progress.print(|| {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            });
        }
        self.outcomes.push(o);
    }

    fn finished(&mut self) {
        self.progress.done();
        // Reports list scenarios as the files do, whichever finished first.
        self.outcomes
            .sort_by(|a, b| (&a.uri, a.scenario.line).cmp(&(&b.uri, b.scenario.line)));
        let _ = self
            .out
            .write_all(results::terminal::summary(&self.outcomes).as_bytes());
        let _ = self.out.flush();
        if let Err(e) = write_reports(
            &self.outcomes,
            &self.root,
            self.strict,
            &self.files,
            &self.suite.registry,
            self.started,
        ) {
            self.write_error = Some(e);
        }
    }

    /// Whether the run failed (`--strict`: pending steps too).
    pub fn failed(&self) -> bool {
        results::failed(&self.outcomes, self.strict)
    }
}

/// Where a feature file's own tags are, read again with contrail's parser.
fn tag_places(path: &Path) -> Vec<(String, usize, usize)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let options = crate::gherkin::Options {
        markdown: crate::gherkin::is_markdown(path),
        ..Default::default()
    };
    crate::gherkin::parse(&text, "", options)
        .ok()
        .and_then(|p| p.document.feature)
        .map(|f| {
            f.tags
                .into_iter()
                .map(|t| (t.name, t.location.line, t.location.column.unwrap_or(1)))
                .collect()
        })
        .unwrap_or_default()
}

impl cucumber::Writer<World> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(&mut self, ev: parser::Result<Event<Cucumber<World>>>, _: &Self::Cli) {
        let Ok(ev) = ev else { return };
        let (value, _) = ev.split();
        self.progress.tick();
        match value {
            Cucumber::Feature(f, event::Feature::Scenario(sc, e)) => self.scenario(&f, None, &sc, e.event),
            Cucumber::Feature(f, event::Feature::Rule(r, event::Rule::Scenario(sc, e))) => {
                self.scenario(&f, Some(&*r), &sc, e.event)
            }
            Cucumber::Finished => self.finished(),
            _ => {}
        }
    }
}

impl Collector {
    fn scenario(
        &mut self,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        sc: &gherkin::Scenario,
        ev: event::Scenario<World>,
    ) {
        match ev {
            event::Scenario::Started => self.start(f, r, sc),
            event::Scenario::Background(step, e) => self.step(f, sc, true, &step, e),
            event::Scenario::Step(step, e) => self.step(f, sc, false, &step, e),
            event::Scenario::Hook(_, event::Hook::Failed(_, info)) => self.hook_failed(f, sc, &info),
            event::Scenario::Finished => self.finish(f, sc),
            _ => {}
        }
    }
}
