//! The mock server's admin API, under `/__contrail/`, so tests that are not contrail scenarios
//! (a system under test's own suite, a script) can program faults and read the journal of a
//! `contrail mock`. It drives the same engine the steps use; its own requests are neither
//! journalled nor faulted.
//!
//! - `GET    /__contrail/health`                      partner, recordings, journal size and cap
//! - `POST   /__contrail/faults`                      program a fault (JSON, see `FaultRequest`)
//! - `DELETE /__contrail/faults`                      drop every fault
//! - `GET    /__contrail/journal?operation=&method=&path=&scenario=`   what arrived, oldest first
//! - `GET    /__contrail/journal/wait?operation=&count=&mode=exactly|at-least&timeout_ms=`
//! - `DELETE /__contrail/journal`                     forget what arrived

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{Fault, FaultKind, RetryAfter};
use super::journal::Entry;
use super::{Reply, Shared, json_response};

/// Requests under this prefix are the admin API's, never the partner's.
pub const PREFIX: &str = "/__contrail/";

/// Longest a `journal/wait` may wait.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// A fault as the admin API takes it: which calls, how many, and what happens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    /// An operationId of the partner's contract, or `method` + `path` (a template is fine).
    operation: Option<String>,
    method: Option<String>,
    path: Option<String>,
    /// How many of the next calls (default 1).
    count: Option<u32>,
    /// Only requests carrying this `X-Contrail-Scenario` (default: every request).
    scenario: Option<String>,
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
    /// Seconds, sent as `Retry-After: N`.
    retry_after: Option<u64>,
    /// Seconds ahead, sent as an HTTP-date.
    retry_after_date: Option<u64>,
    delay_ms: Option<u64>,
    #[serde(default)]
    reset: bool,
    #[serde(default)]
    truncate: bool,
    oversized_bytes: Option<usize>,
}

fn bad_request(message: String) -> Reply {
    json_response(StatusCode::BAD_REQUEST, &[], json!({ "error": message }))
}

/// Who may use the admin API: it programs what the mock answers and shows what it received,
/// so a web page the tester happens to have open must not reach it. Refused: a `Host` that is
/// not loopback (DNS rebinding: evil.example resolving to 127.0.0.1), an `Origin` that is not
/// loopback (a cross-origin page), a body that is not declared JSON (a form posted by a page),
/// and, when `--admin-token` is set, a request without `Authorization: Bearer <token>`.
pub(super) fn guard(s: &Shared, method: &Method, headers: &hyper::HeaderMap) -> Option<Reply> {
    let refuse = |status: StatusCode, why: &str| {
        json_response(
            status,
            &[],
            json!({ "error": format!("contrail mock admin API: {why}") }),
        )
    };
    let loopback = |host: &str| {
        let host = host.trim();
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host, |(h, _)| h),
        };
        matches!(name.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "::1")
    };
    if let Some(host) = headers.get(hyper::header::HOST)
        && !host.to_str().is_ok_and(loopback)
    {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "the Host header must name 127.0.0.1, localhost or [::1]",
        ));
    }
    if let Some(origin) = headers.get(hyper::header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .and_then(|o| url::Url::parse(o).ok())
            .and_then(|u| u.host_str().map(loopback))
            .unwrap_or(false);
        if !ok {
            return Some(refuse(StatusCode::FORBIDDEN, "cross-origin requests are refused"));
        }
    }
    if let Some(token) = &s.limits.admin_token {
        let given = headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return Some(refuse(
                StatusCode::UNAUTHORIZED,
                "this mock wants `Authorization: Bearer <admin token>`",
            ));
        }
    }
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        let json = headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Some(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
    }
    None
}

