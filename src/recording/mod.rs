//! Recordings: interactions with a partner, one JSON file each under `recordings/<partner>/`.
//!
//! Files are pretty JSON with a stable key order so that a git diff reads well, named after the
//! operation plus a short hash. Secrets are redacted by the field policy *before* anything is
//! written, and every write is atomic (temp file, fsync, rename): a kill at any moment leaves
//! the old file or the new one, never half of one.

pub mod index;
pub mod received;

pub use received::{Declared, ReceivedBody, ReceivedQuery};

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::diag::Diagnostics;
use crate::policy::{Action, FieldPolicy, PLACEHOLDER};
use crate::secrets;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub meta: Meta,
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// RFC 3339, UTC.
    pub recorded_at: String,
    /// The base URL the interaction was recorded from.
    pub target: String,
    pub contract: String,
    pub contract_version: String,
    pub partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// 1 for the first time this request was seen (in this scenario), 2 for the second, ...
    pub sequence: u32,
    /// A hash of the scenario's steps when it was recorded (`scenario::Identity::steps`):
    /// replay warns when they have changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<String>,
    /// How long the partner took to answer, in milliseconds, when this was recorded. Replay
    /// reports it as the partner's time (`x-contrail-live-ms`), so a latency budget is judged
    /// on the partner's speed, not on how busy the machine running the replay is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// In the order sent; matching ignores the order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Body::is_none")]
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Body::is_none")]
    pub body: Body,
}

/// A body as it reads best in a diff: JSON as JSON, forms and text as text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    #[default]
    None,
    Json(Value),
    Form(String),
    Text(String),
    Base64(String),
}

impl Body {
    pub fn is_none(&self) -> bool {
        matches!(self, Body::None)
    }

    /// Classifies raw bytes by content type.
    pub fn from_bytes(content_type: Option<&str>, bytes: &[u8]) -> Body {
        Body::read(Declared::of(content_type), bytes)
    }

    /// The body of `bytes` sent as `declared`: JSON when it parses and nothing says otherwise,
    /// a form when the content type says so, text when it is UTF-8, else binary.
    pub fn read(declared: Declared, bytes: &[u8]) -> Body {
        if bytes.is_empty() {
            return Body::None;
        }
        if declared.json
            && let Ok(v) = serde_json::from_slice::<Value>(bytes)
        {
            return Body::Json(v);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) if declared.form => Body::Form(s.to_string()),
            Ok(s) => Body::Text(s.to_string()),
            Err(_) => {
                use base64::Engine as _;
                Body::Base64(base64::prelude::BASE64_STANDARD.encode(bytes))
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::None => Vec::new(),
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Form(s) | Body::Text(s) => s.clone().into_bytes(),
            Body::Base64(b) => {
                use base64::Engine as _;
                base64::prelude::BASE64_STANDARD.decode(b).unwrap_or_default()
            }
        }
    }

    /// Learns the secrets the policy names in this body (so that an echo of them anywhere is
    /// masked by value), then masks them.
    fn redact(&mut self, policy: &FieldPolicy, op: Option<&str>) {
        match self {
            Body::Json(v) => {
                remember_redacted(policy, op, v, &mut Vec::new());
                policy.redact_json(op, v);
            }
            Body::Form(f) => {
                for (k, v) in url::form_urlencoded::parse(f.as_bytes()) {
                    if matches!(policy.body(op, &[k.to_string()]), Some(Action::Redact)) {
                        secrets::remember(&v);
                    }
                }
                *f = policy.redact_form(op, f);
            }
            _ => {}
        }
    }

    /// Masks known secret values and secret shapes anywhere in the body. Names are the
    /// policy's (`redact`, which ran before): a contract rule that keeps a secret-sounding
    /// field holds.
    fn scrub(&mut self) {
        match self {
            Body::Json(v) => secrets::mask_strings(v, PLACEHOLDER),
            Body::Form(f) => {
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(f.as_bytes())
                    .map(|(k, v)| {
                        (
                            secrets::mask_text(&k, PLACEHOLDER).into_owned(),
                            secrets::mask_text(&v, PLACEHOLDER).into_owned(),
                        )
                    })
                    .collect();
                *f = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
            }
            Body::Text(t) => {
                if let std::borrow::Cow::Owned(m) = secrets::mask_text(t, PLACEHOLDER) {
                    *t = m;
                }
            }
            Body::Base64(b) => {
                use base64::Engine as _;
                let engine = base64::prelude::BASE64_STANDARD;
                if let Ok(raw) = engine.decode(&*b)
                    && let std::borrow::Cow::Owned(masked) = secrets::mask_known_bytes(&raw, PLACEHOLDER)
                {
                    *b = engine.encode(masked);
                }
            }
            Body::None => {}
        }
    }
}

