//! The verdict on one interaction: a recorded response against the live one for the same
//! request, judged by the contract and the field policy rather than by a blind sample diff.
//!
//! - A different status or media type is breaking.
//! - The live body is validated against the contract's schema; every violation is breaking.
//! - The structure is compared as *shapes* (which fields exist, which JSON types they hold;
//!   array items merged into one shape), so list lengths, ids, titles and timestamps never
//!   count. Where the contract has a schema, a type it accepts (a nullable field now null,
//!   another `oneOf` branch) is just another sample: no finding; an optional field gone or a
//!   new field it does not forbid is compatible. Where it has no schema, a field gone or a
//!   type changed is breaking, since nothing says a consumer can cope.
//! - The policy: `ignore` and `redact` fields are skipped, `volatile` ones are reported as
//!   `volatile-ignored` and never as drift, `regex` ones must still match, `type-only` ones are
//!   compared by type.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Change, Class, Finding};
use crate::contract::Contract;
use crate::contract::operation::{Operation, ResponseSchema};
use crate::policy::{Action, FieldPolicy};
use crate::recording::{Body, RecordedResponse};

/// Compares the live response with the recorded one. `Err` only when the contract's schema
/// cannot be compiled (lint reports that before any run).
pub fn compare(
    contract: &Contract,
    op: Option<&Operation>,
    recorded: &RecordedResponse,
    live: &RecordedResponse,
) -> Result<Vec<Finding>, String> {
    let policy = &contract.policy;
    let op_id = op.map(|o| o.id.as_str());
    let mut out = Vec::new();
    if recorded.status != live.status {
        let undeclared = match op.map(|o| o.response_schema(live.status, "")) {
            Some(ResponseSchema::UndeclaredStatus { declared }) => {
                format!(
                    ", which the contract does not declare (declared: {})",
                    declared.join(", ")
                )
            }
            _ => String::new(),
        };
        out.push(Finding::new(
            Class::Breaking,
            "status",
            Change::Status,
            format!("recorded {}, now {}{undeclared}", recorded.status, live.status),
        ));
        // Another status means another kind of answer: its body is not comparable.
        return Ok(out);
    }
    headers(policy, op_id, recorded, live, &mut out);
    if let Some(op) = op {
        declared_headers(contract, op, live, &mut out)?;
    }
    let (rec_type, live_type) = (media_type(recorded), media_type(live));
    if rec_type != live_type {
        out.push(Finding::new(
            Class::Breaking,
            "header content-type",
            Change::ContentType,
            format!(
                "recorded {}, now {}",
                rec_type.as_deref().unwrap_or("none"),
                live_type.as_deref().unwrap_or("none")
            ),
        ));
        return Ok(out);
    }
    let (Body::Json(rec), Body::Json(act)) = (&recorded.body, &live.body) else {
        return Ok(out);
    };

    // The contract first: what it forbids is breaking whatever the recording held.
    let declared_schema =
        op.and_then(
            |op| match op.response_schema(live.status, live_type.as_deref().unwrap_or_default()) {
                ResponseSchema::Schema { declared, schema } => Some((declared, schema)),
                _ => None,
            },
        );
    let mut violated = BTreeSet::new();
    if let Some((declared, schema)) = declared_schema {
        // One finding per field: the same violation in every item of a list is said once.
        let mut by_place: BTreeMap<String, (String, Option<String>, BTreeSet<String>)> = BTreeMap::new();
        let (deciding, format_misses) = contract.schemas.validate_split(schema, act)?;
        for v in format_misses {
            let place = normalize(&v.pointer);
            out.push(Finding::new(
                Class::Format,
                &place,
                Change::Schema,
                format!("{} (formats: warn)", v.message),
            ));
        }
        for v in deciding {
            let segments = segments_of(&v.pointer);
            if matches!(policy.body(op_id, &segments), Some(Action::Ignore | Action::Redact)) {
                continue;
            }
            let place = normalize(&v.pointer);
            by_place
                .entry(place)
                .or_insert_with(|| (v.message, v.cause, BTreeSet::new()))
                .2
                .insert(v.pointer);
        }
        for (place, (message, cause, items)) in by_place {
            let n = items.len();
            let times = if n > 1 {
                format!(" (in {n} items)")
            } else {
                String::new()
            };
            out.push(
                Finding::new(
                    Class::Breaking,
                    if place.is_empty() { "/" } else { &place },
                    Change::Schema,
                    format!("breaks the contract's schema for {declared}: {message}{times}"),
                )
                .caused_by(cause),
            );
            violated.insert(place);
        }
    }

    let mut walk = Walk {
        policy,
        op: op_id,
        schema: declared_schema.map(|(_, s)| (&contract.schemas, s)),
        violated: &violated,
        out: &mut out,
    };
    walk.shapes(&Shape::of(rec), &Shape::of(act), &mut Vec::new());
    walk.values(rec, act, &mut Vec::new());
    dedupe(&mut out);
    out.sort_by(|a, b| (a.class, &a.place).cmp(&(b.class, &b.place)));
    Ok(out)
}

fn media_type(r: &RecordedResponse) -> Option<String> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| crate::contract::headers::media_type(v))
}

