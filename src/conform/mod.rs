//! `contrail conform`: conformance of a partner's live API to its OpenAPI document, generated
//! rather than written. For each operation, valid requests are made from its parameter and
//! body schemas (proptest, seeded) and sent within the contract's rate limit; every answer must
//! be declared and match the contract, and none may be a server error. A request that was
//! accepted is then broken one rule at a time (a 2xx to it is a finding), and sent with a token
//! that lacks the operation's scopes (a 2xx is a finding). A failing valid request is shrunk to
//! the smallest that still fails and printed as `curl` and as a Gherkin scenario; the seed
//! repeats the run.

pub mod links;
pub mod request;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy as _, ValueTree as _};

use crate::client::auth::{Credentials, TokenCache};
use crate::client::{HttpClient, SentRequest};
use crate::contract::Contract;
use crate::contract::operation::Operation;
use crate::exit::Exit;
use crate::workspace::Workspace;
use request::Request;

/// At most this many shrink steps per failure (each is a request to the sandbox).
const SHRINK_STEPS: usize = 64;
/// At most this many to find the smallest request the API accepts.
const ACCEPTED_SHRINK_STEPS: usize = 32;

pub struct Options {
    pub partner: String,
    /// Only these operations (default: all of the partner's).
    pub operations: Vec<String>,
    /// Valid requests per operation.
    pub max_examples: u32,
    pub seed: Option<u64>,
    pub base_url: Option<url::Url>,
}

/// One thing the API does that its contract does not allow.
#[derive(Debug)]
pub struct Finding {
    pub operation: String,
    pub kind: &'static str,
    pub message: String,
    pub curl: String,
    pub scenario: String,
    /// Shrink steps taken to get to this request.
    pub shrinks: usize,
}

struct Session<'a> {
    contract: &'a Contract,
    partner: String,
    base: url::Url,
    client: HttpClient,
    tokens: TokenCache,
    /// The contract's rate limit as one request per this long.
    gap: Duration,
    /// When each request went: the pacing, the count and how close the run kept to the limit.
    times: Vec<Instant>,
    /// The last answer's JSON body and headers, for the links that read them.
    last_body: Option<serde_json::Value>,
    last_headers: Vec<(String, String)>,
    all_scopes: Vec<String>,
}

/// What an answer showed.
enum Answer {
    /// The status, what is wrong with it (empty: nothing).
    Got(u16, Vec<String>),
    /// No answer at all.
    Unreachable(String),
}

impl Session<'_> {
    async fn send(&mut self, op: &Operation, r: &Request, creds: &Credentials) -> Answer {
        // Within the contract's rate limit: one request per `gap`.
        if let Some(&last) = self.times.last() {
            let due = last + self.gap;
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        self.times.push(Instant::now());
        let mut headers = r.headers.clone();
        let body = r.body.as_ref().map(|b| {
            headers.push(("content-type".into(), "application/json".into()));
            b.to_string().into_bytes()
        });
        headers.push(("accept".into(), "application/json".into()));
        let mut req = SentRequest {
            method: op.method.clone(),
            url: format!("{}{}", self.base.as_str().trim_end_matches('/'), r.target(&op.path)),
            headers,
            body,
        };
        let auth = self.contract.partner(&self.partner).and_then(|p| p.doc.auth.clone());
        if let Err(e) = self
            .tokens
            .apply(&self.client, &self.partner, &self.base, auth.as_ref(), creds, &mut req)
            .await
        {
            return Answer::Unreachable(format!("cannot authenticate: {e}"));
        }
        match self.client.send(req).await {
            Ok((_, got, _)) => {
                self.last_body = serde_json::from_slice(&got.body).ok();
                self.last_headers = got.headers.clone();
                let mut problems = Vec::new();
                if got.status >= 500 {
                    problems.push(format!("a server error: {}", got.status));
                }
                match crate::contract::judge::response(self.contract, op, got.status, &got.headers, &got.body) {
                    Ok(p) => problems.extend(p),
                    Err(e) => problems.push(format!("cannot check against the contract: {e}")),
                }
                Answer::Got(got.status, problems)
            }
            Err(e) => Answer::Unreachable(e.to_string()),
        }
    }

    fn authenticated(&self) -> bool {
        self.contract
            .partner(&self.partner)
            .is_some_and(|p| !matches!(p.doc.auth, None | Some(crate::contract::model::AuthDoc::None)))
    }
}

