//! Integration contracts: the contract file, the partners' API shape (OpenAPI or inline JSON
//! Schemas) and the answers a run needs ("which operation is this", "is this response valid",
//! "what does this mapping say").
//!
//! `model` is the file format, `openapi` loads documents, `operation` builds the operation list,
//! `schema` compiles validators. This module ties them into a `Contract` and checks that every
//! name the contract uses points at something that exists.

pub mod headers;
pub mod judge;
pub mod model;
pub mod openapi;
pub mod operation;
pub mod pattern;
pub mod request_check;
pub mod schema;
pub mod schema_at;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
pub use model::{AuthDoc, ContractDoc, MappingDoc, PartnerDoc};
pub use operation::{Operation, SchemaRef};
pub use schema::{Schemas, Violation};

#[derive(Debug)]
pub struct Partner {
    pub name: String,
    pub doc: PartnerDoc,
    pub operations: Vec<Operation>,
    /// `doc.rate_limit`, its window read once at load (a bad one fails the load).
    pub rate_limit: Option<RateLimit>,
    /// `doc.latency_budget`, read once at load.
    pub latency_budget: Option<std::time::Duration>,
}

/// A partner's rate limit: `requests` per `per` (never zero: the load refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: std::time::Duration,
}

impl Partner {
    /// The path of the OAuth token endpoint, when the partner uses one (an absolute token URL
    /// elsewhere gives its path).
    pub fn token_path(&self) -> Option<String> {
        match &self.doc.auth {
            Some(model::AuthDoc::Oauth2ClientCredentials { token_url, .. }) => Some(match url::Url::parse(token_url) {
                Ok(u) => u.path().to_string(),
                Err(_) => token_url.clone(),
            }),
            _ => None,
        }
    }

    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }

    /// The operation a concrete request hits, with its path parameters.
    pub fn operation_for(&self, method: &str, path: &str) -> Option<(&Operation, BTreeMap<String, String>)> {
        // Prefer the template with the most literal segments: /tickets/search over /tickets/{id}.
        let mut best: Option<(&Operation, BTreeMap<String, String>)> = None;
        for op in self.operations.iter().filter(|o| o.method.eq_ignore_ascii_case(method)) {
            if let Some(params) = op.match_path(path)
                && best.as_ref().is_none_or(|(_, p)| params.len() < p.len())
            {
                best = Some((op, params));
            }
        }
        best
    }
}

#[derive(Debug)]
pub struct Contract {
    pub name: String,
    pub version: String,
    pub file: PathBuf,
    pub doc: ContractDoc,
    pub partners: BTreeMap<String, Partner>,
    pub schemas: Schemas,
    /// Webhook event name -> payload schema.
    pub webhook_schemas: BTreeMap<String, SchemaRef>,
    /// Webhooks known only from a partner's OpenAPI 3.1 `webhooks:` (event -> that partner).
    pub imported_webhooks: BTreeMap<String, String>,
    /// Event -> how its sender redelivers (`webhooks.EVENT.retry`, read at load).
    pub webhook_retries: BTreeMap<String, model::WebhookRetry>,
    /// How replay, recording and drift treat each field.
    pub policy: crate::policy::FieldPolicy,
    /// What loads but is likely wrong (a `$ref` cycle): `lint` prints these as warnings.
    pub warnings: Diagnostics,
}

impl Contract {
    /// The partner that sends `event`: as the contract declares it, else as a partner's
    /// OpenAPI document does.
    pub fn webhook_sender(&self, event: &str) -> Option<&str> {
        self.doc
            .webhooks
            .get(event)
            .map(|h| h.from.value.as_str())
            .or_else(|| self.imported_webhooks.get(event).map(String::as_str))
    }

