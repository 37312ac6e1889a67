//! Steps that build and send requests: by operationId (path, query and body checked against the
//! contract's operation) or by method and path.

use serde_json::Value;

use super::registry::{Attachment, Registry};
use super::values::{json_docstring, table_object};
use super::world::PendingRequest;
use super::{Args, StepFailure, StepResult, World, builtin};
use crate::client::auth::AuthError;
use crate::client::{Exchange, SentRequest};

/// Phrases lint checks (the operation must exist in the contract).
pub const CALL: &str = "I call {operation}";
pub const CALL_WITH_BODY: &str = "I call {operation} with the body:";
pub const CALL_BREAKING: &str = "I call {operation} with a body that breaks the contract:";
pub const NEXT_REQUEST: &str = "the next request {verdict:word} the contract";

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "http",
        "the path parameter {name} is {value}",
        Attachment::None,
        "Set a path parameter of the next call.",
        r#"Given the path parameter "id" is "T-1""#,
        |w, a| {
            Box::pin(async move {
                w.pending
                    .path_params
                    .insert(a.param(0).to_string(), a.param(1).to_string());
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "the query parameter {name} is {value}",
        Attachment::None,
        "Add a query parameter to the next call.",
        r#"Given the query parameter "status" is "open""#,
        |w, a| {
            Box::pin(async move {
                // The call naming the operation comes later: a parameter redacted for any
                // operation is masked from now.
                if w.redacts(|p| p.query_redacted_anywhere(a.param(0))) {
                    crate::secrets::remember(a.param(1));
                }
                w.pending.query.push((a.param(0).to_string(), a.param(1).to_string()));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "the header {name} is {value}",
        Attachment::None,
        "Add a header to the next call.",
        r#"Given the header "X-Request-Id" is "qa-1""#,
        |w, a| {
            Box::pin(async move {
                // A secret set by a step is masked from the moment it is set: the terminal
                // prints this step's line once it has run.
                if w.redacts(|p| p.header_redacted_anywhere(a.param(0))) {
                    crate::secrets::remember_header(a.param(0), a.param(1));
                }
                w.pending.headers.push((a.param(0).to_string(), a.param(1).to_string()));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "the request body is:",
        Attachment::DocString,
        "Use the JSON doc string below as the body of the next call.",
        "Given the request body is:",
        |w, a| {
            Box::pin(async move {
                w.pending.body = Some(json_docstring(a.docstring()?)?);
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "the request body is the file {path}",
        Attachment::None,
        "Use a JSON file (relative to the workspace) as the body of the next call.",
        r#"Given the request body is the file "features/data/ticket.json""#,
        |w, a| Box::pin(body_file(w, a)),
    );
    builtin(
        r,
        "http",
        "the request body has the fields:",
        Attachment::Table,
        "Build the body from a | field | value | table (dotted fields nest; cells are JSON when they parse).",
        "Given the request body has the fields:",
        |w, a| {
            Box::pin(async move {
                w.pending.body = Some(table_object(a.table()?)?);
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        CALL,
        Attachment::None,
        "Call a contract operation by operationId with what the previous steps set.",
        r#"When I call "getTicket""#,
        |w, a| Box::pin(async move { call(w, a.param(0), None).await }),
    );
    builtin(
        r,
        "http",
        CALL_WITH_BODY,
        Attachment::DocString,
        "Call a contract operation with the JSON doc string below as its body.",
        r#"When I call "createTicket" with the body:"#,
        |w, a| {
            Box::pin(async move {
                let body = json_docstring(a.docstring()?)?;
                call(w, a.param(0), Some(body)).await
            })
        },
    );
    builtin(
        r,
        "http",
        CALL_BREAKING,
        Attachment::DocString,
        "Call an operation with a body the contract forbids, on purpose (to test the refusal): the step fails if the body keeps the contract after all.",
        r#"When I call "createTicket" with a body that breaks the contract:"#,
        |w, a| {
            Box::pin(async move {
                let body = json_docstring(a.docstring()?)?;
                w.pending.breaks_contract = true;
                call(w, a.param(0), Some(body)).await
            })
        },
    );
    builtin(
        r,
        "http",
        NEXT_REQUEST,
        Attachment::None,
        "Says whether the next request breaks the contract on purpose (`breaks`: a missing required header, a bad query value; it is sent, and the step that sends it fails if it keeps the contract after all) or keeps it (`keeps`, the default); a Scenario Outline can mix rows with `Given the next request <verdict> the contract`.",
        r#"Given the next request breaks the contract"#,
        |w, a| {
            Box::pin(async move {
                w.pending.breaks_contract = match a.param(0) {
                    "breaks" => true,
                    "keeps" => false,
                    other => {
                        return Err(StepFailure::usage(format!(
                            "the next request {other:?} the contract: say breaks or keeps"
                        )));
                    }
                };
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "I call {operation} {times:int} times",
        Attachment::None,
        "Call an operation this many times in a row (same parameters), e.g. to reach a rate limit.",
        r#"When I call "listTickets" 8 times"#,
        |w, a| {
            Box::pin(async move {
                let times = a.int(1)?;
                if !(1..=1000).contains(&times) {
                    return Err(StepFailure::usage(format!("{times} calls: use 1 to 1000")));
                }
                let pending = w.pending.clone();
                let mut burst = Vec::new();
                for _ in 0..times {
                    w.pending = pending.clone();
                    call(w, a.param(0), None).await?;
                    burst.extend(w.last.clone());
                }
                w.burst = burst;
                Ok(())
            })
        },
    );
    builtin(
        r,
        "http",
        "I send a {method:word} request to {path}",
        Attachment::None,
        "Send a request by method and path to the current partner.",
        r#"When I send a GET request to "/tickets/T-1""#,
        |w, a| Box::pin(async move { send_path(w, &a, None).await }),
    );
    builtin(
        r,
        "http",
        "I send a {method:word} request to {path} with the body:",
        Attachment::DocString,
        "Send a request by method and path with the JSON doc string below as its body.",
        r#"When I send a POST request to "/tickets" with the body:"#,
        |w, a| {
            Box::pin(async move {
                let body = json_docstring(a.docstring()?)?;
                send_path(w, &a, Some(body)).await
            })
        },
    );
}

async fn body_file(w: &mut World, a: Args) -> StepResult {
    let (_, v) = super::values::json_file(w, a.param(0), "the body file")?;
    w.pending.body = Some(v);
    Ok(())
}

async fn call(w: &mut World, op_id: &str, body: Option<Value>) -> StepResult {
    let contract = w.contract()?.clone();
    let found = contract.find_operation(op_id);
    let op = match found.as_slice() {
        [op] => *op,
        [] => {
            let mut ids: Vec<&str> = contract
                .partners
                .values()
                .flat_map(|p| p.operations.iter().map(|o| o.id.as_str()))
                .collect();
            ids.sort_by_key(|a| strsim::levenshtein(a, op_id));
            return Err(
                StepFailure::usage(format!("the contract {:?} has no operation {op_id:?}", contract.name))
                    .findings(ids.first().map(|s| format!("did you mean {s:?}?"))),
            );
        }
        many => match many.iter().find(|o| Some(&o.partner) == w.partner.as_ref()) {
            Some(op) => *op,
            None => {
                return Err(StepFailure::usage(format!(
                    "{op_id:?} exists for several partners; say which first: Given the partner \"...\""
                ))
                .findings(many.iter().map(|o| o.partner.clone())));
            }
        },
    };
    let mut pending = std::mem::take(&mut w.pending);
    if body.is_some() {
        pending.body = body;
    }
    let path = op.expand_path(&pending.path_params).map_err(StepFailure::usage)?;
    if let Some(rb) = &op.request_body
        && rb.required
        && pending.body.is_none()
    {
        return Err(StepFailure::usage(format!(
            "{op_id} requires a request body (set it with: the request body is:)"
        )));
    }
    let (partner, method, id) = (op.partner.clone(), op.method.clone(), op.id.clone());
    send(w, &partner, Some(id), &method, &path, pending).await
}

async fn send_path(w: &mut World, a: &Args, body: Option<Value>) -> StepResult {
    let partner = match &w.partner {
        Some(p) => p.clone(),
        None => {
            let c = w.contract()?;
            return Err(StepFailure::usage(format!(
                "which partner? say first: Given the partner \"...\" (partners of {}: {})",
                c.name,
                c.partners.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    };
    let method = a.param(0).to_uppercase();
    let path = a.param(1).to_string();
    let mut pending = std::mem::take(&mut w.pending);
    if body.is_some() {
        pending.body = body;
    }
    let operation = w
        .contract
        .as_ref()
        .and_then(|c| c.partner(&partner))
        .and_then(|p| p.operation_for(&method, path.split('?').next().unwrap_or(&path)))
        .map(|(op, _)| op.id.clone());
    send(w, &partner, operation, &method, &path, pending).await
}

/// Sends a request to a partner and keeps the exchange as the scenario's last one.
async fn send(
    w: &mut World,
    partner: &str,
    operation: Option<String>,
    method: &str,
    path: &str,
    pending: PendingRequest,
) -> StepResult {
    let base = w.base_url(partner)?.clone();
    let mut url = url::Url::parse(&format!(
        "{}{}",
        base.as_str().trim_end_matches('/'),
        if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        }
    ))
    .map_err(|e| StepFailure::usage(format!("bad URL for {method} {path}: {e}")))?;
    if !pending.query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in &pending.query {
            q.append_pair(k, v);
        }
    }
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    let body = match &pending.body {
        Some(b) => {
            headers.push(("Content-Type".into(), "application/json".into()));
            Some(serde_json::to_vec(b).map_err(|e| StepFailure::usage(e.to_string()))?)
        }
        None => None,
    };
    for (k, v) in pending.headers {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
        headers.push((k, v));
    }
    if let (true, Some(scenario)) = (w.suite.via_mock, &w.scenario) {
        headers.push((
            crate::server::SCENARIO_HEADER.to_string(),
            crate::scenario::to_header(scenario),
        ));
        if let Some(steps) = &w.steps_hash {
            headers.push((crate::server::STEPS_HEADER.to_string(), steps.clone()));
        }
    }
    let mut req = SentRequest {
        method: method.to_string(),
        url: url.to_string(),
        headers,
        body,
    };
    check_request(w, partner, operation.as_deref(), &url, &req, pending.breaks_contract)?;
    let suite = w.suite.clone();
    let auth = w
        .contract
        .as_ref()
        .and_then(|c| c.partner(partner))
        .and_then(|p| p.doc.auth.as_ref());
    suite
        .tokens
        .apply(&suite.client, partner, &base, auth, &w.credentials, &mut req)
        .await
        .map_err(|e| match e {
            AuthError::Transport(t) => {
                // Classified like any transport error (unreachable: harness; offline: usage).
                let mut f = StepFailure::from(t);
                f.message = format!("could not get an OAuth token: {}", f.message);
                f
            }
            AuthError::Refused(m) => StepFailure::assertion(m),
            AuthError::Config(m) => StepFailure::usage(format!("the contract's auth for {partner:?}: {m}")),
        })?;
    let (request, response, elapsed) = suite.client.send(req).await?;
    let unmatched = response.header(crate::server::UNMATCHED_HEADER).is_some();
    w.sent += 1;
    w.last = Some(Exchange {
        partner: partner.to_string(),
        operation,
        request,
        response,
        elapsed,
    });
    if unmatched {
        return Err(mock_miss(w.last.as_ref()));
    }
    Ok(())
}

/// The request against its operation before it goes out: a request the contract forbids is
/// not sent unless the scenario said it means to send one, and one that was meant to break
/// the contract but keeps it fails too (the scenario would test nothing).
fn check_request(
    w: &World,
    partner: &str,
    operation: Option<&str>,
    url: &url::Url,
    req: &SentRequest,
    breaks_contract: bool,
) -> StepResult {
    let Some(contract) = w.contract.as_ref() else {
        return Ok(());
    };
    let Some(op) = operation.and_then(|id| contract.partner(partner)?.operation(id)) else {
        if breaks_contract {
            return Err(StepFailure::usage(format!(
                "the request was said to break the contract, but {} {} is no operation of {partner:?}: nothing to break",
                req.method,
                url.path()
            )));
        }
        return Ok(());
    };
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let view = crate::contract::request_check::RequestView {
        path: url.path(),
        query: &query,
        headers: &req.headers,
        body: req.body.as_deref(),
    };
    let violations = crate::contract::request_check::check(&contract.schemas, op, &view).map_err(StepFailure::usage)?;
    match (violations.is_empty(), breaks_contract) {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err(StepFailure::usage(format!(
            "the {} request was meant to break the contract, but it keeps it: this scenario would test no refusal",
            op.id
        ))),
        (false, false) => {
            let n = violations.len();
            Err(StepFailure::new(
                crate::steps::FailureKind::InvalidRequest,
                format!(
                    "invalid request: the {} request breaks the contract ({n} violation{}), so it was not sent; if that is what the scenario tests, say so: {}",
                    op.id,
                    if n == 1 { "" } else { "s" },
                    if req.body.is_some() {
                        format!("When I call \"{}\" with a body that breaks the contract:", op.id)
                    } else {
                        "Given the next request breaks the contract".to_string()
                    }
                ),
            )
            .findings(violations))
        }
    }
}

/// The mock server had no recording for the request: say which one came closest and why.
fn mock_miss(e: Option<&Exchange>) -> StepFailure {
    let body = e.and_then(|e| e.response.json().ok()).unwrap_or_default();
    let headline = body["error"]
        .as_str()
        .unwrap_or("the mock server had no answer for this request")
        .to_string();
    let mut findings = Vec::new();
    match body["closest"].as_object() {
        Some(c) => {
            findings.push(format!(
                "closest recording: {}",
                c.get("file").and_then(|f| f.as_str()).unwrap_or("?")
            ));
            for d in c.get("differences").and_then(|d| d.as_array()).into_iter().flatten() {
                findings.push(format!(
                    "{}: {}",
                    d["field"].as_str().unwrap_or("?"),
                    d["difference"].as_str().unwrap_or("?")
                ));
            }
        }
        // The scenario has no recordings at all: the headline says so.
        None if body.get("closest").is_none() => {}
        None => findings.push(format!(
            "nothing is recorded for this route in {}",
            body["recordings"].as_str().unwrap_or("the recordings folder")
        )),
    }
    if let Some(h) = body["hint"].as_str() {
        findings.push(h.to_string());
    }
    StepFailure::usage(format!("replay: {headline}"))
        .findings(findings)
        .exchange(e)
}
