//! OpenAPI documents: loading, `$ref` discovery across local files, OAS 3.0 -> JSON Schema
//! translation, and the operation list.
//!
//! Every document is held as JSON under its `file://` URL. Only "structural" positions are
//! walked: values that are literal data (`example`, `examples`, `default`, `enum`, `const`,
//! `x-*` extensions) are never searched for `$ref`s or translated, because real specs put
//! `$ref`-looking data there. Schema validation itself is left to jsonschema, which receives
//! every document through one registry (see `schema.rs`).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use url::Url;

use crate::diag::{Diagnostic, Diagnostics};

/// Which dialect a document's schemas are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAPI 3.0: a JSON Schema draft-4 flavour with `nullable` and boolean exclusive bounds.
    Oas30,
    /// OpenAPI 3.1 and inline contract schemas: JSON Schema 2020-12.
    Oas31,
}

/// All documents loaded for one contract, keyed by URL (without fragment).
#[derive(Debug, Default)]
pub struct Documents {
    pub docs: BTreeMap<Url, Arc<Value>>,
    pub files: BTreeMap<Url, PathBuf>,
    /// What loads but is likely wrong (a keyword of the other OpenAPI version): `lint` warns.
    pub warnings: Vec<Diagnostic>,
    /// Resources that OAS 3.1 schemas name with `$id`: their URL -> (document, pointer).
    pub embedded: BTreeMap<Url, (Url, String)>,
}

/// At most this many warnings of one kind per file; then one line says how many more.
const WARNINGS_PER_KIND: usize = 5;

impl Documents {
    pub fn get(&self, url: &Url) -> Option<&Arc<Value>> {
        let mut key = url.clone();
        key.set_fragment(None);
        self.docs.get(&key)
    }

