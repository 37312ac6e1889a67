//! Webhook steps: contrail plays the partner that sends events to the system under test.
//! Payloads come from the doc string, completed from the contract's schema and validated
//! (unless the step says "invalid"), signed per the contract's scheme, delivered with the
//! headers a real partner sends (a delivery id, the same one on a duplicate; the event name;
//! a user agent), retried on 5xx or timeout when the partner's retry policy is switched on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::registry::{Attachment, Registry};
use super::values::json_docstring;
use super::{Args, StepFailure, StepResult, World, builtin};
use crate::client::SentRequest;
use crate::contract::Contract;
use crate::matching::{self, Mode};
use crate::webhook::generate::{self, Rng};
use crate::webhook::sign::Scheme;

const SHRINK_STEPS: usize = 1000;
const SHRINK_TIME: Duration = Duration::from_secs(30);

/// The generated-data step: its doc string is a list of steps, not JSON (lint reads it so).
pub const GENERATED: &str = "{partner} sends {count:int} generated {event} webhooks, each checked with:";

/// The steps listed in the generated-data step's doc string, without their keywords.
pub fn listed_steps(docstring: &str) -> Vec<String> {
    docstring
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.splitn(2, ' ');
            match (words.next(), words.next()) {
                (Some("Given" | "When" | "Then" | "And" | "But" | "*"), Some(rest)) => rest.trim().to_string(),
                _ => l.to_string(),
            }
        })
        .collect()
}

/// One webhook as delivered ("that webhook").
#[derive(Debug, Clone)]
pub struct Delivery {
    pub partner: String,
    pub event: String,
    /// The delivery id: the same on a redelivery.
    pub id: String,
    pub body: Vec<u8>,
    /// Status of the last attempt (0: no answer).
    pub status: u16,
    pub response: String,
    pub attempts: u32,
}

/// How a delivery is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Good,
    /// Signed with another secret.
    Bad,
    /// Signed with a timestamp this many seconds old.
    Stale(u64),
}

