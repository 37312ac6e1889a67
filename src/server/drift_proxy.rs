//! The drift proxy: each request goes live (paced to the contract's rate limit), the scenario
//! gets the live answer, and the answer is compared with the recording of the same request in
//! the same scenario and sequence; `--accept` writes the live answer over a drifted recording.

use super::proxy::{Outgoing, capture, forward};
use super::*;

/// How long a 429 asks the client to wait: `Retry-After` in seconds or as an HTTP-date.
pub(super) fn retry_after(headers: &[(String, String)]) -> Option<std::time::Duration> {
    let v = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .map(|(_, v)| v.trim())?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(std::time::Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// A sandbox that could not be reached is a finding of the run, whatever the partner filter.
fn unanswered(s: &Shared, upstream: &url::Url, session: &crate::drift::Session, no: super::proxy::NoAnswer) -> Reply {
    if let Some(why) = no.unreachable {
        session.unreachable(&s.partner, &crate::recording::safe_target(upstream.as_str()), &why);
    }
    no.reply
}

/// A drift run's proxy: sends the request live (paced), answers with the live answer, and
/// compares it with the recording of the same request in the same scenario and sequence.
#[allow(clippy::too_many_arguments)]
pub(super) async fn compare_with_live(
    s: &Shared,
    upstream: &url::Url,
    session: &crate::drift::Session,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    incoming: &Incoming,
    op: Option<String>,
) -> Reply {
    use crate::drift::{Checked, Unrecorded};
    let scenario = incoming.scenario.as_deref();
    // Look the request up as the recording would have sent it (the recorded ids).
    let as_recorded = session.correlation(scenario, |c| c.to_recorded(incoming));
    let recorded: Option<(PathBuf, Interaction)> = match s.index.read() {
        Ok(index) => match index.lookup(&s.contract.policy, op.as_deref(), &as_recorded) {
            Lookup::Found(e) => Some((e.file.clone(), e.interaction.clone())),
            Lookup::Unmatched { .. } => None,
        },
        Err(_) => None,
    };
    let expects_429 = recorded.as_ref().is_some_and(|(_, r)| r.response.status == 429);
    let out = Outgoing::new(method, incoming, headers, body);
    // A request recorded as over the budget is sent at once: it exists to be refused.
    let client = client_of(s, headers);
    // Token requests (Basic credentials) are not API calls: partners do not count them
    // against the budget, and pacing them would spread a deliberate burst over two windows.
    let token_request = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    if let Some(pacer) = &s.pacer
        && !expects_429
        && !token_request
    {
        let wait = pacer.reserve(&client, std::time::Instant::now());
        tokio::time::sleep(wait).await;
    }
    let mut live = match forward(s, upstream, &out).await {
        Ok(l) => l,
        Err(no) => return unanswered(s, upstream, session, no),
    };
    // A 429 the recording did not have is the run's own doing: wait as told and try again.
    for _ in 0..3 {
        if live.status != 429 || expects_429 || !session.pace {
            break;
        }
        let wait = retry_after(&live.headers).unwrap_or(std::time::Duration::from_secs(1));
        tokio::time::sleep(wait.min(std::time::Duration::from_secs(30))).await;
        live = match forward(s, upstream, &out).await {
            Ok(l) => l,
            Err(no) => return unanswered(s, upstream, session, no),
        };
    }
    // A token issued through the proxy: remember whose it is.
    if let Some(id) = client.strip_prefix("client:")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&live.body)
        && let Some(token) = v.get("access_token").and_then(|t| t.as_str())
        && let Ok(mut map) = s.token_clients.lock()
    {
        map.insert(token.to_string(), id.to_string());
    }
    if session.compares(&s.partner) {
        let now = capture(s, upstream, &out, incoming, op.clone(), &live);
        match recorded {
            Some((file, rec)) => {
                if let (Body::Json(r), Body::Json(l)) = (&rec.response.body, &now.response.body) {
                    session.correlation(scenario, |c| c.learn(r, l));
                }
                let op_id = rec.meta.operation.clone().or(op);
                let operation = s
                    .contract
                    .partner(&s.partner)
                    .and_then(|p| op_id.as_deref().and_then(|id| p.operation(id)));
                let findings = crate::drift::compare::compare(&s.contract, operation, &rec.response, &now.response)
                    .unwrap_or_else(|e| {
                        vec![crate::drift::Finding::new(
                            crate::drift::Class::Breaking,
                            "/",
                            crate::drift::Change::Schema,
                            format!("cannot check against the contract: {e}"),
                        )]
                    });
                let mut checked = Checked {
                    partner: s.partner.clone(),
                    file: file.clone(),
                    operation: op_id,
                    scenario: incoming.scenario.clone(),
                    request: request_line(&rec),
                    findings,
                    diff: None,
                    accepted: false,
                };
                if checked.drifted() {
                    checked.diff = Some(crate::drift::response_diff(
                        &s.contract.policy,
                        checked.operation.as_deref(),
                        &rec.response,
                        &now.response,
                    ));
                    if session.accept {
                        let mut accepted = rec.clone();
                        accepted.response = now.response.clone();
                        if let Body::Json(v) = &mut accepted.response.body {
                            session.correlation(scenario, |c| c.json_to_recorded(v));
                        }
                        accepted.meta.recorded_at = now.meta.recorded_at.clone();
                        // The partner's time goes with the answer it timed.
                        accepted.meta.took_ms = now.meta.took_ms;
                        accepted.meta.target = upstream.to_string();
                        accepted.meta.contract_version = s.contract.version.clone();
                        checked.accepted = recording::write(&file, &accepted).is_ok();
                    }
                }
                session.checked(checked);
            }
            None => session.unrecorded(Unrecorded {
                partner: s.partner.clone(),
                scenario: incoming.scenario.clone(),
                request: request_line(&now),
                status: live.status,
            }),
        }
    }
    live.reply()
}

/// Who is asking, for pacing: `client:ID` from HTTP Basic credentials or a token issued to
/// that client through this proxy; otherwise the credential itself (never logged).
pub(super) fn client_of(s: &Shared, headers: &HeaderMap) -> String {
    use base64::Engine as _;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(b) = auth.strip_prefix("Basic ")
        && let Ok(raw) = base64::prelude::BASE64_STANDARD.decode(b.trim())
        && let Some((id, _)) = String::from_utf8_lossy(&raw).split_once(':')
    {
        return format!("client:{id}");
    }
    if let Some(token) = auth.strip_prefix("Bearer ")
        && let Ok(map) = s.token_clients.lock()
        && let Some(id) = map.get(token.trim())
    {
        return format!("client:{id}");
    }
    auth.to_string()
}

/// `GET /tickets/T-4?limit=5`
pub(super) fn request_line(i: &Interaction) -> String {
    let mut line = format!("{} {}", i.request.method, i.request.path);
    if !i.request.query.is_empty() {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&i.request.query)
            .finish();
        line.push('?');
        line.push_str(&q);
    }
    line
}