    pub fn file_of(&self, url: &Url) -> PathBuf {
        let mut key = url.clone();
        key.set_fragment(None);
        self.files
            .get(&key)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(url.as_str()))
    }

    /// Adds an already parsed document (the contract itself, for its inline schemas).
    pub fn insert(&mut self, url: Url, file: PathBuf, doc: Value) {
        self.files.insert(url.clone(), file);
        self.docs.insert(url, Arc::new(doc));
    }

    /// `$ref`s that lead only to other `$ref`s, round and round (`A: {$ref: B}`, `B: {$ref:
    /// A}`): they load and validation checks what it can around them, but a value there is
    /// checked by nothing, which `lint` says. One warning per cycle member, by file and pointer.
    pub fn ref_cycles(&self) -> Vec<Diagnostic> {
        fn walk(v: &Value, pointer: &mut String, found: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if matches!(m.get("$ref"), Some(Value::String(_))) {
                        found.push(pointer.clone());
                    }
                    for (k, c) in m {
                        // Examples and extensions are data, never followed.
                        if is_literal_key(k) {
                            continue;
                        }
                        let len = pointer.len();
                        pointer.push('/');
                        pointer.push_str(&crate::pointer::escape(k));
                        walk(c, pointer, found);
                        pointer.truncate(len);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        let len = pointer.len();
                        pointer.push_str(&format!("/{i}"));
                        walk(c, pointer, found);
                        pointer.truncate(len);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (url, doc) in &self.docs {
            let mut pointers = Vec::new();
            walk(doc, &mut String::new(), &mut pointers);
            for p in pointers {
                let Some(obj) = doc.pointer(&p) else { continue };
                if let Err(e) = self.deref(url, obj)
                    && e.contains("cycle")
                {
                    out.push(
                        Diagnostic::new(
                            self.file_of(url),
                            "this $ref leads only to $refs that lead back to it (a cycle): a value here is checked \
                             by nothing",
                        )
                        .pointer(if p.is_empty() { "/".to_string() } else { p }),
                    );
                }
            }
        }
        out
    }

    /// Loads an OpenAPI document and every local file it references, translating OAS 3.0
    /// schemas. Returns the root document's URL.
    pub fn load_openapi(&mut self, path: &Path, roots: &crate::files::Roots) -> Result<Url, Diagnostics> {
        let root_url = file_url(path).map_err(Diagnostics::from)?;
        if self.docs.contains_key(&root_url) {
            return Ok(root_url);
        }
        let root = read_document(path, roots)?;
        let dialect = detect_dialect(path, &root)?;
        let mut queue = VecDeque::from([(root_url.clone(), path.to_path_buf(), Some(root))]);
        let mut errors = Diagnostics::default();
        // Every `$ref` met while loading, checked once all files are in: (base, file, pointer, ref).
        let mut to_check: Vec<(Url, PathBuf, String, String)> = Vec::new();
        // Document URL -> the first (file, pointer) whose `$ref` led to it, for messages.
        let mut referrers: std::collections::HashMap<Url, (PathBuf, String)> = Default::default();
        while let Some((url, file, preloaded)) = queue.pop_front() {
            if self.docs.contains_key(&url) {
                continue;
            }
            let mut doc = match preloaded {
                Some(doc) => doc,
                None => match read_document(&file, roots) {
                    Ok(doc) => doc,
                    Err(e) => {
                        // Named where the `$ref` is, not only by the file it points at.
                        for d in e.0 {
                            errors.push(match referrers.get(&url) {
                                Some((from, pointer)) => {
                                    Diagnostic::new(from, format!("$ref to {}: {}", d.file.display(), d.message))
                                        .pointer(pointer.clone())
                                }
                                None => d,
                            });
                        }
                        continue;
                    }
                },
            };
            let mut refs = Vec::new();
            let mut misplaced: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            let mut patterns: Vec<(String, String)> = Vec::new();
            visit_structural(&mut doc, "", &mut |pointer, obj| {
                if let Some(Value::String(r)) = obj.get("$ref") {
                    refs.push((pointer.to_string(), r.clone()));
                }
                if let Some(kind) = other_version_keyword(dialect, obj) {
                    misplaced.entry(kind).or_default().push(pointer.to_string());
                }
                patterns.extend(super::pattern::fix_object(obj, pointer));
                if dialect == Dialect::Oas30 {
                    translate_oas30(obj);
                }
            });
            for (p, message) in patterns {
                self.warnings.push(Diagnostic::new(&file, message).pointer(p));
            }
            for (kind, pointers) in misplaced {
                for p in pointers.iter().take(WARNINGS_PER_KIND) {
                    self.warnings.push(Diagnostic::new(&file, kind).pointer(p.clone()));
                }
                if pointers.len() > WARNINGS_PER_KIND {
                    self.warnings.push(Diagnostic::new(
                        &file,
                        format!("... and {} more of: {kind}", pointers.len() - WARNINGS_PER_KIND),
                    ));
                }
            }
            // OAS 3.1 schemas are JSON Schema 2020-12: `$id` moves the base of the refs
            // beneath it and names a resource that lives inside this document, not a file.
            let ids = if dialect == Dialect::Oas31 {
                embedded_ids(&doc, &url)
            } else {
                Default::default()
            };
            for (pointer, r) in refs {
                let base = if dialect == Dialect::Oas31 {
                    base_at(&doc, &url, &pointer)
                } else {
                    url.clone()
                };
                to_check.push((base.clone(), file.clone(), pointer.clone(), r.clone()));
                match base.join(&r) {
                    Ok(mut target) => {
                        target.set_fragment(None);
                        if target != url
                            && !self.docs.contains_key(&target)
                            && !ids.contains_key(&target)
                            && !self.embedded.contains_key(&target)
                            && !is_known_metaschema(&target)
                        {
                            match local_path(&target) {
                                Some(p) => {
                                    referrers
                                        .entry(target.clone())
                                        .or_insert((file.clone(), pointer.clone()));
                                    queue.push_back((target, p, None))
                                }
                                None => match roots.remote_file(target.as_str()) {
                                    // A remote document with a local copy: read from it, known
                                    // by its URL (its own relative refs stay remote).
                                    Some(p) => {
                                        referrers
                                            .entry(target.clone())
                                            .or_insert((file.clone(), pointer.clone()));
                                        queue.push_back((target, p, None))
                                    }
                                    None => errors.push(Diagnostic::new(&file, not_fetched(&r)).pointer(pointer)),
                                },
                            }
                        }
                    }
                    Err(e) => errors.push(
                        Diagnostic::new(&file, format!("$ref {r:?} is not a valid reference: {e}")).pointer(pointer),
                    ),
                }
            }
            for (id, pointer) in ids {
                self.embedded.entry(id).or_insert((url.clone(), pointer));
            }
            self.insert(url, file, doc);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut broken = Diagnostics::default();
        for (base, file, pointer, r) in to_check {
            if let Some(d) = self.broken_ref(&base, &file, &pointer, &r) {
                broken.push(d);
            }
        }
        if !broken.is_empty() {
            return Err(broken);
        }
        Ok(root_url)
    }

    /// A diagnostic if `r`, met at `pointer` of the document `base`, designates nothing.
    fn broken_ref(&self, base: &Url, file: &Path, pointer: &str, r: &str) -> Option<Diagnostic> {
        let target = base.join(r).ok()?;
        if self.resolve_url(&target).is_some() || is_known_metaschema(&target) {
            return None;
        }
        Some(Diagnostic::new(file, format!("broken $ref {r:?}: {}", describe_missing(self, &target))).pointer(pointer))
    }

    /// The value a URL designates: a JSON-pointer fragment in a loaded document or in a
    /// resource a schema names with `$id`, or an `$anchor` / `$dynamicAnchor` name.
    pub fn resolve_url(&self, url: &Url) -> Option<&Value> {
        let mut key = url.clone();
        key.set_fragment(None);
        let resource = match self.docs.get(&key) {
            Some(doc) => doc.as_ref(),
            None => {
                let (doc_url, at) = self.embedded.get(&key)?;
                self.docs.get(doc_url)?.pointer(at)?
            }
        };
        let fragment = url.fragment().map(percent_decode).unwrap_or_default();
        if fragment.is_empty() {
            Some(resource)
        } else if fragment.starts_with('/') {
            resource.pointer(&fragment)
        } else {
            find_anchor(resource, &fragment)
        }
    }

    /// Follows `$ref` chains from `value` (found in document `base`) to the value they designate.
    /// Returns the document URL where the final value lives, for resolving refs inside it.
    pub fn deref<'a>(&'a self, base: &Url, value: &'a Value) -> Result<(Url, &'a Value), String> {
        let mut base = base.clone();
        let mut value = value;
        for _ in 0..32 {
            let Some(Value::String(r)) = value.get("$ref") else {
                return Ok((base, value));
            };
            let target = base.join(r).map_err(|e| format!("bad $ref {r:?}: {e}"))?;
            value = self.resolve_url(&target).ok_or_else(|| format!("broken $ref {r:?}"))?;
            base = target;
            base.set_fragment(None);
        }
        Err("a $ref chain longer than 32 links (a cycle?)".into())
    }
}

fn describe_missing(docs: &Documents, target: &Url) -> String {
    if docs.get(target).is_none() {
        format!(
            "the file {} was not found or could not be loaded",
            local_path(target)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| target.to_string())
        )
    } else {
        format!(
            "no such location {:?} in the document",
            target.fragment().map(percent_decode).unwrap_or_default()
        )
    }
}

