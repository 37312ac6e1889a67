//! The demo partner's ticketing and incidents APIs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::Options;
use crate::auth::AuthState;
use crate::util::{error, now_rfc3339, uuid_v4, validation};

pub struct State {
    opts: Options,
    base_url: String,
    auth: AuthState,
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    next_ticket: u64,
    tickets: BTreeMap<String, Value>,
    incidents: BTreeMap<String, Value>,
}

type Shared = Arc<State>;

impl State {
    pub fn new(opts: Options, base_url: String) -> Self {
        let auth = AuthState::new(opts.throttled_limit, opts.limit_all, opts.drift);
        Self {
            opts,
            base_url,
            auth,
            data: Mutex::new(Data::default()),
        }
    }
}

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/oauth/token", post(token))
        .route("/tickets", post(create_ticket).get(list_tickets))
        .route("/tickets/{id}", get(get_ticket))
        .route("/tickets/{id}/escalate", post(escalate))
        .route("/incidents", post(create_incident).get(list_incidents))
        .route("/incidents/{id}", get(get_incident))
        .with_state(state)
}

async fn token(AxState(s): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    s.auth.token(&headers, &form)
}

fn lock(s: &State) -> Result<std::sync::MutexGuard<'_, Data>, Response> {
    s.data
        .lock()
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "state lock poisoned"))
}

fn json_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body must be a JSON object",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not JSON: {e}"),
        )),
    }
}

/// How a ticket looks on the wire; `--drift` changes it the way partners drift.
fn ticket_view(s: &State, t: &Value) -> Value {
    let mut v = t.clone();
    if s.opts.drift
        && let Some(obj) = v.as_object_mut()
    {
        // A required field removed, an enum value the contract does not know, and a new
        // optional field (the last one is compatible).
        obj.remove("customer_id");
        if obj.get("status") == Some(&json!("open")) {
            obj.insert("status".into(), json!("triaged"));
        }
        obj.insert("sla_due_at".into(), json!(now_rfc3339()));
    }
    v
}

fn incident_view(s: &State, i: &Value) -> Value {
    let mut v = i.clone();
    if s.opts.drift
        && let Some(sev) = v.get("severity").cloned()
    {
        // A type change: severity becomes a string.
        v["severity"] = json!(sev.to_string());
    }
    v
}

async fn create_ticket(AxState(s): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let scope = if s.opts.faults.no_scope {
        "tickets:read"
    } else {
        "tickets:write"
    };
    if let Err(r) = s.auth.authorize(&headers, scope) {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut details = Vec::new();
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if title.is_empty() && !s.opts.faults.accept_invalid {
        details.push(json!({ "field": "title", "message": "is required and must be a non-empty string" }));
    } else if title.chars().count() > 200 {
        details.push(json!({ "field": "title", "message": "must be at most 200 characters" }));
    }
    let priority = body.get("priority").cloned().unwrap_or(Value::Null);
    if !matches!(priority.as_str(), None | Some("low" | "med" | "high"))
        || !(priority.is_null() || priority.is_string())
    {
        details.push(json!({ "field": "priority", "message": "must be one of low, med, high" }));
    }
    let customer = body
        .get("customer_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if customer.is_empty() {
        details.push(json!({ "field": "customer_id", "message": "is required" }));
    }
    if !details.is_empty() {
        return validation(details);
    }
    if s.opts.faults.server_error && priority.as_str() == Some("low") {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "priority low is not mapped",
        );
    }
    let mut data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    data.next_ticket += 1;
    let id = format!("T-{}", data.next_ticket);
    let ticket = json!({
        "id": id,
        "title": title,
        "priority": priority,
        "customer_id": customer,
        "status": "open",
        "link": format!("{}/tickets/{id}", s.base_url),
        "incident_id": null,
        "created_at": now_rfc3339(),
    });
    data.tickets.insert(id, ticket.clone());
    let mut view = ticket_view(&s, &ticket);
    if s.opts.faults.wrong_type && view["priority"] == json!("med") {
        view["priority"] = json!(2);
    }
    (StatusCode::CREATED, Json(view)).into_response()
}

