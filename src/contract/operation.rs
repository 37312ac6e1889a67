//! Operations: what a partner's API offers, whether described by OpenAPI or inline.
//!
//! An operation knows its id, method, path template, parameters, request body and, per status,
//! the schema of each response body. Schemas are held as `SchemaRef`: a copy of the schema with
//! every `$ref` made absolute, so it compiles on its own against the shared registry.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use url::Url;

use super::openapi::{Documents, METHODS, visit_structural};
use crate::diag::{Diagnostic, Diagnostics};

#[derive(Debug, Clone)]
pub struct SchemaRef {
    /// Unique key: the URL of the schema's location (document + pointer).
    pub key: String,
    /// A copy with every `$ref` made absolute: what contrail's own walks (payloads, headers,
    /// drift's key rules) read.
    pub schema: Arc<Value>,
    /// A schema written in the contract itself is a JSON Schema document of its own: it is
    /// validated as written, with this base URI, so that `#/$defs/...`, `$id`, `$anchor`,
    /// `$dynamicRef` and a `$schema` naming another draft mean what the specification says.
    pub standalone: Option<(String, Arc<Value>)>,
}

impl SchemaRef {
    /// A schema written inline in the contract at `pointer` (see `standalone`).
    pub fn inline(contract_url: &Url, pointer: &str, value: &Value) -> Self {
        let mut base = contract_url.clone();
        base.set_query(Some(&format!("schema={pointer}")));
        base.set_fragment(None);
        let mut s = Self::at(&base, "", value);
        s.key = format!("{}#{}", contract_url.as_str(), pointer);
        s.standalone = Some((base.to_string(), Arc::new(value.clone())));
        s
    }

    /// Copies the schema at `pointer` of document `base`, rewriting its refs to absolute URLs.
    pub fn at(base: &Url, pointer: &str, value: &Value) -> Self {
        let mut schema = value.clone();
        absolutize_refs(&mut schema, base);
        Self {
            key: format!("{}#{}", base.as_str(), pointer),
            schema: Arc::new(schema),
            standalone: None,
        }
    }
}

