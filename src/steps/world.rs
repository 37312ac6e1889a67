//! The state of one scenario (`World`) and what all scenarios of a run share (`Suite`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use url::Url;

use super::failure::{StepFailure, StepResult};
use super::registry::{Lookup, MacroItem, Registry, StepBody, StepRef, SubStep, TableArg};
use crate::client::auth::{Credentials, TokenCache};
use crate::client::{Exchange, HttpClient};
use crate::contract::{Catalog, Contract};
use crate::interpolate::{Scope, interpolate};
use crate::workspace::Workspace;

/// Shared by every scenario of a run; built once before the first one starts.
#[derive(Debug)]
pub struct Suite {
    pub workspace: Workspace,
    pub catalog: Catalog,
    pub registry: Registry,
    pub client: HttpClient,
    pub tokens: TokenCache,
    /// Partner name -> base URL for the chosen target.
    pub base_urls: BTreeMap<String, Url>,
    /// Requests go through contrail's mock servers: say which scenario sends them.
    pub via_mock: bool,
    /// Partner -> its mock server, for faults and the journal.
    pub mocks: BTreeMap<String, crate::server::MockControl>,
    /// The system under test, when this run started one.
    pub sut: Option<SutHandle>,
    /// Requests reach a partner's real sandbox (live, record, drift, verify), not recordings.
    pub live: bool,
    /// Partner -> where to ask it to set up a state (`the partner is in state ...`), as Pact's
    /// provider states: `contrail verify --state-setup-url`.
    pub state_setup: BTreeMap<String, Url>,
}

/// The running system under test, as steps need it. Shared with the runner, which replaces
/// what is inside when it restarts the SUT for a scenario (`per_scenario`).
#[derive(Debug, Clone)]
pub struct SutHandle {
    inner: Arc<std::sync::Mutex<SutNow>>,
    /// Partner -> path where its webhooks are delivered.
    pub webhooks: BTreeMap<String, String>,
    /// Starts a fresh SUT (generated-data cases must not see each other's state).
    pub restarter: Option<Restarter>,
}

/// Restarts the system under test; supplied by the runner.
#[derive(Clone)]
pub struct Restarter(pub Arc<dyn Fn() -> futures::future::BoxFuture<'static, ()> + Send + Sync>);

impl std::fmt::Debug for Restarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Restarter")
    }
}

#[derive(Debug, Clone)]
pub struct SutNow {
    pub url: Url,
    /// The last lines it printed (shown when a scenario that used it fails).
    pub output: Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    /// Why it is not running, when a restart failed.
    pub broken: Option<String>,
}

impl SutHandle {
    pub fn new(now: SutNow, webhooks: BTreeMap<String, String>) -> SutHandle {
        SutHandle {
            inner: Arc::new(std::sync::Mutex::new(now)),
            webhooks,
            restarter: None,
        }
    }

    pub fn set(&self, now: SutNow) {
        if let Ok(mut n) = self.inner.lock() {
            *n = now;
        }
    }

    pub fn break_with(&self, why: String) {
        if let Ok(mut n) = self.inner.lock() {
            n.broken = Some(why);
        }
    }

    /// Its base URL, or why there is none (a harness failure).
    pub fn url(&self) -> Result<Url, StepFailure> {
        let n = self
            .inner
            .lock()
            .map_err(|_| StepFailure::harness("the system under test's state is poisoned"))?;
        match &n.broken {
            Some(why) => Err(StepFailure::harness(format!(
                "the system under test is not running: {why}"
            ))),
            None => Ok(n.url.clone()),
        }
    }

    pub fn output_tail(&self, lines: usize) -> String {
        let Ok(n) = self.inner.lock() else {
            return String::new();
        };
        n.output
            .lock()
            .map(|o| {
                let skip = o.len().saturating_sub(lines);
                o.iter().skip(skip).cloned().collect::<Vec<_>>().join("\n")
            })
            .unwrap_or_default()
    }
}

/// A request being put together by "the path parameter ... is ..." style steps.
#[derive(Debug, Clone, Default)]
pub struct PendingRequest {
    pub path_params: BTreeMap<String, String>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The scenario means this request to break the contract (a refusal is what it tests).
    pub breaks_contract: bool,
}

pub struct World {
    pub suite: Arc<Suite>,
    /// Which scenario this is (`scenario::Identity::id`), for the mock servers.
    pub scenario: Option<String>,
    /// The hash of its steps, so replay can tell a recording made for other steps.
    pub steps_hash: Option<String>,
    pub contract: Option<Arc<Contract>>,
    pub partner: Option<String>,
    pub credentials: Credentials,
    pub pending: PendingRequest,
    pub last: Option<Exchange>,
    /// The exchanges of the last "I call ... N times".
    pub burst: Vec<Exchange>,
    /// The requests the last journal step found ("that request" is the last of them).
    pub selected: Vec<std::sync::Arc<crate::server::journal::Entry>>,
    pub vars: BTreeMap<String, Value>,
    /// When the scenario started: requests without a scenario (the system under test's) count
    /// for it from then on.
    pub started: std::time::Instant,
    /// Webhooks delivered so far, the last one is "that webhook".
    pub deliveries: Vec<crate::webhook::Delivery>,
    /// Whether a step talked to the system under test (its output is then shown on failure).
    pub uses_sut: bool,
    /// Values made up so far (see `draw`).
    pub draws: u64,
    /// Requests sent to partners so far: a step that sent one attaches the exchange to its
    /// result in the reports.
    pub sent: u64,
    /// The scenario's place (feature file, line), for the reports' attachments.
    pub place: Option<(Option<std::path::PathBuf>, usize)>,
}

