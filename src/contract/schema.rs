//! Compiled JSON Schema validation for a contract.
//!
//! All documents of a contract go into one jsonschema registry. Every schema the contract uses
//! (request and response bodies, webhook payloads) gets a slot in one combined root schema,
//! `{"properties": {"s0": ..., "s1": ...}}`, compiled once, on first use. Validating against a
//! slot wraps the instance as `{"sN": instance}`.
//!
//! Why one validator and not one per schema: jsonschema compiles a `$ref` target into each
//! validator that reaches it. Real specs link their components densely, so each per-schema
//! validator carried the whole component graph: on a generated 2,000-operation spec that was
//! 8 MB and 18 ms per validator, tens of GB for all of them. Within one validator a target is
//! compiled once. Identical schemas (most are a bare `$ref`) share a slot.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

use super::openapi::Documents;
use super::operation::SchemaRef;

pub struct Schemas {
    registry: Registry<'static>,
    /// SchemaRef key -> slot name.
    slots: HashMap<String, String>,
    /// Slot name -> (schema, first SchemaRef key, for messages).
    root: Map<String, Value>,
    owners: HashMap<String, String>,
    compiled: OnceLock<Result<Validator, String>>,
    /// Schemas written in the contract, each compiled on its own (see
    /// `SchemaRef::standalone`): key -> (base URI, schema, its validator once built).
    standalone: HashMap<String, Standalone>,
    formats: super::model::FormatsMode,
    /// Document URL -> document, shared with the registry: for following `$ref`s by hand
    /// (generating webhook payloads).
    docs: HashMap<String, Arc<Value>>,
}

struct Standalone {
    base: String,
    schema: Arc<Value>,
    compiled: OnceLock<Result<Validator, String>>,
}

/// The options for a schema that says its own dialect: `$schema` decides (draft 4, 6, 7,
/// 2019-09, 2020-12), 2020-12 when it says none.
fn standalone_options<'r>(
    registry: &'r Registry<'static>,
    schema: &Value,
    base: &str,
    formats: bool,
) -> jsonschema::ValidationOptions<'r> {
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(s) if s.contains("draft-04") => Draft::Draft4,
        Some(s) if s.contains("draft-06") => Draft::Draft6,
        Some(s) if s.contains("draft-07") => Draft::Draft7,
        Some(s) if s.contains("2019-09") => Draft::Draft201909,
        _ => Draft::Draft202012,
    };
    jsonschema::options()
        .with_draft(draft)
        .with_registry(registry)
        .with_base_uri(base.to_string())
        .should_validate_formats(formats)
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("slots", &self.root.len())
            .finish_non_exhaustive()
    }
}

/// One way an instance breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance ("" for the root).
    pub pointer: String,
    pub message: String,
    /// The named schema whose rule it broke (`ticketing.yaml#/components/schemas/Ticket/...`),
    /// when it is one: many findings across operations can share this one cause.
    pub cause: Option<String>,
    /// A `format` miss: with the contract's `formats: warn` (the default) it is reported on
    /// its own and decides nothing; `assert` makes it a violation like any other.
    pub format: bool,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{p}: {}", self.message)
    }
}

fn options<'r>(registry: &'r Registry<'static>, formats: bool) -> jsonschema::ValidationOptions<'r> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry)
        .should_validate_formats(formats)
}