fn absolutize_refs(value: &mut Value, base: &Url) {
    visit_structural(value, "", &mut |_, obj| {
        if let Some(Value::String(r)) = obj.get_mut("$ref")
            && let Ok(abs) = base.join(r)
        {
            *r = abs.to_string();
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: ParamIn,
    pub required: bool,
    /// The schema its value must meet (read as the `simple`/`form` styles write it).
    pub schema: Option<SchemaRef>,
}

/// A header a response (or a request) declares.
#[derive(Debug, Clone)]
pub struct HeaderSpec {
    /// As the contract spells it; compared without regard to case.
    pub name: String,
    pub required: bool,
    pub schema: Option<SchemaRef>,
}

#[derive(Debug, Clone, Default)]
pub struct Body {
    pub required: bool,
    /// Media type -> schema (None when the media type declares no schema).
    pub content: BTreeMap<String, Option<SchemaRef>>,
    /// Headers declared beside the body (responses' `headers`).
    pub headers: Vec<HeaderSpec>,
}

impl Body {
    /// Every schema it holds: its media types' and its headers'.
    pub fn schemas(&self) -> impl Iterator<Item = &SchemaRef> {
        self.content
            .values()
            .flatten()
            .chain(self.headers.iter().filter_map(|h| h.schema.as_ref()))
    }
}

impl Operation {
    /// Every schema the operation holds: parameters, request body, responses with headers.
    pub fn schemas(&self) -> impl Iterator<Item = &SchemaRef> {
        self.params
            .iter()
            .filter_map(|p| p.schema.as_ref())
            .chain(self.request_body.iter().flat_map(Body::schemas))
            .chain(self.responses.values().flat_map(Body::schemas))
    }
}

/// The contract's word on one response of an operation.
#[derive(Debug)]
pub enum ResponseSchema<'a> {
    /// The status is not among the declared ones.
    UndeclaredStatus {
        declared: Vec<&'a str>,
    },
    /// Declared (as `declared`: "201", "4XX", "default"), with no body schema to check.
    NoBody {
        declared: &'a str,
    },
    /// The status is declared but not this media type.
    UndeclaredType {
        declared: &'a str,
        types: Vec<&'a str>,
    },
    Schema {
        declared: &'a str,
        schema: &'a SchemaRef,
    },
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub partner: String,
    /// Upper case: GET, POST, ...
    pub method: String,
    /// Path template, e.g. `/tickets/{id}`.
    pub path: String,
    pub params: Vec<Param>,
    pub request_body: Option<Body>,
    /// Status ("201", "4XX", "default") -> response body.
    pub responses: BTreeMap<String, Body>,
    /// OAuth scopes the operation's security requirement names.
    pub scopes: Vec<String>,
    /// Its security requirement lets anyone in (`security: []`, or an alternative `{}`).
    pub public: bool,
    /// Where it is described, for messages: `file#/paths/~1tickets/post`.
    pub source: String,
}

impl Operation {
    /// The declared response for a status: exact, then `2XX`-style range, then `default`.
    pub fn response_for(&self, status: u16) -> Option<(&str, &Body)> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        for key in [exact.as_str(), range.as_str(), "default"] {
            if let Some((k, body)) = self.responses.get_key_value(key) {
                return Some((k.as_str(), body));
            }
        }
        // OpenAPI allows lower-case ranges too.
        let lower = range.to_lowercase();
        self.responses
            .get_key_value(lower.as_str())
            .map(|(k, b)| (k.as_str(), b))
    }

    /// What the contract says a response with this status and media type must look like.
    /// Shared by the "matches the contract" step and drift, so both read a response alike.
    pub fn response_schema(&self, status: u16, media_type: &str) -> ResponseSchema<'_> {
        let Some((declared, body)) = self.response_for(status) else {
            return ResponseSchema::UndeclaredStatus {
                declared: self.responses.keys().map(String::as_str).collect(),
            };
        };
        if body.content.is_empty() {
            return ResponseSchema::NoBody { declared };
        }
        let found = body
            .content
            .get(media_type)
            .or_else(|| {
                body.content
                    .iter()
                    .find(|(k, _)| k.ends_with("+json") && media_type.ends_with("+json"))
                    .map(|(_, v)| v)
            })
            .or_else(|| body.content.get("*/*"));
        match found {
            None => ResponseSchema::UndeclaredType {
                declared,
                types: body.content.keys().map(String::as_str).collect(),
            },
            Some(None) => ResponseSchema::NoBody { declared },
            Some(Some(schema)) => ResponseSchema::Schema { declared, schema },
        }
    }

    /// Path parameters if `path` (no query) fits this operation's template.
    pub fn match_path(&self, path: &str) -> Option<BTreeMap<String, String>> {
        match_template(&self.path, path)
    }

    /// The template with `{name}` replaced from `params` (percent-encoded); names a missing one.
    pub fn expand_path(&self, params: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| format!("unclosed '{{' in path {}", self.path))?;
            let name = &rest[open + 1..close];
            let value = params.get(name).ok_or_else(|| {
                format!(
                    "the path parameter {name:?} of {} {} is not set (use: the path parameter \"{name}\" is \"...\")",
                    self.method, self.path
                )
            })?;
            out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()).map(|s| s.replace('+', "%20")));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Every `{name}` of a path template, several per segment too (`{base}...{head}`).
pub fn template_names(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    out
}

pub fn match_template(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (ts, ps) in t.iter().zip(&p) {
        if !ts.contains('{') {
            if ts != ps {
                return None;
            }
            continue;
        }
        match_segment(ts, ps, &mut params)?;
    }
    Some(params)
}

/// One template segment against one path segment: literals in order, each `{name}` taking
/// the shortest non-empty text up to the next literal (`{base}...{head}` on `main...dev`).
fn match_segment(template: &str, segment: &str, params: &mut BTreeMap<String, String>) -> Option<()> {
    let open = template.find('{')?;
    let prefix = &template[..open];
    let mut rest = segment.strip_prefix(prefix)?;
    let mut tpl = &template[open..];
    while let Some(t) = tpl.strip_prefix('{') {
        let close = t.find('}')?;
        let name = &t[..close];
        tpl = &t[close + 1..];
        // The literal up to the next parameter (or the end).
        let lit_end = tpl.find('{').unwrap_or(tpl.len());
        let literal = &tpl[..lit_end];
        let value_len = if tpl[lit_end..].is_empty() {
            // The last parameter: the literal must end the segment.
            rest.len()
                .checked_sub(literal.len())
                .filter(|_| rest.ends_with(literal))?
        } else if literal.is_empty() {
            return None; // two parameters with nothing between them: ambiguous
        } else {
            // At least one character (a whole one: the path may hold any UTF-8).
            let first = rest.chars().next()?.len_utf8();
            rest[first..].find(literal)? + first
        };
        let value = &rest[..value_len];
        if value.is_empty() {
            return None;
        }
        params.insert(name.to_string(), super::openapi::percent_decode(value));
        rest = &rest[value_len + literal.len()..];
        tpl = &tpl[lit_end..];
    }
    rest.is_empty().then_some(())
}

