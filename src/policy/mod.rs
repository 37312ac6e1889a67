//! The field policy: one set of rules that decides, for each header, query parameter and body
//! field, how replay matches it, what recording writes, and (later) what drift reports.
//!
//! - `ignore`: not compared, kept as recorded.
//! - `volatile`: not compared (timestamps, ids); never reported as drift.
//! - `type-only`: compared by JSON type only.
//! - `regex RE`: the value must match RE.
//! - `redact`: never written; replaced by `<redacted>`, which matches any value.
//!
//! Rules come from built-in defaults, then the contract's `redact:` list, then its `policy:`
//! list; the last rule that applies wins, so a contract can override a default. A rule may be
//! limited to one operation.

use regex::Regex;
use serde_json::Value;

pub mod doc;
mod exact;
mod exact_stream;
mod exact_tree;

pub use doc::{PolicyDoc, RedactDoc};
pub use exact_tree::{ExactBody, Verdict};

/// The action for a place no rule names: `BY_NAME` when its name says it holds a secret.
fn by_name(name: &str) -> Option<&'static Action> {
    crate::secrets::is_secret_key(name).then_some(&BY_NAME)
}

/// What a redacted value is replaced with. ASCII, so it stays a valid header value.
pub const PLACEHOLDER: &str = crate::secrets::PLACEHOLDER;

/// The action for a place no rule names but whose name says it holds a secret
/// (`secrets::is_secret_key`): a contract overrides it with any rule of its own.
static BY_NAME: Action = Action::Redact;

#[derive(Debug, Clone)]
pub enum Action {
    Ignore,
    Volatile,
    TypeOnly,
    Regex(Regex),
    Redact,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, String> {
        let t = text.trim();
        Ok(match t {
            "ignore" => Action::Ignore,
            "volatile" => Action::Volatile,
            "type-only" => Action::TypeOnly,
            "redact" => Action::Redact,
            _ => match t.strip_prefix("regex ") {
                Some(re) => Action::Regex(
                    Regex::new(&format!("^(?:{})$", re.trim()))
                        .map_err(|e| format!("bad regular expression in {t:?}: {e}"))?,
                ),
                None => {
                    return Err(format!(
                        "unknown policy action {t:?} (use ignore, volatile, type-only, regex RE or redact)"
                    ));
                }
            },
        })
    }

