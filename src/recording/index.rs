//! The replay index: recorded interactions keyed so that finding the one for a request is a
//! hash lookup and a few comparisons, not a scan.
//!
//! The key's head is method + path + query (sorted, so order never matters) + the credential
//! headers carried. A request whose target (path and query) arrives spelled as a recording's
//! would be sent finds its head by those bytes, without building one; any other spelling builds
//! the head from its parts and finds the same. Under one head sit the distinct recorded bodies,
//! each by the part the policy compares exactly. A request's JSON body is compared with up to `FEW` of them as trees
//! (`FieldPolicy::compare_exact_text`, straight from the request's bytes); with more (a GraphQL
//! endpoint), or when a repeated key leaves a tree unsure, its exact part is written as
//! canonical JSON and looked up by that text, which is also how other bodies are found. Either
//! way key order, whitespace and number spelling never matter. Fields the policy compares by
//! type or regex are checked on the few candidates found. Repeated identical requests replay
//! their recorded sequence: first call, second call, ... then the last one again. When nothing
//! matches, the closest interaction of the same route is named with a field-by-field diff.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::{Body, Interaction, ReceivedBody, ReceivedQuery};
use crate::policy::{Action, ExactBody, FieldPolicy, Verdict};

/// The header a mock's answer says the partner's time in (`server::LIVE_TIME_HEADER`).
pub const PARTNER_TIME_HEADER: &str = "x-contrail-live-ms";

/// A request as the mock server received it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// As received (the key compares it upper-cased); borrowed for the methods HTTP names, so
    /// that most requests copy none.
    pub method: Cow<'static, str>,
    pub path: String,
    pub query: ReceivedQuery,
    /// Shared with the journal's entry for the request, which keeps it without a copy.
    pub body: std::sync::Arc<ReceivedBody>,
    /// The scenario's identity (`scenario::Identity::id`), when a scenario sent it.
    pub scenario: Option<String>,
    /// The hash of that scenario's steps.
    pub steps: Option<String>,
    /// The credential headers it carries (lower-case names, sorted, comma-separated): a
    /// request with a token never matches a recording made without one, nor the reverse.
    pub credentials: String,
}

pub struct Entry {
    pub file: PathBuf,
    pub interaction: Interaction,
    /// The response body as sent, serialized once when indexed rather than per request.
    pub response_bytes: bytes::Bytes,
    /// The response headers as sent (hop-by-hop ones left out), built once when indexed.
    pub response_headers: hyper::HeaderMap,
    /// The credential headers the recorded request carried (`credentials_of`), once.
    pub credentials: String,
}

#[derive(Default)]
pub struct Index {
    entries: Vec<Entry>,
    /// Every scenario that has recordings here.
    scenarios: std::collections::HashSet<String>,
    /// By `head` (everything but the body). Hashed with foldhash (seeded per process): the
    /// head is hashed on every request, and SipHash over it showed in the profile
    /// (docs/decisions.md).
    by_head: HashMap<String, usize, foldhash::fast::RandomState>,
    /// The bodies of each head, in the order the heads were first recorded.
    heads: Vec<Bodies>,
    /// By request target (path and query in one text) spelled as a recording most likely
    /// arrived: a request whose target arrives spelled so finds its head by the bytes it came
    /// with, and builds no head. `insert` keeps a spelling only when building the head from it
    /// gives the recording's head, so this road finds what the head finds, only sooner.
    by_target: HashMap<Box<str>, Targets, foldhash::fast::RandomState>,
    /// The distinct sets of credential headers recordings carried (`credentials_of`): a
    /// handful, so a request's is found by comparing, and a target names one by number.
    credential_sets: Vec<String>,
    by_route: HashMap<String, Vec<usize>>,
}

