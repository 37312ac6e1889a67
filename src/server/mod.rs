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
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming as HyperBody;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::oneshot;

use crate::contract::Contract;
use crate::recording::index::{Incoming, Index, Lookup, key};
use crate::recording::{self, Body, Interaction, Meta, Seen};

mod admin;
mod body;
pub mod faults;
pub mod journal;

pub use admin::PREFIX as ADMIN_PREFIX;
use body::MockBody;

pub use faults::{Fault, FaultKind, Faults, RetryAfter};
pub use journal::Journal;

/// Header a scenario sends to say who it is.
pub const SCENARIO_HEADER: &str = "x-contrail-scenario";
/// Header on a proxied answer: how long the live sandbox took, in ms, without the proxy's own
/// pacing, so latency budgets judge the partner and not contrail.
pub const LIVE_TIME_HEADER: &str = "x-contrail-live-ms";
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
    journal: Journal,
    faults: Faults,
    /// The contract's per-client rate limit, kept by drift runs.
    pacer: Option<crate::drift::pace::Pacer>,
    /// When the server started: journal times in the admin API are relative to it.
    started: std::time::Instant,
    /// Bearer token -> the client it was issued to (seen through the proxy), so pacing counts
    /// a client's budget across all its tokens, as the partner does.
    token_clients: Mutex<HashMap<String, String>>,
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
}

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

/// Loads the partner's recordings and starts serving. Broken recordings are an error naming
/// the file and line.
/// Why a mock server did not start: its recordings are wrong (the user's input), or it could
/// not run (a port, a TLS setup).
#[derive(Debug)]
pub enum StartError {
    Recordings(crate::diag::Diagnostics),
    Harness(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Recordings(d) => write!(f, "{d}"),
            StartError::Harness(m) => write!(f, "{m}"),
        }
    }
}

impl From<String> for StartError {
    fn from(m: String) -> Self {
        StartError::Harness(m)
    }
}

pub async fn start(cfg: Config) -> Result<MockServer, StartError> {
    let (items, errors) = recording::load_dir(&cfg.dir);
    if !errors.is_empty() {
        return Err(StartError::Recordings(errors));
    }
    let loaded = items.len();
    let mut pacer = None;
    if let Mode::Drift { session, .. } = &cfg.mode {
        session.register(&cfg.partner, items.iter().map(|(f, _)| f.clone()));
        if session.pace
            && let Some(limit) = cfg
                .contract
                .partner(&cfg.partner)
                .and_then(|p| p.doc.rate_limit.as_ref())
        {
            let per = humantime::parse_duration(&limit.per).map_err(|e| {
                format!(
                    "the rate limit of {:?} has a bad window {:?}: {e}",
                    cfg.partner, limit.per
                )
            })?;
            pacer = crate::drift::pace::Pacer::new(limit.requests, per);
        }
    }
    let index = Index::build(&cfg.contract.policy, items);
    crate::client::install_crypto_provider();
    let upstream_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let shared = Arc::new(Shared {
        partner: cfg.partner.clone(),
        contract: cfg.contract,
        dir: cfg.dir,
        mode: cfg.mode,
        index: RwLock::new(index),
        recorded: Mutex::new(HashMap::new()),
        upstream_client,
        journal: Journal::new(cfg.journal_cap),
        faults: Faults::default(),
        pacer,
        started: std::time::Instant::now(),
        token_clients: Mutex::new(HashMap::new()),
    });
    let control = MockControl(shared.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port))
        .await
        .map_err(|e| {
            format!(
                "the mock server for {:?} cannot listen on 127.0.0.1:{}: {e}",
                cfg.partner, cfg.port
            )
        })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, mut rx) = oneshot::channel::<()>();
    // Plain hyper rather than axum: one catch-all handler needs no router, and under axum the
    // mock measured 0.73x of a bare hyper server (see docs/decisions.md).
    let task = tokio::spawn(async move {
        // Dropping the set when the loop ends aborts the open connections.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move { handle(shared, req).await }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(MockServer {
        control,
        url: format!("http://{addr}"),
        partner: cfg.partner,
        loaded,
        shutdown: Some(tx),
        task,
    })
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
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(MockBody::whole(body)).unwrap_or_else(|_| {
        Response::new(MockBody::whole(Bytes::from_static(
            b"contrail: cannot build the response",
        )))
    })
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