/// Builds the operations of an OpenAPI document, with warnings for what loads but is likely
/// wrong (a query in a path key, a path without its leading `/`, path parameters the template
/// and the declarations disagree on).
pub fn from_openapi(
    docs: &Documents,
    root: &Url,
    partner: &str,
) -> Result<(Vec<Operation>, Vec<Diagnostic>), Diagnostics> {
    let file = docs.file_of(root);
    let doc = docs
        .get(root)
        .ok_or_else(|| Diagnostics::from(Diagnostic::new(&file, "document not loaded")))?;
    let mut errors = Diagnostics::default();
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    let global_security = doc.get("security");
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok((out, warnings));
    };
    for (path, item) in paths {
        let item_ptr = format!("/paths/{}", crate::pointer::escape(path));
        if path.contains('?') {
            warnings.push(
                Diagnostic::new(
                    &file,
                    format!("the path {path:?} holds a query: a path key is a path only; declare query parameters under `parameters` (in: query)"),
                )
                .pointer(item_ptr.clone()),
            );
        }
        if !path.starts_with('/') {
            warnings.push(
                Diagnostic::new(&file, format!("the path {path:?} does not start with `/`")).pointer(item_ptr.clone()),
            );
        }
        let (item_base, item) = match docs.deref(root, item) {
            Ok(x) => x,
            Err(e) => {
                errors.push(Diagnostic::new(&file, e).pointer(item_ptr));
                continue;
            }
        };
        let shared_params = item.get("parameters");
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op_ptr = format!("{item_ptr}/{method}");
            match build_operation(
                docs,
                &item_base,
                op,
                &op_ptr,
                shared_params,
                global_security,
                partner,
                method,
                path,
            ) {
                Ok(o) => {
                    let in_template = template_names(path);
                    for name in &in_template {
                        if !o.params.iter().any(|p| p.location == ParamIn::Path && p.name == *name) {
                            warnings.push(
                                Diagnostic::new(
                                    &file,
                                    format!("{} {path}: the path parameter {{{name}}} is not declared (a parameter with in: path)", o.method),
                                )
                                .pointer(op_ptr.clone()),
                            );
                        }
                    }
                    for p in o.params.iter().filter(|p| p.location == ParamIn::Path) {
                        if !in_template.contains(&p.name.as_str()) {
                            warnings.push(
                                Diagnostic::new(
                                    &file,
                                    format!(
                                        "{} {path}: the path parameter {:?} is declared but not in the path",
                                        o.method, p.name
                                    ),
                                )
                                .pointer(op_ptr.clone()),
                            );
                        }
                    }
                    out.push(o)
                }
                Err(e) => errors.push(Diagnostic::new(&file, e).pointer(op_ptr)),
            }
        }
    }
    if errors.is_empty() {
        Ok((out, warnings))
    } else {
        Err(errors)
    }
}

