//! The replay index: recorded interactions keyed so that finding the one for a request is a
//! hash lookup, not a scan.
//!
//! The key is method + path + query (sorted, so order never matters) + the part of the body
//! the policy compares exactly, as canonical JSON (so key order and whitespace never matter).
//! Fields the policy compares by type or regex are checked on the few candidates the key
//! finds. Repeated identical requests replay their recorded sequence: first call, second
//! call, ... then the last one again. When nothing matches, the closest interaction of the same
//! route is named with a field-by-field diff.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::{Body, Interaction};
use crate::policy::{Action, FieldPolicy};

/// A request as the mock server received it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
    pub scenario: Option<String>,
}

pub struct Entry {
    pub file: PathBuf,
    pub interaction: Interaction,
    /// The response body as sent, serialized once when indexed rather than per request.
    pub response_bytes: bytes::Bytes,
    /// The response headers as sent (hop-by-hop ones left out), built once when indexed.
    pub response_headers: hyper::HeaderMap,
}

#[derive(Default)]
pub struct Index {
    entries: Vec<Entry>,
    by_key: HashMap<String, Vec<usize>>,
    by_route: HashMap<String, Vec<usize>>,
    /// (scenario, key) -> calls served so far, for sequences.
    served: Mutex<HashMap<(String, String), usize>>,
}

