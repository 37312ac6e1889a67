//! A request against its operation, the way a strict partner would judge it: path, query,
//! header and cookie parameters (required ones present, values valid against their schemas),
//! the body's content type among the declared ones, and the body valid against its schema.
//! Used before contrail sends a request from a step (a scenario that means to send a bad one
//! says so) and by the mock when it plays the partner for a system under test, so both read a
//! request alike.
//!
//! Headers OpenAPI says to ignore as parameters (`Accept`, `Content-Type`, `Authorization`)
//! are not judged as parameters; an object-valued query parameter (`deepObject`, `form` with
//! exploded properties) is judged present or not, its properties are not typed.

use serde_json::Value;

use super::headers::{check_text, media_type};
use super::operation::{Operation, ParamIn};
use super::schema::{Schemas, Violation};

/// What was (or is about to be) sent, as text.
pub struct RequestView<'a> {
    /// The path without the query, percent-encoded as sent.
    pub path: &'a str,
    /// Decoded query pairs, in order.
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
}

fn missing(place: String) -> Violation {
    Violation {
        pointer: place,
        message: "required by the contract, but missing".into(),
        cause: None,
        format: false,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn cookies<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    header(headers, "cookie")
        .into_iter()
        .flat_map(|c| c.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .collect()
}

fn allows_object(schemas: &Schemas, schema: Option<&super::operation::SchemaRef>) -> bool {
    let Some(s) = schema else { return false };
    let (_, s) = schemas.resolve_chain(&s.schema, "");
    match s.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => s.get("properties").is_some(),
    }
}

/// Whether a declared media type (`application/json`, `application/*`, `*/*`) covers `actual`.
fn covers(declared: &str, actual: &str) -> bool {
    if declared == actual || declared == "*/*" {
        return true;
    }
    if let Some(prefix) = declared.strip_suffix("/*") {
        return actual.split('/').next() == Some(prefix);
    }
    false
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// Every way the request breaks the operation.
pub fn check(schemas: &Schemas, op: &Operation, req: &RequestView<'_>) -> Result<Vec<Violation>, String> {
    let mut out = Vec::new();
    let path_values = op.match_path(req.path).unwrap_or_default();
    for p in &op.params {
        let (place, values): (String, Vec<&str>) = match p.location {
            ParamIn::Path => (
                format!("path {}", p.name),
                path_values.get(&p.name).map(String::as_str).into_iter().collect(),
            ),
            ParamIn::Query => {
                if allows_object(schemas, p.schema.as_ref()) {
                    let present = req
                        .query
                        .iter()
                        .any(|(k, _)| k == &p.name || k.starts_with(&format!("{}[", p.name)));
                    if p.required && !present {
                        out.push(missing(format!("query {}", p.name)));
                    }
                    continue;
                }
                (
                    format!("query {}", p.name),
                    req.query
                        .iter()
                        .filter(|(k, _)| k == &p.name)
                        .map(|(_, v)| v.as_str())
                        .collect(),
                )
            }
            ParamIn::Header => {
                if ["accept", "content-type", "authorization"].contains(&p.name.to_ascii_lowercase().as_str()) {
                    continue;
                }
                (format!("header {}", p.name), header(req.headers, &p.name))
            }
            ParamIn::Cookie => (format!("cookie {}", p.name), cookies(req.headers, &p.name)),
        };
        if values.is_empty() {
            if p.required {
                out.push(missing(place));
            }
            continue;
        }
        if let Some(schema) = &p.schema {
            let text = values.join(if p.location == ParamIn::Header { ", " } else { "," });
            out.extend(check_text(schemas, schema, &text, &place)?);
        }
    }
    let Some(declared) = &op.request_body else {
        return Ok(out);
    };
    let body = req.body.filter(|b| !b.is_empty());
    let Some(body) = body else {
        if declared.required {
            out.push(missing("body".into()));
        }
        return Ok(out);
    };
    if declared.content.is_empty() {
        return Ok(out);
    }
    let types: Vec<&str> = declared.content.keys().map(String::as_str).collect();
    let Some(content_type) = header(req.headers, "content-type").first().map(|c| media_type(c)) else {
        out.push(Violation {
            pointer: "header Content-Type".into(),
            message: format!("missing for a body (declared: {})", types.join(", ")),
            cause: None,
            format: false,
        });
        return Ok(out);
    };
    let found = declared
        .content
        .iter()
        .find(|(k, _)| **k == content_type)
        .or_else(|| declared.content.iter().find(|(k, _)| covers(k, &content_type)))
        .or_else(|| {
            declared
                .content
                .iter()
                .find(|(k, _)| is_json(k) && is_json(&content_type))
        });
    let Some((_, schema)) = found else {
        out.push(Violation {
            pointer: "header Content-Type".into(),
            message: format!(
                "{content_type:?} is not declared for the body (declared: {})",
                types.join(", ")
            ),
            cause: None,
            format: false,
        });
        return Ok(out);
    };
    if let Some(schema) = schema
        && is_json(&content_type)
    {
        match serde_json::from_slice::<Value>(body) {
            Err(e) => out.push(Violation {
                pointer: "body".into(),
                message: format!("not JSON: {e}"),
                cause: None,
                format: false,
            }),
            Ok(v) => out.extend(schemas.validate(schema, &v)?.into_iter().map(|v| Violation {
                pointer: format!("body{}", v.pointer),
                ..v
            })),
        }
    }
    Ok(out)
}
