//! Steps that check what came back: status, headers, body (fuzzy JSON), the contract's schema,
//! mappings and latency; and capturing values for later steps.

use std::time::Duration;

use serde_json::Value;

use super::registry::{Attachment, Registry};
use super::values::{field_pointer, json_docstring, parse_value};
use super::{Args, StepFailure, StepResult, World, builtin};
use crate::client::Exchange;
use crate::contract::apply_mapping;
use crate::contract::operation::ResponseSchema;
use crate::matching::{self, Mode, compare, diff_views};

/// Phrases lint checks (the value must parse; the mapping must exist).
pub const FIELD_IS: &str = "the response field {field} is {expected:value}";
pub const FOLLOWS_MAPPING: &str = "the response field {field} follows the mapping {mapping} from {source:value}";
pub const FOLLOWS_MAPPING_DEFAULT: &str =
    "the response field {field} follows the mapping {mapping} for a missing value";

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "assertions",
        "the response status is {status:int}",
        Attachment::None,
        "The last response has this HTTP status.",
        "Then the response status is 201",
        |w, a| Box::pin(status(w, a)),
    );
    builtin(
        r,
        "assertions",
        "one of those calls was answered {status:int}",
        Attachment::None,
        "After \"I call ... N times\": at least one answer had this status; it becomes the response the next steps check.",
        "Then one of those calls was answered 429",
        |w, a| {
            Box::pin(async move {
                let want = a.int(0)?;
                if w.burst.is_empty() {
                    return Err(StepFailure::usage(
                        "no burst of calls before this step (use: I call \"...\" N times)",
                    ));
                }
                match w.burst.iter().find(|e| i64::from(e.response.status) == want) {
                    Some(e) => {
                        w.last = Some(e.clone());
                        Ok(())
                    }
                    None => {
                        let seen: Vec<String> = w.burst.iter().map(|e| e.response.status.to_string()).collect();
                        Err(StepFailure::assertion(format!(
                            "none of the {} calls was answered {want}; they were answered {}",
                            w.burst.len(),
                            seen.join(", ")
                        ))
                        .exchange(w.burst.last()))
                    }
                }
            })
        },
    );
    builtin(
        r,
        "assertions",
        "the response header {name} is {expected}",
        Attachment::None,
        "The last response has this header with this value (markers such as \"#regex ...\" allowed).",
        r##"Then the response header "Content-Type" is "#regex application/json.*""##,
        |w, a| Box::pin(header(w, a)),
    );
    builtin(
        r,
        "assertions",
        "the response body matches:",
        Attachment::DocString,
        "The last response body contains the JSON below (extra fields allowed; markers allowed).",
        "Then the response body matches:",
        |w, a| Box::pin(async move { body(w, a, Mode::Contains).await }),
    );
    builtin(
        r,
        "assertions",
        "the response body is exactly:",
        Attachment::DocString,
        "The last response body is the JSON below, no field more or less (markers allowed).",
        "Then the response body is exactly:",
        |w, a| Box::pin(async move { body(w, a, Mode::Equals).await }),
    );
    builtin(
        r,
        "assertions",
        FIELD_IS,
        Attachment::None,
        "One field of the last response body (dotted path or JSON pointer) is this JSON value or marker.",
        r#"Then the response field "severity" is 1"#,
        |w, a| Box::pin(field(w, a)),
    );
    builtin(
        r,
        "contract",
        "the response matches the contract",
        Attachment::None,
        "The last response's status is declared for its operation, the headers declared for that status are there when required and valid against their schemas, and its body is valid against that status's schema.",
        "Then the response matches the contract",
        |w, _| Box::pin(matches_contract(w)),
    );
    builtin(
        r,
        "data",
        "I remember the response field {field} as {name}",
        Attachment::None,
        "Keep a field of the last response body as the variable ${name}.",
        r#"And I remember the response field "id" as "ticket_id""#,
        |w, a| Box::pin(remember(w, a)),
    );
    builtin(
        r,
        "contract",
        FOLLOWS_MAPPING,
        Attachment::None,
        "The field has the value the contract's mapping gives for this source value.",
        r#"Then the response field "severity" follows the mapping "priority_to_severity" from "high""#,
        |w, a| Box::pin(mapping(w, a, false)),
    );
    builtin(
        r,
        "contract",
        FOLLOWS_MAPPING_DEFAULT,
        Attachment::None,
        "The field has the mapping's default (what the contract says when the source value is missing).",
        r#"Then the response field "severity" follows the mapping "priority_to_severity" for a missing value"#,
        |w, a| Box::pin(mapping(w, a, true)),
    );
    builtin(
        r,
        "contract",
        "the response arrives within {ms:int} ms",
        Attachment::None,
        "The last response took at most this many milliseconds.",
        "Then the response arrives within 500 ms",
        |w, a| {
            Box::pin(async move {
                let limit = Duration::from_millis(a.int(0)?.max(0) as u64);
                latency(w, limit, "the step's limit")
            })
        },
    );
    builtin(
        r,
        "contract",
        "the response arrives within the partner's latency budget",
        Attachment::None,
        "The last response took at most the partner's `latency_budget` from the contract: the partner's time, as a mock reports it (live through the proxy; in replay the recorded time plus any programmed delay), else the round trip.",
        "Then the response arrives within the partner's latency budget",
        |w, _| Box::pin(async move { budget(w) }),
    );
}

