//! One delivery: the headers a real partner sends, the signature, retries on 5xx or timeout
//! when the partner's policy is on, and the delivery remembered as "that webhook".

use super::*;

/// The headers of a delivery besides its signature. GitHub's as GitHub sends them: the event
/// without its action (`issues`, not `issues.opened`), a GUID delivery, the hook and its
/// target, the Hookshot user agent; the others' are contrail's own.
pub(super) fn delivery_headers(
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
pub(super) fn github_deliveries_carry_what_github_sends() {
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
pub(super) async fn send_file(w: &mut World, a: &Args) -> StepResult {
    let (text, payload) = crate::steps::values::json_file(w, a.param(2), "the payload file")?;
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
pub(super) async fn send_docstring(w: &mut World, a: &Args, signing: Signing, validate: bool) -> StepResult {
    let given = json_docstring(a.docstring()?)?;
    send(w, a, Some(given), signing, validate).await
}

pub(super) async fn send_all(w: &mut World, a: &Args, reverse: bool) -> StepResult {
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

pub(super) async fn send(
    w: &mut World,
    a: &Args,
    given: Option<Value>,
    signing: Signing,
    validate: bool,
) -> StepResult {
    let (scheme, payload) = prepare(w, a, given, validate)?;
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    deliver(w, a, scheme, body, None, signing).await
}

/// Signs and delivers; retries per the contract when the scenario switched retries on.
pub(super) async fn deliver(
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
    let policy = contract_of(w)?.webhook_retries.get(&event).copied();
    let attempts_allowed = match policy {
        Some(p) if retry => p.attempts,
        _ => 1,
    };
    let exponential = policy.is_some_and(|p| p.exponential);
    let first_wait = policy.map_or(crate::contract::model::WebhookRetryDoc::FIRST_WAIT, |p| p.first);

    let extra_headers = std::mem::take(&mut w.pending.headers);
    let mut attempts = 0;
    let (mut status, mut response) = (0u16, String::new());
    let mut wait = first_wait;
    while attempts < attempts_allowed {
        if attempts > 0 {
            tokio::time::sleep(wait).await;
            if exponential {
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