/// Applies a programmed fault if one is due, answers, and journals the request with the answer.
/// An `Err` makes hyper drop the connection (the `Reset` fault).
async fn handle(s: Arc<Shared>, req: Request<HyperBody>) -> Result<Reply, std::io::Error> {
    // When the request arrived: what spacing checks measure, whatever the answer then took.
    let arrived = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &[],
                json!({ "error": "contrail mock: the request body is over 10 MB, or was cut off" }),
            ));
        }
    };
    // The request as matching, recording and the journal see it, built once.
    let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok());
    let incoming = Incoming {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        body: Body::from_bytes(content_type, &body),
        scenario: parts
            .headers
            .get(SCENARIO_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    if incoming.path.starts_with(admin::PREFIX) {
        return Ok(admin::handle(&s, &parts.method, &incoming.path, &incoming.query, &body).await);
    }
    let journal = |status: u16, incoming: &Incoming| {
        s.journal.push(journal::Entry {
            at: arrived,
            scenario: incoming.scenario.clone(),
            method: incoming.method.clone(),
            path: incoming.path.clone(),
            body: incoming.body.clone(),
            status,
        });
    };
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
            journal(status, &incoming);
            return Ok(respond(status, &headers, fault_body));
        }
        Some(FaultKind::Truncate) => {
            let reply = answer(&s, &parts.method, &parts.headers, body, &incoming).await;
            journal(reply.status().as_u16(), &incoming);
            let (head, whole) = reply.into_parts();
            let bytes = match whole {
                MockBody::Whole(b) => b.unwrap_or_default(),
                other => return Ok(Response::from_parts(head, other)),
            };
            return Ok(Response::from_parts(head, MockBody::truncated(bytes)));
        }
        Some(FaultKind::Oversized(n)) => {
            let reply = answer(&s, &parts.method, &parts.headers, body, &incoming).await;
            journal(reply.status().as_u16(), &incoming);
            let (mut head, _) = reply.into_parts();
            head.headers.insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            head.headers.remove(hyper::header::CONTENT_LENGTH);
            return Ok(Response::from_parts(head, MockBody::whole(faults::padding_json(n))));
        }
        Some(FaultKind::Reset) => {
            journal(0, &incoming);
            return Err(std::io::Error::other("contrail fault: connection dropped"));
        }
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let (status, reply) = {
        let reply = answer(&s, &parts.method, &parts.headers, body, &incoming).await;
        (reply.status().as_u16(), reply)
    };
    journal(status, &incoming);
    Ok(reply)
}