/// What `-v` shows of a scenario when it fails: what a tester reasons about (variables, the
/// last request and response, who is calling), masked, never the internal state with its
/// live tokens.
impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::secrets::{MASK, mask_text, scrub_json};
        let mut out = String::new();
        if let Some(p) = &self.partner {
            out.push_str(&format!("partner: {p}\n"));
        }
        out.push_str(&format!(
            "credentials: {}\n",
            match &self.credentials {
                Credentials::Contract => "as the contract says".to_string(),
                Credentials::Anonymous => "none".to_string(),
                Credentials::Scopes(s) => format!("a token with scopes {}", s.join(" ")),
                Credentials::Client { id, .. } => format!("client {id:?}"),
            }
        ));
        if !self.vars.is_empty() {
            out.push_str("variables:\n");
            for (k, v) in &self.vars {
                let shown = if crate::secrets::is_secret_key(k) {
                    MASK.to_string()
                } else {
                    let mut v = v.clone();
                    scrub_json(&mut v, MASK);
                    v.to_string()
                };
                out.push_str(&format!("  {k} = {shown}\n"));
            }
        }
        if let Some(e) = &self.last {
            let redactor = super::report::Redactor::for_contracts(self.contract.iter().map(|c| c.as_ref()));
            out.push_str("last exchange:\n");
            out.push_str(&super::report::render_exchange(e, &redactor));
            out.push('\n');
        }
        if !self.deliveries.is_empty() {
            out.push_str(&format!("webhooks delivered: {}\n", self.deliveries.len()));
        }
        f.write_str(&mask_text(&out, MASK))
    }
}

/// Parameters handed to a built-in step, already interpolated.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub params: Vec<String>,
    pub docstring: Option<String>,
    pub table: Option<Vec<Vec<String>>>,
}

impl Args {
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or_default()
    }
    pub fn int(&self, i: usize) -> Result<i64, StepFailure> {
        self.param(i)
            .parse()
            .map_err(|_| StepFailure::usage(format!("{:?} is not a whole number", self.param(i))))
    }
    pub fn docstring(&self) -> Result<&str, StepFailure> {
        self.docstring
            .as_deref()
            .ok_or_else(|| StepFailure::usage("this step needs a doc string (\"\"\" ... \"\"\") below it"))
    }
    pub fn table(&self) -> Result<&Vec<Vec<String>>, StepFailure> {
        self.table
            .as_ref()
            .ok_or_else(|| StepFailure::usage("this step needs a data table (| ... |) below it"))
    }
}

/// Declarative steps may call each other; this bounds a runaway expansion that lint missed.
const MAX_DEPTH: usize = 32;

impl World {
    pub fn new(suite: Arc<Suite>) -> Self {
        Self {
            suite,
            scenario: None,
            steps_hash: None,
            sent: 0,
            place: None,
            contract: None,
            partner: None,
            credentials: Credentials::Contract,
            pending: PendingRequest::default(),
            last: None,
            burst: Vec::new(),
            selected: Vec::new(),
            vars: BTreeMap::new(),
            started: std::time::Instant::now(),
            deliveries: Vec::new(),
            uses_sut: false,
            draws: 0,
        }
    }

    /// A seed for the next made-up value of this scenario (`seed::derive` over the scenario,
    /// the purpose and how many were drawn before): `CONTRAIL_SEED` repeats it.
    pub fn draw(&mut self, purpose: &str) -> u64 {
        self.draws += 1;
        crate::seed::derive(&[
            self.scenario.as_deref().unwrap_or_default(),
            purpose,
            &self.draws.to_string(),
        ])
    }

    /// Whether the scenario's contract's policy (or, before one is named, the default policy)
    /// redacts a place, as `decide` asks it.
    pub fn redacts(&self, decide: impl Fn(&crate::policy::FieldPolicy) -> bool) -> bool {
        let default = crate::policy::FieldPolicy::default();
        decide(self.contract.as_ref().map(|c| &c.policy).unwrap_or(&default))
    }

    /// Runs one step of a feature: finds it in the vocabulary and executes it.
    pub async fn run_step(&mut self, text: &str, docstring: Option<&str>, table: Option<&[Vec<String>]>) -> StepResult {
        crate::panics::inject("step");
        let suite = self.suite.clone();
        match suite.registry.lookup(text) {
            Lookup::Found(step) => {
                self.execute(
                    &suite.registry,
                    step,
                    docstring.map(str::to_string),
                    table.map(<[_]>::to_vec),
                    None,
                    0,
                )
                .await
            }
            Lookup::Undefined { suggestion } => Err(StepFailure::undefined(text, suggestion)),
            Lookup::Ambiguous(phrases) => Err(StepFailure::ambiguous(text, phrases)),
        }
    }