/// Remembers every value at a place the policy redacts.
fn remember_redacted(policy: &FieldPolicy, op: Option<&str>, v: &Value, path: &mut Vec<String>) {
    fn leaves(v: &Value) {
        match v {
            Value::String(s) => secrets::remember(s),
            Value::Number(n) => secrets::remember(&n.to_string()),
            Value::Array(a) => a.iter().for_each(leaves),
            Value::Object(m) => m.values().for_each(leaves),
            _ => {}
        }
    }
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, c)| (k.clone(), c)).collect(),
        Value::Array(a) => a.iter().enumerate().map(|(i, c)| (i.to_string(), c)).collect(),
        _ => return,
    };
    for (k, c) in children {
        path.push(k);
        if matches!(policy.body(op, path), Some(Action::Redact)) {
            leaves(c);
        } else {
            remember_redacted(policy, op, c, path);
        }
        path.pop();
    }
}

/// A base URL as it may be written down: without `user:password@` (which is remembered as a
/// secret) and with known secrets masked.
pub fn safe_target(url: &str) -> String {
    let text = match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            secrets::remember(u.username());
            if let Some(p) = u.password() {
                secrets::remember(p);
            }
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    };
    secrets::mask_text(&text, PLACEHOLDER).into_owned()
}

/// Headers that describe a connection, not a message: never recorded.
fn is_hop_header(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "content-length"
            | "host"
            | "upgrade"
            | "te"
            | "trailer"
            | "proxy-connection"
            | "x-contrail-scenario"
            | "x-contrail-steps"
    )
}

fn header_map(policy: &FieldPolicy, op: Option<&str>, headers: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        if is_hop_header(&k) {
            continue;
        }
        // Only a pathological partner names a header after a secret; it is masked all the same.
        let k = secrets::mask_text(&k, PLACEHOLDER).into_owned();
        let v = if matches!(policy.header(op, &k), Some(Action::Redact)) {
            PLACEHOLDER.to_string()
        } else {
            secrets::mask_text(v, PLACEHOLDER).into_owned()
        };
        out.entry(k)
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

/// What was seen on the wire, before redaction.
pub struct Seen<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub request_headers: &'a [(String, String)],
    pub request_body: &'a [u8],
    pub status: u16,
    pub response_headers: &'a [(String, String)],
    pub response_body: &'a [u8],
}

impl Interaction {
    /// Builds an interaction from what was seen, redacting everything the policy says, then
    /// every known secret value and every secret shape, wherever it appears.
    pub fn capture(policy: &FieldPolicy, seen: &Seen<'_>, mut meta: Meta) -> Interaction {
        meta.target = safe_target(&meta.target);
        // The scenario's name comes in a header anyone can send (a system under test, a
        // careless script): a secret in it is masked like anywhere else, even though a masked
        // name no longer finds its recordings.
        for text in [&mut meta.scenario, &mut meta.steps].into_iter().flatten() {
            if let std::borrow::Cow::Owned(masked) = secrets::mask_text(text, PLACEHOLDER) {
                *text = masked;
            }
        }
        let op = meta.operation.as_deref();
        // Learn every secret this exchange carries before writing any of it, so that a token
        // sent in a header and echoed in the answer's body is masked there too.
        for (k, v) in seen.request_headers.iter().chain(seen.response_headers) {
            if matches!(policy.header(op, k), Some(Action::Redact)) {
                secrets::remember_header(k, v);
            }
        }
        for (k, v) in seen.query {
            if matches!(policy.query(op, k), Some(Action::Redact)) {
                secrets::remember(v);
            }
        }
        let find = |h: &[(String, String)], name: &str| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut request_body =
            Body::from_bytes(find(seen.request_headers, "content-type").as_deref(), seen.request_body);
        let mut response_body = Body::from_bytes(
            find(seen.response_headers, "content-type").as_deref(),
            seen.response_body,
        );
        request_body.redact(policy, op);
        response_body.redact(policy, op);
        request_body.scrub();
        response_body.scrub();
        let query = seen
            .query
            .iter()
            .map(|(k, v)| {
                (
                    secrets::mask_text(k, PLACEHOLDER).into_owned(),
                    if matches!(policy.query(op, k), Some(Action::Redact)) {
                        PLACEHOLDER.to_string()
                    } else {
                        secrets::mask_text(v, PLACEHOLDER).into_owned()
                    },
                )
            })
            .collect();
        Interaction {
            request: RecordedRequest {
                method: seen.method.to_uppercase(),
                path: secrets::mask_text(seen.path, PLACEHOLDER).into_owned(),
                query,
                headers: header_map(policy, op, seen.request_headers),
                body: request_body,
            },
            response: RecordedResponse {
                status: seen.status,
                headers: header_map(policy, op, seen.response_headers),
                body: response_body,
            },
            meta,
        }
    }

