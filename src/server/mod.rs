//! The record-replay mock server: one real HTTP server per partner on 127.0.0.1.
//!
//! Replay answers from the recordings through the index. Record proxies to the live sandbox
//! and writes what it saw (redacted first, atomically). Replay with `record_missing` answers
//! what it can and records the rest. A request nothing answers gets a 501 whose JSON body names
//! the closest recording and every field that differs; the client turns it into a failed step.
//!
//! Scenarios identify themselves with `X-Contrail-Scenario`, so each replays its own recorded
//! sequence even when scenarios run concurrently. That header never reaches the partner.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::oneshot;

use crate::contract::Contract;
use crate::recording::index::{Incoming, Index, Lookup, key};
use crate::recording::{self, Body, Declared, Interaction, Meta, ReceivedQuery, Seen};

mod admin;
mod body;
mod drift_proxy;
pub mod faults;
mod idle;
pub mod journal;
pub mod limits;
mod proxy;
mod request_body;
pub mod simulate;
mod standalone;
pub mod tls;

pub use standalone::{MockOptions, ServeError, serve_until_stopped};

pub use admin::PREFIX as ADMIN_PREFIX;
pub use body::MockBody;

pub use faults::{Fault, FaultKind, Faults, RetryAfter};
pub use journal::Journal;
pub use limits::Limits;

/// Header a scenario sends to say who it is (`scenario::to_header` of its identity).
pub const SCENARIO_HEADER: &str = "x-contrail-scenario";
/// Header a scenario sends with the hash of its steps, so replay can tell a stale recording.
pub const STEPS_HEADER: &str = "x-contrail-steps";
/// Header on a mock's answer: how long the partner took, in ms, so latency budgets judge the
/// partner and not contrail or the machine. Proxied: what the live sandbox took, without the
/// proxy's own pacing. Replayed: what it took when recorded (`Meta::took_ms`; 0 when the
/// recording does not say). A programmed delay is the partner's time too.
pub const LIVE_TIME_HEADER: &str = crate::recording::index::PARTNER_TIME_HEADER;
/// Header on contrail's own answers: "unmatched" on a 501 when no recording matches,
/// "upstream-unreachable" when the live sandbox could not be reached.
pub const UNMATCHED_HEADER: &str = crate::client::PROXY_HEADER;
const MAX_BODY: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub enum Mode {
    Replay,
    /// Replay what matches, record the rest from `upstream`.
    ReplayOrRecord {
        upstream: url::Url,
    },
    Record {
        upstream: url::Url,
    },
    /// Forward to `upstream` and compare each live answer with its recording (a drift run).
    Drift {
        upstream: url::Url,
        session: Arc<crate::drift::Session>,
    },
}

impl std::fmt::Debug for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::Replay => write!(f, "Replay"),
            Mode::ReplayOrRecord { upstream } => write!(f, "ReplayOrRecord({upstream})"),
            Mode::Record { upstream } => write!(f, "Record({upstream})"),
            Mode::Drift { upstream, .. } => write!(f, "Drift({upstream})"),
        }
    }
}

pub struct Config {
    pub partner: String,
    pub contract: Arc<Contract>,
    pub dir: PathBuf,
    pub mode: Mode,
    /// 0: any free port.
    pub port: u16,
    /// Requests the journal keeps (the oldest go first).
    pub journal_cap: usize,
    /// Play the partner for requests no scenario recorded (a system under test's): OAuth
    /// server, token and scope checks, rate limit, answers from the contract.
    pub simulate: bool,
    pub limits: Limits,
    /// The partner's TLS settings, for forwarding to its live sandbox.
    pub upstream_tls: Option<crate::client::tls::PartnerTls>,
    /// Serve HTTPS (for a system under test that only speaks HTTPS).
    pub tls: Option<tls::Acceptor>,
}