    fn execute<'a>(
        &'a mut self,
        registry: &'a Registry,
        step: StepRef,
        docstring: Option<String>,
        table: Option<Vec<Vec<String>>>,
        params: Option<&'a BTreeMap<String, String>>,
        depth: usize,
    ) -> futures::future::LocalBoxFuture<'a, StepResult> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return Err(StepFailure::usage(
                    "declarative steps nest deeper than 32 levels (a cycle?)",
                ));
            }
            let def = registry.get(step.index);
            let scope = Scope {
                params,
                vars: &self.vars,
            };
            let interp = |s: &str| interpolate(s, &scope).map_err(StepFailure::usage);
            let values = step.raw_args.iter().map(|a| interp(a)).collect::<Result<Vec<_>, _>>()?;
            let docstring = docstring.as_deref().map(interp).transpose()?;
            let table = match table {
                Some(rows) => Some(
                    rows.iter()
                        .map(|r| r.iter().map(|c| interp(c)).collect::<Result<Vec<_>, _>>())
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            match &def.body {
                StepBody::Builtin(handler) => {
                    handler(
                        self,
                        Args {
                            params: values,
                            docstring,
                            table,
                        },
                    )
                    .await
                }
                StepBody::Macro(m) => {
                    let mut bound: BTreeMap<String, String> =
                        def.phrase.params.iter().map(|p| p.name.clone()).zip(values).collect();
                    if let Some(d) = docstring {
                        bound.insert("docstring".into(), d);
                    }
                    if let Some(rows) = &table {
                        bound.insert("table".into(), table_json(rows).to_string());
                    }
                    for item in &m.steps {
                        // `None`: once, no row bound; `Some((index, cells))`: once per table row.
                        type Rows<'r> = Vec<Option<(usize, &'r Vec<String>)>>;
                        let (subs, rows): (&[SubStep], Rows<'_>) = match item {
                            MacroItem::Step(sub) => (std::slice::from_ref(sub), vec![None]),
                            MacroItem::EachRow(subs) => {
                                let rows = table.as_deref().unwrap_or_default();
                                (subs.as_slice(), rows.iter().enumerate().skip(1).map(Some).collect())
                            }
                        };
                        let header = table.as_ref().and_then(|t| t.first());
                        for row in rows {
                            let mut scope = bound.clone();
                            if let (Some((_, cells)), Some(header)) = (row, header) {
                                for (name, value) in header.iter().zip(cells) {
                                    scope.insert(format!("row.{name}"), value.clone());
                                }
                            }
                            for sub in subs {
                                let sub_table = match &sub.table {
                                    Some(TableArg::Rows(r)) => Some(r.clone()),
                                    Some(TableArg::Passed) => table.clone(),
                                    None => None,
                                };
                                let r = self
                                    .execute(
                                        registry,
                                        sub.step.clone(),
                                        sub.docstring.clone(),
                                        sub_table,
                                        Some(&scope),
                                        depth + 1,
                                    )
                                    .await;
                                if let Err(mut f) = r {
                                    let at_row =
                                        row.map(|(i, _)| format!(" (table row {})", i + 1)).unwrap_or_default();
                                    f.within
                                        .insert(0, format!("{} -> {}{at_row}", def.phrase.text, sub.text));
                                    return Err(f);
                                }
                            }
                        }
                    }
                    Ok(())
                }
            }
        })
    }

    pub fn contract(&self) -> Result<&Arc<Contract>, StepFailure> {
        self.contract.as_ref().ok_or_else(|| {
            let names: Vec<&str> = self.suite.catalog.contracts.keys().map(String::as_str).collect();
            StepFailure::usage(format!("no contract chosen: start the scenario (or its Background) with: Given the contract \"...\" (contracts: {})", names.join(", ")))
        })
    }

    pub fn last(&self) -> Result<&Exchange, StepFailure> {
        self.last
            .as_ref()
            .ok_or_else(|| StepFailure::usage("no request has been sent yet in this scenario"))
    }

    pub fn base_url(&self, partner: &str) -> Result<&Url, StepFailure> {
        self.suite.base_urls.get(partner).ok_or_else(|| {
            StepFailure::harness(format!(
                "no base URL for the partner {partner:?}: set [partners.{partner}] live = \"http://...\" in contrail.toml or pass --base-url {partner}=URL"
            ))
        })
    }
}

/// A data table as JSON: one object per row after the first, keyed by the first row's cells.
fn table_json(rows: &[Vec<String>]) -> serde_json::Value {
    let Some((header, body)) = rows.split_first() else {
        return serde_json::Value::Array(Vec::new());
    };
    serde_json::Value::Array(
        body.iter()
            .map(|row| {
                serde_json::Value::Object(
                    header
                        .iter()
                        .zip(row)
                        .map(|(h, v)| (h.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                )
            })
            .collect(),
    )
}
