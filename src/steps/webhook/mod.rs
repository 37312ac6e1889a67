//! Webhook steps: contrail plays the partner that sends events to the system under test.
//! Payloads come from the doc string, completed from the contract's schema and validated
//! (unless the step says "invalid"), signed per the contract's scheme, delivered with the
//! headers a real partner sends (a delivery id, the same one on a duplicate; the event name;
//! a user agent), retried on 5xx or timeout when the partner's retry policy is switched on.
//!
//! mod.rs registers the steps and holds what they share (the contract's scheme, the payload);
//! generated.rs: generated payloads, each checked, failures shrunk; deliver.rs: signing,
//! headers, delivery with retries; sut.rs: what the system under test did with them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

mod deliver;
mod generated;
mod sut;

use self::deliver::*;
use self::generated::*;
use self::sut::*;
pub use crate::webhook::Delivery;

use super::registry::{Attachment, Registry};
use super::values::json_docstring;
use super::{Args, StepFailure, StepResult, World, builtin};
use crate::client::SentRequest;
use crate::contract::Contract;
use crate::matching::{self, Mode};
use crate::webhook::generate::{self, Rng};
use crate::webhook::sign::Scheme;

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

/// How a delivery is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signing {
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
                let size = crate::steps::values::size_in_bytes(a.int(1)?, a.param(2))?;
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

pub(super) fn retry_var(partner: &str) -> String {
    format!("__contrail_webhook_retries_{partner}")
}

pub(super) fn cut(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(299).collect::<String>())
    } else {
        s.to_string()
    }
}

pub(super) fn contract_of(w: &World) -> Result<std::sync::Arc<Contract>, StepFailure> {
    Ok(w.contract()?.clone())
}

/// The contract's signature scheme for an event from a partner.
pub(super) fn scheme(w: &World, partner: &str, event: &str) -> Result<Option<Scheme>, StepFailure> {
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
pub(super) fn prepare(
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