struct Shared {
    partner: String,
    contract: Arc<Contract>,
    dir: PathBuf,
    mode: Mode,
    index: RwLock<Index>,
    /// (scenario, key) -> interactions recorded so far in this run.
    recorded: Mutex<HashMap<(String, String), u32>>,
    upstream_client: reqwest::Client,
    /// The TLS settings `upstream_client` was built with, to ask again why a handshake failed.
    upstream_tls: Option<crate::client::tls::PartnerTls>,
    journal: Journal,
    faults: Faults,
    /// The contract's per-client rate limit, kept by drift runs.
    pacer: Option<crate::drift::pace::Pacer>,
    /// When the server started: journal times in the admin API are relative to it.
    started: std::time::Instant,
    /// Bearer token -> the client it was issued to (seen through the proxy), so pacing counts
    /// a client's budget across all its tokens, as the partner does.
    token_clients: Mutex<HashMap<String, String>>,
    simulator: Option<simulate::Simulator>,
    /// The partner's OAuth token path, when it has one.
    token_path: Option<String>,
    /// Recordings already reported as stale in this run.
    stale_warned: Mutex<std::collections::HashSet<PathBuf>>,
    limits: Limits,
    /// TLS handshakes that failed (how many, and the last reason): a client that does not
    /// trust the mock's certificate never reaches the journal, so this is the only trace.
    tls_failures: Mutex<(usize, String)>,
}

/// What steps use to program faults on a mock server and read its journal.
#[derive(Clone)]
pub struct MockControl(Arc<Shared>);

impl std::fmt::Debug for MockControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MockControl({})", self.0.partner)
    }
}

impl MockControl {
    pub fn journal(&self) -> &Journal {
        &self.0.journal
    }
    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }
    /// The partner simulator, when this mock plays the partner for a system under test.
    pub fn simulator(&self) -> Option<&simulate::Simulator> {
        self.0.simulator.as_ref()
    }
    /// How many TLS handshakes failed so far, and why the last one did, in words.
    pub fn tls_failures(&self) -> Option<(usize, String)> {
        let f = self.0.tls_failures.lock().ok()?;
        (f.0 > 0).then(|| (f.0, f.1.clone()))
    }
}

impl Shared {
    fn tls_failed(&self, e: &std::io::Error) {
        let chain = crate::client::error_chain(e);
        let c = chain.to_ascii_lowercase();
        let why = if c.contains("unknownca") || c.contains("badcertificate") || c.contains("certificateunknown") {
            format!("the client does not trust the mock's certificate ({chain})")
        } else {
            chain
        };
        if let Ok(mut f) = self.tls_failures.lock() {
            f.0 += 1;
            f.1 = why;
        }
    }
}

/// A running mock server. Dropping it stops it too (its shutdown channel closes, the accept
/// loop ends and the open connections are aborted); `stop` also waits for that to happen.
pub struct MockServer {
    pub control: MockControl,
    pub url: String,
    pub partner: String,
    pub loaded: usize,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl MockServer {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await;
    }
}

/// Why a mock server did not start: its recordings are wrong (the user's input), or it could
/// not run (a port, a TLS setup).
#[derive(Debug)]
pub enum StartError {
    Recordings(crate::diag::Diagnostics),
    /// Bad settings (`[mock]`, a certificate file): the user's to fix, exit 2.
    Config(String),
    Harness(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Recordings(d) => write!(f, "{d}"),
            StartError::Config(m) | StartError::Harness(m) => write!(f, "{m}"),
        }
    }
}

impl From<String> for StartError {
    fn from(m: String) -> Self {
        StartError::Harness(m)
    }
}

/// The mock without a socket: exactly what the hyper service calls for each request. Fuzz
/// targets and embedders drive it in-process, so an input reaches the code a network request
/// reaches, without a port or a connection per input.
pub struct InProcess(Arc<Shared>);

impl InProcess {
    /// Loads the partner's recordings; `cfg.port` and `cfg.tls` are the listener's and unused.
    pub fn new(cfg: Config) -> Result<InProcess, StartError> {
        prepare(cfg).map(InProcess)
    }

    pub fn control(&self) -> MockControl {
        MockControl(self.0.clone())
    }

    /// Answers one request as the server would, panics included (the server turns a panic into
    /// a 500; a fuzzer wants to see it). `Err` is a dropped connection (the `Reset` fault).
    pub async fn handle<B>(&self, req: Request<B>) -> Result<Response<MockBody>, std::io::Error>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        handle(&self.0, &parts, body).await
    }
}