/// What a conformance run found, and how it kept to the rate limit.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// The sandbox stopped answering (the findings before that are kept).
    pub unreachable: Option<String>,
    pub sent: usize,
    pub seconds: f64,
    /// Requests per second between the first and the last.
    pub pace: f64,
    /// The most requests within any one second.
    pub busiest: usize,
    /// "5 per 1s", as the contract says.
    pub limit: Option<String>,
    pub seed: u64,
}

impl Outcome {
    pub fn summary(&self) -> String {
        format!(
            "{} request(s) in {:.1} s, {:.1} per second, at most {} in any second{}; {} finding(s); seed {}",
            self.sent,
            self.seconds,
            self.pace,
            self.busiest,
            self.limit
                .as_deref()
                .map(|l| format!(" (the contract allows {l})"))
                .unwrap_or_default(),
            self.findings.len(),
            self.seed
        )
    }
}

/// `contrail conform`.
pub async fn conform(ws: Workspace, o: Options) -> Exit {
    match check(&ws, &o).await {
        Ok(outcome) => {
            print_findings(&outcome.findings);
            eprintln!("\n{}", outcome.summary());
            if let Some(why) = &outcome.unreachable {
                eprintln!("error: the sandbox did not answer: {why}");
                Exit::Harness
            } else if outcome.findings.is_empty() {
                Exit::Passed
            } else {
                Exit::Failed
            }
        }
        Err((exit, e)) => {
            eprintln!("error: {e}");
            exit
        }
    }
}

/// Runs the checks of `o` against the partner's sandbox (`contrail verify` runs them too).
pub async fn check(ws: &Workspace, o: &Options) -> Result<Outcome, (Exit, String)> {
    let bad = |e: String| (Exit::BadInput, e);
    let (catalog, errors) = crate::contract::Catalog::load_dir(&ws.contracts_dir(), &ws.read_roots());
    if !errors.is_empty() {
        return Err(bad(errors.to_string()));
    }
    catalog.knows_partner(&o.partner).map_err(bad)?;
    crate::client::auth::remember_catalog_secrets(&catalog);
    let contract = catalog
        .contracts
        .values()
        .find(|c| c.partners.contains_key(&o.partner))
        .ok_or_else(|| bad(format!("no contract names {:?}", o.partner)))?;
    let partner = contract
        .partner(&o.partner)
        .ok_or_else(|| bad(format!("no partner {:?}", o.partner)))?;
    let base = match &o.base_url {
        Some(u) => u.clone(),
        None => ws
            .config
            .partners
            .get(&o.partner)
            .and_then(|p| p.live.as_deref())
            .filter(|l| !l.contains('{'))
            .and_then(|l| url::Url::parse(l).ok())
            .ok_or_else(|| {
                bad(format!(
                    "where is {:?}'s sandbox? give --base-url (contrail.toml names no plain live URL for it)",
                    o.partner
                ))
            })?,
    };
    let unknown: Vec<&String> = o
        .operations
        .iter()
        .filter(|id| partner.operation(id).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(bad(format!(
            "{:?} has no operation {}",
            o.partner,
            unknown.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
        )));
    }
    let ops: Vec<&Operation> = partner
        .operations
        .iter()
        .filter(|op| o.operations.is_empty() || o.operations.contains(&op.id))
        .collect();
    // A hair under the limit: a sandbox counting a window inclusively must not see one more.
    let gap = partner
        .rate_limit
        .map(|r| (r.per / r.requests).mul_f64(1.02))
        .unwrap_or(Duration::ZERO);
    crate::client::install_crypto_provider();
    let timeout = ws
        .config
        .run
        .request_timeout
        .as_deref()
        .and_then(|t| humantime::parse_duration(t).ok())
        .unwrap_or(Duration::from_secs(30));
    let mut client =
        HttpClient::new(timeout, crate::client::DEFAULT_MAX_BODY, false).map_err(|e| (Exit::Harness, e))?;
    client.name_partner(&base, &o.partner);
    let all_scopes: Vec<String> = match &partner.doc.auth {
        Some(crate::contract::model::AuthDoc::Oauth2ClientCredentials { scopes, .. }) => {
            scopes.keys().cloned().collect()
        }
        _ => Vec::new(),
    };
    let seed = o.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    eprintln!(
        "conform {}: {} operation(s), {} example(s) each, against {}{}; seed {seed} (--seed {seed} repeats it)",
        o.partner,
        ops.len(),
        o.max_examples,
        crate::recording::safe_target(base.as_str()),
        if gap.is_zero() {
            String::new()
        } else {
            format!(", one request per {gap:?} (the contract's rate limit)")
        }
    );
    let mut s = Session {
        contract,
        partner: o.partner.clone(),
        base,
        client,
        tokens: TokenCache::default(),
        gap,
        times: Vec::new(),
        last_body: None,
        last_headers: Vec::new(),
        all_scopes,
    };
    let started = Instant::now();
    let mut findings = Vec::new();
    let mut unreachable = None;
    for (i, op) in ops.iter().enumerate() {
        let before = findings.len();
        match operation(&mut s, op, seed.wrapping_add(i as u64), o.max_examples).await {
            Ok(f) => findings.extend(f),
            Err(why) => {
                unreachable = Some(format!("{} {}: {why}", op.id, op.path));
                break;
            }
        }
        eprintln!(
            "  {:<24} {}",
            op.id,
            if findings.len() == before {
                "conforms".to_string()
            } else {
                format!("{} finding(s)", findings.len() - before)
            }
        );
    }
    let (pace, busiest) = pace(&s.times);
    Ok(Outcome {
        findings,
        unreachable,
        sent: s.times.len(),
        seconds: started.elapsed().as_secs_f64(),
        pace,
        busiest,
        limit: partner
            .doc
            .rate_limit
            .as_ref()
            .map(|r| format!("{} per {}", r.requests, r.per)),
        seed,
    })
}

