//! The webhook receiver: size limit, Stripe-style signature (`t=...,v1=hex(HMAC-SHA256(secret,
//! "t.body"))`, 5 minutes of tolerance), the event, idempotency and ordering. Accepted events
//! are handed to the outbox and answered 202 at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Options;
use crate::outbox::{Incident, Outbox};

/// Payloads over this are refused with 413.
const MAX_PAYLOAD: usize = 1024 * 1024;
const TOLERANCE_SECS: u64 = 300;

pub struct State {
    opts: Options,
    outbox: Arc<Outbox>,
    /// (ticket id, event time) already handled.
    seen: Mutex<HashSet<(String, String)>>,
    /// Ticket id -> the newest event time handled.
    newest: Mutex<HashMap<String, String>>,
    /// Webhooks received so far (for `--unavailable-first`).
    received: std::sync::atomic::AtomicU32,
}

impl State {
    pub fn new(opts: Options, outbox: Arc<Outbox>) -> Self {
        Self {
            opts,
            outbox,
            seen: Mutex::new(HashSet::new()),
            newest: Mutex::new(HashMap::new()),
            received: std::sync::atomic::AtomicU32::new(0),
        }
    }
}

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/status", get(status))
        .route("/webhooks/ticketing", post(receive))
        // The body limit is ours to enforce (413 with a JSON body), not axum's default 2 MB.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

fn answer(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

async fn status(AxState(s): AxState<Arc<State>>) -> Response {
    answer(StatusCode::OK, s.outbox.status())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `Stripe-Signature: t=..,v1=..`; `Err` says why it is refused.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Stripe-Signature header")?;
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.ok_or("no timestamp in the signature")?;
    let ts: u64 = t.parse().map_err(|_| "the signature timestamp is not a number")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if now.abs_diff(ts) > TOLERANCE_SECS {
        return Err(format!("the signature timestamp is {} s old", now.saturating_sub(ts)));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = hex(&mac.finalize().into_bytes());
    if v1.iter().any(|s| s == &expected) {
        Ok(())
    } else {
        Err("the signature does not match".into())
    }
}

async fn receive(AxState(s): AxState<Arc<State>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(file) = &s.opts.keep_webhooks {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(file) {
            let _ = f.write_all(&body);
        }
    }
    let n = s.received.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if n < s.opts.unavailable_first {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "unavailable", "message": "deploying" }),
        );
    }
    if body.len() > MAX_PAYLOAD {
        if s.opts.bug("crash-on-large-payload") {
            eprintln!("panic: payload of {} bytes; the service crashes", body.len());
            std::process::exit(101);
        }
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "error": "payload_too_large", "limit": MAX_PAYLOAD }),
        );
    }
    if !s.opts.bug("accept-bad-signature")
        && let Err(why) = verify(&s.opts.webhook_secret, &headers, &body)
    {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "bad_signature", "message": why }),
        );
    }
    let event: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": "bad_json", "message": e.to_string() }),
            );
        }
    };
    if event["type"] != "ticket.escalated" {
        return answer(
            StatusCode::OK,
            json!({ "ignored": "not an event this service handles" }),
        );
    }
    let ticket = &event["ticket"];
    let (Some(id), Some(at), Some(link)) = (
        ticket["id"].as_str(),
        event["occurred_at"].as_str(),
        ticket["link"].as_str(),
    ) else {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": "invalid_event", "message": "ticket.id, ticket.link and occurred_at are required" }),
        );
    };
    let key = (id.to_string(), at.to_string());
    if !s.opts.bug("no-idempotency") {
        let mut seen = s.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.insert(key.clone()) {
            return answer(StatusCode::OK, json!({ "duplicate": true }));
        }
    }
    {
        let mut newest = s.newest.lock().unwrap_or_else(|p| p.into_inner());
        // RFC 3339 UTC timestamps of one format compare as strings.
        if let Some(n) = newest.get(id)
            && at < n.as_str()
            && !s.opts.bug("out-of-order-overwrites")
        {
            return answer(
                StatusCode::OK,
                json!({ "ignored": format!("older than the event of {n}") }),
            );
        }
        if newest.get(id).is_none_or(|n| at > n.as_str()) {
            newest.insert(id.to_string(), at.to_string());
        }
    }
    let severity = match ticket["priority"].as_str() {
        Some("high") => 1,
        Some("med") => 2,
        Some("low") => 3,
        _ if s.opts.bug("wrong-default-severity") => 3,
        _ => 2,
    };
    let incident = Incident {
        title: ticket["title"].as_str().unwrap_or("Escalated ticket").to_string(),
        severity,
        link: link.to_string(),
        external_id: id.to_string(),
    };
    s.outbox.send(incident);
    answer(StatusCode::ACCEPTED, json!({ "accepted": true }))
}