async fn answer(s: &Arc<Shared>, method: &Method, headers: &HeaderMap, body: Bytes, incoming: &Incoming) -> Reply {
    let (path, query) = (&incoming.path, &incoming.query);
    let find_op = || {
        s.contract
            .partner(&s.partner)
            .and_then(|p| p.operation_for(method.as_str(), path))
            .map(|(o, _)| o.id.clone())
    };
    // Replay needs the operation only for policy rules limited to one; recording always names it.
    let op = if s.contract.policy.has_operation_rules() || matches!(s.mode, Mode::Record { .. } | Mode::Drift { .. }) {
        find_op()
    } else {
        None
    };

    let upstream = match &s.mode {
        Mode::Record { upstream } => Some(upstream.clone()),
        Mode::Drift { upstream, session } => {
            let op = op.or_else(find_op);
            return compare_with_live(s, upstream, session, method, headers, body, incoming, op).await;
        }
        Mode::Replay | Mode::ReplayOrRecord { .. } => {
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
            match index.lookup(&s.contract.policy, op.as_deref(), incoming) {
                Lookup::Found(entry) => {
                    let mut reply = Response::new(MockBody::whole(entry.response_bytes.clone()));
                    *reply.status_mut() =
                        StatusCode::from_u16(entry.interaction.response.status).unwrap_or(StatusCode::BAD_GATEWAY);
                    *reply.headers_mut() = entry.response_headers.clone();
                    return reply;
                }
                Lookup::Unmatched { closest } => match &s.mode {
                    Mode::ReplayOrRecord { upstream } => Some(upstream.clone()),
                    _ => {
                        let closest = closest.map(|(e, diffs)| {
                            json!({
                                "file": e.file.display().to_string(),
                                "differences": diffs.iter().map(|(f, d)| json!({ "field": f, "difference": d })).collect::<Vec<_>>(),
                            })
                        });
                        return json_response(
                            StatusCode::NOT_IMPLEMENTED,
                            &[(UNMATCHED_HEADER, "unmatched")],
                            json!({
                                "error": format!("no recorded interaction of {:?} matches {} {path}", s.partner, method),
                                "operation": op.clone().or_else(find_op),
                                "query": query,
                                "closest": closest,
                                "recordings": s.dir.display().to_string(),
                                "hint": "record it with `contrail run --target record`, or replay with --record-missing",
                            }),
                        );
                    }
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
    let op = op.or_else(find_op);
    proxy_and_record(s, upstream, method, headers, body, incoming, op).await
}

/// A request as it goes to the live sandbox.
struct Outgoing<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a [(String, String)],
    /// Without hop-by-hop headers and without `X-Contrail-Scenario`.
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl<'a> Outgoing<'a> {
    fn new(method: &'a Method, incoming: &'a Incoming, headers: &HeaderMap, body: Bytes) -> Self {
        Outgoing {
            method,
            path: &incoming.path,
            query: &incoming.query,
            headers: header_pairs(headers)
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection" | SCENARIO_HEADER))
                .collect(),
            body,
        }
    }
}

/// The live sandbox's answer, read whole (up to 10 MB).
struct LiveAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    took: std::time::Duration,
}

impl LiveAnswer {
    fn reply(self) -> Reply {
        let mut headers = self.headers;
        headers.push((LIVE_TIME_HEADER.to_string(), self.took.as_millis().to_string()));
        respond(self.status, &headers, self.body)
    }
}

/// Sends the request to the live sandbox. `Err` is the reply that explains why it failed.
async fn forward(s: &Shared, upstream: &url::Url, out: &Outgoing<'_>) -> Result<LiveAnswer, Reply> {
    // Concatenate rather than join, so that a base URL's own path prefix is kept.
    let mut url =
        url::Url::parse(&format!("{}{}", upstream.as_str().trim_end_matches('/'), out.path)).map_err(|e| {
            json_response(
                StatusCode::BAD_GATEWAY,
                &[],
                json!({ "error": format!("contrail mock: bad upstream URL: {e}") }),
            )
        })?;
    if !out.query.is_empty() {
        url.query_pairs_mut().extend_pairs(out.query);
    }
    let mut req = s
        .upstream_client
        .request(out.method.clone(), url.as_str())
        .body(out.body.clone());
    for (k, v) in &out.headers {
        req = req.header(k, v);
    }
    let started = std::time::Instant::now();
    let mut resp = req.send().await.map_err(|e| {
        json_response(
            StatusCode::BAD_GATEWAY,
            &[(UNMATCHED_HEADER, crate::client::PROXY_UNREACHABLE)],
            json!({ "error": format!("contrail mock: the live sandbox {upstream} could not be reached: {e}") }),
        )
    })?;
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) if body.len() + c.len() <= MAX_BODY => body.extend_from_slice(&c),
            Ok(Some(_)) => {
                return Err(json_response(
                    StatusCode::BAD_GATEWAY,
                    &[],
                    json!({ "error": "contrail mock: the live answer is over 10 MB" }),
                ));
            }
            Ok(None) => break,
            Err(e) => {
                return Err(json_response(
                    StatusCode::BAD_GATEWAY,
                    &[],
                    json!({ "error": format!("contrail mock: reading the live answer failed: {e}") }),
                ));
            }
        }
    }
    Ok(LiveAnswer {
        status,
        headers,
        body,
        took: started.elapsed(),
    })
}

/// The interaction as it would be recorded (redacted), with the next sequence number of its
/// (scenario, request) in this run.
fn capture(
    s: &Shared,
    upstream: &url::Url,
    out: &Outgoing<'_>,
    incoming: &Incoming,
    op: Option<String>,
    live: &LiveAnswer,
) -> Interaction {
    let policy = &s.contract.policy;
    let k = key(
        policy,
        op.as_deref(),
        out.method.as_str(),
        out.path,
        out.query,
        &incoming.body,
    );
    let sequence = match s.recorded.lock() {
        Ok(mut r) => {
            let c = r.entry((incoming.scenario.clone().unwrap_or_default(), k)).or_insert(0);
            *c += 1;
            *c
        }
        Err(_) => 1,
    };
    let meta = Meta {
        recorded_at: crate::clock::now_rfc3339(false),
        target: upstream.to_string(),
        contract: s.contract.name.clone(),
        contract_version: s.contract.version.clone(),
        partner: s.partner.clone(),
        operation: op,
        scenario: incoming.scenario.clone(),
        sequence,
    };
    let seen = Seen {
        method: out.method.as_str(),
        path: out.path,
        query: out.query,
        request_headers: &out.headers,
        request_body: &out.body,
        status: live.status,
        response_headers: &live.headers,
        response_body: &live.body,
    };
    Interaction::capture(policy, &seen, meta)
}

