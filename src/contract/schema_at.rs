//! What a schema says about one place of an instance: which keys an object there declares,
//! and whether keys beyond those are data (a map: `additionalProperties` given as a schema or
//! `true`, `patternProperties`) or merely tolerated (nothing said about extra keys). Drift uses
//! it to tell another valid sample (a map's keys, another `oneOf` branch) from a key the
//! contract never mentions.
//!
//! The walk is a superset, not a validator: every branch of `allOf`/`anyOf`/`oneOf`/`if`/
//! `then`/`else` and every `$ref` is followed, so a key declared in any branch counts as
//! declared. Validation proper is jsonschema's job; this only names places.

use std::collections::BTreeSet;

use serde_json::Value;

use super::operation::SchemaRef;
use super::schema::Schemas;

/// How a key of an object relates to its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Named in `properties` (of some branch).
    Declared,
    /// A map's key: data, like an array index.
    Data,
    /// Not named, and extra keys not described: allowed only because nothing forbids them.
    Undeclared,
}

/// The object rules at one place, merged over every schema that applies there.
#[derive(Debug, Default)]
pub struct ObjectRules {
    declared: BTreeSet<String>,
    patterns: Vec<regex::Regex>,
    /// `additionalProperties` (or `unevaluatedProperties`) given as a schema or `true`.
    open: bool,
    /// No schema applies at all (a place the schema does not reach).
    unknown: bool,
}

impl ObjectRules {
    pub fn key(&self, key: &str) -> KeyKind {
        if self.declared.contains(key) {
            KeyKind::Declared
        } else if self.open || self.unknown || self.patterns.iter().any(|p| p.is_match(key)) {
            KeyKind::Data
        } else {
            KeyKind::Undeclared
        }
    }
}

/// A schema with the document URL its relative `$ref`s resolve against.
#[derive(Clone)]
struct At<'a> {
    base: String,
    schema: &'a Value,
}

const MAX_DEPTH: usize = 32;

/// `at` and every schema it brings in by `$ref` and the combinators, each once.
fn expand<'a>(schemas: &'a Schemas, at: At<'a>, depth: usize, out: &mut Vec<At<'a>>) {
    if depth > MAX_DEPTH || out.iter().any(|o| std::ptr::eq(o.schema, at.schema)) {
        return;
    }
    let Some(obj) = at.schema.as_object() else { return };
    out.push(at.clone());
    for key in ["$ref", "$dynamicRef"] {
        if let Some(r) = obj.get(key).and_then(Value::as_str)
            && let Some((base, schema)) = schemas.follow(&at.base, r)
        {
            expand(schemas, At { base, schema }, depth + 1, out);
        }
    }
    // The branches of the combinators and of if/then/else, all in the same document.
    let branches = ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .flat_map(|k| obj.get(k).and_then(Value::as_array).into_iter().flatten())
        .chain(["if", "then", "else"].into_iter().filter_map(|k| obj.get(k)));
    for schema in branches {
        let base = at.base.clone();
        expand(schemas, At { base, schema }, depth + 1, out);
    }
}

/// The schemas that apply one step down from `current`, at object key or array item `segment`
/// (`*` or a number for an array item).
fn step<'a>(schemas: &'a Schemas, current: &[At<'a>], segment: &str) -> Vec<At<'a>> {
    let mut next = Vec::new();
    let is_index = segment == "*" || segment.bytes().all(|b| b.is_ascii_digit());
    for at in current {
        let Some(obj) = at.schema.as_object() else { continue };
        let mut push = |s: &'a Value| {
            expand(
                schemas,
                At {
                    base: at.base.clone(),
                    schema: s,
                },
                0,
                &mut next,
            )
        };
        if is_index {
            let i: Option<usize> = segment.parse().ok();
            match (obj.get("prefixItems").and_then(Value::as_array), i) {
                (Some(prefix), Some(i)) if i < prefix.len() => push(&prefix[i]),
                (Some(prefix), None) => prefix.iter().for_each(&mut push),
                _ => {}
            }
            if let Some(items) = obj.get("items") {
                match items {
                    // OAS 3.0 / draft 4 tuple form.
                    Value::Array(list) => list.iter().for_each(&mut push),
                    other => push(other),
                }
            }
        }
        if let Some(p) = obj.get("properties").and_then(|p| p.get(segment)) {
            push(p);
            continue;
        }
        let mut matched = false;
        for (pattern, s) in obj
            .get("patternProperties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if regex::Regex::new(pattern).is_ok_and(|re| re.is_match(segment)) {
                push(s);
                matched = true;
            }
        }
        if !matched && let Some(s @ Value::Object(_)) = obj.get("additionalProperties") {
            push(s);
        }
    }
    next
}

/// The object rules at `path` (keys, `*` for any array item) of an instance of `root`.
pub fn object_rules(schemas: &Schemas, root: &SchemaRef, path: &[String]) -> ObjectRules {
    let mut current = Vec::new();
    expand(
        schemas,
        At {
            base: String::new(),
            schema: &root.schema,
        },
        0,
        &mut current,
    );
    for segment in path {
        current = step(schemas, &current, segment);
    }
    let mut rules = ObjectRules {
        unknown: current.is_empty(),
        ..ObjectRules::default()
    };
    for at in &current {
        let Some(obj) = at.schema.as_object() else { continue };
        rules.declared.extend(
            obj.get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone()),
        );
        for key in ["additionalProperties", "unevaluatedProperties"] {
            if matches!(obj.get(key), Some(Value::Object(_) | Value::Bool(true))) {
                rules.open = true;
            }
        }
        for (pattern, _) in obj
            .get("patternProperties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Ok(re) = regex::Regex::new(pattern) {
                rules.patterns.push(re);
            }
        }
    }
    rules
}