/// Loads the partner's recordings and builds the state every connection shares. Broken
/// recordings are an error naming the file and line.
fn prepare(cfg: Config) -> Result<Arc<Shared>, StartError> {
    let (items, errors) = recording::load_dir(&cfg.dir);
    if !errors.is_empty() {
        return Err(StartError::Recordings(errors));
    }
    let mut pacer = None;
    if let Mode::Drift { session, .. } = &cfg.mode {
        session.register(&cfg.partner, items.iter().map(|(f, _)| f.clone()));
        if session.pace
            && let Some(limit) = cfg.contract.partner(&cfg.partner).and_then(|p| p.rate_limit)
        {
            pacer = crate::drift::pace::Pacer::new(limit.requests, limit.per);
        }
    }
    let index = Index::build(&cfg.contract.policy, items);
    let simulator = cfg
        .simulate
        .then(|| simulate::Simulator::new(&cfg.contract, &cfg.partner));
    let upstream_client = crate::client::builder(std::time::Duration::from_secs(30), false, cfg.upstream_tls.as_ref())
        .build()
        .map_err(|e| e.to_string())?;
    let token_path = cfg.contract.partner(&cfg.partner).and_then(|p| p.token_path());
    Ok(Arc::new(Shared {
        partner: cfg.partner.clone(),
        contract: cfg.contract,
        dir: cfg.dir,
        mode: cfg.mode,
        index: RwLock::new(index),
        recorded: Mutex::new(HashMap::new()),
        upstream_client,
        upstream_tls: cfg.upstream_tls,
        journal: Journal::new(cfg.journal_cap, cfg.limits.journal_body_bytes),
        faults: Faults::default(),
        pacer,
        started: std::time::Instant::now(),
        token_clients: Mutex::new(HashMap::new()),
        simulator,
        token_path,
        stale_warned: Mutex::new(Default::default()),
        limits: cfg.limits.clone(),
        tls_failures: Mutex::new((0, String::new())),
    }))
}

/// Loads the partner's recordings and starts serving on 127.0.0.1. Broken recordings are an
/// error naming the file and line.
pub async fn start(cfg: Config) -> Result<MockServer, StartError> {
    let (partner, port, tls) = (cfg.partner.clone(), cfg.port, cfg.tls.clone());
    let shared = prepare(cfg)?;
    let loaded = shared.index.read().map_or(0, |i| i.len());
    let control = MockControl(shared.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        format!(
            "the mock server for {:?} cannot listen on 127.0.0.1:{}: {e}",
            partner, port
        )
    })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, mut rx) = oneshot::channel::<()>();
    let tls_acceptor = tls;
    let watcher = idle::Watcher::start(shared.limits.idle_timeout)
        .map_err(|e| format!("the mock server for {partner:?} cannot start its idle-connection watcher: {e}"))?;
    let scheme = if tls_acceptor.is_some() { "https" } else { "http" };
    // Plain hyper rather than axum: one catch-all handler needs no router, and under axum the
    // mock measured 0.73x of a bare hyper server (see docs/decisions.md).
    let task = tokio::spawn(async move {
        // Dropping the set when the loop ends aborts the open connections.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        // Out of file descriptors (or a connection reset before it was taken):
                        // pause rather than spin, so the connections already open are served.
                        Err(_) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            continue;
                        }
                    };
                    if connections.len() >= shared.limits.max_connections {
                        connections.spawn(refuse_busy(stream));
                        continue;
                    }
                    let activity = watcher.watch();
                    match tls_acceptor.clone() {
                        None => connections.spawn(serve(shared.clone(), activity, stream)),
                        Some(acceptor) => {
                            let shared = shared.clone();
                            connections.spawn(async move {
                                // A handshake that never completes is an idle connection.
                                let handshake = tokio::time::timeout(shared.limits.idle_timeout, acceptor.accept(stream));
                                // Work under way for the watcher: the connection's quiet starts
                                // when the handshake is done, not when it was accepted.
                                activity.request_started();
                                let handshake = handshake.await;
                                activity.request_answered();
                                match handshake {
                                    Ok(Ok(tls)) => serve(shared, activity, tls).await,
                                    Ok(Err(e)) => shared.tls_failed(&e),
                                    Err(_) => {}
                                }
                            })
                        }
                    };
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(MockServer {
        control,
        url: format!("{scheme}://{addr}"),
        partner,
        loaded,
        shutdown: Some(tx),
        task,
    })
}