/// Header values: only what the policy names is compared (volatile ones are reported as
/// ignored, regex ones must match); the rest of a server's headers vary too much to mean drift.
fn headers(
    policy: &FieldPolicy,
    op: Option<&str>,
    rec: &RecordedResponse,
    live: &RecordedResponse,
    out: &mut Vec<Finding>,
) {
    for (name, recorded) in &rec.headers {
        let now = live.headers.get(name);
        match policy.header(op, name) {
            Some(Action::Volatile) if now.is_some_and(|n| n != recorded) => out.push(Finding::new(
                Class::VolatileIgnored,
                &format!("header {name}"),
                Change::Value,
                "value changed (volatile)".into(),
            )),
            Some(Action::Regex(re)) if !now.is_some_and(|n| re.is_match(n)) => out.push(Finding::new(
                Class::Breaking,
                &format!("header {name}"),
                Change::Pattern,
                match now {
                    Some(n) => format!("{n:?} no longer matches {}", re.as_str()),
                    None => "no longer sent".into(),
                },
            )),
            _ => {}
        }
    }
}

/// The headers the contract declares for the live status: a required one gone or a value its
/// schema refuses is breaking, whatever the recording held. Headers the policy ignores or
/// redacts, and values masked as secrets, are not judged (their text is not what was sent).
fn declared_headers(
    contract: &Contract,
    op: &Operation,
    live: &RecordedResponse,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let Some((declared, body)) = op.response_for(live.status) else {
        return Ok(());
    };
    let judged: Vec<_> = body
        .headers
        .iter()
        .filter(|h| {
            let name = h.name.to_ascii_lowercase();
            !matches!(
                contract.policy.header(Some(&op.id), &name),
                Some(Action::Ignore | Action::Redact)
            ) && !live
                .headers
                .get(&name)
                .is_some_and(|v| v.contains(crate::secrets::PLACEHOLDER))
        })
        .cloned()
        .collect();
    if judged.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(String, String)> = live.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for v in crate::contract::headers::check(&contract.schemas, &judged, &pairs)? {
        out.push(Finding::new(
            Class::Breaking,
            &v.pointer,
            Change::Schema,
            format!("breaks the contract for {declared}: {}", v.message),
        ));
    }
    Ok(())
}

/// `/items/0/id` -> `/items/*/id`, so that a finding on merged array items and a schema
/// violation on one item name the same place.
pub(crate) fn normalize(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn segments_of(pointer: &str) -> Vec<String> {
    pointer.split('/').skip(1).map(crate::pointer::unescape).collect()
}

fn pointer_of(path: &[String]) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.iter().map(|s| format!("/{}", crate::pointer::escape(s))).collect()
}

/// Keeps the first finding per (place, class): a field both removed and volatile says it once.
fn dedupe(out: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    out.retain(|f| seen.insert((f.place.clone(), f.class)));
}

/// JSON kinds, with integers and other numbers as one: 1 and 1.5 are the same kind of field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn of(v: &Value) -> Kind {
        match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// What a value looks like without its values: the kinds seen, the fields of its objects and
/// the merged shape of its array items.
#[derive(Debug, Default, Clone)]
struct Shape {
    kinds: BTreeSet<Kind>,
    fields: BTreeMap<String, Shape>,
    items: Option<Box<Shape>>,
}

impl Shape {
    fn of(v: &Value) -> Shape {
        let mut s = Shape::default();
        s.add(v);
        s
    }

    fn add(&mut self, v: &Value) {
        self.kinds.insert(Kind::of(v));
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    self.fields.entry(k.clone()).or_default().add(c);
                }
            }
            Value::Array(a) => {
                for item in a {
                    self.items.get_or_insert_with(Box::default).add(item);
                }
            }
            _ => {}
        }
    }

    fn kinds_text(&self) -> String {
        self.kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(" or ")
    }
}

struct Walk<'a> {
    policy: &'a FieldPolicy,
    op: Option<&'a str>,
    /// The response's schema, when the contract has one: the body was validated against it,
    /// and it says which keys are declared and which are a map's data.
    schema: Option<(
        &'a crate::contract::schema::Schemas,
        &'a crate::contract::operation::SchemaRef,
    )>,
    violated: &'a BTreeSet<String>,
    out: &'a mut Vec<Finding>,
}

