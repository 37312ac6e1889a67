//! Steps that drive contrail's mock servers (targets replay and record): program faults for the
//! next calls of an operation, and check what a partner received through its journal.
//! Faults and journal queries are scoped to the scenario, so concurrent scenarios never see
//! each other's.

use std::sync::Arc;
use std::time::Duration;

use super::registry::{Attachment, Registry};
use super::values::json_docstring;
use super::{Args, StepFailure, StepResult, World, builtin};
use crate::contract::Operation;
use crate::matching::{self, Mode};
use crate::server::journal::Entry;
use crate::server::{Fault, FaultKind, MockControl, RetryAfter};

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "faults",
        "{partner} answers the next {count:int} {operation} calls with {status:int}",
        Attachment::None,
        "The mock answers the next calls of this operation (in this scenario) with this status instead of the recording.",
        r#"Given "incidents" answers the next 2 "createIncident" calls with 503"#,
        |w, a| {
            Box::pin(async move {
                let status = status_of(&a, 3)?;
                let mut headers = json_ct();
                headers.extend(challenge(status, &operation(w, a.param(2))?.scopes));
                fault(
                    w,
                    &a,
                    FaultKind::Respond {
                        status,
                        headers,
                        body: error_body(status),
                        retry_after: None,
                    },
                )
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} answers the next {count:int} {operation} calls with 429 and Retry-After {seconds:int}",
        Attachment::None,
        "The mock throttles the next calls: 429 with a Retry-After header of this many seconds.",
        r#"Given "incidents" answers the next 2 "createIncident" calls with 429 and Retry-After 1"#,
        |w, a| {
            Box::pin(async move {
                let seconds = non_negative(&a, 3)?;
                fault(w, &a, throttled(RetryAfter::Seconds(seconds)))
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} answers the next {count:int} {operation} calls with 429 and a Retry-After date {seconds:int} seconds ahead",
        Attachment::None,
        "Like the Retry-After step, with the header as an HTTP-date (rounded up to a whole second, so a client that honours it waits at least that long).",
        r#"Given "incidents" answers the next 1 "createIncident" calls with 429 and a Retry-After date 2 seconds ahead"#,
        |w, a| {
            Box::pin(async move {
                let seconds = non_negative(&a, 3)?;
                fault(w, &a, throttled(RetryAfter::HttpDate(seconds)))
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} cuts the body short on the next {count:int} {operation} calls",
        Attachment::None,
        "The mock answers as usual but sends only the first half of the body (announcing its full length), then closes the connection.",
        r#"Given "ticketing" cuts the body short on the next 1 "listTickets" calls"#,
        |w, a| Box::pin(async move { fault(w, &a, FaultKind::Truncate) }),
    );
    builtin(
        r,
        "faults",
        "{partner} answers the next {count:int} {operation} calls with a body of {size:int} {unit:word}",
        Attachment::None,
        "The mock answers as usual but with a JSON body of this size (B, KB, MB or GB; 1 KB = 1,024 bytes; at most 1 GB).",
        r#"Given "ticketing" answers the next 1 "listTickets" calls with a body of 20 MB"#,
        |w, a| {
            Box::pin(async move {
                let bytes = super::values::size_in_bytes(a.int(3)?, a.param(4))?;
                fault(w, &a, FaultKind::Oversized(bytes))
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} answers the next {count:int} {operation} calls with {status:int} and the body:",
        Attachment::DocString,
        "The mock answers the next calls with this status and this JSON body.",
        r#"Given "incidents" answers the next 1 "createIncident" calls with 422 and the body:"#,
        |w, a| {
            Box::pin(async move {
                let status = status_of(&a, 3)?;
                let body = serde_json::to_vec(&json_docstring(a.docstring()?)?).unwrap_or_default();
                fault(
                    w,
                    &a,
                    FaultKind::Respond {
                        status,
                        headers: json_ct(),
                        body,
                        retry_after: None,
                    },
                )
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} delays the next {count:int} {operation} calls by {ms:int} ms",
        Attachment::None,
        "The mock waits this long before answering the next calls.",
        r#"Given "incidents" delays the next 1 "createIncident" calls by 1500 ms"#,
        |w, a| {
            Box::pin(async move {
                let ms = a.int(3)?.max(0) as u64;
                fault(w, &a, FaultKind::Delay(Duration::from_millis(ms)))
            })
        },
    );
    builtin(
        r,
        "faults",
        "{partner} drops the connection on the next {count:int} {operation} calls",
        Attachment::None,
        "The mock closes the connection without answering the next calls.",
        r#"Given "incidents" drops the connection on the next 1 "createIncident" calls"#,
        |w, a| Box::pin(async move { fault(w, &a, FaultKind::Reset) }),
    );
    for noun in ["request", "requests"] {
        builtin(
            r,
            "journal",
            &format!("within {{seconds:int}} seconds {{partner}} receives exactly {{count:int}} {{operation}} {noun}"),
            Attachment::None,
            "Waits up to the time given; fails as soon as more arrive, or at the end if fewer did.",
            &format!(r#"Then within 5 seconds "incidents" receives exactly 1 "createIncident" {noun}"#),
            |w, a| Box::pin(async move { receives(w, a, Count::Exactly).await }),
        );
        builtin(
            r,
            "journal",
            &format!("within {{seconds:int}} seconds {{partner}} receives at least {{count:int}} {{operation}} {noun}"),
            Attachment::None,
            "Waits until that many arrived (or fails when the time is up).",
            &format!(r#"Then within 10 seconds "incidents" receives at least 3 "createIncident" {noun}"#),
            |w, a| Box::pin(async move { receives(w, a, Count::AtLeast).await }),
        );
    }
    builtin(
        r,
        "journal",
        "within {seconds:int} seconds {partner} receives no {operation} request",
        Attachment::None,
        "Waits the time given and fails as soon as such a request arrives.",
        r#"Then within 3 seconds "incidents" receives no "createIncident" request"#,
        |w, a| {
            Box::pin(async move {
                let args = Args {
                    params: vec![a.param(0).into(), a.param(1).into(), "0".into(), a.param(2).into()],
                    ..a
                };
                receives(w, args, Count::Exactly).await
            })
        },
    );
    builtin(
        r,
        "journal",
        "within {seconds:int} seconds {partner} answers {count:int} {operation} requests with {status:int}",
        Attachment::None,
        "Waits until at least this many requests of the operation were answered with this status (by the mock: a recording, a fault or the simulator).",
        r#"Then within 5 seconds "incidents" answers 1 "createIncident" requests with 201"#,
        |w, a| {
            Box::pin(async move {
                let seconds = non_negative(&a, 0)?;
                let partner = a.param(1).to_string();
                let want = non_negative(&a, 2)? as usize;
                let op = operation(w, a.param(3))?;
                let status = status_of(&a, 4)?;
                let control = mock_for(w, &partner)?.clone();
                let keep = |e: &Entry| mine(w, e) && is_op(&op, e) && e.status == status;
                let got = control
                    .journal()
                    .wait(&keep, Duration::from_secs(seconds), &|e| e.len() >= want)
                    .await;
                if got.len() >= want {
                    w.selected = got;
                    return Ok(());
                }
                let all = control.journal().select(&|e| mine(w, e) && is_op(&op, e));
                Err(StepFailure::assertion(format!(
                    "expected at least {want} {} request(s) to {partner:?} answered {status} within {seconds} s, got {}",
                    op.id,
                    got.len()
                ))
                .findings(describe(&all)))
            })
        },
    );
    builtin(
        r,
        "journal",
        "that request's body matches:",
        Attachment::DocString,
        "The last request the previous journal step found has a JSON body matching the doc string (markers allowed; fields it does not name may be there too).",
        "And that request's body matches:",
        |w, a| Box::pin(async move { that_body(w, a.docstring()?, Mode::Contains) }),
    );
    builtin(
        r,
        "journal",
        "that request's body is exactly:",
        Attachment::DocString,
        "The last request the previous journal step found has a JSON body equal to the doc string (markers allowed; no other fields at any depth).",
        "And that request's body is exactly:",
        |w, a| Box::pin(async move { that_body(w, a.docstring()?, Mode::Equals) }),
    );
    builtin(
        r,
        "journal",
        "consecutive {operation} requests are at least {seconds:int} seconds apart",
        Attachment::None,
        "Every two successive requests of this operation (in this scenario) are at least this far apart.",
        r#"And consecutive "createIncident" requests are at least 1 seconds apart"#,
        |w, a| {
            Box::pin(async move {
                let op = operation(w, a.param(0))?;
                let control = mock_for(w, &op.partner)?;
                let min = Duration::from_secs(a.int(1)?.max(0) as u64);
                let entries = control.journal().select(&|e| mine(w, e) && is_op(&op, e));
                for pair in entries.windows(2) {
                    let gap = pair[1].at.duration_since(pair[0].at);
                    if gap < min {
                        return Err(StepFailure::assertion(format!(
                            "two {} requests were only {} ms apart; the contract wants at least {} s",
                            op.id,
                            gap.as_millis(),
                            min.as_secs()
                        ))
                        .findings(describe(&entries)));
                    }
                }
                Ok(())
            })
        },
    );
    builtin(
        r,
        "journal",
        "consecutive {operation} requests back off exponentially from {min:int} ms up to {max:int} ms",
        Attachment::None,
        "The gaps between successive requests of this operation (retries) start at least at min, never pass max (plus 25% for timers), and grow by at least half each time until they reach max.",
        r#"And consecutive "createIncident" requests back off exponentially from 200 ms up to 5000 ms"#,
        |w, a| {
            Box::pin(async move {
                let op = operation(w, a.param(0))?;
                let control = mock_for(w, &op.partner)?;
                let min = Duration::from_millis(non_negative(&a, 1)?);
                let max = Duration::from_millis(non_negative(&a, 2)?);
                let entries = control.journal().select(&|e| mine(w, e) && is_op(&op, e));
                if entries.len() < 3 {
                    return Err(StepFailure::assertion(format!(
                        "a back-off needs at least 3 {} requests to show; there were {}",
                        op.id,
                        entries.len()
                    ))
                    .findings(describe(&entries)));
                }
                let gaps: Vec<Duration> = entries.windows(2).map(|p| p[1].at.duration_since(p[0].at)).collect();
                let ms = |d: &Duration| d.as_millis();
                let fail = |why: String| {
                    StepFailure::assertion(why).findings(
                        std::iter::once(format!(
                            "gaps: {} ms",
                            gaps.iter().map(|g| ms(g).to_string()).collect::<Vec<_>>().join(", ")
                        ))
                        .chain(describe(&entries))
                        .collect::<Vec<_>>(),
                    )
                };
                if gaps[0] < min {
                    return Err(fail(format!(
                        "the first {} retry came after {} ms, sooner than {} ms",
                        op.id,
                        ms(&gaps[0]),
                        ms(&min)
                    )));
                }
                for (i, pair) in gaps.windows(2).enumerate() {
                    let (a, b) = (pair[0], pair[1]);
                    if b > max + max / 4 {
                        return Err(fail(format!(
                            "gap {} of {} requests is {} ms, over the bound of {} ms",
                            i + 2,
                            op.id,
                            ms(&b),
                            ms(&max)
                        )));
                    }
                    let capped = a >= max.mul_f64(0.8);
                    if !capped && b < a.mul_f64(1.5) {
                        return Err(fail(format!(
                            "the {} retries do not back off exponentially: a gap of {} ms followed one of {} ms",
                            op.id,
                            ms(&b),
                            ms(&a)
                        )));
                    }
                }
                Ok(())
            })
        },
    );
}

enum Count {
    Exactly,
    AtLeast,
}

fn throttled(retry_after: RetryAfter) -> FaultKind {
    FaultKind::Respond {
        status: 429,
        headers: json_ct(),
        body: error_body(429),
        retry_after: Some(retry_after),
    }
}

pub(super) fn non_negative(a: &Args, i: usize) -> Result<u64, StepFailure> {
    let n = a.int(i)?;
    u64::try_from(n).map_err(|_| StepFailure::usage(format!("{n} is negative")))
}

fn json_ct() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

/// What a real OAuth resource server sends with a 401 or 403 (RFC 6750 section 3): the
/// challenge, and for 403 the scopes the operation needs.
fn challenge(status: u16, scopes: &[String]) -> Option<(String, String)> {
    let value = match status {
        401 => r#"Bearer error="invalid_token", error_description="401 injected by contrail""#.to_string(),
        403 if scopes.is_empty() => r#"Bearer error="insufficient_scope""#.to_string(),
        403 => format!(r#"Bearer error="insufficient_scope", scope="{}""#, scopes.join(" ")),
        _ => return None,
    };
    Some(("www-authenticate".into(), value))
}

fn error_body(status: u16) -> Vec<u8> {
    let code = match status {
        429 => "rate_limited",
        401 => "invalid_token",
        403 => "insufficient_scope",
        503 => "unavailable",
        _ => "injected_by_contrail",
    };
    serde_json::to_vec(&serde_json::json!({ "error": code, "message": format!("{status} injected by contrail") }))
        .unwrap_or_default()
}

fn status_of(a: &Args, i: usize) -> Result<u16, StepFailure> {
    let s = a.int(i)?;
    u16::try_from(s)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| StepFailure::usage(format!("{s} is not an HTTP status")))
}

fn operation(w: &World, id: &str) -> Result<Operation, StepFailure> {
    let c = w.contract()?;
    c.find_operation(id)
        .first()
        .map(|o| (*o).clone())
        .ok_or_else(|| StepFailure::usage(format!("the contract {:?} has no operation {id:?}", c.name)))
}

pub(super) fn mock_for<'w>(w: &'w World, partner: &str) -> Result<&'w MockControl, StepFailure> {
    w.suite.mocks.get(partner).ok_or_else(|| {
        StepFailure::usage(format!(
            "{partner:?} has no contrail mock server in this run: faults and the journal need --target replay or record"
        ))
    })
}

/// Requests of this scenario, and those that carry no scenario (a system under test's) since
/// it started: scenarios that use a system under test run one at a time.
fn mine(w: &World, e: &Entry) -> bool {
    e.scenario == w.scenario || (e.scenario.is_none() && e.at >= w.started)
}

fn is_op(op: &Operation, e: &Entry) -> bool {
    e.method.eq_ignore_ascii_case(&op.method) && op.match_path(&e.path).is_some()
}

fn describe(entries: &[Arc<Entry>]) -> Vec<String> {
    let Some(first) = entries.first() else {
        return vec!["(none)".into()];
    };
    entries
        .iter()
        .map(|e| {
            format!(
                "+{} ms: {} {} -> {}",
                e.at.duration_since(first.at).as_millis(),
                e.method,
                e.path,
                if e.status == 0 {
                    "connection dropped".to_string()
                } else {
                    e.status.to_string()
                }
            )
        })
        .collect()
}

fn fault(w: &mut World, a: &Args, kind: FaultKind) -> StepResult {
    let op = operation(w, a.param(2))?;
    let partner = a.param(0);
    if op.partner != partner {
        return Err(StepFailure::usage(format!(
            "{} is an operation of {:?}, not of {partner:?}",
            op.id, op.partner
        )));
    }
    let remaining = u32::try_from(a.int(1)?)
        .map_err(|_| StepFailure::usage(format!("{:?} calls: give a count from 0 up", a.param(1))))?;
    let control = mock_for(w, partner)?;
    control.faults().add(Fault {
        scenario: w.scenario.clone(),
        method: op.method.clone(),
        template: op.path.clone(),
        remaining,
        kind,
    });
    Ok(())
}

async fn receives(w: &mut World, a: Args, count: Count) -> StepResult {
    let seconds = a.int(0)?.max(0) as u64;
    let partner = a.param(1).to_string();
    let want = a.int(2)?.max(0) as usize;
    let op = operation(w, a.param(3))?;
    let control = mock_for(w, &partner)?.clone();
    let keep = |e: &Entry| mine(w, e) && is_op(&op, e);
    let got = match count {
        // Settles early only when it has already failed (one too many).
        Count::Exactly => {
            control
                .journal()
                .wait(&keep, Duration::from_secs(seconds), &|e| e.len() > want)
                .await
        }
        Count::AtLeast => {
            control
                .journal()
                .wait(&keep, Duration::from_secs(seconds), &|e| e.len() >= want)
                .await
        }
    };
    let ok = match count {
        Count::Exactly => got.len() == want,
        Count::AtLeast => got.len() >= want,
    };
    let what = match count {
        Count::Exactly => "exactly",
        Count::AtLeast => "at least",
    };
    let n = got.len();
    w.selected = got;
    if ok {
        return Ok(());
    }
    Err(StepFailure::assertion(format!(
        "expected {what} {want} {} request(s) to {partner:?} within {seconds} s, received {n}",
        op.id
    ))
    .findings(describe(&w.selected)))
}

/// The body of the request the last journal step selected, against the doc string.
fn that_body(w: &World, docstring: &str, mode: Mode) -> StepResult {
    let expected = json_docstring(docstring)?;
    matching::check_expected(&expected).map_err(StepFailure::usage)?;
    let Some(last) = w.selected.last() else {
        return Err(StepFailure::usage(
            "no request was selected: use a \"receives ...\" step first",
        ));
    };
    if last.body_cut() {
        return Err(StepFailure::usage(format!(
            "that request's body was {} bytes, over the journal's limit ([mock] journal_body_bytes): only \
             its size and SHA-256 ({}) were kept",
            last.body_bytes,
            last.body_sha256.as_deref().unwrap_or_default()
        )));
    }
    let actual = match last.body.parsed() {
        crate::recording::Body::Json(v) => v.clone(),
        other => {
            return Err(StepFailure::assertion(format!(
                "that request's body is not JSON: {other:?}"
            )));
        }
    };
    let mismatches = matching::compare(&expected, &actual, mode).map_err(StepFailure::usage)?;
    if mismatches.is_empty() {
        return Ok(());
    }
    let (ev, av) = matching::diff_views(&expected, &actual, mode);
    Err(
        StepFailure::assertion(format!("the body of {} {} does not match", last.method, last.path))
            .findings(mismatches)
            .diff(super::values::pretty(&ev), super::values::pretty(&av)),
    )
}