/// One connection: requests answered by `handle`, closed when the server's idle watcher says so
/// (`idle.rs`: no request in flight for the idle timeout; dropped outright at twice that when a
/// graceful close did not end it, a slowloris still sending its headers). Not hyper's own
/// header-read timeout: that one arms a timer for every request.
async fn serve<S>(shared: Arc<Shared>, activity: Arc<idle::Activity>, stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    /// What a connection's requests share: the server's state, reached through this
    /// per-connection count rather than by cloning the server-wide `Arc` for each request,
    /// whose count every worker thread would then write; and the counters the watcher reads.
    struct Connection {
        shared: Arc<Shared>,
        activity: Arc<idle::Activity>,
    }
    let connection = Arc::new(Connection {
        shared,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |req| {
        let seen = connection.clone();
        async move {
            seen.activity.request_started();
            // A panic here is a bug in contrail: the client gets a 500 that says so and the
            // run ends as a harness failure, rather than a connection silently dropped. The
            // handler borrows the request's head, so the message can name it without a copy.
            let (parts, body) = req.into_parts();
            let handled = handle(&seen.shared, &parts, body);
            let reply = match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(handled)).await {
                Ok(reply) => reply,
                Err(payload) => {
                    let doing = format!(
                        "the {:?} mock answering {} {}",
                        seen.shared.partner,
                        parts.method,
                        parts.uri.path()
                    );
                    let message = crate::panics::caught(payload.as_ref(), &doing);
                    Ok(json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &[],
                        json!({ "error": format!("contrail mock: internal error in {doing}: {message}") }),
                    ))
                }
            };
            seen.activity.request_answered();
            reply
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut acted = idle::Order::Open;
    loop {
        tokio::select! {
            biased;
            _ = conn.as_mut() => return,
            order = activity.order_past(acted) => {
                acted = order;
                match order {
                    // Closes at once when idle; lets a request under way finish otherwise.
                    idle::Order::Close => conn.as_mut().graceful_shutdown(),
                    // Still open: a client half-way through its headers. Dropping closes it.
                    idle::Order::Drop | idle::Order::Open => return,
                }
            }
        }
    }
}

/// Beyond the connection cap: a 503 that says why, and the connection closed, so the file
/// descriptor is free again at once.
async fn refuse_busy(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt as _;
    let body = br#"{"error":"contrail mock: too many open connections; try again"}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write).await;
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

type Reply = Response<MockBody>;

fn respond(status: u16, headers: &[(String, String)], body: impl Into<Bytes>) -> Reply {
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY));
    for (k, v) in headers {
        let lk = k.to_ascii_lowercase();
        if matches!(
            lk.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        ) {
            continue;
        }
        match (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            (Ok(name), Ok(value)) => b = b.header(name, value),
            // Never a 200 with a garbage body: say which header cannot be sent.
            _ => return cannot_send(&format!("the header {k:?} holds characters HTTP does not allow")),
        }
    }
    b.body(MockBody::whole(body))
        .unwrap_or_else(|e| cannot_send(&e.to_string()))
}

fn cannot_send(why: &str) -> Reply {
    let body = serde_json::to_vec(&json!({ "error": format!("contrail mock: cannot send this answer: {why}") }))
        .unwrap_or_default();
    let mut r = Response::new(MockBody::whole(body));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn simulated(a: simulate::Answer) -> Reply {
    let body = if a.body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&a.body).unwrap_or_default()
    };
    respond(a.status, &a.headers, body)
}

fn json_response(status: StatusCode, extra: &[(&str, &str)], v: serde_json::Value) -> Reply {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    respond(
        status.as_u16(),
        &headers,
        serde_json::to_vec_pretty(&v).unwrap_or_default(),
    )
}

