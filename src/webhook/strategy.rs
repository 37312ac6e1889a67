//! proptest strategies from a JSON Schema, for generated-data scenarios: every value they make
//! is valid against the schema, and they shrink toward small, plain values (optional fields
//! left out, short strings, numbers near their minimum), so a failure is reported with the
//! smallest input that still fails.

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Just, Union};
use serde_json::{Map, Value};

use super::generate::Resolve;

const MAX_DEPTH: usize = 16;

/// A strategy for values valid against `schema` (`$ref`s followed with `resolve`).
pub fn of(schema: &Value, resolve: Resolve<'_>) -> BoxedStrategy<Value> {
    build(schema, resolve, 0)
}

fn build(schema: &Value, resolve: Resolve<'_>, depth: usize) -> BoxedStrategy<Value> {
    if depth > MAX_DEPTH {
        return Just(Value::Null).boxed();
    }
    if let Some(r) = schema.get("$ref").and_then(|r| r.as_str()) {
        return match resolve(r) {
            Some(target) => build(&target, resolve, depth + 1),
            None => Just(Value::Null).boxed(),
        };
    }
    if let Some(c) = schema.get("const") {
        return Just(c.clone()).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(|e| e.as_array())
        && !values.is_empty()
    {
        return proptest::sample::select(values.clone()).boxed();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(key).and_then(|b| b.as_array())
            && !branches.is_empty()
        {
            return Union::new(branches.iter().map(|b| build(b, resolve, depth + 1))).boxed();
        }
    }
    if let Some(all) = schema.get("allOf").and_then(|b| b.as_array())
        && let Some(first) = all.first()
    {
        return build(first, resolve, depth + 1);
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ => vec!["string"],
    };
    let options: Vec<BoxedStrategy<Value>> = types.iter().map(|t| typed(schema, t, resolve, depth)).collect();
    if options.len() == 1 {
        options.into_iter().next().unwrap_or_else(|| Just(Value::Null).boxed())
    } else {
        Union::new(options).boxed()
    }
}

fn typed(schema: &Value, ty: &str, resolve: Resolve<'_>, depth: usize) -> BoxedStrategy<Value> {
    let int = |k: &str| schema.get(k).and_then(|v| v.as_i64());
    match ty {
        "null" => Just(Value::Null).boxed(),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "integer" => {
            let min = int("minimum").unwrap_or(-1000);
            let max = int("maximum").unwrap_or(min.saturating_add(2000)).max(min);
            (min..=max).prop_map(Value::from).boxed()
        }
        "number" => {
            let min = schema.get("minimum").and_then(|v| v.as_f64()).unwrap_or(-1000.0);
            let max = schema
                .get("maximum")
                .and_then(|v| v.as_f64())
                .unwrap_or(min + 2000.0)
                .max(min);
            (min..=max).prop_map(Value::from).boxed()
        }
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(Value::Object(Map::new()));
            let min = schema.get("minItems").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
            let max = schema
                .get("maxItems")
                .and_then(|v| v.as_u64())
                .map(|m| m as usize)
                .unwrap_or(min + 4)
                .max(min);
            proptest::collection::vec(build(&items, resolve, depth + 1), min..=max)
                .prop_map(Value::Array)
                .boxed()
        }
        "object" => object(schema, resolve, depth),
        _ => string(schema),
    }
}

fn object(schema: &Value, resolve: Resolve<'_>, depth: usize) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|k| k.as_str()).collect())
        .unwrap_or_default();
    let mut fields: Vec<BoxedStrategy<(String, Option<Value>)>> = Vec::new();
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        for (k, ps) in props {
            let key = k.clone();
            let value = build(ps, resolve, depth + 1);
            let field = if required.contains(&k.as_str()) {
                value.prop_map(move |v| (key.clone(), Some(v))).boxed()
            } else {
                // Optional fields shrink to absent.
                proptest::option::of(value).prop_map(move |v| (key.clone(), v)).boxed()
            };
            fields.push(field);
        }
    }
    fields
        .prop_map(|pairs| {
            let mut m = Map::new();
            for (k, v) in pairs {
                if let Some(v) = v {
                    m.insert(k, v);
                }
            }
            Value::Object(m)
        })
        .boxed()
}

fn string(schema: &Value) -> BoxedStrategy<Value> {
    let regex = |re: &str| -> BoxedStrategy<Value> {
        match proptest::string::string_regex(re) {
            Ok(s) => s.prop_map(Value::String).boxed(),
            Err(_) => Just(Value::String(String::new())).boxed(),
        }
    };
    match schema.get("format").and_then(|f| f.as_str()) {
        Some("date-time") => (0i64..4_102_444_800)
            .prop_map(|secs| Value::String(crate::clock::format_unix(secs, None)))
            .boxed(),
        Some("uri") | Some("url") => regex("https://example\\.com/[a-z0-9]{1,12}"),
        Some("uuid") => regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
        Some("email") => regex("[a-z]{1,10}@example\\.com"),
        _ => match schema.get("pattern").and_then(|p| p.as_str()) {
            Some(p) => {
                let core = p.strip_prefix('^').unwrap_or(p);
                regex(core.strip_suffix('$').unwrap_or(core))
            }
            None => {
                // Free text up to 24 characters past the minimum: long enough to be realistic,
                // short enough that a failing case shrinks in a few steps.
                let min = schema.get("minLength").and_then(|v| v.as_u64()).unwrap_or(0);
                let max = schema
                    .get("maxLength")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(u64::MAX)
                    .min(min + 24)
                    .max(min);
                regex(&format!("[A-Za-z0-9 ]{{{min},{max}}}"))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree as _;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use serde_json::json;

    use super::*;

    fn none(_: &str) -> Option<Value> {
        None
    }

    #[test]
    fn every_value_is_valid_and_optional_fields_shrink_away() {
        let schema = json!({
            "type": "object",
            "required": ["id", "occurred_at", "ticket"],
            "properties": {
                "id": { "type": "string", "pattern": "^evt_[a-z0-9]{12}$" },
                "occurred_at": { "type": "string", "format": "date-time" },
                "ticket": {
                    "type": "object",
                    "required": ["id", "title", "link"],
                    "properties": {
                        "id": { "type": "string", "pattern": "^T-[0-9]+$" },
                        "title": { "type": "string", "minLength": 1, "maxLength": 200 },
                        "priority": { "type": ["string", "null"], "enum": ["low", "med", "high", null] },
                        "link": { "type": "string", "format": "uri" },
                        "n": { "type": "integer", "minimum": 3, "maximum": 9 }
                    }
                }
            }
        });
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let strategy = of(&schema, &none);
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        for _ in 0..200 {
            let mut tree = strategy.new_tree(&mut runner).unwrap();
            let v = tree.current();
            assert!(validator.is_valid(&v), "{v}");
            // Shrink as far as it goes: still valid, optional fields gone.
            while tree.simplify() {}
            let small = tree.current();
            assert!(validator.is_valid(&small), "{small}");
            assert!(small["ticket"].get("n").is_none(), "{small}");
        }
    }
}