impl Walk<'_> {
    fn push(&mut self, path: &[String], change: Change, structural_breaking: bool, message: String) {
        // One finding per field, not one per array item.
        let place = normalize(&pointer_of(path));
        if self.violated.contains(&place) {
            return;
        }
        let class = match self.policy.body(self.op, path) {
            Some(Action::Volatile) => Class::VolatileIgnored,
            _ if structural_breaking && self.schema.is_none() => Class::Breaking,
            _ => Class::Compatible,
        };
        let message = match (class, self.schema.is_some()) {
            (Class::VolatileIgnored, _) => format!("{message} (volatile)"),
            (Class::Compatible, true) if structural_breaking => format!("{message}; the contract allows it"),
            (Class::Breaking, _) => format!("{message}; the contract has no schema for this response that allows it"),
            _ => message,
        };
        self.out.push(Finding::new(class, &place, change, message));
    }

    fn shapes(&mut self, rec: &Shape, live: &Shape, path: &mut Vec<String>) {
        let action = if path.is_empty() {
            None
        } else {
            self.policy.body(self.op, path)
        };
        match action {
            Some(Action::Ignore | Action::Redact) => return,
            Some(Action::TypeOnly) => {
                self.kinds(rec, live, path);
                return;
            }
            _ => {}
        }
        self.kinds(rec, live, path);
        // With a schema, keys present in one sample and not the other are samples too (an
        // optional field, another oneOf branch, a map's keys); only a key the schema never
        // mentions is worth a word, and it is not drift.
        let rules = self
            .schema
            .map(|(schemas, root)| crate::contract::schema_at::object_rules(schemas, root, path));
        for (k, r) in &rec.fields {
            path.push(k.clone());
            match live.fields.get(k) {
                Some(l) => {
                    if rules
                        .as_ref()
                        .is_some_and(|rules| rules.key(k) == crate::contract::schema_at::KeyKind::Undeclared)
                        && !matches!(self.policy.body(self.op, path), Some(Action::Ignore | Action::Redact))
                    {
                        let place = normalize(&pointer_of(path));
                        self.out.push(Finding::new(
                            Class::Undeclared,
                            &place,
                            Change::Undeclared,
                            "sent then and now, but the schema does not declare it".into(),
                        ));
                    }
                    self.shapes(r, l, path)
                }
                None if rules.is_some() => {}
                None if live.kinds.contains(&Kind::Object)
                    && !matches!(self.policy.body(self.op, path), Some(Action::Ignore | Action::Redact)) =>
                {
                    self.push(path, Change::Removed, true, "no longer sent".into());
                }
                None => {}
            }
            path.pop();
        }
        if rec.kinds.contains(&Kind::Object) {
            for (k, l) in &live.fields {
                if rec.fields.contains_key(k) {
                    continue;
                }
                path.push(k.clone());
                if !matches!(self.policy.body(self.op, path), Some(Action::Ignore | Action::Redact)) {
                    match rules.as_ref().map(|r| r.key(k)) {
                        None => self.push(path, Change::Added, false, format!("new field ({})", l.kinds_text())),
                        Some(crate::contract::schema_at::KeyKind::Undeclared) => {
                            let place = normalize(&pointer_of(path));
                            if !self.violated.contains(&place) {
                                self.out.push(Finding::new(
                                    Class::Undeclared,
                                    &place,
                                    Change::Added,
                                    format!(
                                        "new field ({}) the schema does not declare; it allows it, since it says nothing of extra keys",
                                        l.kinds_text()
                                    ),
                                ));
                            }
                        }
                        Some(_) => {}
                    }
                }
                path.pop();
            }
        }
        if let (Some(r), Some(l)) = (&rec.items, &live.items) {
            path.push("*".into());
            self.shapes(r, l, path);
            path.pop();
        }
    }

    fn kinds(&mut self, rec: &Shape, live: &Shape, path: &[String]) {
        // Kinds the recording never showed; fewer kinds is a smaller sample, not a change. A
        // schema that accepted the new kind (a nullable field now null, another oneOf branch)
        // makes it another sample of the same contract: no finding, unless the policy names it.
        let volatile = matches!(self.policy.body(self.op, path), Some(Action::Volatile));
        if self.schema.is_some() && !volatile {
            return;
        }
        if live.kinds.difference(&rec.kinds).next().is_some() {
            self.push(
                path,
                Change::Type,
                true,
                format!("was {}, now {}", rec.kinds_text(), live.kinds_text()),
            );
        }
    }

    /// Values matter only where the policy says so: volatile changes are noted, regexes held.
    fn values(&mut self, rec: &Value, live: &Value, path: &mut Vec<String>) {
        if !path.is_empty() {
            match self.policy.body(self.op, path) {
                Some(Action::Volatile) => {
                    if rec != live {
                        self.push(path, Change::Value, false, "value changed".into());
                    }
                    return;
                }
                Some(Action::Regex(re)) => {
                    if !live.as_str().is_some_and(|s| re.is_match(s)) {
                        let place = pointer_of(path);
                        if !self.violated.contains(&normalize(&place)) {
                            self.out.push(Finding::new(
                                Class::Breaking,
                                &place,
                                Change::Pattern,
                                format!(
                                    "{} no longer matches the policy's {}",
                                    crate::matching::short(live),
                                    re.as_str()
                                ),
                            ));
                        }
                    }
                    return;
                }
                Some(_) => return,
                None => {}
            }
        }
        match (rec, live) {
            (Value::Object(r), Value::Object(l)) => {
                for (k, rv) in r {
                    if let Some(lv) = l.get(k) {
                        path.push(k.clone());
                        self.values(rv, lv, path);
                        path.pop();
                    }
                }
            }
            (Value::Array(r), Value::Array(l)) => {
                for (i, (rv, lv)) in r.iter().zip(l).enumerate() {
                    path.push(i.to_string());
                    self.values(rv, lv, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