/// Says once per recording when it was made for other steps than the scenario has now: the
/// answer is still the scenario's, but may no longer be what these steps would get.
fn warn_if_stale(s: &Shared, entry: &crate::recording::index::Entry, incoming: &Incoming) {
    let (Some(recorded), Some(now)) = (&entry.interaction.meta.steps, &incoming.steps) else {
        return;
    };
    if recorded == now {
        return;
    }
    let first = s.stale_warned.lock().is_ok_and(|mut w| w.insert(entry.file.clone()));
    if first {
        eprintln!(
            "warning: {} was recorded when the steps of {:?} were different: it may be stale; record it again \
             with `--target record` (`contrail lint --stale` lists them all)",
            entry.file.display(),
            incoming.scenario.as_deref().unwrap_or_default()
        );
    }
}

/// Applies a programmed fault if one is due, answers, and journals the request with the answer.
/// An `Err` makes hyper drop the connection (the `Reset` fault).
async fn handle<B>(s: &Arc<Shared>, parts: &hyper::http::request::Parts, body: B) -> Result<Reply, std::io::Error>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    crate::panics::inject("mock");
    // When the request arrived: what spacing checks measure, whatever the answer then took.
    let arrived = std::time::Instant::now();
    let body: Bytes = match request_body::read_whole(body, MAX_BODY).await {
        Some(b) => b,
        None => {
            return Ok(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &[],
                json!({ "error": "contrail mock: the request body is over 10 MB, or was cut off" }),
            ));
        }
    };
    // The request as matching, recording and the journal see it, built once. The three headers
    // it reads are found in one pass over the few a request has (each the first of its name,
    // as `HeaderMap::get` gives it), not by three hashed lookups; the same pass gathers its
    // credential headers.
    static SCENARIO: hyper::header::HeaderName = hyper::header::HeaderName::from_static(SCENARIO_HEADER);
    static STEPS: hyper::header::HeaderName = hyper::header::HeaderName::from_static(STEPS_HEADER);
    // Where the policy has rules limited to an operation, a request's credentials (the headers
    // it redacts) are that operation's, as a recording's are: both are asked with the
    // operation, or a credential redacted for one operation would never match its recording.
    let op = if s.contract.policy.has_operation_rules() {
        operation_of(s, &parts.method, parts.uri.path())
    } else {
        None
    };
    let (mut content_type, mut scenario, mut steps) = (None, None, None);
    let mut credentials = crate::recording::index::Credentials::default();
    for (name, value) in &parts.headers {
        let slot = if name == hyper::header::CONTENT_TYPE {
            &mut content_type
        } else if name == SCENARIO {
            &mut scenario
        } else if name == STEPS {
            &mut steps
        } else {
            credentials.offer(&s.contract.policy, op, name.as_str());
            continue;
        };
        slot.get_or_insert(value);
    }
    let content_type = content_type.and_then(|v| v.to_str().ok());
    let (received, journal_body, body_sha256) = s.journal.receive(Declared::of(content_type), &body);
    let incoming = Incoming {
        method: method_name(&parts.method),
        path: parts.uri.path().to_string(),
        query: ReceivedQuery::of_uri(&parts.uri),
        body: received,
        scenario: scenario.map(|v| crate::scenario::from_header(v.as_bytes())),
        steps: steps.and_then(|v| v.to_str().ok()).map(str::to_string),
        credentials: credentials.names(),
    };
    if incoming.path.starts_with(admin::PREFIX) {
        if let Some(refused) = admin::guard(s, &parts.method, &parts.headers) {
            return Ok(refused);
        }
        return Ok(Box::pin(admin::handle(s, &parts.method, &incoming.path, &incoming.query, &body)).await);
    }
    let body_bytes = body.len();
    // Called once, last, with the request it moves into the entry (no copy of its parts).
    let journal = |status: u16, incoming: Incoming| {
        s.journal.push(journal::Entry {
            at: arrived,
            scenario: incoming.scenario,
            method: incoming.method,
            path: incoming.path,
            body: journal_body,
            body_bytes,
            body_sha256,
            status,
        });
    };
    let mut delayed = None;
    match s
        .faults
        .take(incoming.scenario.as_deref(), &incoming.method, &incoming.path)
    {
        Some(FaultKind::Respond {
            status,
            mut headers,
            body: fault_body,
            retry_after,
        }) => {
            if let Some(r) = retry_after {
                headers.push(("retry-after".into(), r.header_value(std::time::SystemTime::now())));
            }
            journal(status, incoming);
            return Ok(respond(status, &headers, fault_body));
        }
        Some(FaultKind::Truncate) => {
            let reply = answer(s, &parts.method, &parts.headers, body, &incoming, op).await;
            journal(reply.status().as_u16(), incoming);
            let (head, whole) = reply.into_parts();
            let bytes = match whole {
                MockBody::Whole(b) => b.unwrap_or_default(),
                other => return Ok(Response::from_parts(head, other)),
            };
            return Ok(Response::from_parts(head, MockBody::truncated(bytes)));
        }
        Some(FaultKind::Oversized(n)) => {
            let reply = answer(s, &parts.method, &parts.headers, body, &incoming, op).await;
            journal(reply.status().as_u16(), incoming);
            let (mut head, _) = reply.into_parts();
            head.headers.insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            head.headers.remove(hyper::header::CONTENT_LENGTH);
            return Ok(Response::from_parts(head, MockBody::padding(n)));
        }
        Some(FaultKind::Reset) => {
            journal(0, incoming);
            return Err(std::io::Error::other("contrail fault: connection dropped"));
        }
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            delayed = Some(d);
        }
        None => {}
    }
    let mut reply = answer(s, &parts.method, &parts.headers, body, &incoming, op).await;
    if let Some(d) = delayed {
        add_partner_time(&mut reply, d);
    }
    journal(reply.status().as_u16(), incoming);
    Ok(reply)
}