    /// Every event a feature may name.
    pub fn webhook_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .doc
            .webhooks
            .keys()
            .chain(self.imported_webhooks.keys())
            .map(String::as_str)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The OAuth scopes the contract declares for `partner` (its auth's `scopes`), or for every
    /// partner; None when no such partner uses OAuth with declared scopes, so there is nothing to
    /// check a scope against.
    pub fn declared_scopes(&self, partner: Option<&str>) -> Option<std::collections::BTreeSet<&str>> {
        let mut out = std::collections::BTreeSet::new();
        let mut any = false;
        for (name, p) in &self.partners {
            if partner.is_some_and(|w| w != name) {
                continue;
            }
            if let Some(model::AuthDoc::Oauth2ClientCredentials { scopes, .. }) = p.doc.auth.as_ref()
                && !scopes.is_empty()
            {
                any = true;
                out.extend(scopes.keys().map(String::as_str));
            }
        }
        any.then_some(out)
    }

    /// Loads a contract file and everything it references, reading only under the folder
    /// that holds its folder (the workspace, by convention). All problems found are returned.
    pub fn load(file: &Path) -> Result<Contract, Diagnostics> {
        let dir = file.parent().unwrap_or(Path::new("."));
        let root = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(dir);
        Self::load_within(file, &crate::files::Roots::new([root.to_path_buf(), dir.to_path_buf()]))
    }

    /// Loads a contract file and everything it references; files outside `roots` are refused.
    pub fn load_within(file: &Path, roots: &crate::files::Roots) -> Result<Contract, Diagnostics> {
        let text = crate::yaml::read(file)?;
        let doc: ContractDoc = crate::yaml::from_yaml(file, &text)?;
        // Parsed twice on purpose: the typed parse keeps line/column spans for messages, the
        // Value is the document inline schemas are resolved in (contracts are small).
        let mut value: Value = crate::yaml::from_yaml(file, &text)?;
        let contract_url = openapi::file_url(file)?;
        let base_dir = file.parent().unwrap_or(Path::new("."));

        let mut docs = openapi::Documents::default();
        let mut spec_warnings = Vec::new();
        // Inline schemas' JavaScript patterns, as in the OpenAPI documents (see `pattern`).
        openapi::visit_structural(&mut value, "", &mut |pointer, obj| {
            for (at, message) in pattern::fix_object(obj, pointer) {
                spec_warnings.push(Diagnostic::new(file, message).pointer(at));
            }
        });
        docs.insert(contract_url.clone(), file.to_path_buf(), value.clone());
        let mut errors = Diagnostics::default();
        // Partner and contract names become folder and file names (recordings/<partner>/).
        let names = std::iter::once(("contract", &doc.contract)).chain(doc.partners.keys().map(|p| ("partner", p)));
        for (what, name) in names {
            if !crate::files::is_safe_name(name) {
                let line = text
                    .lines()
                    .position(|l| l.contains(&format!("{name}:")) || l.contains(&format!(" {name}")))
                    .map_or(1, |i| i + 1);
                errors.push(
                    Diagnostic::new(
                        file,
                        format!(
                            "{what} name {name:?} is not allowed: use letters, digits, '.', '_' and '-', starting \
                             with a letter or digit (it names a folder of recordings)"
                        ),
                    )
                    .at(line, 1),
                );
            }
        }
        // Durations are read when a scenario or a mock needs them: a typo must fail here, at
        // load, not as a harness error in the middle of a run (or, for the simulator, as no
        // rate limit at all).
        let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1);
        let (mut budgets, mut limits) = (BTreeMap::new(), BTreeMap::new());
        for (name, p) in &doc.partners {
            if let Some(b) = &p.latency_budget {
                match humantime::parse_duration(b) {
                    Ok(d) => {
                        budgets.insert(name.clone(), d);
                    }
                    Err(e) => errors.push(
                        Diagnostic::new(
                            file,
                            format!("partner {name:?}: latency_budget {b:?} is not a duration: {e}"),
                        )
                        .at(line_of(&format!("latency_budget: {b}")), 1),
                    ),
                }
            }
            if let Some(r) = &p.rate_limit {
                let at = line_of(&format!("per: {}", r.per));
                match humantime::parse_duration(&r.per) {
                    Ok(d) if d.is_zero() => errors.push(
                        Diagnostic::new(file, format!("partner {name:?}: rate_limit.per must be longer than 0"))
                            .at(at, 1),
                    ),
                    Ok(per) if r.requests > 0 => {
                        limits.insert(
                            name.clone(),
                            RateLimit {
                                requests: r.requests,
                                per,
                            },
                        );
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(
                        Diagnostic::new(
                            file,
                            format!(
                                "partner {name:?}: rate_limit.per {:?} is not a duration (say \"1s\" or \"1m\"): {e}",
                                r.per
                            ),
                        )
                        .at(at, 1),
                    ),
                }
                if r.requests == 0 {
                    errors.push(
                        Diagnostic::new(file, format!("partner {name:?}: rate_limit.requests must be 1 or more"))
                            .at(line_of("requests:"), 1),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut partners = BTreeMap::new();
        let mut spec_roots = BTreeMap::new();
        for (name, p) in &doc.partners {
            let mut operations = Vec::new();
            if let Some(spec) = &p.openapi {
                let spec_path = base_dir.join(&spec.value);
                if !spec_path.is_file() {
                    errors.push(located(
                        file,
                        spec,
                        format!(
                            "partner {name:?}: OpenAPI document {:?} not found (looked at {})",
                            spec.value,
                            spec_path.display()
                        ),
                    ));
                } else if let Err(d) = roots.check(&spec_path) {
                    errors.push(located(file, spec, format!("partner {name:?}: {}", d.message)));
                } else {
                    match docs.load_openapi(&spec_path, roots) {
                        Ok(root) => {
                            match operation::from_openapi(&docs, &root, name) {
                                Ok((ops, w)) => {
                                    operations.extend(ops);
                                    spec_warnings.extend(w);
                                }
                                Err(e) => errors.extend(e),
                            }
                            spec_roots.insert(name.clone(), root);
                        }
                        Err(e) => errors.extend(e),
                    }
                }
            }
            match operation::from_inline(&contract_url, &value, name, file) {
                Ok(ops) => {
                    // The contract's own operations name scopes its own auth must declare.
                    if let Some(model::AuthDoc::Oauth2ClientCredentials { scopes, .. }) = p.auth.as_ref()
                        && !scopes.is_empty()
                    {
                        for (i, op) in ops.iter().enumerate() {
                            for (j, scope) in op.scopes.iter().enumerate() {
                                if !scopes.contains_key(scope) {
                                    errors.push(
                                        Diagnostic::new(
                                            file,
                                            format!(
                                                "the operation {:?} names the scope {scope:?}, which partner {name:?}'s auth does not declare (declared: {})",
                                                op.id,
                                                scopes.keys().cloned().collect::<Vec<_>>().join(", ")
                                            ),
                                        )
                                        .pointer(format!(
                                            "/partners/{}/operations/{i}/scopes/{j}",
                                            crate::pointer::escape(name)
                                        )),
                                    );
                                }
                            }
                        }
                    }
                    operations.extend(ops);
                }
                Err(e) => errors.extend(e),
            }
            let mut seen = std::collections::HashSet::new();
            for op in &operations {
                if !seen.insert(op.id.as_str()) {
                    errors.push(Diagnostic::new(
                        file,
                        format!(
                            "partner {name:?} has two operations with the id {:?}; ids must be unique (second one: {})",
                            op.id, op.source
                        ),
                    ));
                }
            }
            partners.insert(
                name.clone(),
                Partner {
                    name: name.clone(),
                    doc: p.clone(),
                    operations,
                    rate_limit: limits.get(name).copied(),
                    latency_budget: budgets.get(name).copied(),
                },
            );
        }

        check_names(file, &doc, &mut errors);

        let mut webhook_schemas = BTreeMap::new();
        let mut webhook_retries = BTreeMap::new();
        for (event, w) in &doc.webhooks {
            if let Some(retry) = &w.retry {
                match retry.read() {
                    Ok(r) => {
                        webhook_retries.insert(event.clone(), r);
                    }
                    Err(e) => errors.push(located(file, &w.from, format!("webhook {event:?}: {e}"))),
                }
            }
            if let Some(schema) = &w.schema {
                let ptr = format!("/webhooks/{}/schema", crate::pointer::escape(event));
                webhook_schemas.insert(event.clone(), SchemaRef::inline(&contract_url, &ptr, schema));
            } else if let Some(r) = &w.schema_ref {
                let Some(root) = spec_roots.get(&w.from.value) else {
                    errors.push(located(
                        file,
                        r,
                        format!(
                            "webhook {event:?}: schema_ref needs the partner {:?} to have an OpenAPI document",
                            w.from.value
                        ),
                    ));
                    continue;
                };
                match root
                    .join(&r.value)
                    .ok()
                    .and_then(|u| docs.resolve_url(&u).map(|v| (u, v)))
                {
                    Some((u, v)) => {
                        let mut base = u.clone();
                        base.set_fragment(None);
                        webhook_schemas.insert(event.clone(), SchemaRef::at(&base, u.fragment().unwrap_or(""), v));
                    }
                    None => errors.push(located(
                        file,
                        r,
                        format!(
                            "webhook {event:?}: schema_ref {:?} points at nothing in {}",
                            r.value,
                            docs.file_of(root).display()
                        ),
                    )),
                }
            }
        }

        // OAS 3.1's top-level `webhooks:` of each partner's document: every one there can be
        // named in a feature without restating it here (the contract adds signature and retry).
        let mut imported_webhooks = BTreeMap::new();
        for (partner, root) in &spec_roots {
            let Some(hooks) = docs
                .get(root)
                .and_then(|d| d.get("webhooks"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (event, item) in hooks {
                if webhook_schemas.contains_key(event) {
                    continue;
                }
                let Ok((item_base, item)) = docs.deref(root, item) else {
                    continue;
                };
                let Some((method, op)) = item
                    .as_object()
                    .and_then(|m| m.iter().find(|(k, _)| openapi::METHODS.contains(&k.as_str())))
                else {
                    continue;
                };
                let Some(body) = op.get("requestBody") else { continue };
                let Ok((body_base, body)) = docs.deref(&item_base, body) else {
                    continue;
                };
                let Some((media, schema)) = body
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().find(|(k, _)| k.contains("json")))
                    .and_then(|(k, m)| m.get("schema").map(|s| (k, s)))
                else {
                    continue;
                };
                let ptr = if body_base == item_base && item_base == *root {
                    format!(
                        "/webhooks/{}/{method}/requestBody/content/{}/schema",
                        crate::pointer::escape(event),
                        crate::pointer::escape(media)
                    )
                } else {
                    format!("/webhooks/{}@{}", crate::pointer::escape(event), body_base.path())
                };
                webhook_schemas.insert(event.clone(), SchemaRef::at(&body_base, &ptr, schema));
                imported_webhooks.insert(event.clone(), partner.clone());
            }
        }

        let policy = match crate::policy::FieldPolicy::from_docs(&doc.redact, &doc.policy) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(Diagnostic::new(file, format!("policy: {e}")));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let policy = policy.unwrap_or_default();
        let all = partners
            .values()
            .flat_map(|p| &p.operations)
            .flat_map(|op| op.schemas())
            .chain(webhook_schemas.values());
        let remote = docs.load_remote_refs(roots);
        if !remote.is_empty() {
            return Err(remote);
        }
        let schemas = Schemas::new(&docs, all, doc.formats).map_err(|e| Diagnostics::from(Diagnostic::new(file, e)))?;
        let mut warnings = Diagnostics(docs.ref_cycles());
        warnings.extend(Diagnostics(std::mem::take(&mut docs.warnings)));
        warnings.extend(Diagnostics(spec_warnings));
        Ok(Contract {
            warnings,
            name: doc.contract.clone(),
            version: doc.version.clone(),
            file: file.to_path_buf(),
            doc,
            partners,
            schemas,
            webhook_schemas,
            imported_webhooks,
            webhook_retries,
            policy,
        })
    }

    pub fn partner(&self, name: &str) -> Option<&Partner> {
        self.partners.get(name)
    }

    /// Finds an operation by id across partners; `None` when no partner has it.
    pub fn find_operation(&self, id: &str) -> Vec<&Operation> {
        self.partners.values().filter_map(|p| p.operation(id)).collect()
    }

    pub fn mapping(&self, name: &str) -> Option<&MappingDoc> {
        self.doc.mappings.get(name)
    }

    /// Compiles every schema (lint does this so that a broken schema is found before a run).
    fn locate_compile_error(&self, line: &str) -> Diagnostic {
        let located = line.strip_prefix("the schema at ").and_then(|rest| {
            let (place, tail) = rest.split_once(' ')?;
            let (doc, pointer) = place.split_once('#')?;
            let mut url = url::Url::parse(doc).ok()?;
            // An inline schema's base carries its place as a query; the file is the contract.
            url.set_query(None);
            let path = openapi::local_path(&url)?;
            Some(Diagnostic::new(path, format!("this schema {tail}")).pointer(pointer.to_string()))
        });
        located.unwrap_or_else(|| Diagnostic::new(&self.file, line))
    }

    pub fn compile_all(&self) -> Diagnostics {
        match self.schemas.compile() {
            Ok(()) => Diagnostics::default(),
            // Each at the document and pointer of the keyword that broke, where the line names one.
            Err(e) => Diagnostics(e.lines().map(|l| self.locate_compile_error(l)).collect()),
        }
    }
}

/// What a mapping says the target value is for a source value (`None`: missing or null).
pub fn apply_mapping(mapping: &MappingDoc, source: Option<&Value>) -> Option<Value> {
    let key = match source {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    key.and_then(|k| mapping.values.get(&k).cloned())
        .or_else(|| mapping.default.clone())
}

fn located<T>(file: &Path, spanned: &Spanned<T>, message: String) -> Diagnostic {
    let loc = spanned.referenced;
    Diagnostic::new(file, message).at(loc.line() as usize, loc.column() as usize)
}

/// Every cross-reference in the contract must name something declared in it.
fn check_names(file: &Path, doc: &ContractDoc, errors: &mut Diagnostics) {
    let partner_names: Vec<&str> = doc.partners.keys().map(String::as_str).collect();
    let check_partner = |s: &Spanned<String>, what: &str, errors: &mut Diagnostics| {
        if !doc.partners.contains_key(&s.value) {
            errors.push(located(
                file,
                s,
                format!(
                    "{what} names the partner {:?}, which the contract does not declare (partners: {})",
                    s.value,
                    partner_names.join(", ")
                ),
            ));
        }
    };
    for (name, obj) in &doc.objects {
        check_partner(&obj.partner, &format!("object {name:?}"), errors);
        for (field, f) in &obj.fields {
            if let Some(sot) = &f.source_of_truth {
                check_partner(sot, &format!("field {name}.{field}: source_of_truth"), errors);
            }
        }
    }
    for (event, w) in &doc.webhooks {
        check_partner(&w.from, &format!("webhook {event:?}"), errors);
        if let Some(problem) = w.signature.as_ref().and_then(|s| s.problem()) {
            errors.push(located(file, &w.from, format!("webhook {event:?}: {problem}")));
        }
    }
    for (name, m) in &doc.mappings {
        for end in [&m.from, &m.to] {
            let Some((object, field)) = end.value.split_once('.') else {
                errors.push(located(
                    file,
                    end,
                    format!("mapping {name:?}: {:?} should be written object.field", end.value),
                ));
                continue;
            };
            match doc.objects.get(object) {
                None if doc.objects.is_empty() => {}
                None => errors.push(located(
                    file,
                    end,
                    format!("mapping {name:?}: no object {object:?} in the contract's objects"),
                )),
                Some(o) if !o.fields.is_empty() && !o.fields.contains_key(field) => errors.push(located(
                    file,
                    end,
                    format!("mapping {name:?}: object {object:?} has no field {field:?}"),
                )),
                Some(_) => {}
            }
        }
    }
}

/// All contracts of a workspace, by name.
#[derive(Debug, Default)]
pub struct Catalog {
    pub contracts: BTreeMap<String, Arc<Contract>>,
    /// Names of contracts whose file did not load (from its `contract:` line, else the file's
    /// stem): a feature naming one is not told again that no such contract exists.
    pub failed: Vec<String>,
}

impl Catalog {
    /// Checks that some contract names `partner`; the error lists the partners there are.
    pub fn knows_partner(&self, partner: &str) -> Result<(), String> {
        let known: std::collections::BTreeSet<&str> = self
            .contracts
            .values()
            .flat_map(|c| c.partners.keys().map(String::as_str))
            .collect();
        if known.contains(partner) {
            return Ok(());
        }
        Err(format!(
            "no contract has a partner {partner:?} (partners: {})",
            known.into_iter().collect::<Vec<_>>().join(", ")
        ))
    }

    /// Loads every contract file (`*.yaml`, `*.yml`, `*.json` with a top-level `contract:`) found
    /// directly in `dir`. OpenAPI documents in the same folder are skipped.
    pub fn load_dir(dir: &Path, roots: &crate::files::Roots) -> (Catalog, Diagnostics) {
        let mut catalog = Catalog::default();
        let mut errors = Diagnostics::default();
        for file in contract_files(dir) {
            match Contract::load_within(&file, roots) {
                Ok(c) => {
                    if let Some(prev) = catalog.contracts.get(&c.name) {
                        errors.push(Diagnostic::new(
                            &file,
                            format!(
                                "a second contract named {:?} (the first is {})",
                                c.name,
                                prev.file.display()
                            ),
                        ));
                    } else {
                        catalog.contracts.insert(c.name.clone(), Arc::new(c));
                    }
                }
                Err(e) => {
                    errors.extend(e);
                    catalog.failed.push(name_of_failed(&file));
                }
            }
        }
        (catalog, errors)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Contract>> {
        self.contracts.get(name)
    }
}

/// The name a contract file that did not load means to have.
fn name_of_failed(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("contract:"))
        .map(|n| n.trim().trim_matches(['"', '\'']).to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| file.file_stem().unwrap_or_default().to_string_lossy().into_owned())
}

/// Contract files directly under `dir` (sorted), telling them from OpenAPI documents by content:
/// a document with a top-level `openapi` or `swagger` key is a spec, not a contract.
pub fn contract_files(dir: &Path) -> Vec<PathBuf> {
    crate::workspace::files_in(dir, &["yaml", "yml", "json"])
        .into_iter()
        .filter(|p| !is_api_spec(p))
        .collect()
}

fn is_api_spec(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if path.extension().is_some_and(|e| e == "json") {
        return serde_json::from_str::<serde_json::Map<String, Value>>(&text)
            .is_ok_and(|m| m.contains_key("openapi") || m.contains_key("swagger"));
    }
    // In YAML a top-level key starts at column 0.
    text.lines()
        .any(|l| l.starts_with("openapi:") || l.starts_with("swagger:"))
}