fn fail_with(e: &Exchange, message: String) -> StepFailure {
    StepFailure::assertion(message).exchange(Some(e))
}

async fn status(w: &mut World, a: Args) -> StepResult {
    let want = a.int(0)?;
    let e = w.last()?;
    if i64::from(e.response.status) == want {
        return Ok(());
    }
    let got = match auth_words(w, e) {
        Some(words) => format!("{words}; expected status {want}"),
        None => format!("expected status {want}, got {}", e.response.status),
    };
    Err(fail_with(e, got))
}

/// A 401 or 403 named for what it is (see `auth_failure`), with the operation's scopes.
pub fn auth_words(w: &World, e: &Exchange) -> Option<String> {
    let declared = w
        .contract
        .as_ref()
        .and_then(|c| {
            c.partner(&e.partner)?
                .operation(e.operation.as_deref()?)
                .map(|o| o.scopes.clone())
        })
        .unwrap_or_default();
    super::auth_failure::explain(e, &declared)
}

async fn header(w: &mut World, a: Args) -> StepResult {
    let (name, expected) = (a.param(0), a.param(1));
    let e = w.last()?;
    let actual = e.response.header(name).map(|v| Value::String(v.to_string()));
    let mut mismatches = Vec::new();
    if let Some(actual) = &actual {
        mismatches = compare(&Value::String(expected.to_string()), actual, Mode::Equals).map_err(StepFailure::usage)?;
    } else if expected != "#ignore" && expected != "#notpresent" && !expected.starts_with("##") {
        return Err(fail_with(
            e,
            format!("the response has no {name} header (expected {expected:?})"),
        ));
    }
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(fail_with(
        e,
        format!("the response header {name}: {}", mismatches[0].message),
    ))
}

fn response_json(e: &Exchange) -> Result<Value, StepFailure> {
    e.response.json().map_err(|m| fail_with(e, m))
}

async fn body(w: &mut World, a: Args, mode: Mode) -> StepResult {
    let expected = json_docstring(a.docstring()?)?;
    matching::check_expected(&expected).map_err(StepFailure::usage)?;
    let e = w.last()?;
    let actual = response_json(e)?;
    expect_json(e, &expected, &actual, mode, "the response body")
}