impl Schemas {
    /// Indexes the documents and assigns every schema a slot; compiles nothing yet.
    pub fn new<'a>(
        docs: &Documents,
        schemas: impl IntoIterator<Item = &'a SchemaRef>,
        formats: super::model::FormatsMode,
    ) -> Result<Self, String> {
        // Shared, not copied: a partner's spec can be 10 MB.
        let resources: Vec<(String, Arc<Value>)> = docs
            .docs
            .iter()
            .map(|(url, doc)| (url.to_string(), doc.clone()))
            .collect();
        let docs_by_url: HashMap<String, Arc<Value>> = resources.iter().cloned().collect();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| format!("cannot index the contract's schemas: {e}"))?;
        let mut slots = HashMap::new();
        let mut by_content: HashMap<String, String> = HashMap::new();
        let mut root = Map::new();
        let mut owners = HashMap::new();
        let mut standalone = HashMap::new();
        let mut docs_by_url = docs_by_url;
        for s in schemas {
            if let Some((base, raw)) = &s.standalone {
                // Its own document, for contrail's walks that follow `$ref`s by hand.
                docs_by_url.insert(base.clone(), raw.clone());
                standalone.insert(
                    s.key.clone(),
                    Standalone {
                        base: base.clone(),
                        schema: raw.clone(),
                        compiled: OnceLock::new(),
                    },
                );
                continue;
            }
            let content = s.schema.to_string();
            let slot = by_content
                .entry(content)
                .or_insert_with(|| {
                    let name = format!("s{}", root.len());
                    root.insert(name.clone(), (*s.schema).clone());
                    owners.insert(name.clone(), s.key.clone());
                    name
                })
                .clone();
            slots.insert(s.key.clone(), slot);
        }
        Ok(Self {
            registry,
            slots,
            root,
            owners,
            compiled: OnceLock::new(),
            standalone,
            docs: docs_by_url,
            formats,
        })
    }

    fn compiled(&self) -> Result<&Validator, String> {
        self.compiled
            .get_or_init(|| {
                let root = serde_json::json!({ "properties": Value::Object(self.root.clone()) });
                options(&self.registry, self.check_formats())
                    .build(&root)
                    .map_err(|e| self.name_broken(&e.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The combined schema did not compile: find which schemas are to blame.
    /// The combined schema did not compile: find which schemas are to blame, each named at
    /// the keyword that broke (its pointer), and a broken component that many operations
    /// reach reported once, with how many reach it.
    fn name_broken(&self, combined_error: &str) -> String {
        // Error text -> the places that hit it.
        let mut by_error: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (slot, schema) in &self.root {
            if let Err(e) = options(&self.registry, self.check_formats()).build(schema) {
                let owner = self.owners.get(slot).map(String::as_str).unwrap_or(slot);
                by_error
                    .entry(e.to_string())
                    .or_default()
                    .push(keyword_place(owner, &e.instance_path().to_string()));
            }
        }
        if by_error.is_empty() {
            return format!("the contract's schemas do not compile: {combined_error}");
        }
        let mut lines: Vec<String> = by_error
            .into_iter()
            .map(|(e, mut places)| {
                places.sort();
                let more = match places.len() {
                    1 => String::new(),
                    n => format!(" (and {} more schema(s) that reach it)", n - 1),
                };
                format!("the schema at {}{more} does not compile: {e}", places[0])
            })
            .collect();
        lines.sort();
        lines.join("\n")
    }

    /// Compiles everything (lint does this so that a broken schema is found before a run).
    /// What an absolute `$ref` (`file:///.../spec.yaml#/components/schemas/X`) points at.
    pub fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        let (doc, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        self.docs.get(doc)?.pointer(pointer)
    }

    /// The target of `$ref` `r` met where the base URI is `base` (`""` where refs are absolute
    /// already, as in a `SchemaRef`'s copy), with the target's own document as its base: for
    /// contrail's walks that follow references by hand.
    pub fn follow(&self, base: &str, r: &str) -> Option<(String, &Value)> {
        let abs = match url::Url::parse(base).and_then(|b| b.join(r)) {
            Ok(u) => u.to_string(),
            Err(_) => r.to_string(),
        };
        let target = self.resolve_ref(&abs)?;
        let doc = abs.split_once('#').map_or(abs.as_str(), |(d, _)| d).to_string();
        Some((doc, target))
    }

    /// The schema a chain of `$ref`s starting at `schema` ends at, with its base (bounded: a
    /// cycle ends the walk).
    pub fn resolve_chain<'a>(&'a self, schema: &'a Value, base: &str) -> (String, &'a Value) {
        let (mut b, mut s) = (base.to_string(), schema);
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str).and_then(|r| self.follow(&b, r)) {
                Some((nb, t)) => (b, s) = (nb, t),
                None => break,
            }
        }
        (b, s)
    }

    pub fn compile(&self) -> Result<(), String> {
        self.compiled()?;
        let mut broken: Vec<String> = self
            .standalone
            .iter()
            .filter_map(|(key, s)| self.standalone_validator(key, s).err())
            .collect();
        broken.sort();
        if broken.is_empty() {
            Ok(())
        } else {
            Err(broken.join("\n"))
        }
    }

    fn standalone_validator<'s>(&'s self, key: &str, s: &'s Standalone) -> Result<&'s Validator, String> {
        s.compiled
            .get_or_init(|| {
                standalone_options(&self.registry, &s.schema, &s.base, self.check_formats())
                    .build(&s.schema)
                    .map_err(|e| {
                        format!(
                            "the schema at {} does not compile: {e}",
                            keyword_place(key, &e.instance_path().to_string())
                        )
                    })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn check_formats(&self) -> bool {
        self.formats != super::model::FormatsMode::Ignore
    }

    /// Every violation of `schema` by `instance` that decides a verdict, by JSON pointer
    /// (format misses only when the contract says `formats: assert`).
    pub fn validate(&self, schema: &SchemaRef, instance: &Value) -> Result<Vec<Violation>, String> {
        Ok(self.validate_split(schema, instance)?.0)
    }

    /// The violations that decide, and apart the format misses that only warn (`formats:
    /// warn`, the default; none with `assert`, where they decide, or `ignore`).
    pub fn validate_split(
        &self,
        schema: &SchemaRef,
        instance: &Value,
    ) -> Result<(Vec<Violation>, Vec<Violation>), String> {
        let all = self.validate_all(schema, instance)?;
        Ok(match self.formats {
            super::model::FormatsMode::Assert => (all, Vec::new()),
            _ => all.into_iter().partition(|v| !v.format),
        })
    }

    fn validate_all(&self, schema: &SchemaRef, instance: &Value) -> Result<Vec<Violation>, String> {
        if let Some(s) = self.standalone.get(&schema.key) {
            let validator = self.standalone_validator(&schema.key, s)?;
            let mut out = Vec::new();
            for e in validator.iter_errors(instance) {
                violations(&e, "", 0, &mut out);
            }
            return Ok(out);
        }
        let slot = self
            .slots
            .get(&schema.key)
            .ok_or_else(|| format!("the schema at {} is not part of this contract", schema.key))?;
        let validator = self.compiled()?;
        let mut wrapped = Map::new();
        wrapped.insert(slot.clone(), instance.clone());
        let wrapped = Value::Object(wrapped);
        let prefix = format!("/{slot}");
        let mut out = Vec::new();
        for e in validator.iter_errors(&wrapped) {
            violations(&e, &prefix, 0, &mut out);
        }
        Ok(out)
    }
}

/// The deepest place any error of a branch reaches: the branch that got furthest into the
/// instance is the one the author meant.
fn depth(errors: &[jsonschema::ValidationError<'_>]) -> usize {
    errors
        .iter()
        .map(|e| {
            let own = e.instance_path().to_string().matches('/').count();
            let nested = match e.kind() {
                jsonschema::error::ValidationErrorKind::OneOfNotValid { context }
                | jsonschema::error::ValidationErrorKind::AnyOf { context } => {
                    context.iter().map(|c| depth(c)).max().unwrap_or(0)
                }
                _ => 0,
            };
            own.max(nested)
        })
        .max()
        .unwrap_or(0)
}

/// One error as violations a person can act on. A `oneOf`/`anyOf` that no branch fits is
/// reported by the closest branch's own errors (deepest first, then fewest), each at its
/// pointer, never as the whole object "is not valid under any of the schemas".
fn violations(e: &jsonschema::ValidationError<'_>, prefix: &str, nesting: usize, out: &mut Vec<Violation>) {
    use jsonschema::error::ValidationErrorKind as K;
    if let K::OneOfNotValid { context } | K::AnyOf { context } = e.kind()
        && nesting < 8
    {
        let keyword = if matches!(e.kind(), K::AnyOf { .. }) {
            "anyOf"
        } else {
            "oneOf"
        };
        let best = context
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .max_by(|(ia, a), (ib, b)| depth(a).cmp(&depth(b)).then(b.len().cmp(&a.len())).then(ib.cmp(ia)));
        if let Some((i, branch)) = best {
            let mut inner = Vec::new();
            for sub in branch {
                violations(sub, prefix, nesting + 1, &mut inner);
            }
            let n = context.len();
            for v in inner {
                out.push(Violation {
                    pointer: v.pointer,
                    message: format!(
                        "{} (no {keyword} branch fits; the closest of {n}, branch {}, fails here)",
                        v.message,
                        i + 1
                    ),
                    ..v
                });
            }
            return;
        }
    }
    out.push(violation(e, prefix));
}

/// A missing required property is reported at the property's own pointer, so the message
/// names the field that is gone rather than its parent.
fn violation(e: &jsonschema::ValidationError<'_>, prefix: &str) -> Violation {
    let full = e.instance_path().to_string();
    let at = full.strip_prefix(prefix).unwrap_or(&full).to_string();
    let cause = cause_of(e);
    let (pointer, message) = match e.kind() {
        jsonschema::error::ValidationErrorKind::Required {
            property: Value::String(name),
        } => (
            format!("{at}/{}", crate::pointer::escape(name)),
            "required by the contract, but missing".into(),
        ),
        jsonschema::error::ValidationErrorKind::OneOfMultipleValid { .. } => (
            at,
            "fits more than one oneOf branch, and oneOf wants exactly one".into(),
        ),
        _ => (at, short_message(e)),
    };
    Violation {
        pointer,
        message,
        cause,
        format: matches!(e.kind(), jsonschema::error::ValidationErrorKind::Format { .. }),
    }
}

/// The named schema a rule belongs to: the absolute keyword location when it lies in a
/// document's `components` or `$defs` (not in an operation's own inline schema), written as
/// `file#/components/schemas/Ticket/properties/severity/type` with the file's name only.
fn cause_of(e: &jsonschema::ValidationError<'_>) -> Option<String> {
    let location = e.absolute_keyword_location()?.to_string();
    let (doc, fragment) = location.split_once('#')?;
    let fragment = crate::contract::openapi::percent_decode(fragment);
    if !(fragment.starts_with("/components/")
        || fragment.starts_with("/$defs/")
        || fragment.starts_with("/definitions/"))
    {
        return None;
    }
    let file = doc.rsplit('/').next().unwrap_or(doc);
    Some(format!("{file}#{fragment}"))
}

/// jsonschema starts most messages with the instance itself: for an object or a long list
/// that is the whole thing, printed in a report line. It is said in a few words instead.
fn short_message(e: &jsonschema::ValidationError<'_>) -> String {
    let message = e.to_string();
    let instance = e.instance().to_string();
    if instance.len() <= 80 || !message.starts_with(&instance) {
        return message;
    }
    let what = match e.instance().as_ref() {
        Value::Object(m) => format!("an object with {} key(s)", m.len()),
        Value::Array(a) => format!("a list of {} item(s)", a.len()),
        Value::String(t) => format!("a string of {} characters", t.chars().count()),
        other => crate::matching::short(other),
    };
    format!("{what}{}", &message[instance.len()..])
}

/// Where a compile error is: the schema's location with the keyword's path inside it, or,
/// when the path is the document's own (a component the schema reached), that place.
fn keyword_place(owner: &str, path: &str) -> String {
    let doc_level = ["/components/", "/$defs/", "/definitions/", "/paths/", "/webhooks/"];
    if doc_level.iter().any(|p| path.starts_with(p)) {
        let doc = owner.split_once('#').map_or(owner, |(d, _)| d);
        format!("{doc}#{path}")
    } else {
        format!("{owner}{path}")
    }
}