#[allow(clippy::too_many_arguments)]
async fn proxy_and_record(
    s: &Shared,
    upstream: url::Url,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    incoming: &Incoming,
    op: Option<String>,
) -> Reply {
    let out = Outgoing::new(method, incoming, headers, body);
    let live = match forward(s, &upstream, &out).await {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    let interaction = capture(s, &upstream, &out, incoming, op, &live);
    let policy = &s.contract.policy;
    match recording::save(&s.dir, &interaction) {
        Ok(file) => {
            if let Ok(mut index) = s.index.write() {
                index.insert(policy, file, interaction);
            }
        }
        Err(e) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &[],
                json!({ "error": format!("contrail mock: cannot save the recording: {e}") }),
            );
        }
    }
    live.reply()
}

/// How long a 429 asks the client to wait: `Retry-After` in seconds or as an HTTP-date.
fn retry_after(headers: &[(String, String)]) -> Option<std::time::Duration> {
    let v = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .map(|(_, v)| v.trim())?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(std::time::Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// A drift run's proxy: sends the request live (paced), answers with the live answer, and
/// compares it with the recording of the same request in the same scenario and sequence.
#[allow(clippy::too_many_arguments)]
async fn compare_with_live(
    s: &Shared,
    upstream: &url::Url,
    session: &crate::drift::Session,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    incoming: &Incoming,
    op: Option<String>,
) -> Reply {
    use crate::drift::{Checked, Unrecorded};
    let scenario = incoming.scenario.as_deref();
    // Look the request up as the recording would have sent it (the recorded ids).
    let as_recorded = session.correlation(scenario, |c| c.to_recorded(incoming));
    let recorded: Option<(PathBuf, Interaction)> = match s.index.read() {
        Ok(index) => match index.lookup(&s.contract.policy, op.as_deref(), &as_recorded) {
            Lookup::Found(e) => Some((e.file.clone(), e.interaction.clone())),
            Lookup::Unmatched { .. } => None,
        },
        Err(_) => None,
    };
    let expects_429 = recorded.as_ref().is_some_and(|(_, r)| r.response.status == 429);
    let out = Outgoing::new(method, incoming, headers, body);
    // A request recorded as over the budget is sent at once: it exists to be refused.
    let client = client_of(s, headers);
    // Token requests (Basic credentials) are not API calls: partners do not count them
    // against the budget, and pacing them would spread a deliberate burst over two windows.
    let token_request = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    if let Some(pacer) = &s.pacer
        && !expects_429
        && !token_request
    {
        let wait = pacer.reserve(&client, std::time::Instant::now());
        tokio::time::sleep(wait).await;
    }
    let mut live = match forward(s, upstream, &out).await {
        Ok(l) => l,
        Err(reply) => return reply,
    };
    // A 429 the recording did not have is the run's own doing: wait as told and try again.
    for _ in 0..3 {
        if live.status != 429 || expects_429 || !session.pace {
            break;
        }
        let wait = retry_after(&live.headers).unwrap_or(std::time::Duration::from_secs(1));
        tokio::time::sleep(wait.min(std::time::Duration::from_secs(30))).await;
        live = match forward(s, upstream, &out).await {
            Ok(l) => l,
            Err(reply) => return reply,
        };
    }
    // A token issued through the proxy: remember whose it is.
    if let Some(id) = client.strip_prefix("client:")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&live.body)
        && let Some(token) = v.get("access_token").and_then(|t| t.as_str())
        && let Ok(mut map) = s.token_clients.lock()
    {
        map.insert(token.to_string(), id.to_string());
    }
    if session.compares(&s.partner) {
        let now = capture(s, upstream, &out, incoming, op.clone(), &live);
        match recorded {
            Some((file, rec)) => {
                if let (Body::Json(r), Body::Json(l)) = (&rec.response.body, &now.response.body) {
                    session.correlation(scenario, |c| c.learn(r, l));
                }
                let op_id = rec.meta.operation.clone().or(op);
                let operation = s
                    .contract
                    .partner(&s.partner)
                    .and_then(|p| op_id.as_deref().and_then(|id| p.operation(id)));
                let findings = crate::drift::compare::compare(&s.contract, operation, &rec.response, &now.response)
                    .unwrap_or_else(|e| {
                        vec![crate::drift::Finding::new(
                            crate::drift::Class::Breaking,
                            "/",
                            crate::drift::Change::Schema,
                            format!("cannot check against the contract: {e}"),
                        )]
                    });
                let mut checked = Checked {
                    partner: s.partner.clone(),
                    file: file.clone(),
                    operation: op_id,
                    scenario: incoming.scenario.clone(),
                    request: request_line(&rec),
                    findings,
                    diff: None,
                    accepted: false,
                };
                if checked.drifted() {
                    checked.diff = Some(crate::drift::response_diff(
                        &s.contract.policy,
                        checked.operation.as_deref(),
                        &rec.response,
                        &now.response,
                    ));
                    if session.accept {
                        let mut accepted = rec.clone();
                        accepted.response = now.response.clone();
                        if let Body::Json(v) = &mut accepted.response.body {
                            session.correlation(scenario, |c| c.json_to_recorded(v));
                        }
                        accepted.meta.recorded_at = now.meta.recorded_at.clone();
                        accepted.meta.target = upstream.to_string();
                        accepted.meta.contract_version = s.contract.version.clone();
                        checked.accepted = accepted
                            .to_pretty_json()
                            .and_then(|text| recording::write_atomic(&file, text.as_bytes()))
                            .is_ok();
                    }
                }
                session.checked(checked);
            }
            None => session.unrecorded(Unrecorded {
                partner: s.partner.clone(),
                scenario: incoming.scenario.clone(),
                request: request_line(&now),
                status: live.status,
            }),
        }
    }
    live.reply()
}

/// Who is asking, for pacing: `client:ID` from HTTP Basic credentials or a token issued to
/// that client through this proxy; otherwise the credential itself (never logged).
fn client_of(s: &Shared, headers: &HeaderMap) -> String {
    use base64::Engine as _;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(b) = auth.strip_prefix("Basic ")
        && let Ok(raw) = base64::prelude::BASE64_STANDARD.decode(b.trim())
        && let Some((id, _)) = String::from_utf8_lossy(&raw).split_once(':')
    {
        return format!("client:{id}");
    }
    if let Some(token) = auth.strip_prefix("Bearer ")
        && let Ok(map) = s.token_clients.lock()
        && let Some(id) = map.get(token.trim())
    {
        return format!("client:{id}");
    }
    auth.to_string()
}

/// `GET /tickets/T-4?limit=5`
fn request_line(i: &Interaction) -> String {
    let mut line = format!("{} {}", i.request.method, i.request.path);
    if !i.request.query.is_empty() {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&i.request.query)
            .finish();
        line.push('?');
        line.push_str(&q);
    }
    line
}