/// The file a `file:` URL names. `Url::to_file_path` alone also turns
/// `http://localhost/x.json` into `/x.json`: a remote reference must never read the disk.
pub fn local_path(url: &Url) -> Option<PathBuf> {
    if url.scheme() != "file" {
        return None;
    }
    url.to_file_path().ok()
}

pub fn file_url(path: &Path) -> Result<Url, Diagnostic> {
    let abs = std::fs::canonicalize(path).map_err(|e| Diagnostic::new(path, format!("cannot open: {e}")))?;
    Url::from_file_path(&abs).map_err(|()| Diagnostic::new(path, "cannot turn this path into a file URL"))
}

fn not_fetched(r: &str) -> String {
    format!(
        "$ref {r:?} is remote: contrail never fetches one; give it a local copy with [schemas] remote in contrail.toml (prefix = \"folder\")"
    )
}

impl Documents {
    /// Loads the local copies of the remote documents that any loaded document (inline
    /// schemas included) refers to, and theirs in turn: relative references are read against
    /// the base in force, `$id` included. A remote reference without a copy is left for the
    /// validator to report, named.
    pub fn load_remote_refs(&mut self, roots: &crate::files::Roots) -> Diagnostics {
        let mut errors = Diagnostics::default();
        let mut queue: VecDeque<Url> = VecDeque::new();
        let mut seen = std::collections::HashSet::new();
        for (url, doc) in &self.docs {
            remote_targets(doc, url, &mut queue);
        }
        while let Some(url) = queue.pop_front() {
            if self.docs.contains_key(&url) || !seen.insert(url.clone()) {
                continue;
            }
            let Some(path) = roots.remote_file(url.as_str()) else {
                continue;
            };
            // No copy there: perhaps an identifier a schema declares for itself (`$id`), else
            // the validator names the reference it cannot resolve.
            if !path.is_file() {
                continue;
            }
            match read_document(&path, roots) {
                Ok(doc) => {
                    remote_targets(&doc, &url, &mut queue);
                    self.insert(url, path, doc);
                }
                Err(e) => errors.extend(e),
            }
        }
        errors
    }
}