/// The pace between the first request and the last, and the most requests within any one
/// second.
fn pace(times: &[Instant]) -> (f64, usize) {
    let span = match (times.first(), times.last()) {
        (Some(a), Some(b)) if times.len() > 1 => b.duration_since(*a).as_secs_f64(),
        _ => return (0.0, times.len()),
    };
    let mut busiest = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while t.duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        busiest = busiest.max(end - start + 1);
    }
    ((times.len() - 1) as f64 / span.max(0.001), busiest)
}

/// Each finding with its smallest request, as curl and as a scenario (masked).
pub fn print_findings(findings: &[Finding]) {
    for f in findings {
        let text = format!(
            "\n{} {}: {}\n  smallest request{}:\n    {}\n  as a scenario:\n{}",
            f.kind.to_uppercase(),
            f.operation,
            f.message,
            if f.shrinks > 0 {
                format!(" (after {} shrink step(s))", f.shrinks)
            } else {
                String::new()
            },
            f.curl,
            f.scenario
        );
        println!("{}", crate::secrets::mask_text(&text, crate::secrets::MASK));
    }
}

/// Every check of one operation.
async fn operation(s: &mut Session<'_>, op: &Operation, seed: u64, examples: u32) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    let strategy = request::strategy(s.contract, op);
    let mut runner = crate::shrink::runner(seed);
    let mut accepted = None;
    for _ in 0..examples {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            break;
        };
        let r = tree.current();
        let (status, problems) = match s.send(op, &r, &Credentials::Contract).await {
            Answer::Got(status, p) => (status, p),
            Answer::Unreachable(why) => return Err(why),
        };
        if problems.is_empty() {
            if accepted.is_none() && (200..300).contains(&status) {
                accepted = Some(tree);
            }
            continue;
        }
        // Shrink: the smallest request that still fails the same way.
        let kind = kind_of(&problems);
        let shrunk = crate::shrink::shrink(&mut *tree, problems, SHRINK_STEPS, None, async |candidate| {
            match s.send(op, &candidate, &Credentials::Contract).await {
                Answer::Got(_, p) if !p.is_empty() && kind_of(&p) == kind => Ok(Some(p)),
                Answer::Got(..) => Ok(None),
                Answer::Unreachable(why) => Err(why),
            }
        })
        .await?;
        out.push(finding(
            s,
            op,
            kind,
            shrunk.evidence.join("; "),
            &shrunk.value,
            false,
            shrunk.steps,
        ));
        break;
    }
    let Some(tree) = accepted else {
        if out.is_empty() {
            eprintln!(
                "  ({}: no generated request was accepted, so invalid requests and scopes were not tried)",
                op.id
            );
        }
        return Ok(out);
    };
    // The smallest request the API still accepts: what the variants below break, so that each
    // finding shows a minimal request.
    let valid = smallest_accepted(s, op, tree).await?;
    // Every declared enum value once, on that smallest request.
    for (case, r) in request::enum_cases(s.contract, op, &valid) {
        match s.send(op, &r, &Credentials::Contract).await {
            Answer::Got(_, problems) if !problems.is_empty() => {
                let kind = kind_of(&problems);
                if !out.iter().any(|f: &Finding| f.kind == kind) {
                    out.push(finding(
                        s,
                        op,
                        kind,
                        format!("with {case}: {}", problems.join("; ")),
                        &r,
                        false,
                        0,
                    ));
                }
            }
            Answer::Got(..) => {}
            Answer::Unreachable(why) => return Err(why),
        }
    }
    // The links its answer declares, followed: the next operation on what this one made.
    follow_links(s, op, &valid, seed, &mut out).await?;
    // One rule broken at a time: the API must refuse with a declared 4xx.
    for (rule, r) in request::invalid(s.contract, op, &valid) {
        match s.send(op, &r, &Credentials::Contract).await {
            Answer::Got(status, _) if (200..300).contains(&status) => out.push(finding(
                s,
                op,
                "accepted invalid",
                format!("a request with {rule} was accepted with {status}; the contract's schema forbids it"),
                &r,
                true,
                0,
            )),
            Answer::Got(_, problems) if !problems.is_empty() => out.push(finding(
                s,
                op,
                kind_of(&problems),
                format!("with {rule}: {}", problems.join("; ")),
                &r,
                true,
                0,
            )),
            Answer::Got(..) => {}
            Answer::Unreachable(why) => return Err(why),
        }
    }
    // A token without the operation's scopes must be refused.
    let needed: BTreeSet<&String> = op.scopes.iter().collect();
    let others: Vec<String> = s.all_scopes.iter().filter(|sc| !needed.contains(sc)).cloned().collect();
    if !needed.is_empty() && !others.is_empty() {
        match s.send(op, &valid, &Credentials::Scopes(others.clone())).await {
            Answer::Got(status, _) if (200..300).contains(&status) => out.push(finding(
                s,
                op,
                "scope not enforced",
                format!(
                    "a token with only {} (not {}) was answered {status}",
                    others.join(" "),
                    op.scopes.join(" ")
                ),
                &valid,
                false,
                0,
            )),
            Answer::Got(..) => {}
            Answer::Unreachable(why) => return Err(why),
        }
    }
    Ok(out)
}