async fn get_ticket(AxState(s): AxState<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "tickets:read") {
        return r;
    }
    let data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    match data.tickets.get(&id) {
        Some(t) if s.opts.faults.read_broken => {
            let mut v = ticket_view(&s, t);
            if let Some(o) = v.as_object_mut() {
                o.remove("customer_id");
            }
            Json(v).into_response()
        }
        Some(t) => Json(ticket_view(&s, t)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", format!("no ticket {id}")),
    }
}

async fn list_tickets(
    AxState(s): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "tickets:read") {
        return r;
    }
    let data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if s.opts.faults.undeclared_status && q.get("status").map(String::as_str) == Some("closed") {
        return StatusCode::NO_CONTENT.into_response();
    }
    let items: Vec<Value> = data
        .tickets
        .values()
        .filter(|t| {
            q.get("status")
                .is_none_or(|st| t.get("status").and_then(Value::as_str) == Some(st))
        })
        .map(|t| ticket_view(&s, t))
        .collect();
    Json(json!({ "items": items, "total": items.len() })).into_response()
}

/// The partner platform's own escalation: the ticket becomes escalated and an incident is
/// opened with the ticket link and a severity from the priority (low 3, med 2, high 1, else 2).
async fn escalate(AxState(s): AxState<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "tickets:write") {
        return r;
    }
    let mut data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(ticket) = data.tickets.get(&id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", format!("no ticket {id}"));
    };
    if ticket["status"] == "escalated" {
        return error(
            StatusCode::CONFLICT,
            "already_escalated",
            format!(
                "ticket {id} is already escalated (incident {})",
                ticket["incident_id"].as_str().unwrap_or("?")
            ),
        );
    }
    let severity = match ticket["priority"].as_str() {
        Some("high") => 1,
        Some("low") => 3,
        _ => 2,
    };
    let incident_id = uuid_v4();
    let incident = json!({
        "id": incident_id,
        "title": ticket["title"],
        "severity": severity,
        "status": "triggered",
        "link": ticket["link"],
        "external_id": id,
        "created_at": now_rfc3339(),
    });
    data.incidents.insert(incident_id.clone(), incident);
    let mut escalated = ticket;
    escalated["status"] = json!("escalated");
    escalated["incident_id"] = json!(incident_id);
    data.tickets.insert(id, escalated.clone());
    let mut view = ticket_view(&s, &escalated);
    if s.opts.faults.escalate_broken {
        view["status"] = json!(2);
    }
    Json(view).into_response()
}

async fn create_incident(AxState(s): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "incidents:write") {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut details = Vec::new();
    let title = body.get("title").and_then(Value::as_str).unwrap_or_default();
    if title.is_empty() {
        details.push(json!({ "field": "title", "message": "is required" }));
    }
    let severity = body.get("severity").and_then(Value::as_i64);
    if !matches!(severity, Some(1..=3)) {
        details.push(json!({ "field": "severity", "message": "must be 1, 2 or 3" }));
    }
    let link = body.get("link").and_then(Value::as_str).unwrap_or_default();
    if url::Url::parse(link).is_err() {
        details.push(json!({ "field": "link", "message": "must be an absolute URL" }));
    }
    if !details.is_empty() {
        return validation(details);
    }
    let id = uuid_v4();
    let incident = json!({
        "id": id,
        "title": title,
        "severity": severity,
        "status": "triggered",
        "link": link,
        "external_id": body.get("external_id").cloned().unwrap_or(Value::Null),
        "created_at": now_rfc3339(),
    });
    let mut data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    data.incidents.insert(id, incident.clone());
    (StatusCode::CREATED, Json(incident_view(&s, &incident))).into_response()
}

async fn get_incident(AxState(s): AxState<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "incidents:read") {
        return r;
    }
    let data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    match data.incidents.get(&id) {
        Some(i) => Json(incident_view(&s, i)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", format!("no incident {id}")),
    }
}

async fn list_incidents(
    AxState(s): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = s.auth.authorize(&headers, "incidents:read") {
        return r;
    }
    let data = match lock(&s) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let items: Vec<Value> = data
        .incidents
        .values()
        .filter(|i| {
            q.get("external_id")
                .is_none_or(|e| i.get("external_id").and_then(Value::as_str) == Some(e))
        })
        .map(|i| incident_view(&s, i))
        .collect();
    Json(json!({ "items": items, "total": items.len() })).into_response()
}