/// The base URI in force at `pointer` of a 2020-12 document: the document's URL joined with
/// every `$id` on the way down (a schema's own `$id` included).
fn base_at(doc: &Value, url: &Url, pointer: &str) -> Url {
    let mut base = url.clone();
    let mut here = doc;
    let mut segments = pointer.split('/').skip(1).map(crate::pointer::unescape);
    loop {
        if let Some(id) = here.get("$id").and_then(Value::as_str)
            && let Ok(b) = base.join(id)
        {
            base = b;
        }
        let Some(seg) = segments.next() else { return base };
        let next = match here {
            Value::Object(m) => m.get(&seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        match next {
            Some(n) => here = n,
            None => return base,
        }
    }
}

/// Every resource a 2020-12 document's schemas name with `$id` (URL without fragment, read
/// against the base in force) and the pointer of the schema that names it.
fn embedded_ids(doc: &Value, url: &Url) -> BTreeMap<Url, String> {
    fn walk(v: &Value, base: &Url, pointer: &mut String, out: &mut BTreeMap<Url, String>) {
        match v {
            Value::Object(map) => {
                let mut base = base.clone();
                if let Some(id) = map.get("$id").and_then(Value::as_str)
                    && let Ok(mut b) = base.join(id)
                {
                    b.set_fragment(None);
                    out.entry(b.clone()).or_insert_with(|| pointer.clone());
                    base = b;
                }
                for (k, c) in map {
                    if is_literal_key(k) {
                        continue;
                    }
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&crate::pointer::escape(k));
                    walk(c, &base, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    walk(c, base, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(doc, url, &mut String::new(), &mut out);
    out.remove(url);
    out
}

/// The schema in `resource` that declares `$anchor` or `$dynamicAnchor` `name`. Searched
/// through the whole resource (an embedded resource with the same anchor is rare enough that
/// the validator, which scopes anchors exactly, has the last word).
fn find_anchor<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    match resource {
        Value::Object(map) => {
            if ["$anchor", "$dynamicAnchor"]
                .iter()
                .any(|k| map.get(*k).and_then(Value::as_str) == Some(name))
            {
                return Some(resource);
            }
            map.iter()
                .filter(|(k, _)| !is_literal_key(k))
                .find_map(|(_, c)| find_anchor(c, name))
        }
        Value::Array(a) => a.iter().find_map(|c| find_anchor(c, name)),
        _ => None,
    }
}

/// The JSON Schema metaschemas, which the validator carries itself: a `$ref` to one is
/// neither a file nor a fetch.
fn is_known_metaschema(url: &Url) -> bool {
    url.host_str() == Some("json-schema.org")
        && (url.path().starts_with("/draft/") || url.path().starts_with("/draft-0"))
}

/// Every remote (`http`/`https`) document `v` refers to, read against `base` and the `$id`s
/// met on the way.
fn remote_targets(v: &Value, base: &Url, out: &mut VecDeque<Url>) {
    match v {
        Value::Object(map) => {
            // `$id`, or draft 4's `id` when it reads as a URI reference (not a property value).
            let id = map.get("$id").and_then(Value::as_str).or_else(|| {
                map.get("id")
                    .and_then(Value::as_str)
                    .filter(|i| i.contains("://") || i.ends_with('/') || i.ends_with(".json"))
            });
            let base = match id.map(|id| base.join(id)) {
                Some(Ok(b)) => b,
                _ => base.clone(),
            };
            for (k, child) in map {
                if is_literal_key(k) {
                    continue;
                }
                if matches!(k.as_str(), "$ref" | "$dynamicRef")
                    && let Some(r) = child.as_str()
                    && let Ok(mut target) = base.join(r)
                {
                    target.set_fragment(None);
                    if matches!(target.scheme(), "http" | "https") {
                        out.push_back(target);
                    }
                }
                remote_targets(child, &base, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| remote_targets(i, base, out)),
        _ => {}
    }
}

fn read_document(path: &Path, roots: &crate::files::Roots) -> Result<Value, Diagnostics> {
    let text = roots.read(path)?;
    Ok(crate::yaml::from_document::<Value>(path, &text)?)
}

fn detect_dialect(path: &Path, doc: &Value) -> Result<Dialect, Diagnostic> {
    if let Some(v) = doc.get("swagger") {
        return Err(Diagnostic::new(
            path,
            format!(
                "this is a Swagger {} document; contrail reads OpenAPI 3.0 and 3.1. Convert it first (for example with swagger2openapi or the Swagger Editor's \"Convert to OpenAPI 3\")",
                v.as_str().unwrap_or("2.0")
            ),
        )
        .pointer("/swagger"));
    }
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") => Ok(Dialect::Oas30),
        Some(v) if v.starts_with("3.1") || v.starts_with("3.2") => Ok(Dialect::Oas31),
        Some(v) => Err(Diagnostic::new(
            path,
            format!("unsupported OpenAPI version {v:?} (expected 3.0.x or 3.1.x)"),
        )
        .pointer("/openapi")),
        None => Err(Diagnostic::new(
            path,
            "not an OpenAPI document: the top-level \"openapi\" field is missing",
        )
        .pointer("")),
    }
}

/// Keys whose values are literal data, never schemas or references.
fn is_literal_key(key: &str) -> bool {
    matches!(key, "example" | "default" | "enum" | "const") || key.starts_with("x-")
}

/// Keys whose object values map *names* to structures (so a property called `default` is a
/// name, not the `default` keyword).
fn is_name_map(key: &str) -> bool {
    matches!(
        key,
        "properties"
            | "patternProperties"
            | "$defs"
            | "definitions"
            | "dependentSchemas"
            | "schemas"
            | "paths"
            | "responses"
            | "parameters"
            | "headers"
            | "content"
            | "callbacks"
            | "webhooks"
            | "securitySchemes"
            | "requestBodies"
            | "links"
            | "pathItems"
            | "encoding"
    )
}

/// Calls `f` on every structural object of `value` with its JSON pointer, depth first.
pub fn visit_structural(value: &mut Value, pointer: &str, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    match value {
        Value::Object(obj) => {
            f(pointer, obj);
            for (key, child) in obj.iter_mut() {
                let child_ptr = format!("{pointer}/{}", crate::pointer::escape(key));
                if is_literal_key(key) {
                    continue;
                }
                if key == "examples" {
                    // Example Objects: their `value` is literal; schema `examples` arrays are data.
                    if let Value::Object(map) = child {
                        for (name, ex) in map.iter_mut() {
                            if let Value::Object(ex_obj) = ex {
                                let ex_ptr = format!("{child_ptr}/{}", crate::pointer::escape(name));
                                f(&ex_ptr, ex_obj);
                            }
                        }
                    }
                    continue;
                }
                if is_name_map(key)
                    && let Value::Object(map) = child
                {
                    for (name, entry) in map.iter_mut() {
                        visit_structural(entry, &format!("{child_ptr}/{}", crate::pointer::escape(name)), f);
                    }
                    continue;
                }
                visit_structural(child, &child_ptr, f);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit_structural(item, &format!("{pointer}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// OAS 3.0 schema -> JSON Schema 2020-12, in place, for one object.
/// A keyword of the other OpenAPI version in a schema: it loads, but means nothing (or not
/// what its author thought) in this one.
fn other_version_keyword(dialect: Dialect, obj: &Map<String, Value>) -> Option<&'static str> {
    match dialect {
        Dialect::Oas31 if obj.contains_key("nullable") => {
            Some("`nullable` is OpenAPI 3.0: a 3.1 document ignores it; write `type: [T, \"null\"]`")
        }
        Dialect::Oas31
            if obj
                .get("exclusiveMinimum")
                .or(obj.get("exclusiveMaximum"))
                .is_some_and(Value::is_boolean) =>
        {
            Some("a boolean `exclusiveMinimum`/`exclusiveMaximum` is OpenAPI 3.0: in 3.1 the bound itself is the value")
        }
        Dialect::Oas30 if obj.get("type").is_some_and(Value::is_array) => {
            Some("`type` as a list is OpenAPI 3.1: a 3.0 schema has one type (use `nullable: true` or `oneOf`)")
        }
        Dialect::Oas30 if obj.contains_key("const") || obj.contains_key("$defs") => {
            Some("`const` and `$defs` are OpenAPI 3.1 (JSON Schema 2020-12): a 3.0 document does not have them")
        }
        _ => None,
    }
}

pub fn translate_oas30(obj: &mut Map<String, Value>) {
    if let Some(nullable) = obj.remove("nullable")
        && nullable == Value::Bool(true)
    {
        make_nullable(obj);
    }
    for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(Value::Bool(b)) = obj.get(flag).cloned() {
            obj.remove(flag);
            if b && let Some(limit) = obj.remove(bound) {
                obj.insert(flag.to_string(), limit);
            }
        }
    }
}

fn make_nullable(obj: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = obj.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match obj.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            obj.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), Value::String("null".into())]),
            );
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".into()));
            }
        }
        _ => {
            // No type of its own (a $ref or a composition): null or whatever it was.
            let inner: Map<String, Value> = std::mem::take(obj);
            obj.insert(
                "anyOf".into(),
                Value::Array(vec![Value::Object(inner), serde_json::json!({"type": "null"})]),
            );
        }
    }
}

pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s.as_bytes())).into_owned()
}

/// The byte a `%XX` escape at `i` stands for, when there is one there.
pub fn escaped_byte(value: &[u8], i: usize) -> Option<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    if value.get(i) != Some(&b'%') {
        return None;
    }
    Some(hex(*value.get(i + 1)?)? * 16 + hex(*value.get(i + 2)?)?)
}

/// Decodes `%XX` escapes byte by byte (a `%` before a multi-byte character, or not followed
/// by two hex digits, stays as it is).
pub fn percent_decode_bytes(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if let Some(b) = escaped_byte(value, i) {
            out.push(b);
            i += 3;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    out
}

/// HTTP methods an OpenAPI path item may hold.
pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