fn expect_json(e: &Exchange, expected: &Value, actual: &Value, mode: Mode, what: &str) -> StepResult {
    let mismatches = compare(expected, actual, mode).map_err(StepFailure::usage)?;
    if mismatches.is_empty() {
        return Ok(());
    }
    let (ev, av) = diff_views(expected, actual, mode);
    let n = mismatches.len();
    Err(fail_with(
        e,
        format!(
            "{what} does not match ({n} difference{})",
            if n == 1 { "" } else { "s" }
        ),
    )
    .findings(mismatches)
    .diff(super::values::pretty(&ev), super::values::pretty(&av)))
}

async fn field(w: &mut World, a: Args) -> StepResult {
    let pointer = field_pointer(a.param(0));
    let expected = parse_value(a.param(1))?;
    matching::check_expected(&expected).map_err(StepFailure::usage)?;
    let e = w.last()?;
    let actual = response_json(e)?;
    let found = actual.pointer(&pointer);
    let mut out = Vec::new();
    // Compare the field through its parent so that presence markers see a missing field.
    let wrapped_expected = serde_json::json!({ "f": expected });
    let wrapped_actual = match found {
        Some(v) => serde_json::json!({ "f": v }),
        None => serde_json::json!({}),
    };
    for m in compare(&wrapped_expected, &wrapped_actual, Mode::Contains).map_err(StepFailure::usage)? {
        out.push(format!(
            "{pointer}{}: {}",
            m.pointer.trim_start_matches("/f"),
            m.message
        ));
    }
    if out.is_empty() {
        return Ok(());
    }
    Err(fail_with(e, format!("the response field {pointer} is wrong")).findings(out))
}