pub(super) async fn handle(
    s: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &Bytes,
) -> Reply {
    let route = path.trim_start_matches(PREFIX).trim_end_matches('/');
    match (method.as_str(), route) {
        ("GET", "health") => json_response(
            StatusCode::OK,
            &[],
            json!({
                "partner": s.partner,
                "contract": s.contract.name,
                "mode": format!("{:?}", s.mode),
                "recordings": s.index.read().map(|i| i.len()).unwrap_or(0),
                "journal": { "entries": s.journal.len(), "cap": s.journal.cap() },
            }),
        ),
        ("POST", "faults") => match add_fault(s, body) {
            Ok(summary) => json_response(StatusCode::CREATED, &[], summary),
            Err(message) => bad_request(message),
        },
        ("DELETE", "faults") => {
            s.faults.clear();
            json_response(StatusCode::OK, &[], json!({ "faults": 0 }))
        }
        ("GET", "journal") => match Selector::from_query(s, query) {
            Ok(sel) => {
                let entries = s.journal.select(&|e| sel.keeps(e));
                json_response(StatusCode::OK, &[], json!({ "requests": entries_json(s, &entries) }))
            }
            Err(message) => bad_request(message),
        },
        ("GET", "journal/wait") => match wait(s, query).await {
            Ok(v) => json_response(StatusCode::OK, &[], v),
            Err(message) => bad_request(message),
        },
        ("DELETE", "journal") => {
            s.journal.clear();
            json_response(StatusCode::OK, &[], json!({ "requests": 0 }))
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &[],
            json!({
                "error": format!("no admin route {method} {path}"),
                "routes": [
                    "GET /__contrail/health",
                    "POST /__contrail/faults", "DELETE /__contrail/faults",
                    "GET /__contrail/journal", "GET /__contrail/journal/wait", "DELETE /__contrail/journal",
                ],
            }),
        ),
    }
}

/// `METHOD` + path template of an operationId, or of an explicit method and path.
fn target(
    s: &Shared,
    operation: Option<&str>,
    method: Option<&str>,
    path: Option<&str>,
) -> Result<(String, String), String> {
    match (operation, method, path) {
        (Some(id), None, None) => {
            let partner = s.contract.partner(&s.partner);
            partner
                .and_then(|p| p.operation(id))
                .map(|o| (o.method.clone(), o.path.clone()))
                .ok_or_else(|| {
                    let known: Vec<&str> = partner
                        .map(|p| p.operations.iter().map(|o| o.id.as_str()).collect())
                        .unwrap_or_default();
                    format!(
                        "{:?} has no operation {id:?} (operations: {})",
                        s.partner,
                        known.join(", ")
                    )
                })
        }
        (None, Some(m), Some(p)) if p.starts_with('/') => Ok((m.to_ascii_uppercase(), p.to_string())),
        (None, Some(_), Some(p)) => Err(format!("path {p:?} must start with '/'")),
        _ => Err("name the calls by \"operation\" (an operationId), or by \"method\" and \"path\"".into()),
    }
}

fn add_fault(s: &Shared, body: &Bytes) -> Result<Value, String> {
    let req: FaultRequest =
        serde_json::from_slice(body).map_err(|e| format!("the fault is not valid JSON of the expected shape: {e}"))?;
    let (method, template) = target(s, req.operation.as_deref(), req.method.as_deref(), req.path.as_deref())?;
    let kinds = [
        req.status.is_some(),
        req.delay_ms.is_some(),
        req.reset,
        req.truncate,
        req.oversized_bytes.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(
            "give exactly one of \"status\", \"delay_ms\", \"reset\", \"truncate\" or \"oversized_bytes\"".into(),
        );
    }
    let kind = if let Some(status) = req.status {
        if !(100..=599).contains(&status) {
            return Err(format!("{status} is not an HTTP status"));
        }
        let retry_after = match (req.retry_after, req.retry_after_date) {
            (Some(_), Some(_)) => return Err("give \"retry_after\" or \"retry_after_date\", not both".into()),
            (Some(n), None) => Some(RetryAfter::Seconds(n)),
            (None, Some(n)) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                if now.saturating_add(n) > super::faults::LAST_HTTP_DATE {
                    return Err(format!(
                        "retry_after_date {n}: that is past the year 9999, which an HTTP-date cannot say"
                    ));
                }
                Some(RetryAfter::HttpDate(n))
            }
            (None, None) => None,
        };
        let mut headers: Vec<(String, String)> = req.headers.into_iter().collect();
        for (k, v) in &headers {
            if hyper::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                return Err(format!("{k:?} is not a valid header name"));
            }
            if hyper::header::HeaderValue::from_str(v).is_err() {
                return Err(format!("the value of header {k:?} is not a valid header value"));
            }
        }
        let body = match req.body {
            Some(Value::String(text)) => text.into_bytes(),
            Some(v) => {
                if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                serde_json::to_vec(&v).unwrap_or_default()
            }
            None => Vec::new(),
        };
        FaultKind::Respond {
            status,
            headers,
            body,
            retry_after,
        }
    } else if let Some(ms) = req.delay_ms {
        if ms > 3_600_000 {
            return Err(format!("delay_ms {ms} is more than an hour"));
        }
        FaultKind::Delay(Duration::from_millis(ms))
    } else if req.reset {
        FaultKind::Reset
    } else if req.truncate {
        FaultKind::Truncate
    } else {
        let n = req.oversized_bytes.unwrap_or_default();
        if n > 1 << 30 {
            return Err(format!("oversized_bytes {n} is more than 1 GB"));
        }
        FaultKind::Oversized(n)
    };
    let count = req.count.unwrap_or(1);
    s.faults.add(Fault {
        scenario: req.scenario.clone(),
        method: method.clone(),
        template: template.clone(),
        remaining: count,
        kind,
    });
    Ok(json!({ "method": method, "path": template, "count": count, "scenario": req.scenario }))
}