    /// `createTicket-3f9a1c02.json`: the operation (or method and path) and a short hash of
    /// what identifies this interaction.
    pub fn file_name(&self) -> String {
        let stem = match &self.meta.operation {
            Some(op) => op.clone(),
            None => format!(
                "{}{}",
                self.request.method.to_lowercase(),
                self.request.path.replace('/', "-")
            ),
        };
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let mut h = Sha256::new();
        h.update(self.request.method.as_bytes());
        h.update(self.request.path.as_bytes());
        h.update(serde_json::to_vec(&self.request.query).unwrap_or_default());
        h.update(self.request.body.to_bytes());
        h.update(self.meta.scenario.as_deref().unwrap_or("").as_bytes());
        h.update(self.meta.sequence.to_le_bytes());
        let digest = h.finalize();
        // 12 hex digits: at 100,000 recordings of one operation a collision (which would
        // overwrite another interaction) is expected about once in 50,000 such folders.
        let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("{stem}-{short}.json")
    }

    /// The last check before a recording is written, independent of how masking was done: the
    /// request and the response as they would be written (binary bodies decoded), and the
    /// texts of `meta` that come from outside (the scenario's name, the target), hold no
    /// secret value this run learnt. Which part would, if one does. The rest of `meta` is
    /// contrail's own (a short numeric secret could match a timestamp there).
    pub fn holds_known_secret(&self) -> Option<&'static str> {
        let m = &self.meta;
        if [m.scenario.as_deref(), m.steps.as_deref(), Some(m.target.as_str())]
            .into_iter()
            .flatten()
            .any(|t| secrets::find_known(t.as_bytes()).is_some())
        {
            return Some("meta");
        }
        let holds = |json: Result<Vec<u8>, serde_json::Error>, body: &Body| {
            json.ok().and_then(|j| secrets::find_known(&j)).is_some()
                || matches!(body, Body::Base64(_)) && secrets::find_known(&body.to_bytes()).is_some()
        };
        if holds(serde_json::to_vec(&self.request), &self.request.body) {
            Some("request")
        } else if holds(serde_json::to_vec(&self.response), &self.response.body) {
            Some("response")
        } else {
            None
        }
    }

    pub fn to_pretty_json(&self) -> Result<String, String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    }
}

/// Writes `contents` to `path` atomically: a temp file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("recording");
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// Saves an interaction under `dir`; returns its path.
pub fn save(dir: &Path, interaction: &Interaction) -> Result<PathBuf, String> {
    let path = dir.join(interaction.file_name());
    write(&path, interaction)?;
    Ok(path)
}

/// Writes an interaction to `path` (atomically), unless it would hold a secret: every writer of
/// recordings (record mode, drift's accept, import) comes through here.
pub fn write(path: &Path, interaction: &Interaction) -> Result<(), String> {
    if let Some(part) = interaction.holds_known_secret() {
        return Err(format!(
            "refusing to write {}: its {part} would hold a secret value learnt in this run, which \
             masking missed (nothing was written; please report this as a contrail bug)",
            path.display()
        ));
    }
    write_atomic(path, interaction.to_pretty_json()?.as_bytes())
}

/// Every interaction file directly in `dir` (temp files of interrupted writes are skipped).
pub fn load_dir(dir: &Path) -> (Vec<(PathBuf, Interaction)>, Diagnostics) {
    let mut out = Vec::new();
    let mut errors = Diagnostics::default();
    for file in crate::workspace::files_in(dir, &["json"]) {
        if file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        match crate::yaml::read(&file).and_then(|t| crate::yaml::from_json::<Interaction>(&file, &t)) {
            Ok(i) => out.push((file, i)),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests;
