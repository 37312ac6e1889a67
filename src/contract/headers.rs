//! Headers and parameters against their declared schemas. An HTTP header or a query value is
//! text; OpenAPI's `simple` and `form` styles say how text stands for a typed value: a number
//! is its digits, a boolean `true`/`false`, an array its items joined by commas. The text is
//! read as the type the schema asks for when it can be, and kept as a string when it cannot,
//! so that `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` against `type: integer` is reported
//! as the string it is, not silently accepted.

use serde_json::Value;

use super::operation::{HeaderSpec, SchemaRef};
use super::schema::{Schemas, Violation};

pub use crate::matching::media_type;

/// Every violation of the declared headers by `actual` (name, value pairs; a name may repeat,
/// its values are then joined with ", " as HTTP allows). Pointers read `header NAME`.
pub fn check(
    schemas: &Schemas,
    declared: &[HeaderSpec],
    actual: &[(String, String)],
) -> Result<Vec<Violation>, String> {
    let mut out = Vec::new();
    for h in declared {
        let values: Vec<&str> = actual
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(&h.name))
            .map(|(_, v)| v.as_str())
            .collect();
        let place = format!("header {}", h.name);
        if values.is_empty() {
            if h.required {
                out.push(Violation {
                    pointer: place,
                    message: "required by the contract, but missing".into(),
                    cause: None,
                    format: false,
                });
            }
            continue;
        }
        if let Some(schema) = &h.schema {
            out.extend(check_text(schemas, schema, &values.join(", "), &place)?);
        }
    }
    Ok(out)
}

/// The violations of one text value (a header's, a parameter's) against `schema`, each at
/// `place` (nested pointers of an array or object value appended).
pub fn check_text(schemas: &Schemas, schema: &SchemaRef, text: &str, place: &str) -> Result<Vec<Violation>, String> {
    let value = typed(schemas, &schema.schema, "", text, 0);
    Ok(schemas
        .validate(schema, &value)?
        .into_iter()
        .map(|v| Violation {
            pointer: format!("{place}{}", v.pointer),
            ..v
        })
        .collect())
}

/// The JSON types a schema allows, following `$ref`s and looking through `allOf`/`anyOf`/
/// `oneOf` (bounded: a cycle ends the search).
fn types(schemas: &Schemas, schema: &Value, base: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 16 {
        return;
    }
    let Some(obj) = schema.as_object() else { return };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str)
        && let Some((b, target)) = schemas.follow(base, r)
    {
        types(schemas, target, &b, depth + 1, out);
    }
    match obj.get("type") {
        Some(Value::String(t)) => out.push(t.clone()),
        Some(Value::Array(list)) => out.extend(list.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {}
    }
    let numeric = |v: &Value| v.is_number();
    if obj.get("const").is_some_and(numeric)
        || obj
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(numeric))
    {
        out.push("number".into());
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
            types(schemas, sub, base, depth + 1, out);
        }
    }
}

/// `text` read as the schema's type when it is one (see the module comment).
fn typed(schemas: &Schemas, schema: &Value, base: &str, text: &str, depth: usize) -> Value {
    let mut allowed = Vec::new();
    types(schemas, schema, base, depth, &mut allowed);
    let has = |t: &str| allowed.iter().any(|a| a == t);
    let trimmed = text.trim();
    if has("integer") || has("number") {
        // Only what JSON calls a number: "1e3" yes; "0x10", "NaN", an HTTP-date no.
        if let Ok(n @ Value::Number(_)) = serde_json::from_str::<Value>(trimmed) {
            return n;
        }
    }
    if has("boolean") && matches!(trimmed, "true" | "false") {
        return Value::Bool(trimmed == "true");
    }
    if has("array") && !has("string") && depth < 16 {
        let (b, s) = schemas.resolve_chain(schema, base);
        let items = s.get("items").cloned().unwrap_or(Value::Bool(true));
        if trimmed.is_empty() {
            return Value::Array(Vec::new());
        }
        return Value::Array(
            trimmed
                .split(',')
                .map(|part| typed(schemas, &items, &b, part.trim(), depth + 1))
                .collect(),
        );
    }
    Value::String(text.to_string())
}