pub enum Lookup<'a> {
    Found(&'a Entry),
    Unmatched {
        closest: Option<(&'a Entry, Vec<(String, String)>)>,
    },
}

fn route(method: &str, path: &str) -> String {
    format!("{} {}", method.to_uppercase(), path)
}

/// The lookup key of a request under the policy.
pub fn key(
    policy: &FieldPolicy,
    op: Option<&str>,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: &Body,
) -> String {
    let mut q: Vec<(&String, &String)> = query
        .iter()
        .filter(|(k, _)| policy.query(op, k).is_none())
        .map(|(k, v)| (k, v))
        .collect();
    q.sort();
    let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let body = match body {
        Body::None => String::new(),
        Body::Json(v) => policy.exact_part(op, v).to_string(),
        Body::Form(f) => {
            let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(f.as_bytes())
                .filter(|(k, _)| policy.body(op, &[k.to_string()]).is_none())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.sort();
            format!("{pairs:?}")
        }
        Body::Text(t) => t.clone(),
        Body::Base64(b) => b.clone(),
    };
    format!("{}?{}\n{body}", route(method, path), query.join("&"))
}

/// Differences between a recorded request and an incoming one, by field, under the policy.
pub fn request_differences(
    policy: &FieldPolicy,
    op: Option<&str>,
    rec: &Interaction,
    req: &Incoming,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if rec.request.method != req.method.to_uppercase() {
        out.push((
            "method".into(),
            format!("recorded {}, got {}", rec.request.method, req.method),
        ));
    }
    if rec.request.path != req.path {
        out.push((
            "path".into(),
            format!("recorded {}, got {}", rec.request.path, req.path),
        ));
    }
    let as_map = |q: &[(String, String)]| {
        q.iter()
            .cloned()
            .collect::<std::collections::BTreeMap<String, String>>()
    };
    let (rq, aq) = (as_map(&rec.request.query), as_map(&req.query));
    for k in rq.keys().chain(aq.keys()).collect::<std::collections::BTreeSet<_>>() {
        let agree = match policy.query(op, k) {
            Some(Action::Ignore | Action::Volatile | Action::Redact) => true,
            _ => rq.get(k) == aq.get(k),
        };
        if !agree {
            out.push((
                format!("query {k}"),
                format!("recorded {:?}, got {:?}", rq.get(k), aq.get(k)),
            ));
        }
    }
    match (&rec.request.body, &req.body) {
        (Body::Json(r), Body::Json(a)) => {
            out.extend(
                policy
                    .body_differences(op, r, a)
                    .into_iter()
                    .map(|(p, m)| (format!("body {p}"), m)),
            );
        }
        (r, a) if key(policy, op, "", "", &[], r) == key(policy, op, "", "", &[], a) => {}
        (r, a) => out.push((
            "body".into(),
            format!("recorded {}, got {}", describe_body(r), describe_body(a)),
        )),
    }
    out
}

fn describe_body(b: &Body) -> String {
    match b {
        Body::None => "no body".into(),
        Body::Json(v) => crate::matching::short(v),
        Body::Form(f) | Body::Text(f) => format!("{:?}", f.chars().take(60).collect::<String>()),
        Body::Base64(_) => "binary data".into(),
    }
}

impl Index {
    /// Indexes interactions (each knows its operation from its metadata).
    pub fn build(policy: &FieldPolicy, items: Vec<(PathBuf, Interaction)>) -> Index {
        let mut index = Index::default();
        for (file, interaction) in items {
            index.insert(policy, file, interaction);
        }
        index
    }

    /// How many interactions are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn insert(&mut self, policy: &FieldPolicy, file: PathBuf, interaction: Interaction) {
        let r = &interaction.request;
        let k = key(
            policy,
            interaction.meta.operation.as_deref(),
            &r.method,
            &r.path,
            &r.query,
            &r.body,
        );
        let rt = route(&r.method, &r.path);
        let i = self.entries.len();
        let response_bytes = bytes::Bytes::from(interaction.response.body.to_bytes());
        let mut response_headers = hyper::HeaderMap::new();
        for (k, v) in &interaction.response.headers {
            if matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            ) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(v),
            ) {
                response_headers.append(name, value);
            }
        }
        let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Ok(v) = hyper::header::HeaderValue::from_str(file_name) {
            response_headers.insert("x-contrail-recording", v);
        }
        self.entries.push(Entry {
            file,
            interaction,
            response_bytes,
            response_headers,
        });
        let list = self.by_key.entry(k).or_default();
        list.push(i);
        let entries = &self.entries;
        list.sort_by(|a, b| {
            let (ma, mb) = (&entries[*a].interaction.meta, &entries[*b].interaction.meta);
            (ma.scenario.as_deref(), ma.sequence).cmp(&(mb.scenario.as_deref(), mb.sequence))
        });
        self.by_route.entry(rt).or_default().push(i);
    }

    /// The interaction that answers `req`, honouring recorded sequences per scenario.
    pub fn lookup(&self, policy: &FieldPolicy, op: Option<&str>, req: &Incoming) -> Lookup<'_> {
        let k = key(policy, op, &req.method, &req.path, &req.query, &req.body);
        let candidates: Vec<usize> = self
            .by_key
            .get(&k)
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&i| request_differences(policy, op, &self.entries[i].interaction, req).is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if !candidates.is_empty() {
            // Prefer what this scenario recorded; otherwise whatever was recorded for the request.
            let own: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| self.entries[i].interaction.meta.scenario == req.scenario)
                .collect();
            let pool = if own.is_empty() { candidates } else { own };
            let scenario = req.scenario.clone().unwrap_or_default();
            let n = match self.served.lock() {
                Ok(mut served) => {
                    let c = served.entry((scenario, k)).or_insert(0);
                    *c += 1;
                    *c - 1
                }
                Err(_) => 0,
            };
            return Lookup::Found(&self.entries[pool[n.min(pool.len() - 1)]]);
        }
        Lookup::Unmatched {
            closest: self.closest(policy, op, req),
        }
    }

    fn closest(
        &self,
        policy: &FieldPolicy,
        op: Option<&str>,
        req: &Incoming,
    ) -> Option<(&Entry, Vec<(String, String)>)> {
        let same_route = self.by_route.get(&route(&req.method, &req.path));
        let pool: Vec<usize> = match same_route {
            Some(list) => list.clone(),
            None => (0..self.entries.len())
                .filter(|&i| self.entries[i].interaction.request.method == req.method.to_uppercase())
                .collect(),
        };
        pool.into_iter()
            .map(|i| (i, request_differences(policy, op, &self.entries[i].interaction, req)))
            .min_by_key(|(i, d)| {
                (
                    d.len(),
                    strsim::levenshtein(&self.entries[*i].interaction.request.path, &req.path),
                )
            })
            .map(|(i, d)| (&self.entries[i], d))
    }
}