/// How many links deep a chain is followed (create -> read -> delete is two).
const LINK_DEPTH: usize = 3;

/// A request of a chain and what it was answered.
#[derive(Clone)]
struct Hop {
    op: Operation,
    request: Request,
    status: u16,
    body: Option<serde_json::Value>,
    headers: Vec<(String, String)>,
}

/// Sends `valid` once more and follows each link its answer's status declares, and the links
/// of those answers in turn, up to `LINK_DEPTH`.
async fn follow_links(
    s: &mut Session<'_>,
    op: &Operation,
    valid: &Request,
    seed: u64,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    if links::of(s.contract, op).is_empty() {
        return Ok(());
    }
    let status = match s.send(op, valid, &Credentials::Contract).await {
        Answer::Got(status, p) if p.is_empty() => status,
        Answer::Got(..) => return Ok(()),
        Answer::Unreachable(why) => return Err(why),
    };
    let first = Hop {
        op: op.clone(),
        request: valid.clone(),
        status,
        body: s.last_body.clone(),
        headers: s.last_headers.clone(),
    };
    let contract = s.contract;
    let Some(partner) = contract.partner(&s.partner) else {
        return Ok(());
    };
    // Chains still to extend: the hops so far and the links between them.
    let mut work: Vec<(Vec<Hop>, Vec<links::Link>)> = vec![(vec![first], Vec::new())];
    while let Some((chain, taken)) = work.pop() {
        let Some(last) = chain.last() else { continue };
        if taken.len() >= LINK_DEPTH {
            continue;
        }
        let declared = links::of(s.contract, &last.op);
        for link in declared.iter().filter(|l| l.status == last.status.to_string()) {
            let Some(target) = partner.operation(&link.operation).cloned() else {
                eprintln!(
                    "  ({}: the link {} leads to {:?}, which {} does not have)",
                    last.op.id, link.name, link.operation, s.partner
                );
                continue;
            };
            // A valid request of the target, then what the link says put in.
            let mut runner = crate::shrink::runner(seed.rotate_left(17 + taken.len() as u32));
            let Ok(tree) = request::strategy(s.contract, &target).new_tree(&mut runner) else {
                continue;
            };
            let context = links::Context {
                request: &last.request,
                response_body: last.body.as_ref(),
                response_headers: &last.headers,
            };
            let Some(next) = links::apply(link, &target, &tree.current(), &context) else {
                eprintln!(
                    "  ({}: the link {} could not be followed: an expression found nothing)",
                    last.op.id, link.name
                );
                continue;
            };
            match s.send(&target, &next, &Credentials::Contract).await {
                Answer::Got(_, problems) if !problems.is_empty() => {
                    let kind = kind_of(&problems);
                    let path: Vec<&str> = chain.iter().map(|h| h.op.id.as_str()).collect();
                    let mut f = finding(
                        s,
                        &target,
                        kind,
                        format!(
                            "following the link {} from {}: {}",
                            link.name,
                            path.join(" -> "),
                            problems.join("; ")
                        ),
                        &next,
                        false,
                        0,
                    );
                    let hops: Vec<(&Operation, &Request, u16)> =
                        chain.iter().map(|h| (&h.op, &h.request, h.status)).collect();
                    let mut links_taken = taken.clone();
                    links_taken.push(link.clone());
                    f.scenario = request::gherkin_chain(
                        &s.contract.name,
                        &hops,
                        &links_taken,
                        (&target, &next),
                        &format!(
                            "{} {kind} after {} (found by contrail conform)",
                            target.id,
                            path.join(", ")
                        ),
                    );
                    out.push(f);
                }
                Answer::Got(status, _) if (200..300).contains(&status) => {
                    let hop = Hop {
                        op: target.clone(),
                        request: next,
                        status,
                        body: s.last_body.clone(),
                        headers: s.last_headers.clone(),
                    };
                    let mut longer = chain.clone();
                    longer.push(hop);
                    let mut t = taken.clone();
                    t.push(link.clone());
                    work.push((longer, t));
                }
                Answer::Got(..) => {}
                Answer::Unreachable(why) => return Err(why),
            }
        }
    }
    Ok(())
}