/// The method as text, copied only when it is not one HTTP names.
fn method_name(method: &Method) -> std::borrow::Cow<'static, str> {
    const NAMED: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
    ];
    let text = method.as_str();
    match NAMED.iter().find(|n| **n == text) {
        Some(named) => std::borrow::Cow::Borrowed(named),
        None => std::borrow::Cow::Owned(text.to_string()),
    }
}

/// A programmed delay plays a slow partner: it counts in the partner's time the answer reports.
fn add_partner_time(reply: &mut Reply, delay: std::time::Duration) {
    let headers = reply.headers_mut();
    let Some(took) = headers
        .get(LIVE_TIME_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let delay = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    headers.insert(
        LIVE_TIME_HEADER,
        hyper::header::HeaderValue::from(took.saturating_add(delay)),
    );
}

/// The contract's operation for a request, by method and path: borrowed from the contract, so
/// that a replayed request asking it copies nothing.
fn operation_of<'s>(s: &'s Shared, method: &Method, path: &str) -> Option<&'s str> {
    s.contract
        .partner(&s.partner)
        .and_then(|p| p.operation_for(method.as_str(), path))
        .map(|(o, _)| o.id.as_str())
}

/// `op`: the request's operation, found by `handle` where the policy has rules limited to one.
async fn answer(
    s: &Arc<Shared>,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    incoming: &Incoming,
    op: Option<&str>,
) -> Reply {
    let path = &incoming.path;
    // Replay needs the operation only for policy rules limited to one (then `handle` found it,
    // and replay borrows it); the paths that record or compare live own it, found if need be.
    let owned_op = || op.or_else(|| operation_of(s, method, path)).map(str::to_string);

    let upstream = match &s.mode {
        Mode::Record { upstream } => Some(upstream.clone()),
        Mode::Drift { upstream, session } => {
            return Box::pin(drift_proxy::compare_with_live(
                s,
                upstream,
                session,
                method,
                headers,
                body,
                incoming,
                owned_op(),
            ))
            .await;
        }
        // A recorded token is redacted: useless to a live partner. Recording what is missing
        // therefore always gets tokens live.
        Mode::ReplayOrRecord { upstream } if s.token_path.as_deref() == Some(path.as_str()) => Some(upstream.clone()),
        Mode::Replay | Mode::ReplayOrRecord { .. } => {
            // Only the simulator reads credentials; replay never does.
            let authorization = || headers.get("authorization").and_then(|v| v.to_str().ok());
            if let Some(sim) = &s.simulator
                && method == Method::POST
                && sim.is_auth_path(path)
            {
                return simulated(sim.auth_endpoint(path, authorization(), incoming.body.parsed()));
            }
            let index = match s.index.read() {
                Ok(i) => i,
                Err(_) => {
                    return json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &[],
                        json!({ "error": "contrail mock: index lock poisoned" }),
                    );
                }
            };
            match index.lookup(&s.contract.policy, op, incoming) {
                Lookup::Found(entry) => {
                    warn_if_stale(s, entry, incoming);
                    let mut reply = Response::new(MockBody::whole(entry.response_bytes.clone()));
                    *reply.status_mut() =
                        StatusCode::from_u16(entry.interaction.response.status).unwrap_or(StatusCode::BAD_GATEWAY);
                    *reply.headers_mut() = entry.response_headers.clone();
                    return reply;
                }
                Lookup::Unmatched {
                    closest,
                    scenario_unrecorded,
                } => match not_replayed(s, method, headers, &body, incoming, closest, scenario_unrecorded) {
                    Ok(reply) => return reply,
                    Err(upstream) => Some(upstream),
                },
            }
        }
    };
    let Some(upstream) = upstream else {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &[],
            json!({ "error": "contrail mock: no upstream" }),
        );
    };
    Box::pin(proxy::proxy_and_record(
        s,
        upstream,
        method,
        headers,
        body,
        incoming,
        owned_op(),
    ))
    .await
}

