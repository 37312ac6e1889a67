//! Forwarding to the live sandbox (record mode, and the drift proxy), and recording what came
//! back: redacted, atomically, with its sequence number in the scenario.

use super::*;

/// A request as it goes to the live sandbox.
pub(super) struct Outgoing<'a> {
    pub(super) method: &'a Method,
    pub(super) path: &'a str,
    pub(super) query: &'a [(String, String)],
    /// Without hop-by-hop headers and without `X-Contrail-Scenario`.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Bytes,
}

impl<'a> Outgoing<'a> {
    pub(super) fn new(method: &'a Method, incoming: &'a Incoming, headers: &HeaderMap, body: Bytes) -> Self {
        Outgoing {
            method,
            path: &incoming.path,
            query: &incoming.query,
            headers: header_pairs(headers)
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "host" | "content-length" | "connection" | SCENARIO_HEADER | STEPS_HEADER
                    )
                })
                .collect(),
            body,
        }
    }
}

/// The live sandbox's answer, read whole (up to 10 MB).
pub(super) struct LiveAnswer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) took: std::time::Duration,
}

impl LiveAnswer {
    pub(super) fn reply(self) -> Reply {
        let mut headers = self.headers;
        headers.push((LIVE_TIME_HEADER.to_string(), self.took.as_millis().to_string()));
        respond(self.status, &headers, self.body)
    }
}

/// Why a request did not get a live answer: the reply that explains it to the client and,
/// when the sandbox could not be reached at all (connection, DNS, TLS), that reason alone.
pub(super) struct NoAnswer {
    pub reply: Reply,
    pub unreachable: Option<String>,
}

impl From<Reply> for NoAnswer {
    fn from(reply: Reply) -> NoAnswer {
        NoAnswer {
            reply,
            unreachable: None,
        }
    }
}

/// Sends the request to the live sandbox.
pub(super) async fn forward(s: &Shared, upstream: &url::Url, out: &Outgoing<'_>) -> Result<LiveAnswer, NoAnswer> {
    // Concatenate rather than join, so that a base URL's own path prefix is kept.
    let mut url =
        url::Url::parse(&format!("{}{}", upstream.as_str().trim_end_matches('/'), out.path)).map_err(|e| {
            json_response(
                StatusCode::BAD_GATEWAY,
                &[],
                json!({ "error": format!("contrail mock: bad upstream URL: {e}") }),
            )
        })?;
    if !out.query.is_empty() {
        url.query_pairs_mut().extend_pairs(out.query);
    }
    let mut req = s
        .upstream_client
        .request(out.method.clone(), url.as_str())
        .body(out.body.clone());
    for (k, v) in &out.headers {
        req = req.header(k, v);
    }
    let started = std::time::Instant::now();
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            let chain = crate::client::error_chain(&e);
            let (what, chain) = crate::client::tls_failure(
                url.as_str(),
                chain,
                s.upstream_tls.as_ref(),
                crate::client::may_ask_again(e.is_timeout(), false),
                crate::client::REFUSAL_WAIT,
            )
            .await;
            let why = match what {
                Some(what) => format!("TLS failed: {} ({chain})", what.replace("NAME", &s.partner)),
                None => chain,
            };
            return Err(NoAnswer {
                reply: json_response(
                    StatusCode::BAD_GATEWAY,
                    &[(UNMATCHED_HEADER, crate::client::PROXY_UNREACHABLE)],
                    json!({ "error": format!("contrail mock: the live sandbox {upstream} could not be reached: {why}") }),
                ),
                unreachable: Some(why),
            });
        }
    };
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) if body.len() + c.len() <= MAX_BODY => body.extend_from_slice(&c),
            Ok(Some(_)) => {
                return Err(json_response(
                    StatusCode::BAD_GATEWAY,
                    &[],
                    json!({ "error": "contrail mock: the live answer is over 10 MB" }),
                )
                .into());
            }
            Ok(None) => break,
            Err(e) => {
                return Err(json_response(
                    StatusCode::BAD_GATEWAY,
                    &[],
                    json!({ "error": format!("contrail mock: reading the live answer failed: {e}") }),
                )
                .into());
            }
        }
    }
    Ok(LiveAnswer {
        status,
        headers,
        body,
        took: started.elapsed(),
    })
}

/// The interaction as it would be recorded (redacted), with the next sequence number of its
/// (scenario, request) in this run.
pub(super) fn capture(
    s: &Shared,
    upstream: &url::Url,
    out: &Outgoing<'_>,
    incoming: &Incoming,
    op: Option<String>,
    live: &LiveAnswer,
) -> Interaction {
    let policy = &s.contract.policy;
    let k = key(
        policy,
        op.as_deref(),
        &incoming.credentials,
        out.method.as_str(),
        out.path,
        crate::recording::index::borrowed_pairs(out.query),
        &*incoming.body,
    );
    let sequence = match s.recorded.lock() {
        Ok(mut r) => {
            let c = r.entry((incoming.scenario.clone().unwrap_or_default(), k)).or_insert(0);
            *c += 1;
            *c
        }
        Err(_) => 1,
    };
    let meta = Meta {
        recorded_at: crate::clock::now_rfc3339(false),
        target: upstream.to_string(),
        contract: s.contract.name.clone(),
        contract_version: s.contract.version.clone(),
        partner: s.partner.clone(),
        operation: op,
        scenario: incoming.scenario.clone(),
        sequence,
        steps: incoming.steps.clone(),
        took_ms: Some(u64::try_from(live.took.as_millis()).unwrap_or(u64::MAX)),
    };
    let seen = Seen {
        method: out.method.as_str(),
        path: out.path,
        query: out.query,
        request_headers: &out.headers,
        request_body: &out.body,
        status: live.status,
        response_headers: &live.headers,
        response_body: &live.body,
    };
    Interaction::capture(policy, &seen, meta)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn proxy_and_record(
    s: &Shared,
    upstream: url::Url,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    incoming: &Incoming,
    op: Option<String>,
) -> Reply {
    let out = Outgoing::new(method, incoming, headers, body);
    let live = match forward(s, &upstream, &out).await {
        Ok(l) => l,
        Err(no) => return no.reply,
    };
    let interaction = capture(s, &upstream, &out, incoming, op, &live);
    let policy = &s.contract.policy;
    match recording::save(&s.dir, &interaction) {
        Ok(file) => {
            if let Ok(mut index) = s.index.write() {
                index.insert(policy, file, interaction);
            }
        }
        Err(e) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &[],
                json!({ "error": format!("contrail mock: cannot save the recording: {e}") }),
            );
        }
    }
    live.reply()
}