/// What else a request spelled as a recorded target must agree on to have that head: the
/// rest of what the head is built from. Small and with no pointer to follow but the
/// operation's, which only a policy with rules for one reads: with 100,000 recordings nothing
/// stays in the caches, and each pointer the road follows is a miss (docs/decisions.md).
struct Target {
    /// Upper-case, as the head writes it: a request sending `get` takes the head road.
    method: hyper::Method,
    /// Which of the index's distinct credential sets (`Index::credential_sets`).
    credentials: u32,
    /// The interaction that spelled it, whose operation the head was built for; that matters
    /// only to a policy with rules for one.
    entry: u32,
    head: u32,
}

impl Target {
    /// The operation the head was built for: the spelling interaction's.
    fn operation<'e>(&self, entries: &'e [Entry]) -> Option<&'e str> {
        entries.get(self.entry as usize)?.interaction.meta.operation.as_deref()
    }
}

/// The targets one spelling leads to: nearly always one, held in place so that finding it
/// follows no pointer.
struct Targets {
    first: Target,
    more: Vec<Target>,
}

impl Targets {
    fn iter(&self) -> impl Iterator<Item = &Target> {
        std::iter::once(&self.first).chain(&self.more)
    }
}

/// The recorded bodies one head finds, each with the interactions that recorded it.
#[derive(Default)]
struct Bodies {
    groups: Vec<Group>,
    /// Group by body text, once there are more than `FEW` groups (fewer are scanned): where an
    /// insert finds its group, and a request with that many groups to choose from.
    by_text: HashMap<String, usize, foldhash::fast::RandomState>,
}

/// Up to this many recorded bodies under one head, a request's JSON body is compared with each
/// tree; over it, the request's canonical text is written and looked up, as a GraphQL endpoint
/// with hundreds of recorded queries needs. A comparison stops at its first difference, but
/// one that finds the body the same reads it all: for bench/replay.sh's POST body that is ~1.0k
/// instructions against ~3.5k for writing and hashing the text, so past about four bodies the
/// text is the cheaper road in the worst case.
const FEW: usize = 4;

/// One recorded body under a head.
struct Group {
    /// Its exact part as canonical text (`body_text`).
    text: String,
    /// Its exact part as a tree, when it is JSON.
    tree: Option<ExactBody>,
    slot: Slot,
}

impl Bodies {
    /// The group whose body a request's matches.
    fn find(&self, policy: &FieldPolicy, op: Option<&str>, body: &ReceivedBody) -> Option<&Group> {
        let few_trees = self.groups.len() <= FEW && self.groups.iter().all(|g| g.tree.is_some());
        let Some(raw) = few_trees.then(|| body.raw_json()).flatten() else {
            return self.by_text(&body_text(policy, op, body));
        };
        for g in &self.groups {
            match g.tree.as_ref().map(|tree| policy.compare_exact_text(op, raw, tree)) {
                Some(Verdict::Same) => return Some(g),
                Some(Verdict::Different) => {}
                // Not JSON as the comparison reads it, or a repeated key: the text decides.
                Some(Verdict::Unsure) | None => return self.by_text(&body_text(policy, op, body)),
            }
        }
        None
    }

    /// The number of the group recorded with `text`, added if new.
    fn group_of(&mut self, text: String) -> usize {
        if let Some(g) = self.numbered(&text) {
            return g;
        }
        self.groups.push(Group {
            text,
            tree: None,
            slot: Slot::default(),
        });
        let n = self.groups.len();
        // The map from the group past `FEW` on, when `by_text` starts to read it: most heads
        // have one body, and a map for one would be most of their index's memory.
        if n == FEW + 1 {
            self.by_text = self
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.text.clone(), i))
                .collect();
        } else if n > FEW + 1 {
            self.by_text.insert(self.groups[n - 1].text.clone(), n - 1);
        }
        n - 1
    }

    fn by_text(&self, text: &str) -> Option<&Group> {
        self.numbered(text).map(|g| &self.groups[g])
    }

    /// The number of the group recorded with `text`: up to `FEW` groups are scanned, past that
    /// the map (which `group_of` builds only then) is read.
    fn numbered(&self, text: &str) -> Option<usize> {
        if self.groups.len() <= FEW {
            self.groups.iter().position(|g| g.text == text)
        } else {
            self.by_text.get(text).copied()
        }
    }
}