/// `contrail mock`: one partner's mock server in the foreground until Ctrl-C / SIGTERM.
pub async fn serve_until_stopped(
    ws: &crate::workspace::Workspace,
    partner: &str,
    port: u16,
    mode: Mode,
    journal_cap: Option<usize>,
) -> crate::exit::Exit {
    use crate::exit::Exit;
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir());
    if !errors.is_empty() {
        eprintln!("{errors}");
        return Exit::BadInput;
    }
    let Some(contract) = catalog
        .contracts
        .values()
        .find(|c| c.partner(partner).is_some())
        .cloned()
    else {
        let known: Vec<String> = catalog
            .contracts
            .values()
            .flat_map(|c| c.partners.keys().cloned())
            .collect();
        eprintln!(
            "error: no contract has a partner {partner:?} (partners: {})",
            known.join(", ")
        );
        return Exit::BadInput;
    };
    let dir = ws.recordings_dir().join(partner);
    let server = match start(Config {
        partner: partner.to_string(),
        contract,
        dir,
        mode,
        port,
        journal_cap: journal_cap
            .or(ws.config.mock.journal_cap)
            .unwrap_or(journal::DEFAULT_CAP),
    })
    .await
    {
        Ok(s) => s,
        Err(StartError::Recordings(d)) => {
            eprintln!("{d}");
            return Exit::BadInput;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Harness;
        }
    };
    println!(
        "listening on {} ({partner}, {} recorded interaction(s))",
        server.url, server.loaded
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
    server.stop().await;
    Exit::Passed
}