#[allow(clippy::too_many_arguments)]
fn build_operation(
    docs: &Documents,
    base: &Url,
    op: &Value,
    op_ptr: &str,
    shared_params: Option<&Value>,
    global_security: Option<&Value>,
    partner: &str,
    method: &str,
    path: &str,
) -> Result<Operation, String> {
    let id = op
        .get("operationId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
    let mut params: Vec<Param> = Vec::new();
    for list in [shared_params, op.get("parameters")].into_iter().flatten() {
        for p in list.as_array().into_iter().flatten() {
            let (p_base, p) = docs.deref(base, p)?;
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or("a parameter has no name")?
                .to_string();
            let location = match p.get("in").and_then(Value::as_str) {
                Some("path") => ParamIn::Path,
                Some("query") => ParamIn::Query,
                Some("header") => ParamIn::Header,
                Some("cookie") => ParamIn::Cookie,
                other => return Err(format!("parameter {name:?} has an unknown location {other:?}")),
            };
            let required = p
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(location == ParamIn::Path);
            let schema = param_schema(&p_base, p, &p_ptr(op_ptr, &p_base, base, &name));
            // An operation-level parameter overrides a path-level one with the same name and place.
            params.retain(|q| !(q.name == name && q.location == location));
            params.push(Param {
                name,
                location,
                required,
                schema,
            });
        }
    }
    let request_body = match op.get("requestBody") {
        None => None,
        Some(rb) => {
            let (rb_base, rb) = docs.deref(base, rb)?;
            // Keys stay unique per operation when the body comes from another document.
            let ptr = if rb_base == *base {
                format!("{op_ptr}/requestBody")
            } else {
                format!("{op_ptr}/requestBody@{}", rb_base.path())
            };
            Some(Body {
                required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
                content: content_of(docs, &rb_base, rb, &ptr)?,
                headers: Vec::new(),
            })
        }
    };
    let mut responses = BTreeMap::new();
    if let Some(map) = op.get("responses").and_then(Value::as_object) {
        for (status, resp) in map {
            let (r_base, r) = docs.deref(base, resp)?;
            let ptr = format!("{op_ptr}/responses/{}", crate::pointer::escape(status));
            // A response from another document: its key must still be this operation's own.
            let ptr = if r_base == *base {
                ptr
            } else {
                format!("{ptr}@{}", r_base.path())
            };
            responses.insert(
                status.clone(),
                Body {
                    required: false,
                    content: content_of(docs, &r_base, r, &ptr)?,
                    headers: headers_of(docs, &r_base, r, &ptr)?,
                },
            );
        }
    }
    let security = op.get("security").or(global_security);
    let public = security
        .and_then(Value::as_array)
        .is_some_and(|reqs| reqs.is_empty() || reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
    let mut scopes = Vec::new();
    for req in security.and_then(Value::as_array).into_iter().flatten() {
        for (_, list) in req.as_object().into_iter().flatten() {
            for s in list.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_string());
                }
            }
        }
    }
    Ok(Operation {
        id,
        partner: partner.to_string(),
        method: method.to_uppercase(),
        path: path.to_string(),
        params,
        request_body,
        responses,
        scopes,
        public,
        source: format!("{}#{op_ptr}", docs.file_of(base).display()),
    })
}

fn content_of(
    docs: &Documents,
    base: &Url,
    holder: &Value,
    ptr: &str,
) -> Result<BTreeMap<String, Option<SchemaRef>>, String> {
    let mut out = BTreeMap::new();
    for (media, m) in holder.get("content").and_then(Value::as_object).into_iter().flatten() {
        let schema_ptr = format!("{ptr}/content/{}/schema", crate::pointer::escape(media));
        let schema = m.get("schema").map(|s| {
            let _ = docs;
            SchemaRef::at(base, &schema_ptr, s)
        });
        out.insert(media.to_ascii_lowercase(), schema);
    }
    Ok(out)
}

/// A parameter's or header's schema: `schema`, or the first media type's under `content`.
fn param_schema(base: &Url, p: &Value, ptr: &str) -> Option<SchemaRef> {
    if let Some(s) = p.get("schema") {
        return Some(SchemaRef::at(base, &format!("{ptr}/schema"), s));
    }
    let (media, m) = p.get("content")?.as_object()?.iter().next()?;
    let s = m.get("schema")?;
    Some(SchemaRef::at(
        base,
        &format!("{ptr}/content/{}/schema", crate::pointer::escape(media)),
        s,
    ))
}

/// Where a parameter's schema sits, for its key: inside the operation when the parameter is
/// written there, else at the component a `$ref` led to (its own document's pointer is not
/// known here, so the key is made unique by the operation and the name).
fn p_ptr(op_ptr: &str, p_base: &Url, base: &Url, name: &str) -> String {
    if p_base == base {
        format!("{op_ptr}/parameters/{}", crate::pointer::escape(name))
    } else {
        format!("{op_ptr}/parameters/{}@{}", crate::pointer::escape(name), p_base.path())
    }
}

/// A response's `headers` (Content-Type is left out: OpenAPI says it is ignored there).
fn headers_of(docs: &Documents, base: &Url, holder: &Value, ptr: &str) -> Result<Vec<HeaderSpec>, String> {
    let mut out = Vec::new();
    for (name, h) in holder.get("headers").and_then(Value::as_object).into_iter().flatten() {
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let (h_base, h) = docs.deref(base, h)?;
        let h_ptr = if h_base == *base {
            format!("{ptr}/headers/{}", crate::pointer::escape(name))
        } else {
            format!("{ptr}/headers/{}@{}", crate::pointer::escape(name), h_base.path())
        };
        out.push(HeaderSpec {
            name: name.clone(),
            required: h.get("required").and_then(Value::as_bool).unwrap_or(false),
            schema: param_schema(&h_base, h, &h_ptr),
        });
    }
    Ok(out)
}