/// The interactions one head and body find.
#[derive(Default)]
struct Slot {
    /// In (scenario, sequence) order.
    entries: Vec<usize>,
    /// Scenario -> calls served so far with this key, for sequences. Kept here, not in a map
    /// keyed by scenario and key, so that counting a call neither copies nor hashes the key
    /// again.
    served: Mutex<HashMap<String, usize, foldhash::fast::RandomState>>,
    /// Calls served to requests of no scenario (a system under test's): counted without a
    /// lock, as most of a mock's traffic is.
    served_unnamed: std::sync::atomic::AtomicUsize,
}

pub enum Lookup<'a> {
    Found(&'a Entry),
    Unmatched {
        closest: Option<(&'a Entry, Vec<(String, String)>)>,
        /// The request's scenario has no recordings at all (new, or renamed since recorded).
        scenario_unrecorded: bool,
    },
}

fn route(method: &str, path: &str) -> String {
    format!("{} {}", method.to_uppercase(), normalize_path(path))
}

/// A path as matching compares it: percent-escapes of unreserved characters decoded (`%2D`
/// is `-`), other escapes in upper case, so two spellings of one URL are one path.
pub fn normalize_path(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = crate::contract::openapi::escaped_byte(bytes, i) {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                out.push(c as char);
            } else {
                out.push_str(&format!("%{c:02X}"));
            }
            i += 3;
        } else {
            // Whole characters, so a `%` before a multi-byte one never splits it.
            let ch = path[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The credential headers among `names` (lower-case, sorted, comma-separated): the headers
/// the policy redacts, which is where credentials travel.
pub fn credentials_of<'a>(policy: &FieldPolicy, op: Option<&str>, names: impl Iterator<Item = &'a str>) -> String {
    let mut found = Credentials::default();
    for name in names {
        found.offer(policy, op, name);
    }
    found.names()
}

/// The credential headers of a request, gathered one header name at a time: the mock offers
/// each name in the one pass it makes over a request's headers anyway.
#[derive(Default)]
pub struct Credentials(Vec<String>);

impl Credentials {
    /// Keeps `name` when the policy redacts it.
    pub fn offer(&mut self, policy: &FieldPolicy, op: Option<&str>, name: &str) {
        // Headers every request has and that never carry a credential: no policy lookup. Told
        // apart by length first: this runs for every header of every request the mock answers.
        // A received name is lower-case already: equal bytes first, case folded only if not.
        let is = |p: &str| name == p || name.eq_ignore_ascii_case(p);
        let plain = match name.len() {
            4 => is("host"),
            6 => is("accept"),
            10 => is("user-agent") || is("connection"),
            12 => is("content-type"),
            14 => is("content-length"),
            15 => is("accept-encoding"),
            16 => is("x-contrail-steps"),
            19 => is("x-contrail-scenario"),
            _ => false,
        };
        if !plain && matches!(policy.header(op, name), Some(Action::Redact)) {
            self.0.push(name.to_ascii_lowercase());
        }
    }

    /// The names kept, lower-case, sorted, each once, comma-separated.
    pub fn names(mut self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        self.0.sort();
        self.0.dedup();
        self.0.join(",")
    }
}

/// The lookup key of a request under the policy: its `head` and its body's exact part, one
/// line each (what a recording counts its sequences by).
pub fn key(
    policy: &FieldPolicy,
    op: Option<&str>,
    credentials: &str,
    method: &str,
    path: &str,
    query: QueryPairs<'_>,
    body: &impl KeyBody,
) -> String {
    let mut out = head(policy, op, credentials, method, path, query);
    out.push('\n');
    out.push_str(&body_text(policy, op, body));
    out
}

/// A request's key without its body: the credential headers it carries, method, normalised
/// path and the query the policy compares exactly (by name; a repeated parameter's values in
/// their order). Built in one string: this runs for every request the mock answers.
pub fn head(
    policy: &FieldPolicy,
    op: Option<&str>,
    credentials: &str,
    method: &str,
    path: &str,
    mut query: QueryPairs<'_>,
) -> String {
    query.retain(|(k, _)| policy.query(op, k).is_none());
    // By name only: a stable sort keeps the order of a repeated parameter's values.
    query.sort_by(|a, b| a.0.cmp(&b.0));
    // Sized for the whole head at once: one allocation, not a growing string.
    let query_len: usize = query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(16 + credentials.len() + method.len() + path.len() + query_len);
    out.push_str(credentials);
    out.push('\n');
    let from = out.len();
    out.push_str(method);
    out[from..].make_ascii_uppercase();
    out.push(' ');
    out.push_str(&normalize_path(path));
    out.push('?');
    for (i, (k, v)) in query.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The part of a body the policy compares exactly, as canonical text (empty for no body).
pub fn body_text(policy: &FieldPolicy, op: Option<&str>, body: &impl KeyBody) -> String {
    let mut out = String::with_capacity(body.size_guess());
    body.write_key(policy, op, &mut out);
    out
}

/// Query pairs as a key reads them: decoded, borrowed where decoding changed nothing.
pub type QueryPairs<'q> = Vec<(Cow<'q, str>, Cow<'q, str>)>;

/// Recorded pairs as a key reads them.
pub fn borrowed_pairs(pairs: &[(String, String)]) -> QueryPairs<'_> {
    pairs
        .iter()
        .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
        .collect()
}

/// A body as a key holds it: a recorded one, parsed when its file was read, or a received one,
/// read from its bytes when they are JSON.
pub trait KeyBody {
    /// Appends the part of the body the policy compares exactly.
    fn write_key(&self, policy: &FieldPolicy, op: Option<&str>, out: &mut String);
    /// About how long that part is, to size the key once.
    fn size_guess(&self) -> usize;
}

impl KeyBody for Body {
    fn write_key(&self, policy: &FieldPolicy, op: Option<&str>, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Body::None => {}
            Body::Json(v) => policy.write_exact(op, v, out),
            Body::Form(f) => {
                let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(f.as_bytes())
                    .filter(|(k, _)| policy.body(op, &[k.as_ref()]).is_none())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                pairs.sort();
                let _ = write!(out, "{pairs:?}");
            }
            Body::Text(t) | Body::Base64(t) => out.push_str(t),
        }
    }

    fn size_guess(&self) -> usize {
        match self {
            Body::None => 0,
            Body::Json(_) => 512,
            Body::Form(t) | Body::Text(t) | Body::Base64(t) => t.len() + 16,
        }
    }
}

impl KeyBody for ReceivedBody {
    /// From the bytes when they read as JSON (`write_exact_raw` writes what `write_exact` would
    /// for the parsed body); otherwise from the parsed body, which `serde_json` decides.
    fn write_key(&self, policy: &FieldPolicy, op: Option<&str>, out: &mut String) {
        if self.arrived_empty() {
            return;
        }
        if let Some(raw) = self.raw_json()
            && policy.write_exact_raw(op, raw, out)
        {
            return;
        }
        self.parsed().write_key(policy, op, out);
    }

    fn size_guess(&self) -> usize {
        if self.arrived_empty() {
            return 0;
        }
        match self.raw_json() {
            Some(raw) => raw.len() + 16,
            None => self.parsed().size_guess(),
        }
    }
}

/// Differences between a recorded request and an incoming one, by field, under the policy.
pub fn request_differences(
    policy: &FieldPolicy,
    op: Option<&str>,
    entry: &Entry,
    req: &Incoming,
) -> Vec<(String, String)> {
    let rec = &entry.interaction;
    let mut out = Vec::new();
    if rec.request.method != req.method.to_uppercase() {
        out.push((
            "method".into(),
            format!("recorded {}, got {}", rec.request.method, req.method),
        ));
    }
    if normalize_path(&rec.request.path) != normalize_path(&req.path) {
        out.push((
            "path".into(),
            format!("recorded {}, got {}", rec.request.path, req.path),
        ));
    }
    let creds = &entry.credentials;
    if *creds != req.credentials {
        let say = |c: &str| {
            if c.is_empty() {
                "no credentials".to_string()
            } else {
                c.to_string()
            }
        };
        out.push((
            "credentials".into(),
            format!("recorded with {}, sent with {}", say(creds), say(&req.credentials)),
        ));
    }
    // Each parameter's values in order: `?tag=a&tag=b` is not `?tag=b&tag=a`.
    let as_map = |q: &[(String, String)]| {
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (k, v) in q {
            m.entry(k.clone()).or_default().push(v.clone());
        }
        m
    };
    let (rq, aq) = (as_map(&rec.request.query), as_map(&req.query));
    for k in rq.keys().chain(aq.keys()).collect::<std::collections::BTreeSet<_>>() {
        let agree = match (policy.query(op, k), rq.get(k), aq.get(k)) {
            (Some(Action::Ignore | Action::Volatile | Action::Redact), _, _) => true,
            (Some(action @ (Action::TypeOnly | Action::Regex(_))), Some(r), Some(a)) => {
                r.len() == a.len()
                    && r.iter().zip(a).all(|(r, a)| {
                        action.agrees(
                            &serde_json::Value::String(r.clone()),
                            &serde_json::Value::String(a.clone()),
                        )
                    })
            }
            (_, r, a) => r == a,
        };
        if !agree {
            out.push((
                format!("query {k}"),
                format!("recorded {:?}, got {:?}", rq.get(k), aq.get(k)),
            ));
        }
    }
    match (&rec.request.body, req.body.parsed()) {
        (Body::Json(r), Body::Json(a)) => {
            out.extend(
                policy
                    .body_differences(op, r, a)
                    .into_iter()
                    .map(|(p, m)| (format!("body {p}"), m)),
            );
        }
        (r, a) if body_text(policy, op, r) == body_text(policy, op, a) => {}
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
        let op = interaction.meta.operation.as_deref();
        let credentials = credentials_of(policy, op, r.headers.keys().map(String::as_str));
        let head = head(policy, op, &credentials, &r.method, &r.path, borrowed_pairs(&r.query));
        let h = match self.by_head.get(&head) {
            Some(&h) => h,
            None => {
                self.heads.push(Bodies::default());
                self.by_head.insert(head.clone(), self.heads.len() - 1);
                self.heads.len() - 1
            }
        };
        self.spell_target(policy, op, &credentials, r, &head, h);
        let text = body_text(policy, op, &r.body);
        let tree = match &r.body {
            Body::Json(v) => Some(policy.exact_body(op, v)),
            _ => None,
        };
        if let Some(s) = &interaction.meta.scenario {
            self.scenarios.insert(s.clone());
        }
        let rt = route(&r.method, &r.path);
        let i = self.entries.len();
        let response_bytes = bytes::Bytes::from(interaction.response.body.to_bytes());
        // Sized for the recorded headers and the two added below: a map left to grow holds room
        // for six, most of an entry's memory with 100,000 recordings (docs/decisions.md).
        let mut response_headers = hyper::HeaderMap::with_capacity(interaction.response.headers.len() + 2);
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
        response_headers.insert(
            PARTNER_TIME_HEADER,
            hyper::header::HeaderValue::from(interaction.meta.took_ms.unwrap_or(0)),
        );
        self.entries.push(Entry {
            file,
            interaction,
            response_bytes,
            response_headers,
            credentials,
        });
        let bodies = &mut self.heads[h];
        let g = bodies.group_of(text);
        let group = &mut bodies.groups[g];
        // One text is one exact part, so any JSON body of the group gives its tree; a body of
        // another kind with the same text (a recorded text that reads as that JSON) leaves the
        // group to the text.
        match tree {
            None => group.tree = None,
            Some(t) if group.slot.entries.is_empty() => group.tree = Some(t),
            Some(_) => {}
        }
        let list = &mut group.slot.entries;
        list.push(i);
        let entries = &self.entries;
        list.sort_by(|a, b| {
            let (ma, mb) = (&entries[*a].interaction.meta, &entries[*b].interaction.meta);
            (ma.scenario.as_deref(), ma.sequence).cmp(&(mb.scenario.as_deref(), mb.sequence))
        });
        self.by_route.entry(rt).or_default().push(i);
    }

    /// Keeps the target a client most likely sent for recorded request `r` (its path, and its
    /// query in recorded order, form-encoded) as a road to head number `h`, if the request road
    /// builds `head_of_recording` from it.
    fn spell_target(
        &mut self,
        policy: &FieldPolicy,
        op: Option<&str>,
        credentials: &str,
        r: &super::RecordedRequest,
        head_of_recording: &str,
        h: usize,
    ) {
        let mut target = r.path.clone();
        if !r.query.is_empty() {
            target.push('?');
            target.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&r.query)
                    .finish(),
            );
        }
        // The text as a received URI splits it: the path up to the first `?`.
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let from_target = head(
            policy,
            op,
            credentials,
            &r.method,
            path,
            ReceivedQuery::received(query).decoded(),
        );
        if from_target != head_of_recording {
            return;
        }
        // The method as the head writes it. A recorded method `Method` cannot hold, or more
        // recordings than a `u32` counts, leave the recording to the head road.
        let Ok(method) = hyper::Method::from_bytes(r.method.to_ascii_uppercase().as_bytes()) else {
            return;
        };
        let numbers = (
            u32::try_from(self.entries.len()),
            u32::try_from(h),
            u32::try_from(self.credential_set(credentials)),
        );
        let (Ok(entry), Ok(head), Ok(credentials)) = numbers else {
            return;
        };
        let target_of = Target {
            method,
            credentials,
            entry,
            head,
        };
        let entries = &self.entries;
        match self.by_target.entry(target.into_boxed_str()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Targets {
                    first: target_of,
                    more: Vec::new(),
                });
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let known = o.get().iter().any(|t| {
                    t.method == target_of.method && t.credentials == credentials && t.operation(entries) == op
                });
                if !known {
                    o.get_mut().more.push(target_of);
                }
            }
        }
    }

    /// The number of a set of credential headers among `credential_sets`, added if new.
    fn credential_set(&mut self, credentials: &str) -> usize {
        match self.credential_number(credentials) {
            Some(c) => c,
            None => {
                self.credential_sets.push(credentials.to_string());
                self.credential_sets.len() - 1
            }
        }
    }

    /// The number of a set of credential headers recordings carried, if any did.
    fn credential_number(&self, credentials: &str) -> Option<usize> {
        self.credential_sets.iter().position(|c| c == credentials)
    }

    /// The head of `req` when its target as sent is a recorded spelling (with the same method,
    /// credentials and, where the policy has rules for one, operation).
    fn spelled(&self, policy: &FieldPolicy, op: Option<&str>, req: &Incoming) -> Option<usize> {
        let targets = self.by_target.get(req.query.target(&req.path)?)?;
        let credentials = self.credential_number(&req.credentials)?;
        targets
            .iter()
            .find(|t| {
                t.method == *req.method
                    && t.credentials as usize == credentials
                    && (!policy.has_operation_rules() || t.operation(&self.entries) == op)
            })
            .map(|t| t.head as usize)
    }

    /// Whether `req` finds its head by its target as sent (for tests: that road is taken).
    #[cfg(test)]
    pub(crate) fn finds_by_target(&self, policy: &FieldPolicy, op: Option<&str>, req: &Incoming) -> bool {
        self.spelled(policy, op, req).is_some()
    }

    /// The bodies under `req`'s head: found by its target as sent when that is a recorded
    /// spelling, else by the head built from its parts.
    fn bodies(&self, policy: &FieldPolicy, op: Option<&str>, req: &Incoming) -> Option<&Bodies> {
        if let Some(h) = self.spelled(policy, op, req) {
            return self.heads.get(h);
        }
        let head = head(
            policy,
            op,
            &req.credentials,
            &req.method,
            &req.path,
            req.query.decoded(),
        );
        self.by_head.get(&head).map(|&h| &self.heads[h])
    }

    /// The interaction that answers `req`, honouring recorded sequences per scenario.
    pub fn lookup(&self, policy: &FieldPolicy, op: Option<&str>, req: &Incoming) -> Lookup<'_> {
        let slot = self
            .bodies(policy, op, req)
            .and_then(|bodies| bodies.find(policy, op, &req.body))
            .map(|g| &g.slot);
        // The head and body hold everything compared exactly; only type-only and regex rules
        // need a second look at the candidates. No list is built: this runs for every request.
        let listed: &[usize] = slot.map_or(&[], |s| s.entries.as_slice());
        let listed: std::borrow::Cow<'_, [usize]> = if policy.has_inexact_rules() {
            listed
                .iter()
                .copied()
                .filter(|&i| request_differences(policy, op, &self.entries[i], req).is_empty())
                .collect()
        } else {
            std::borrow::Cow::Borrowed(listed)
        };
        let candidates = || listed.iter().copied();
        // A scenario gets what it recorded, or what no scenario recorded (a token request), never
        // another scenario's answer; a request from no scenario (a token request, a system
        // under test) may get any.
        let scenario_of = |i: usize| self.entries[i].interaction.meta.scenario.as_deref();
        let asked = req.scenario.as_deref();
        let in_pool: &dyn Fn(usize) -> bool = if candidates().any(|i| scenario_of(i) == asked) {
            &|i| scenario_of(i) == asked
        } else if asked.is_none() {
            &|_| true
        } else {
            &|i| scenario_of(i).is_none()
        };
        let pool_len = candidates().filter(|&i| in_pool(i)).count();
        if pool_len > 0
            && let Some(slot) = slot
        {
            let n = match req.scenario.as_deref() {
                None => slot.served_unnamed.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                Some(scenario) => match slot.served.lock() {
                    Ok(mut served) => match served.get_mut(scenario) {
                        Some(c) => {
                            *c += 1;
                            *c - 1
                        }
                        None => {
                            served.insert(scenario.to_string(), 1);
                            0
                        }
                    },
                    Err(_) => 0,
                },
            };
            if let Some(i) = candidates().filter(|&i| in_pool(i)).nth(n.min(pool_len - 1)) {
                return Lookup::Found(&self.entries[i]);
            }
        }
        Lookup::Unmatched {
            closest: self.closest(policy, op, req),
            scenario_unrecorded: req.scenario.as_ref().is_some_and(|s| !self.scenarios.contains(s)),
        }
    }

    fn closest(
        &self,
        policy: &FieldPolicy,
        op: Option<&str>,
        req: &Incoming,
    ) -> Option<(&Entry, Vec<(String, String)>)> {
        let same_route = self.by_route.get(&route(&req.method, &req.path));
        let mut pool: Vec<usize> = match same_route {
            Some(list) => list.clone(),
            None => (0..self.entries.len())
                .filter(|&i| self.entries[i].interaction.request.method == req.method.to_uppercase())
                .collect(),
        };
        // The closest of this scenario's own recordings says most; another's only when it has none.
        let own: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&i| self.entries[i].interaction.meta.scenario == req.scenario)
            .collect();
        if !own.is_empty() {
            pool = own;
        }
        pool.into_iter()
            .map(|i| (i, request_differences(policy, op, &self.entries[i], req)))
            .min_by_key(|(i, d)| {
                (
                    d.len(),
                    strsim::levenshtein(&self.entries[*i].interaction.request.path, &req.path),
                )
            })
            .map(|(i, d)| (&self.entries[i], d))
    }
}