/// What replay answers when no recording matches: the partner played for the system under
/// test's own requests (with the simulator), a 501 naming the closest recording, or, recording
/// what is missing, the upstream to ask (`Err`). Out of line and cold: on the path every
/// replayed request takes, its code (most of it building JSON) only filled the instruction
/// cache.
#[cold]
#[inline(never)]
fn not_replayed(
    s: &Shared,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
    incoming: &Incoming,
    closest: Option<(&recording::index::Entry, Vec<(String, String)>)>,
    scenario_unrecorded: bool,
) -> Result<Reply, url::Url> {
    let (path, query) = (&incoming.path, &incoming.query);
    // The operation the answer names (the one `handle` may have found for per-operation rules
    // is this one too: found the same way).
    let named_operation = || operation_of(s, method, path).map(str::to_string);
    match (closest, scenario_unrecorded) {
        _ if incoming.scenario.is_none()
            && let Some(sim) = &s.simulator
            && let Some((operation, _)) = s
                .contract
                .partner(&s.partner)
                .and_then(|p| p.operation_for(method.as_str(), path)) =>
        {
            // Not a scenario's request: the system under test's. Play the partner.
            let header_pairs: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if let Some(refused) = sim.admit(operation, &header_pairs, &incoming.query) {
                return Ok(simulated(refused));
            }
            let view = crate::contract::request_check::RequestView {
                path: &incoming.path,
                query: &incoming.query,
                headers: &header_pairs,
                body: Some(body.as_ref()),
            };
            Ok(simulated(sim.respond(
                &s.contract,
                operation,
                &view,
                incoming.body.parsed(),
            )))
        }
        (_, true) if !matches!(s.mode, Mode::ReplayOrRecord { .. }) => Ok(json_response(
            StatusCode::NOT_IMPLEMENTED,
            &[(UNMATCHED_HEADER, "unmatched")],
            json!({
                "error": format!(
                    "no recordings of {:?} for this scenario ({}): new or renamed? record it with `--record-missing`",
                    s.partner,
                    incoming.scenario.as_deref().unwrap_or_default()
                ),
                "operation": named_operation(),
                "recordings": s.dir.display().to_string(),
            }),
        )),
        (closest, _) => match &s.mode {
            Mode::ReplayOrRecord { upstream } => Err(upstream.clone()),
            _ => {
                let closest = closest.map(|(e, diffs)| {
                    json!({
                        "file": e.file.display().to_string(),
                        "differences": diffs.iter().map(|(f, d)| json!({ "field": f, "difference": d })).collect::<Vec<_>>(),
                    })
                });
                Ok(json_response(
                    StatusCode::NOT_IMPLEMENTED,
                    &[(UNMATCHED_HEADER, "unmatched")],
                    json!({
                        "error": format!("no recorded interaction of {:?} matches {} {path}", s.partner, method),
                        "operation": named_operation(),
                        "query": query,
                        "closest": closest,
                        "recordings": s.dir.display().to_string(),
                        "hint": "record it with `contrail run --target record`, or replay with --record-missing",
                    }),
                ))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replay mock over one recording of `GET /things` sent with `X-Partner-Key`, under a
    /// contract whose policy redacts that header for `getThing` only.
    fn mock_with_an_operation_s_credential(dir: &std::path::Path) -> InProcess {
        let contract = dir.join("contract.yaml");
        std::fs::write(
            &contract,
            "contract: tiny\nversion: \"1\"\npartners:\n  api:\n    operations:\n      - { id: getThing, method: GET, path: /things }\n      - { id: listOthers, method: GET, path: /others }\npolicy:\n  - { header: x-partner-key, action: redact, operation: getThing }\n",
        )
        .expect("contract written");
        let recordings = dir.join("recordings");
        std::fs::create_dir_all(&recordings).expect("recordings folder");
        std::fs::write(
            recordings.join("getThing-0001.json"),
            r#"{"meta": {"recorded_at": "2026-11-23T00:00:00Z", "target": "http://127.0.0.1:1", "contract": "tiny",
                "contract_version": "1", "partner": "api", "operation": "getThing", "sequence": 1},
               "request": {"method": "GET", "path": "/things", "headers": {"x-partner-key": "<redacted>"}},
               "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"ok": true}}}}"#,
        )
        .expect("recording written");
        let contract = Contract::load(&contract).unwrap_or_else(|e| panic!("{e}"));
        InProcess::new(Config {
            partner: "api".into(),
            contract: Arc::new(contract),
            dir: recordings,
            mode: Mode::Replay,
            port: 0,
            journal_cap: 16,
            simulate: false,
            limits: Limits::default(),
            upstream_tls: None,
            tls: None,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn status_of(mock: &InProcess, key: Option<&str>) -> u16 {
        let mut req = Request::get("/things");
        if let Some(k) = key {
            req = req.header("x-partner-key", k);
        }
        let req = req.body(http_body_util::Full::new(Bytes::new())).expect("a request");
        mock.handle(req).await.expect("an answer").status().as_u16()
    }

    /// A header the policy redacts for one operation is that operation's credential: a
    /// request of the operation that carries it finds the recording made with it, and one
    /// without it does not.
    #[tokio::test]
    async fn a_credential_the_policy_names_for_one_operation_is_matched_for_it() {
        let dir = tempfile::tempdir().expect("a scratch folder");
        let mock = mock_with_an_operation_s_credential(dir.path());
        assert_eq!(
            status_of(&mock, Some("k-123")).await,
            200,
            "sent with the recorded credential"
        );
        assert_eq!(
            status_of(&mock, None).await,
            501,
            "sent without the recorded credential"
        );
    }

    /// The bytes of the state every request's handler keeps while it runs (hyper holds it in
    /// the connection and moves it in). The paths that forward to a live partner or serve the
    /// admin API await futures of kilobytes (an HTTP client's); unboxed, they made every
    /// replayed request's state 3.7 KB (release build) that it wrote and moved for nothing.
    fn handler_state_bytes() -> usize {
        fn of<'a, F>(
            _: &impl Fn(&'a Arc<Shared>, &'a hyper::http::request::Parts, http_body_util::Full<Bytes>) -> F,
        ) -> usize {
            std::mem::size_of::<F>()
        }
        of(&|s, p, b| handle(s, p, b))
    }

    #[test]
    fn a_request_s_state_does_not_hold_the_forwarding_paths() {
        let bytes = handler_state_bytes();
        assert!(
            bytes < 1536,
            "each request keeps {bytes} bytes of state: a large future awaited inline (box it)"
        );
    }
}
