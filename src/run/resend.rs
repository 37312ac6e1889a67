//! Recordings no scenario of the run sent again, sent again by themselves: `contrail verify`
//! must check every interaction the consumer relies on, also those made by scenarios that are
//! not in the partner's bundle (they also reach another partner, or the consumer's own
//! service). Each goes through the same comparing proxy as the scenarios' requests (paced,
//! compared by the contract and the policy, an unreachable sandbox noted), named as its
//! scenario, in the order its scenario made them; the ids the live sandbox hands out are put
//! where the recording had its own (`drift::correlate`, the other way round).
//!
//! Only successful answers are sent again. A recorded refusal (401, 403, 404, 409, 429)
//! depends on what its scenario did first (a token with fewer scopes, a ticket escalated
//! already, a burst): sent alone it would be refused differently or not at all, which is no
//! drift. Those, and token requests, are listed as not sent again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::client::SentRequest;
use crate::client::auth::Credentials;
use crate::drift::correlate::Correlation;
use crate::recording::index::Incoming;
use crate::recording::{Body, Interaction};
use crate::steps::Suite;

/// What was sent again, and what was left as it was (with why).
#[derive(Debug, Default)]
pub struct Resent {
    pub sent: usize,
    pub skipped: Vec<(PathBuf, &'static str)>,
}

/// Sends again the recordings of `session` that no scenario reached.
pub async fn unexercised(suite: &Suite, session: &crate::drift::Session) -> Resent {
    let mut out = Resent::default();
    let mut groups: BTreeMap<(String, String), Vec<(PathBuf, Interaction)>> = BTreeMap::new();
    for file in session.outcome().not_exercised {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(rec) = serde_json::from_str::<Interaction>(&text) else {
            continue;
        };
        let partner = rec.meta.partner.clone();
        let token_path = suite
            .catalog
            .contracts
            .values()
            .find_map(|c| c.partners.get(&partner))
            .and_then(|p| p.token_path());
        if token_path.as_deref() == Some(rec.request.path.as_str()) {
            out.skipped.push((file, "a token request (contrail asks for its own)"));
            continue;
        }
        if !(200..300).contains(&rec.response.status) {
            out.skipped
                .push((file, "a refusal depends on what its scenario did before"));
            continue;
        }
        let scenario = rec.meta.scenario.clone().unwrap_or_default();
        groups.entry((partner, scenario)).or_default().push((file, rec));
    }
    for ((partner, scenario), group) in groups {
        let Some(base) = suite.base_urls.get(&partner).cloned() else {
            continue;
        };
        let auth = suite
            .catalog
            .contracts
            .values()
            .find_map(|c| c.partners.get(&partner))
            .and_then(|p| p.doc.auth.clone());
        let mut to_live = Correlation::default();
        for (file, rec) in in_order(group) {
            let as_recorded = Incoming {
                method: rec.request.method.clone().into(),
                path: rec.request.path.clone(),
                query: rec.request.query.clone().into(),
                body: rec.request.body.clone().into(),
                scenario: None,
                steps: None,
                credentials: String::new(),
            };
            // `to_recorded` of a correlation learnt the other way round gives the live request.
            let live = to_live.to_recorded(&as_recorded);
            let mut url = base.clone();
            url.set_path(&live.path);
            if !live.query.is_empty() {
                url.query_pairs_mut().extend_pairs(live.query.iter());
            }
            let mut headers: Vec<(String, String)> = rec
                .request
                .headers
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "authorization" | "host" | "content-length" | "user-agent"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            headers.push((crate::server::SCENARIO_HEADER.into(), scenario.clone()));
            if let Some(steps) = &rec.meta.steps {
                headers.push((crate::server::STEPS_HEADER.into(), steps.clone()));
            }
            let body = match live.body.parsed() {
                Body::None => None,
                Body::Json(v) => {
                    if !headers.iter().any(|(k, _)| k == "content-type") {
                        headers.push(("content-type".into(), "application/json".into()));
                    }
                    Some(serde_json::to_vec(v).unwrap_or_default())
                }
                Body::Form(f) | Body::Text(f) => Some(f.clone().into_bytes()),
                Body::Base64(b) => base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok(),
            };
            let mut req = SentRequest {
                method: rec.request.method.clone(),
                url: url.to_string(),
                headers,
                body,
            };
            let creds = if rec.request.headers.contains_key("authorization") {
                Credentials::Contract
            } else {
                Credentials::Anonymous
            };
            if suite
                .tokens
                .apply(&suite.client, &partner, &base, auth.as_ref(), &creds, &mut req)
                .await
                .is_err()
            {
                out.skipped.push((file, "no credentials for it (see the errors above)"));
                continue;
            }
            // The proxy compares and notes; what comes back teaches the ids for what follows.
            let Ok((_, received, _)) = suite.client.send(req).await else {
                continue;
            };
            out.sent += 1;
            if let (Body::Json(recorded), Ok(live)) = (&rec.response.body, received.json()) {
                to_live.learn(&live, recorded);
            }
        }
    }
    out
}

/// A scenario's recordings in the order it made them: a request whose path or query holds a
/// value another answer gave (an id) after that answer, else by the time recorded, then the
/// sequence.
fn in_order(mut group: Vec<(PathBuf, Interaction)>) -> Vec<(PathBuf, Interaction)> {
    group.sort_by(|(fa, a), (fb, b)| {
        (&a.meta.recorded_at, a.meta.sequence, fa).cmp(&(&b.meta.recorded_at, b.meta.sequence, fb))
    });
    let produced: Vec<BTreeSet<String>> = group.iter().map(|(_, i)| strings(&i.response.body)).collect();
    // An id in the path or the query is what a request takes from an earlier answer; bodies
    // repeat what was sent (a customer id) and would tie every request to every other.
    let uses = |i: &Interaction, values: &BTreeSet<String>| {
        let path_hit = i.request.path.split('/').any(|seg| values.contains(seg));
        path_hit || i.request.query.iter().any(|(_, v)| values.contains(v))
    };
    let mut order: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = (0..group.len()).collect();
    while !left.is_empty() {
        // The first (by time) whose inputs no other waiting recording produces.
        let pick = left
            .iter()
            .position(|&i| {
                !left
                    .iter()
                    .any(|&j| j != i && uses(&group[i].1, &produced[j]) && !uses(&group[j].1, &produced[i]))
            })
            .unwrap_or(0);
        order.push(left.remove(pick));
    }
    let mut slots: Vec<Option<(PathBuf, Interaction)>> = group.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The id-like strings (with a digit) of a JSON body.
fn strings(body: &Body) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::String(s) if s.chars().any(|c| c.is_ascii_digit()) => {
                out.insert(s.clone());
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Body::Json(v) = body {
        walk(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str, response_id: &str) -> Interaction {
        serde_json::from_value(serde_json::json!({
            "meta": {
                "recorded_at": "2026-11-23T11:01:48Z", "target": "http://x/", "contract": "c",
                "contract_version": "1", "partner": "desk", "sequence": 1
            },
            "request": { "method": "POST", "path": path },
            "response": { "status": 200, "body": { "json": { "id": response_id, "customer": "C-1" } } }
        }))
        .unwrap()
    }

    #[test]
    fn a_request_that_uses_an_id_goes_after_the_answer_that_gave_it() {
        // Same second, and the file names sort the other way round.
        let group = vec![
            (PathBuf::from("a-escalate.json"), rec("/tickets/T-3/escalate", "T-3")),
            (PathBuf::from("b-create.json"), rec("/tickets", "T-3")),
            (PathBuf::from("c-comment.json"), rec("/tickets/T-3/comments", "N-9")),
        ];
        let order: Vec<String> = in_order(group)
            .into_iter()
            .map(|(f, _)| f.display().to_string())
            .collect();
        assert_eq!(order[0], "b-create.json", "{order:?}");
    }
}