    /// Whether two values agree under this action (`None`: exact comparison applies).
    pub fn agrees(&self, recorded: &Value, actual: &Value) -> bool {
        match self {
            Action::Ignore | Action::Volatile | Action::Redact => true,
            Action::TypeOnly => std::mem::discriminant(recorded) == std::mem::discriminant(actual),
            Action::Regex(re) => actual.as_str().is_some_and(|s| re.is_match(s)),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Place {
    /// Lower-case header name.
    Header(String),
    Query(String),
    /// A JSON pointer whose segments may be `*`.
    Pointer(Vec<String>),
    /// A key name matched at any depth (also a form field).
    AnyKey(String),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub place: Place,
    pub action: Action,
    pub operation: Option<String>,
}

/// Rules kept apart by the place they name, each list in the order given: a lookup runs for
/// every header, query parameter and body key of every request the mock answers, and reads
/// only the rules of its kind.
#[derive(Debug, Clone)]
pub struct FieldPolicy {
    headers: Rules,
    queries: Rules,
    bodies: Rules,
    /// Whether a rule is limited to an operation, and whether one compares by type or regex:
    /// asked on every request the mock answers, so kept rather than worked out each time.
    operation_rules: bool,
    inexact_rules: bool,
}

/// The rules of one kind of place, in the order given, with the lengths of the names they
/// name (a body rule: its last segment): most names have a length no rule has, and are then
/// answered without reading the rules.
#[derive(Debug, Clone, Default)]
struct Rules {
    list: Vec<Rule>,
    lengths: Lengths,
}

impl Rules {
    /// `named_len`: the length of the name the rule names, `None` for any (a pointer's `*`).
    fn push(&mut self, rule: Rule, named_len: Option<usize>) {
        match named_len {
            Some(len) => self.lengths.add(len),
            None => self.lengths.add_all(),
        }
        self.list.push(rule);
    }

    /// Whether a rule that names the place redacts it, whatever operation it is limited to.
    fn redacts_for_some_operation(&self, names: impl Fn(&Place) -> bool) -> bool {
        self.list
            .iter()
            .any(|r| matches!(r.action, Action::Redact) && names(&r.place))
    }

    /// The action of the last rule that applies to `op` and `names` the place asked about,
    /// whose name is `len` long.
    fn last_naming(&self, op: Option<&str>, len: usize, names: impl Fn(&Place) -> bool) -> Option<&Action> {
        if !self.lengths.may_hold(len) {
            return None;
        }
        self.list
            .iter()
            .rev()
            .filter(|r| FieldPolicy::applies(r, op))
            .find(|r| names(&r.place))
            .map(|r| &r.action)
    }
}

/// A set of name lengths (63 standing for 63 and over), one bit each.
#[derive(Debug, Clone, Copy, Default)]
struct Lengths(u64);

impl Lengths {
    fn bit(len: usize) -> u64 {
        1 << len.min(63)
    }
    fn add(&mut self, len: usize) {
        self.0 |= Self::bit(len);
    }
    fn add_all(&mut self) {
        self.0 = u64::MAX;
    }
    fn may_hold(self, len: usize) -> bool {
        self.0 & Self::bit(len) != 0
    }
}

impl Default for FieldPolicy {
    fn default() -> Self {
        let mut rules = Vec::new();
        for h in [
            "authorization",
            "proxy-authorization",
            "cookie",
            "set-cookie",
            "x-api-key",
        ] {
            rules.push(Rule {
                place: Place::Header(h.into()),
                action: Action::Redact,
                operation: None,
            });
        }
        for k in ["access_token", "refresh_token", "client_secret", "id_token", "password"] {
            rules.push(Rule {
                place: Place::AnyKey(k.into()),
                action: Action::Redact,
                operation: None,
            });
        }
        for q in ["access_token", "api_key", "apikey", "client_secret", "token"] {
            rules.push(Rule {
                place: Place::Query(q.into()),
                action: Action::Redact,
                operation: None,
            });
        }
        for h in [
            "date",
            "x-request-id",
            "request-id",
            "x-correlation-id",
            "x-amzn-requestid",
            "traceparent",
            "etag",
            "age",
            "expires",
            "last-modified",
        ] {
            rules.push(Rule {
                place: Place::Header(h.into()),
                action: Action::Volatile,
                operation: None,
            });
        }
        let mut p = Self {
            headers: Rules::default(),
            queries: Rules::default(),
            bodies: Rules::default(),
            operation_rules: false,
            inexact_rules: false,
        };
        for r in rules {
            p.push(r);
        }
        p
    }
}

/// The one place a `redact:` or `policy:` entry names.
fn place_of(
    header: &Option<String>,
    query: &Option<String>,
    body: &Option<String>,
    list: &str,
) -> Result<Place, String> {
    match (header, query, body) {
        (Some(h), None, None) => Ok(Place::Header(h.to_ascii_lowercase())),
        (None, Some(q), None) => Ok(Place::Query(q.clone())),
        (None, None, Some(b)) => Ok(body_place(b)),
        _ => Err(format!("each {list} entry names exactly one of header, query or body")),
    }
}

/// `"/a/*/b"` -> pointer segments; `"name"` (no slash) -> a key at any depth.
fn body_place(text: &str) -> Place {
    if text.starts_with('/') {
        Place::Pointer(text.split('/').skip(1).map(crate::pointer::unescape).collect())
    } else {
        Place::AnyKey(text.to_string())
    }
}

/// Replaces each non-null field for which `hide(path)` holds (and so not its children) with
/// `mask`: what recording writes and what reports show both go through here.
pub fn mask_json(v: &mut Value, hide: &dyn Fn(&[String]) -> bool, mask: &str) {
    fn walk(v: &mut Value, hide: &dyn Fn(&[String]) -> bool, mask: &str, path: &mut Vec<String>) {
        let children: Vec<(String, &mut Value)> = match v {
            Value::Object(m) => m.iter_mut().map(|(k, c)| (k.clone(), c)).collect(),
            Value::Array(a) => a.iter_mut().enumerate().map(|(i, c)| (i.to_string(), c)).collect(),
            _ => return,
        };
        for (key, child) in children {
            path.push(key);
            if !child.is_null() && hide(path) {
                *child = Value::String(mask.into());
            } else {
                walk(child, hide, mask, path);
            }
            path.pop();
        }
    }
    walk(v, hide, mask, &mut Vec::new());
}

impl FieldPolicy {
    /// Defaults, then the contract's `redact:` list, then its `policy:` rules.
    pub fn from_docs(redact: &[RedactDoc], policy: &[PolicyDoc]) -> Result<Self, String> {
        let mut p = Self::default();
        for r in redact {
            let place = place_of(&r.header, &r.query, &r.body, "redact")?;
            p.push(Rule {
                place,
                action: Action::Redact,
                operation: None,
            });
        }
        for d in policy {
            let place = place_of(&d.header, &d.query, &d.body, "policy")?;
            p.push(Rule {
                place,
                action: Action::parse(&d.action)?,
                operation: d.operation.clone(),
            });
        }
        Ok(p)
    }

    fn push(&mut self, rule: Rule) {
        self.operation_rules |= rule.operation.is_some();
        self.inexact_rules |= matches!(rule.action, Action::TypeOnly | Action::Regex(_));
        match &rule.place {
            Place::Header(h) => {
                let len = h.len();
                self.headers.push(rule, Some(len));
            }
            Place::Query(q) => {
                let len = q.len();
                self.queries.push(rule, Some(len));
            }
            Place::AnyKey(k) => {
                let len = k.len();
                self.bodies.push(rule, Some(len));
            }
            Place::Pointer(p) => {
                let len = p.last().filter(|last| *last != "*").map(String::len);
                self.bodies.push(rule, len);
            }
        }
    }

    /// Whether any rule is limited to one operation (matching then needs the operation).
    pub fn has_operation_rules(&self) -> bool {
        self.operation_rules
    }

    /// Whether any rule compares by type or regex (matching then needs a second look).
    pub fn has_inexact_rules(&self) -> bool {
        self.inexact_rules
    }

    fn applies(rule: &Rule, op: Option<&str>) -> bool {
        rule.operation.as_deref().is_none_or(|o| Some(o) == op)
    }

    pub fn header(&self, op: Option<&str>, name: &str) -> Option<&Action> {
        self.headers
            .last_naming(
                op,
                name.len(),
                |p| matches!(p, Place::Header(h) if h.eq_ignore_ascii_case(name)),
            )
            .or_else(|| by_name(name))
    }

    /// Whether the header `name` is redacted for some operation, or for all: for a value a step
    /// sets before its call names the operation, masked if it may be a credential anywhere.
    pub fn header_redacted_anywhere(&self, name: &str) -> bool {
        self.headers
            .redacts_for_some_operation(|p| matches!(p, Place::Header(h) if h.eq_ignore_ascii_case(name)))
            || matches!(self.header(None, name), Some(Action::Redact))
    }

    /// As `header_redacted_anywhere`, for the query parameter `name`.
    pub fn query_redacted_anywhere(&self, name: &str) -> bool {
        self.queries
            .redacts_for_some_operation(|p| matches!(p, Place::Query(q) if q == name))
            || matches!(self.query(None, name), Some(Action::Redact))
    }

    pub fn query(&self, op: Option<&str>, name: &str) -> Option<&Action> {
        self.queries
            .last_naming(op, name.len(), |p| matches!(p, Place::Query(q) if q == name))
            .or_else(|| by_name(name))
    }

    /// The action for a body field at `path` (segments of a JSON pointer).
    pub fn body<S: AsRef<str>>(&self, op: Option<&str>, path: &[S]) -> Option<&Action> {
        // Every rule names a last segment (`Place::Pointer` is never empty): the root is named
        // by none.
        let last = path.last()?.as_ref();
        self.bodies
            .last_naming(op, last.len(), |p| match p {
                Place::AnyKey(k) => last == k,
                Place::Pointer(ptr) => {
                    ptr.len() == path.len() && ptr.iter().zip(path).all(|(a, b)| a == "*" || a == b.as_ref())
                }
                Place::Header(_) | Place::Query(_) => false,
            })
            .or_else(|| by_name(last))
    }

    /// Replaces every redacted field of a JSON body with the placeholder.
    pub fn redact_json(&self, op: Option<&str>, v: &mut Value) {
        mask_json(
            v,
            &|path| matches!(self.body(op, path), Some(Action::Redact)),
            PLACEHOLDER,
        );
    }

    /// Redacts `key=value` pairs of a form body (field names are body keys).
    pub fn redact_form(&self, op: Option<&str>, body: &str) -> String {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| {
                let redact = matches!(self.body(op, &[k.to_string()]), Some(Action::Redact));
                (
                    k.into_owned(),
                    if redact {
                        PLACEHOLDER.to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// Every difference between a recorded body and an actual one under the policy, by JSON
    /// pointer. Key order and whitespace never matter: both are parsed JSON.
    pub fn body_differences(&self, op: Option<&str>, recorded: &Value, actual: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.diff(op, Some(recorded), Some(actual), &mut Vec::new(), &mut out);
        out
    }

    fn diff(
        &self,
        op: Option<&str>,
        rec: Option<&Value>,
        act: Option<&Value>,
        path: &mut Vec<String>,
        out: &mut Vec<(String, String)>,
    ) {
        let pointer = || {
            path.iter()
                .map(|s| format!("/{}", crate::pointer::escape(s)))
                .collect::<String>()
        };
        if !path.is_empty()
            && let Some(action) = self.body(op, path)
        {
            match (rec, act) {
                (Some(r), Some(a)) if !action.agrees(r, a) => out.push((
                    pointer(),
                    format!(
                        "recorded {}, got {}",
                        crate::matching::short(r),
                        crate::matching::describe(a)
                    ),
                )),
                _ => {}
            }
            return;
        }
        match (rec, act) {
            (Some(Value::Object(r)), Some(Value::Object(a))) => {
                let keys: std::collections::BTreeSet<&String> = r.keys().chain(a.keys()).collect();
                for k in keys {
                    path.push(k.clone());
                    self.diff(op, r.get(k), a.get(k), path, out);
                    path.pop();
                }
            }
            (Some(Value::Array(r)), Some(Value::Array(a))) if r.len() == a.len() => {
                for i in 0..r.len() {
                    path.push(i.to_string());
                    self.diff(op, r.get(i), a.get(i), path, out);
                    path.pop();
                }
            }
            (Some(Value::Number(r)), Some(Value::Number(a))) if crate::matching::number::same(r, a) => {}
            (Some(r), Some(a)) if r == a => {}
            (Some(r), Some(a)) => out.push((
                pointer(),
                format!(
                    "recorded {}, got {}",
                    crate::matching::short(r),
                    crate::matching::describe(a)
                ),
            )),
            (Some(r), None) => out.push((
                pointer(),
                format!("recorded {}, missing now", crate::matching::short(r)),
            )),
            (None, Some(a)) => out.push((pointer(), format!("not recorded, now {}", crate::matching::short(a)))),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests;