/// Shrinks an accepted request while the API still accepts it (2xx, nothing wrong).
async fn smallest_accepted(
    s: &mut Session<'_>,
    op: &Operation,
    mut tree: Box<dyn proptest::strategy::ValueTree<Value = Request>>,
) -> Result<Request, String> {
    let shrunk = crate::shrink::shrink(&mut *tree, (), ACCEPTED_SHRINK_STEPS, None, async |candidate| {
        match s.send(op, &candidate, &Credentials::Contract).await {
            Answer::Got(status, p) => Ok(((200..300).contains(&status) && p.is_empty()).then_some(())),
            Answer::Unreachable(why) => Err(why),
        }
    })
    .await?;
    Ok(shrunk.value)
}

fn kind_of(problems: &[String]) -> &'static str {
    if problems.iter().any(|p| p.starts_with("a server error")) {
        "server error"
    } else if problems.iter().any(|p| p.starts_with("status ")) {
        "undeclared status"
    } else {
        "breaks the contract"
    }
}

fn finding(
    s: &Session<'_>,
    op: &Operation,
    kind: &'static str,
    message: String,
    r: &Request,
    breaks: bool,
    shrinks: usize,
) -> Finding {
    let then: Vec<String> = match kind {
        "accepted invalid" => {
            let refusal = op
                .responses
                .keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .find(|c| (400..500).contains(c) && *c != 401 && *c != 403 && *c != 429)
                .unwrap_or(400);
            vec![format!("the response status is {refusal}")]
        }
        "scope not enforced" => vec!["the response status is 403".into()],
        _ => vec!["the response matches the contract".into()],
    };
    let others: Vec<&str> = s
        .all_scopes
        .iter()
        .filter(|x| !op.scopes.contains(x))
        .map(String::as_str)
        .collect();
    let scopes = (kind == "scope not enforced").then(|| others.join(" "));
    let scenario = request::gherkin(
        &s.contract.name,
        op,
        r,
        &format!("{} {kind} (found by contrail conform)", op.id),
        &then,
        breaks,
        scopes.as_deref(),
    );
    Finding {
        operation: op.id.clone(),
        kind,
        message,
        curl: request::curl(&s.base, op, r, s.authenticated()),
        scenario,
        shrinks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_second_counts_a_burst_and_not_a_steady_pace() {
        let t0 = Instant::now();
        let at = |ms: &[u64]| ms.iter().map(|m| t0 + Duration::from_millis(*m)).collect::<Vec<_>>();
        // One request per 204 ms: never more than 5 within a second.
        let steady = at(&(0..20).map(|i| i * 204).collect::<Vec<_>>());
        let (per_second, busiest) = pace(&steady);
        assert_eq!(busiest, 5);
        assert!((per_second - 1000.0 / 204.0).abs() < 0.01, "{per_second}");
        // Six inside one second, however slow the rest: the limit was broken there.
        let burst = at(&[0, 100, 200, 300, 400, 999, 5000]);
        assert_eq!(pace(&burst).1, 6);
        assert_eq!(pace(&at(&[0])), (0.0, 1));
    }
}