/// Which journal entries a query means.
struct Selector {
    method: Option<String>,
    template: Option<String>,
    scenario: Option<String>,
}

impl Selector {
    fn from_query(s: &Shared, query: &[(String, String)]) -> Result<Selector, String> {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let (method, template) = match (get("operation"), get("method"), get("path")) {
            (None, None, None) => (None, None),
            (None, Some(m), None) => (Some(m.to_ascii_uppercase()), None),
            (op, m, p) => {
                let (m, p) = target(s, op, m, p)?;
                (Some(m), Some(p))
            }
        };
        Ok(Selector {
            method,
            template,
            scenario: get("scenario").map(str::to_string),
        })
    }

    fn keeps(&self, e: &Entry) -> bool {
        self.method.as_deref().is_none_or(|m| e.method.eq_ignore_ascii_case(m))
            && self
                .template
                .as_deref()
                .is_none_or(|t| crate::contract::operation::match_template(t, &e.path).is_some())
            && self
                .scenario
                .as_deref()
                .is_none_or(|sc| e.scenario.as_deref() == Some(sc))
    }
}

fn entries_json(s: &Shared, entries: &[Arc<Entry>]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            json!({
                "at_ms": e.at.saturating_duration_since(s.started).as_millis() as u64,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "scenario": e.scenario,
                "body": e.body.parsed(),
                "body_bytes": e.body_bytes,
                "body_sha256": e.body_sha256,
            })
        })
        .collect()
}

/// Waits like the journal steps: `at-least` until `count` arrived; `exactly` the whole time,
/// failing as soon as more arrive. Answers `{"ok", "received", "requests"}`.
async fn wait(s: &Shared, query: &[(String, String)]) -> Result<Value, String> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sel = Selector::from_query(s, query)?;
    let count: usize = get("count")
        .unwrap_or("1")
        .parse()
        .map_err(|_| "count must be a whole number".to_string())?;
    let timeout = Duration::from_millis(
        get("timeout_ms")
            .unwrap_or("5000")
            .parse()
            .map_err(|_| "timeout_ms must be a whole number".to_string())?,
    )
    .min(MAX_WAIT);
    let exactly = match get("mode").unwrap_or("at-least") {
        "exactly" => true,
        "at-least" => false,
        other => return Err(format!("mode {other:?}: use exactly or at-least")),
    };
    let keep = |e: &Entry| sel.keeps(e);
    let done = |got: &[Arc<Entry>]| if exactly { got.len() > count } else { got.len() >= count };
    let got = s.journal.wait(&keep, timeout, &done).await;
    let ok = if exactly {
        got.len() == count
    } else {
        got.len() >= count
    };
    Ok(json!({ "ok": ok, "received": got.len(), "requests": entries_json(s, &got) }))
}