async fn matches_contract(w: &mut World) -> StepResult {
    let contract = w.contract()?.clone();
    let e = w.last()?;
    let partner = contract
        .partner(&e.partner)
        .ok_or_else(|| StepFailure::usage(format!("the contract has no partner {:?}", e.partner)))?;
    let path = url::Url::parse(&e.request.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let op = match &e.operation {
        Some(id) => partner.operation(id),
        None => partner.operation_for(&e.request.method, &path).map(|(op, _)| op),
    }
    .ok_or_else(|| {
        fail_with(
            e,
            format!(
                "the contract declares no operation for {} {path} on {:?}",
                e.request.method, e.partner
            ),
        )
    })?;
    let status = e.response.status;
    let ct = e.response.content_type().unwrap_or_default();
    // The headers the contract declares for this status, then the body.
    let mut violations = match op.response_for(status) {
        Some((_, declared)) => {
            crate::contract::headers::check(&contract.schemas, &declared.headers, &e.response.headers)
                .map_err(StepFailure::usage)?
        }
        None => Vec::new(),
    };
    let declared = match op.response_schema(status, &ct) {
        ResponseSchema::Schema { declared, schema } => {
            let actual = response_json(e)?;
            let (deciding, format_misses) = contract
                .schemas
                .validate_split(schema, &actual)
                .map_err(StepFailure::usage)?;
            violations.extend(deciding);
            if !format_misses.is_empty() {
                // `formats: warn`: said, and decides nothing.
                let list: Vec<String> = format_misses.iter().map(|v| v.to_string()).collect();
                eprintln!(
                    "{}",
                    crate::secrets::mask_text(
                        &format!(
                            "warning: the {status} response of {} misses a format (the contract says formats: warn): {}",
                            op.id,
                            list.join("; ")
                        ),
                        crate::secrets::MASK
                    )
                );
            }
            declared
        }
        ResponseSchema::NoBody { declared } => declared,
        ResponseSchema::UndeclaredStatus { declared } => {
            let words = auth_words(w, e).map(|w| format!("{w}: ")).unwrap_or_default();
            return Err(fail_with(
                e,
                format!(
                    "{words}{} answered {status}, which the contract does not declare for it (declared: {})",
                    op.id,
                    declared.join(", ")
                ),
            ));
        }
        ResponseSchema::UndeclaredType { types, .. } => {
            return Err(fail_with(
                e,
                format!(
                    "{} {status}: content type {:?} is not declared (declared: {})",
                    op.id,
                    if ct.is_empty() { "none" } else { &ct },
                    types.join(", ")
                ),
            ));
        }
    };
    if violations.is_empty() {
        return Ok(());
    }
    let n = violations.len();
    Err(fail_with(
        e,
        format!(
            "the {status} response of {} breaks the contract for {declared} ({n} violation{})",
            op.id,
            if n == 1 { "" } else { "s" }
        ),
    )
    .findings(violations))
}

async fn remember(w: &mut World, a: Args) -> StepResult {
    let pointer = field_pointer(a.param(0));
    let e = w.last()?;
    let actual = response_json(e)?;
    let v = actual
        .pointer(&pointer)
        .cloned()
        .ok_or_else(|| fail_with(e, format!("the response has no field {pointer} to remember")))?;
    w.vars.insert(a.param(1).to_string(), v);
    Ok(())
}

async fn mapping(w: &mut World, a: Args, missing: bool) -> StepResult {
    let pointer = field_pointer(a.param(0));
    let name = a.param(1);
    let contract = w.contract()?.clone();
    let m = contract.mapping(name).ok_or_else(|| {
        let known: Vec<&str> = contract.doc.mappings.keys().map(String::as_str).collect();
        StepFailure::usage(format!(
            "the contract {:?} has no mapping {name:?} (mappings: {})",
            contract.name,
            known.join(", ")
        ))
    })?;
    let source = if missing { None } else { Some(parse_value(a.param(2))?) };
    let expected = apply_mapping(m, source.as_ref()).ok_or_else(|| {
        StepFailure::usage(format!(
            "the mapping {name:?} has no value for {} and no default",
            source
                .as_ref()
                .map(matching::short)
                .unwrap_or_else(|| "a missing value".into())
        ))
    })?;
    let e = w.last()?;
    let actual = response_json(e)?;
    let got = actual.pointer(&pointer);
    let from = source
        .as_ref()
        .map(matching::short)
        .unwrap_or_else(|| "a missing value (the default)".into());
    match got {
        Some(v)
            if compare(&expected, v, Mode::Equals)
                .map(|m| m.is_empty())
                .unwrap_or(false) =>
        {
            Ok(())
        }
        Some(v) => Err(fail_with(
            e,
            format!(
                "{pointer} does not follow the mapping {name:?} ({} -> {}): for {from} the contract says {}, the response has {}",
                m.from.value,
                m.to.value,
                matching::short(&expected),
                matching::describe(v)
            ),
        )),
        None => Err(fail_with(
            e,
            format!(
                "{pointer} is missing; the mapping {name:?} says it should be {} for {from}",
                matching::short(&expected)
            ),
        )),
    }
}

fn latency(w: &World, limit: Duration, what: &str) -> StepResult {
    let e = w.last()?;
    // Through contrail's own proxy (record, drift), the partner's time is what the proxy
    // measured upstream, without its pacing; a partner cannot set this header for itself.
    let took = w
        .suite
        .via_mock
        .then(|| e.response.header(crate::server::LIVE_TIME_HEADER))
        .flatten()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(e.elapsed);
    if took <= limit {
        return Ok(());
    }
    Err(fail_with(
        e,
        format!(
            "the response took {} ms, over {what} of {} ms",
            took.as_millis(),
            limit.as_millis()
        ),
    ))
}

fn budget(w: &World) -> StepResult {
    let e = w.last()?;
    let contract = w.contract()?;
    let partner = contract
        .partner(&e.partner)
        .ok_or_else(|| StepFailure::usage("unknown partner"))?;
    let limit = partner
        .latency_budget
        .ok_or_else(|| StepFailure::usage(format!("the contract gives no latency_budget for {:?}", e.partner)))?;
    latency(w, limit, "the partner's latency budget")
}