/// Builds operations written inline in the contract (`partners.NAME.operations`).
pub fn from_inline(
    contract_url: &Url,
    contract_value: &Value,
    partner: &str,
    file: &std::path::Path,
) -> Result<Vec<Operation>, Diagnostics> {
    let mut out = Vec::new();
    let mut errors = Diagnostics::default();
    let ops_ptr = format!("/partners/{}/operations", crate::pointer::escape(partner));
    let Some(ops) = contract_value.pointer(&ops_ptr).and_then(Value::as_array) else {
        return Ok(out);
    };
    for (i, op) in ops.iter().enumerate() {
        let op_ptr = format!("{ops_ptr}/{i}");
        let get = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(id), Some(method), Some(path)) = (get("id"), get("method"), get("path")) else {
            errors.push(Diagnostic::new(file, "an inline operation needs id, method and path").pointer(op_ptr));
            continue;
        };
        let method = method.to_uppercase();
        if !METHODS.contains(&method.to_lowercase().as_str()) {
            errors.push(
                Diagnostic::new(file, format!("unknown HTTP method {method:?}")).pointer(format!("{op_ptr}/method")),
            );
            continue;
        }
        let body_of = |v: &Value, ptr: String| {
            let mut content = BTreeMap::new();
            content.insert(
                "application/json".to_string(),
                v.get("schema")
                    .map(|s| SchemaRef::inline(contract_url, &format!("{ptr}/schema"), s)),
            );
            let headers = v
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, h)| HeaderSpec {
                    name: name.clone(),
                    required: h.get("required").and_then(Value::as_bool).unwrap_or(false),
                    schema: h.get("schema").map(|s| {
                        SchemaRef::inline(
                            contract_url,
                            &format!("{ptr}/headers/{}/schema", crate::pointer::escape(name)),
                            s,
                        )
                    }),
                })
                .collect();
            Body {
                required: v.get("schema").is_some(),
                content,
                headers,
            }
        };
        let request_body = op.get("request").map(|r| body_of(r, format!("{op_ptr}/request")));
        let mut responses = BTreeMap::new();
        for (status, r) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
            responses.insert(
                status.clone(),
                body_of(r, format!("{op_ptr}/responses/{}", crate::pointer::escape(status))),
            );
        }
        let params = path
            .split('/')
            .filter_map(|seg| Some(seg[seg.find('{')? + 1..seg.rfind('}')?].to_string()))
            .map(|name| Param {
                name,
                location: ParamIn::Path,
                required: true,
                schema: None,
            })
            .collect();
        let scopes = op
            .get("scopes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        out.push(Operation {
            id,
            partner: partner.to_string(),
            method,
            path,
            params,
            request_body,
            responses,
            scopes,
            public: false,
            source: format!("{}#{op_ptr}", file.display()),
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_and_expand() {
        let m = match_template("/tickets/{id}/comments/{cid}.json", "/tickets/T-1/comments/9.json").unwrap();
        assert_eq!(m["id"], "T-1");
        assert_eq!(m["cid"], "9");
        assert!(match_template("/tickets/{id}", "/tickets").is_none());
        assert!(match_template("/tickets/{id}", "/incidents/1").is_none());
        assert_eq!(match_template("/tickets/{id}", "/tickets/a%20b").unwrap()["id"], "a b");
        // Several parameters in one segment (GitHub's compare).
        let m = match_template("/compare/{base}...{head}", "/compare/main...feature/x").is_none();
        assert!(m, "a slash ends a segment");
        let m = match_template("/compare/{base}...{head}", "/compare/main...dev").unwrap();
        assert_eq!((m["base"].as_str(), m["head"].as_str()), ("main", "dev"));
        assert!(match_template("/compare/{base}...{head}", "/compare/main..dev").is_none());
        let m = match_template("/files/{name}.{ext}", "/files/a.tar.gz").unwrap();
        assert_eq!((m["name"].as_str(), m["ext"].as_str()), ("a", "tar.gz"));
    }
}