pub fn register(r: &mut Registry) {
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook",
        Attachment::None,
        "Delivers the contract's event to the system under test, every field made up from its schema, signed as the contract says.",
        r#"When "ticketing" sends the "ticket.escalated" webhook"#,
        |w, a| Box::pin(async move { send(w, &a, None, Signing::Good, true).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook:",
        Attachment::DocString,
        "Delivers the event with these fields (JSON); required fields left out are made up from the schema, and the payload must be valid.",
        r#"When "ticketing" sends the "ticket.escalated" webhook:"#,
        |w, a| Box::pin(async move { send_docstring(w, &a, Signing::Good, true).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook with:",
        Attachment::Table,
        "Delivers the event with these fields (a table of field | value; dotted fields like ticket.priority); the rest is made up from the schema.",
        r#"When "ticketing" sends the "ticket.escalated" webhook with:"#,
        |w, a| {
            Box::pin(async move {
                let given = super::values::table_object(a.table()?)?;
                send(w, &a, Some(given), Signing::Good, true).await
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook from the file {path}",
        Attachment::None,
        "Delivers the payload in this file (under the workspace) byte for byte: no interpolation, no made-up fields, signed over exactly those bytes; it must be JSON valid against the event's schema. A Scenario Outline can name the file from its Examples.",
        r#"When "github" sends the "issues" webhook from the file "payloads/issue-opened.json""#,
        |w, a| Box::pin(async move { send_file(w, &a).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends an invalid {event} webhook:",
        Attachment::DocString,
        "Delivers exactly this payload, signed, without checking it against the schema.",
        r#"When "ticketing" sends an invalid "ticket.escalated" webhook:"#,
        |w, a| Box::pin(async move { send_docstring(w, &a, Signing::Good, false).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook after {ms:int} ms:",
        Attachment::DocString,
        "Waits, then delivers the event (a late delivery).",
        r#"When "ticketing" sends the "ticket.escalated" webhook after 500 ms:"#,
        |w, a| {
            Box::pin(async move {
                let ms = u64::try_from(a.int(2)?).map_err(|_| StepFailure::usage("ms must be 0 or more"))?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                send_docstring(w, &a, Signing::Good, true).await
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook with a bad signature:",
        Attachment::DocString,
        "Delivers the event signed with the wrong secret.",
        r#"When "ticketing" sends the "ticket.escalated" webhook with a bad signature:"#,
        |w, a| Box::pin(async move { send_docstring(w, &a, Signing::Bad, true).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends the {event} webhook signed {minutes:int} minutes ago:",
        Attachment::DocString,
        "Delivers the event with a signature timestamp this old (a replayed or delayed delivery).",
        r#"When "ticketing" sends the "ticket.escalated" webhook signed 10 minutes ago:"#,
        |w, a| {
            Box::pin(async move {
                let minutes = u64::try_from(a.int(2)?).map_err(|_| StepFailure::usage("minutes must be 0 or more"))?;
                let seconds = minutes
                    .checked_mul(60)
                    .ok_or_else(|| StepFailure::usage(format!("{minutes} minutes is more than a clock can count")))?;
                send_docstring(w, &a, Signing::Stale(seconds), true).await
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends a {size:int} {unit:word} {event} webhook",
        Attachment::None,
        "Delivers a valid event padded to this size (B, KB, MB; 1 KB = 1,024 bytes) with a \"padding\" field.",
        r#"When "ticketing" sends a 5 MB "ticket.escalated" webhook"#,
        |w, a| {
            Box::pin(async move {
                let size = super::mock::size_in_bytes(a.int(1)?, a.param(2))?;
                let args = Args {
                    params: vec![a.param(0).into(), a.param(3).into()],
                    ..a
                };
                let (scheme, payload) = prepare(w, &args, None, true)?;
                let mut body = serde_json::to_vec(&payload).unwrap_or_default();
                crate::server::faults::pad_object(&mut body, size);
                deliver(w, &args, scheme, body, None, Signing::Good).await
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends these {event} webhooks:",
        Attachment::DocString,
        "Delivers each payload of the JSON array, in order, one after the other.",
        r#"When "ticketing" sends these "ticket.escalated" webhooks:"#,
        |w, a| Box::pin(async move { send_all(w, &a, false).await }),
    );
    builtin(
        r,
        "webhooks",
        "{partner} sends these {event} webhooks in reverse order:",
        Attachment::DocString,
        "Delivers each payload of the JSON array, last first, one after the other (out-of-order delivery).",
        r#"When "ticketing" sends these "ticket.escalated" webhooks in reverse order:"#,
        |w, a| Box::pin(async move { send_all(w, &a, true).await }),
    );
    builtin(
        r,
        "webhooks",
        "that webhook is delivered again",
        Attachment::None,
        "Delivers the last webhook again: same delivery id, same body, a fresh signature (a partner's duplicate).",
        "And that webhook is delivered again",
        |w, _a| {
            Box::pin(async move {
                let last = w
                    .deliveries
                    .last()
                    .cloned()
                    .ok_or_else(|| StepFailure::usage("no webhook was sent yet in this scenario"))?;
                let args = Args {
                    params: vec![last.partner.clone(), last.event.clone()],
                    ..Args::default()
                };
                let scheme = scheme(w, &last.partner, &last.event)?;
                deliver(w, &args, scheme, last.body, Some(last.id), Signing::Good).await
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "{partner} retries undelivered webhooks as the contract says",
        Attachment::None,
        "From now on in this scenario, a delivery answered 5xx (or not at all) is retried per the event's `retry` in the contract.",
        r#"Given "ticketing" retries undelivered webhooks as the contract says"#,
        |w, a| {
            Box::pin(async move {
                w.vars.insert(retry_var(a.param(0)), Value::Bool(true));
                Ok(())
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "the system under test answers {status:int}",
        Attachment::None,
        "The last webhook delivery was answered with this status.",
        "Then the system under test answers 202",
        |w, a| {
            Box::pin(async move {
                let want = a.int(0)?;
                let last = w
                    .deliveries
                    .last()
                    .ok_or_else(|| StepFailure::usage("no webhook was sent yet in this scenario"))?;
                if i64::from(last.status) == want {
                    return Ok(());
                }
                Err(StepFailure::assertion(format!(
                    "the system under test answered the {} webhook {} (expected {want})",
                    last.event,
                    if last.status == 0 {
                        "with no answer at all".to_string()
                    } else {
                        last.status.to_string()
                    }
                ))
                .findings(vec![format!("its answer: {}", cut(&last.response))]))
            })
        },
    );
    builtin(
        r,
        "webhooks",
        "that webhook took {count:int} attempts",
        Attachment::None,
        "How many deliveries the last webhook needed (with the retry policy on).",
        "And that webhook took 3 attempts",
        |w, a| {
            Box::pin(async move {
                let want = a.int(0)?;
                let last = w
                    .deliveries
                    .last()
                    .ok_or_else(|| StepFailure::usage("no webhook was sent yet in this scenario"))?;
                if i64::from(last.attempts) == want {
                    return Ok(());
                }
                Err(StepFailure::assertion(format!(
                    "the {} webhook took {} attempt(s), expected {want}",
                    last.event, last.attempts
                )))
            })
        },
    );
    builtin(
        r,
        "generated data",
        GENERATED,
        Attachment::DocString,
        "For each of N payloads generated from the event's schema (proptest), with a fresh system under test: delivers it, sets ${webhook} to it and runs the listed one-line steps. A failure is shrunk to the smallest failing payload and reported with the seed (CONTRAIL_SEED=N repeats it).",
        r#"When "ticketing" sends 20 generated "ticket.escalated" webhooks, each checked with:"#,
        |w, a| Box::pin(async move { generated(w, &a).await }),
    );
    builtin(
        r,
        "generated data",
        "that request's field {field} follows the mapping {mapping} from the webhook's {source}",
        Attachment::None,
        "The last request a journal step found has this field as the contract's mapping says for that field of the last webhook (missing: the default).",
        r#"And that request's field "severity" follows the mapping "priority_to_severity" from the webhook's "ticket.priority""#,
        |w, a| Box::pin(async move { request_follows_mapping(w, &a).await }),
    );
    builtin(
        r,
        "webhooks",
        "within {seconds:int} seconds the system under test's {path} matches:",
        Attachment::DocString,
        "GETs this path on the system under test until its JSON matches the doc string (markers allowed) or the time is up.",
        r#"Then within 5 seconds the system under test's "/status" matches:"#,
        |w, a| Box::pin(async move { sut_matches(w, &a).await }),
    );
}

/// Runs the listed steps for `n` payloads generated from the event's schema (a fresh system
/// under test for each); on a failure, shrinks the payload to the smallest that still fails.
async fn generated(w: &mut World, a: &Args) -> StepResult {
    use proptest::strategy::{Strategy as _, ValueTree as _};
    let n = u32::try_from(a.int(1)?).map_err(|_| StepFailure::usage("give a count from 0 up"))?;
    let args = Args {
        params: vec![a.param(0).into(), a.param(2).into()],
        ..Args::default()
    };
    let (partner, event) = (args.param(0).to_string(), args.param(1).to_string());
    let lines = listed_steps(a.docstring()?);
    if lines.is_empty() {
        return Err(StepFailure::usage(
            "list the steps to check each payload with, one per line",
        ));
    }
    let scheme = scheme(w, &partner, &event)?;
    let c = contract_of(w)?;
    let schema = c
        .webhook_schemas
        .get(&event)
        .ok_or_else(|| StepFailure::usage(format!("the webhook {event:?} has no schema to generate from")))?;
    let resolve = |r: &str| c.schemas.resolve_ref(r).cloned();
    let strategy = crate::webhook::strategy::of(&schema.schema, &resolve);
    let mut runner = crate::shrink::runner(w.draw("generated data"));
    for case in 1..=n {
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| StepFailure::usage(format!("cannot generate a {event:?} payload: {e}")))?;
        let Err(first) = check_case(w, &args, scheme.clone(), &lines, tree.current()).await else {
            continue;
        };
        if first.kind == super::FailureKind::Harness {
            return Err(first);
        }
        // Each shrink step is a delivery to a fresh service: bounded in steps and in time.
        let deadline = Some(std::time::Instant::now() + SHRINK_TIME);
        let shrunk = crate::shrink::shrink(&mut *tree, first, SHRINK_STEPS, deadline, async |candidate| {
            Ok::<_, std::convert::Infallible>(check_case(w, &args, scheme.clone(), &lines, candidate).await.err())
        })
        .await;
        let Ok(crate::shrink::Shrunk {
            value: input,
            evidence: failure,
            steps: shrinks,
        }) = shrunk;
        return Err(
            StepFailure::assertion(format!("generated case {case} of {n} failed: {}", failure.message)).findings(vec![
                format!(
                    "smallest failing {event} payload (after {shrinks} shrink step(s)): {}",
                    serde_json::to_string(&input).unwrap_or_default()
                ),
                format!(
                    "seed {run}: CONTRAIL_SEED={run} repeats this run",
                    run = crate::seed::run()
                ),
            ]),
        );
    }
    Ok(())
}

async fn check_case(
    w: &mut World,
    args: &Args,
    scheme: Option<Scheme>,
    lines: &[String],
    payload: Value,
) -> StepResult {
    // Each case is a world of its own: a fresh service, and the partner's budget back.
    if let Some(r) = w.suite.sut.as_ref().and_then(|s| s.restarter.clone()) {
        (r.0)().await;
    }
    for m in w.suite.mocks.values() {
        if let Some(sim) = m.simulator() {
            sim.reset_rate_windows();
        }
    }
    w.started = std::time::Instant::now();
    w.selected.clear();
    w.vars.insert("webhook".into(), payload.clone());
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    deliver(w, args, scheme, body, None, Signing::Good).await?;
    for line in lines {
        Box::pin(w.run_step(line, None, None)).await?;
    }
    Ok(())
}

/// `that request's field "severity" follows the mapping ... from the webhook's "ticket.priority"`.
async fn request_follows_mapping(w: &mut World, a: &Args) -> StepResult {
    let pointer = super::values::field_pointer(a.param(0));
    let name = a.param(1);
    let from = super::values::field_pointer(a.param(2));
    let contract = contract_of(w)?;
    let m = contract
        .mapping(name)
        .ok_or_else(|| StepFailure::usage(format!("the contract {:?} has no mapping {name:?}", contract.name)))?;
    let webhook = w
        .vars
        .get("webhook")
        .cloned()
        .or_else(|| w.deliveries.last().and_then(|d| serde_json::from_slice(&d.body).ok()))
        .ok_or_else(|| StepFailure::usage("no webhook was sent yet in this scenario"))?;
    let source = webhook.pointer(&from).cloned();
    let expected = crate::contract::apply_mapping(m, source.as_ref())
        .ok_or_else(|| StepFailure::usage(format!("the mapping {name:?} has no value and no default for that")))?;
    let last = w
        .selected
        .last()
        .ok_or_else(|| StepFailure::usage("no request was selected: use a \"receives ...\" step first"))?;
    let got = match &last.body {
        crate::recording::Body::Json(v) => v.pointer(&pointer).cloned(),
        _ => None,
    };
    let source_text = source
        .as_ref()
        .map(matching::short)
        .unwrap_or_else(|| "a missing value (the default)".into());
    match got {
        Some(v) if v == expected => Ok(()),
        other => Err(StepFailure::assertion(format!(
            "{pointer} of {} {} does not follow the mapping {name:?}: for {source_text} the contract says {}, the request has {}",
            last.method,
            last.path,
            matching::short(&expected),
            other
                .as_ref()
                .map(matching::describe)
                .unwrap_or_else(|| "nothing".into())
        ))),
    }
}

fn retry_var(partner: &str) -> String {
    format!("__contrail_webhook_retries_{partner}")
}

fn cut(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(299).collect::<String>())
    } else {
        s.to_string()
    }
}

fn contract_of(w: &World) -> Result<std::sync::Arc<Contract>, StepFailure> {
    Ok(w.contract()?.clone())
}

/// The contract's signature scheme for an event from a partner.
fn scheme(w: &World, partner: &str, event: &str) -> Result<Option<Scheme>, StepFailure> {
    let c = contract_of(w)?;
    // Known only from the partner's OpenAPI document: unsigned (the contract says nothing of
    // a signature), from that partner.
    if !c.doc.webhooks.contains_key(event)
        && let Some(sender) = c.imported_webhooks.get(event)
    {
        if sender != partner {
            return Err(StepFailure::usage(format!(
                "the webhook {event:?} comes from {sender:?}, not {partner:?}"
            )));
        }
        return Ok(None);
    }
    let hook = c.doc.webhooks.get(event).ok_or_else(|| {
        StepFailure::usage(format!(
            "the contract {:?} declares no webhook {event:?} (webhooks: {})",
            c.name,
            c.webhook_names().join(", ")
        ))
    })?;
    if hook.from.value != partner {
        return Err(StepFailure::usage(format!(
            "the webhook {event:?} comes from {:?}, not {partner:?}",
            hook.from.value
        )));
    }
    let Some(sig) = &hook.signature else {
        return Ok(None);
    };
    let secret = crate::interpolate::interpolate_env(&sig.secret)
        .map_err(|e| StepFailure::usage(format!("the signature secret of {event:?}: {e}")))?;
    Scheme::from_doc(sig, secret)
        .map(Some)
        .map_err(|e| StepFailure::usage(format!("the signature of {event:?}: {e}")))
}

/// The payload: the given fields completed from the schema and (if `validate`) checked.
fn prepare(
    w: &mut World,
    a: &Args,
    given: Option<Value>,
    validate: bool,
) -> Result<(Option<Scheme>, Value), StepFailure> {
    let (partner, event) = (a.param(0), a.param(1));
    let scheme = scheme(w, partner, event)?;
    let c = contract_of(w)?;
    let Some(schema) = c.webhook_schemas.get(event) else {
        return match given {
            Some(g) => Ok((scheme, g)),
            None => Err(StepFailure::usage(format!(
                "the webhook {event:?} has no schema to make a payload from: give one"
            ))),
        };
    };
    if !validate {
        return Ok((scheme, given.unwrap_or(Value::Null)));
    }
    let mut rng = Rng::new(w.draw("webhook payload"));
    let resolve = |r: &str| c.schemas.resolve_ref(r).cloned();
    let payload = generate::fill(&schema.schema, given.as_ref(), &resolve, &mut rng);
    let violations = c.schemas.validate(schema, &payload).map_err(StepFailure::usage)?;
    if !violations.is_empty() {
        return Err(StepFailure::usage(format!(
            "this {event:?} payload breaks the contract's schema (say \"sends an invalid\" to send it anyway)"
        ))
        .findings(violations));
    }
    Ok((scheme, payload))
}

/// The headers of a delivery besides its signature. GitHub's as GitHub sends them: the event
/// without its action (`issues`, not `issues.opened`), a GUID delivery, the hook and its
/// target, the Hookshot user agent; the others' are contrail's own.
fn delivery_headers(
    github: bool,
    partner: &str,
    event: &str,
    id: &str,
    hook_id: u64,
    target_id: u64,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![("Content-Type".into(), "application/json".into())];
    if github {
        let gh_event = event.split('.').next().unwrap_or(event).to_string();
        headers.extend([
            (
                "User-Agent".into(),
                format!("GitHub-Hookshot/{:07x}", hook_id % 0xFFF_FFFF),
            ),
            ("X-GitHub-Event".into(), gh_event),
            ("X-GitHub-Delivery".into(), id.to_string()),
            ("X-GitHub-Hook-ID".into(), hook_id.to_string()),
            ("X-GitHub-Hook-Installation-Target-ID".into(), target_id.to_string()),
            ("X-GitHub-Hook-Installation-Target-Type".into(), "repository".into()),
        ]);
    } else {
        headers.extend([
            (
                "User-Agent".into(),
                format!("contrail-webhooks/{} ({partner})", env!("CARGO_PKG_VERSION")),
            ),
            ("X-Event-Type".into(), event.to_string()),
            ("X-Delivery-Id".into(), id.to_string()),
        ]);
    }
    headers
}

#[cfg(test)]
#[test]
fn github_deliveries_carry_what_github_sends() {
    let h = delivery_headers(
        true,
        "github",
        "issues.opened",
        "9b2c4f1e-0d3a-4c5b-8e6f-7a8b9c0d1e2f",
        123456789,
        987654321,
    );
    let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("X-GitHub-Event"), Some("issues"));
    assert_eq!(get("X-GitHub-Delivery"), Some("9b2c4f1e-0d3a-4c5b-8e6f-7a8b9c0d1e2f"));
    assert_eq!(get("X-GitHub-Hook-ID"), Some("123456789"));
    assert_eq!(get("X-GitHub-Hook-Installation-Target-ID"), Some("987654321"));
    assert_eq!(get("X-GitHub-Hook-Installation-Target-Type"), Some("repository"));
    assert!(get("User-Agent").is_some_and(|u| u.starts_with("GitHub-Hookshot/")));
    assert!(get("X-Delivery-Id").is_none(), "no contrail headers in GitHub's style");
    let other = delivery_headers(false, "ticketing", "ticket.escalated", "msg_1", 1, 2);
    assert!(other.iter().all(|(k, _)| !k.starts_with("X-GitHub")));
}

/// A payload file, sent as its bytes are.
async fn send_file(w: &mut World, a: &Args) -> StepResult {
    let (text, payload) = super::values::json_file(w, a.param(2), "the payload file")?;
    let event = a.param(1);
    let scheme = scheme(w, a.param(0), event)?;
    let c = contract_of(w)?;
    if let Some(schema) = c.webhook_schemas.get(event) {
        let violations = c.schemas.validate(schema, &payload).map_err(StepFailure::usage)?;
        if !violations.is_empty() {
            return Err(StepFailure::usage(format!(
                "the payload in {} breaks the contract's schema for {event:?}",
                a.param(2)
            ))
            .findings(violations));
        }
    }
    deliver(w, a, scheme, text.into_bytes(), None, Signing::Good).await
}

/// The doc string's JSON as the payload.
async fn send_docstring(w: &mut World, a: &Args, signing: Signing, validate: bool) -> StepResult {
    let given = json_docstring(a.docstring()?)?;
    send(w, a, Some(given), signing, validate).await
}

async fn send_all(w: &mut World, a: &Args, reverse: bool) -> StepResult {
    let Value::Array(mut list) = json_docstring(a.docstring()?)? else {
        return Err(StepFailure::usage("this step needs a JSON array of payloads"));
    };
    if reverse {
        list.reverse();
    }
    for given in list {
        send(w, a, Some(given), Signing::Good, true).await?;
    }
    Ok(())
}

async fn send(w: &mut World, a: &Args, given: Option<Value>, signing: Signing, validate: bool) -> StepResult {
    let (scheme, payload) = prepare(w, a, given, validate)?;
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    deliver(w, a, scheme, body, None, signing).await
}

/// Signs and delivers; retries per the contract when the scenario switched retries on.
async fn deliver(
    w: &mut World,
    a: &Args,
    scheme: Option<Scheme>,
    body: Vec<u8>,
    id: Option<String>,
    signing: Signing,
) -> StepResult {
    let (partner, event) = (a.param(0).to_string(), a.param(1).to_string());
    let sut = w.suite.sut.clone().ok_or_else(|| {
        StepFailure::usage("no system under test in this run: add [sut] to contrail.toml and tag the scenario @sut")
    })?;
    w.uses_sut = true;
    let path = sut.webhooks.get(&partner).ok_or_else(|| {
        StepFailure::usage(format!(
            "contrail.toml's [sut.webhooks] says nowhere to deliver {partner:?}'s webhooks"
        ))
    })?;
    let url = sut
        .url()?
        .join(path)
        .map_err(|e| StepFailure::usage(format!("[sut.webhooks] {partner}: {e}")))?;
    let github = scheme
        .as_ref()
        .is_some_and(|s| matches!(s.style, crate::webhook::sign::Style::GitHub));
    let id = match id {
        Some(id) => id,
        // GitHub's X-GitHub-Delivery is a GUID; the others' ids are opaque.
        None if github => Rng::new(w.draw("delivery id")).uuid(),
        None => format!("msg_{}", Rng::new(w.draw("delivery id")).uuid().replace('-', "")),
    };
    // What GitHub sends beside the signature, stable per partner and event within a run.
    let hook_id = Rng::new(crate::seed::derive(&["github hook", &partner])).next_u64() % 900_000_000 + 100_000_000;
    let target_id = Rng::new(crate::seed::derive(&["github target", &partner])).next_u64() % 900_000_000 + 100_000_000;
    let retry = w.vars.get(&retry_var(&partner)) == Some(&Value::Bool(true));
    let policy = contract_of(w)?.doc.webhooks.get(&event).and_then(|h| h.retry.clone());
    let attempts_allowed = if retry {
        policy.as_ref().map(|p| p.attempts.max(1)).unwrap_or(1)
    } else {
        1
    };
    let backoff = policy
        .as_ref()
        .and_then(|p| p.backoff.as_deref())
        .map(|b| {
            (
                b.contains("exponential"),
                b.split_whitespace().find_map(|t| humantime::parse_duration(t).ok()),
            )
        })
        .unwrap_or((false, None));
    let first_wait = backoff.1.unwrap_or(Duration::from_millis(500));

    let extra_headers = std::mem::take(&mut w.pending.headers);
    let mut attempts = 0;
    let (mut status, mut response) = (0u16, String::new());
    let mut wait = first_wait;
    while attempts < attempts_allowed {
        if attempts > 0 {
            tokio::time::sleep(wait).await;
            if backoff.0 {
                wait *= 2;
            }
        }
        attempts += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let ts = match signing {
            Signing::Stale(age) => now.saturating_sub(age),
            _ => now,
        };
        let mut headers = delivery_headers(github, &partner, &event, &id, hook_id, target_id);
        if let Some(s) = &scheme {
            let signer = match signing {
                Signing::Bad => Scheme {
                    secret: format!("not-{}", s.secret),
                    ..s.clone()
                },
                _ => s.clone(),
            };
            headers.extend(signer.headers(&body, ts, &id));
        }
        // Headers the scenario set (`the header ... is ...`) apply to the delivery too,
        // replacing one of the same name.
        for (k, v) in &extra_headers {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
            headers.push((k.clone(), v.clone()));
        }
        let req = SentRequest {
            method: "POST".into(),
            url: url.to_string(),
            headers,
            body: Some(body.clone()),
        };
        match w.suite.client.send(req).await {
            Ok((_, resp, _)) => {
                status = resp.status;
                response = String::from_utf8_lossy(&resp.body).into_owned();
                if status < 500 {
                    break;
                }
            }
            Err(e) => {
                status = 0;
                response = e.to_string();
            }
        }
    }
    w.deliveries.push(Delivery {
        partner,
        event,
        id,
        body,
        status,
        response,
        attempts,
    });
    Ok(())
}

async fn sut_matches(w: &mut World, a: &Args) -> StepResult {
    let sut = w
        .suite
        .sut
        .clone()
        .ok_or_else(|| StepFailure::usage("no system under test in this run: add [sut] to contrail.toml"))?;
    w.uses_sut = true;
    let seconds = u64::try_from(a.int(0)?).map_err(|_| StepFailure::usage("seconds must be 0 or more"))?;
    let expected = json_docstring(a.docstring()?)?;
    matching::check_expected(&expected).map_err(StepFailure::usage)?;
    let url = sut
        .url()?
        .join(a.param(1))
        .map_err(|e| StepFailure::usage(format!("{:?}: {e}", a.param(1))))?;
    let deadline = crate::clock::deadline(Duration::from_secs(seconds));
    loop {
        let req = SentRequest {
            method: "GET".into(),
            url: url.to_string(),
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        };
        let (_, resp, _) = w.suite.client.send(req).await?;
        let actual: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let mismatches = matching::compare(&expected, &actual, Mode::Contains).map_err(StepFailure::usage)?;
        if mismatches.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let (ev, av) = matching::diff_views(&expected, &actual, Mode::Contains);
            return Err(StepFailure::assertion(format!(
                "within {seconds} s the system under test's {} never matched",
                a.param(1)
            ))
            .findings(mismatches)
            .diff(super::assert::pretty(&ev), super::assert::pretty(&av)));
        }
        // The system under test has no journal to wait on: ask again shortly.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn padding_keeps_json_valid_and_reaches_the_size() {
        let mut b = br#"{"a":1}"#.to_vec();
        crate::server::faults::pad_object(&mut b, 1000);
        assert_eq!(b.len(), 1000);
        assert!(serde_json::from_slice::<serde_json::Value>(&b).is_ok());
    }
}
