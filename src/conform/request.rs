//! Requests made from an operation's parameter and body schemas: a proptest strategy for
//! valid ones (shrinking toward the smallest: optional parameters left out, short strings,
//! small numbers), variants that each break one rule of a valid one, and a request written
//! out as a ready-to-run `curl` command and as a Gherkin scenario. No I/O here.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{Value, json};

use crate::contract::Contract;
use crate::contract::operation::{Operation, ParamIn};

/// One request to an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Request {
    /// The path with its parameters put in (percent-encoded), then the query.
    pub fn target(&self, template: &str) -> String {
        let mut path = template.to_string();
        for (k, v) in &self.path_params {
            let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            path = path.replace(&format!("{{{k}}}"), &enc);
        }
        if self.query.is_empty() {
            return path;
        }
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.query.iter())
            .finish();
        format!("{path}?{q}")
    }
}

/// A schema with every `$ref` replaced by what it points at (bounded: a cycle becomes `{}`),
/// so that a strategy needs no resolver.
pub fn inline(contract: &Contract, schema: &Value, base: &str, depth: usize) -> Value {
    if depth > 12 {
        return json!({});
    }
    match schema {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                return match contract.schemas.follow(base, r) {
                    Some((doc, target)) => inline(contract, &target.clone(), &doc, depth + 1),
                    None => json!({}),
                };
            }
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), inline(contract, v, base, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(contract, v, base, depth + 1)).collect()),
        other => other.clone(),
    }
}

/// The JSON schema of the operation's request body, inlined, when it has one.
pub fn body_schema(contract: &Contract, op: &Operation) -> Option<(bool, Value)> {
    let body = op.request_body.as_ref()?;
    let (_, schema) = body
        .content
        .iter()
        .find(|(media, s)| media.contains("json") && s.is_some())?;
    let schema = schema.as_ref()?;
    Some((body.required, inline(contract, &schema.schema, "", 0)))
}

/// Valid requests for `op`.
pub fn strategy(contract: &Contract, op: &Operation) -> BoxedStrategy<Request> {
    let none = |_: &str| None;
    let mut params: Vec<BoxedStrategy<Option<(ParamIn, String, String)>>> = Vec::new();
    for p in op.params.iter().filter(|p| p.location != ParamIn::Cookie) {
        let schema = p
            .schema
            .as_ref()
            .map(|s| inline(contract, &s.schema, "", 0))
            .unwrap_or_else(|| json!({"type": "string"}));
        let (name, place) = (p.name.clone(), p.location);
        let value = crate::webhook::strategy::of(&schema, &none)
            .prop_filter_map("a value a parameter can carry", |v| text(&v))
            .prop_map(move |v| (place, name.clone(), v));
        params.push(if p.required {
            value.prop_map(Some).boxed()
        } else {
            proptest::option::of(value).boxed()
        });
    }
    let body: BoxedStrategy<Option<Value>> = match body_schema(contract, op) {
        Some((true, schema)) => crate::webhook::strategy::of(&schema, &none).prop_map(Some).boxed(),
        Some((false, schema)) => proptest::option::of(crate::webhook::strategy::of(&schema, &none)).boxed(),
        None => Just(None).boxed(),
    };
    (params, body)
        .prop_map(|(params, body)| {
            let mut r = Request {
                path_params: Vec::new(),
                query: Vec::new(),
                headers: Vec::new(),
                body,
            };
            for (place, name, value) in params.into_iter().flatten() {
                match place {
                    ParamIn::Path => r.path_params.push((name, value)),
                    ParamIn::Query => r.query.push((name, value)),
                    ParamIn::Header => r.headers.push((name, value)),
                    ParamIn::Cookie => {}
                }
            }
            r
        })
        .boxed()
}

/// A parameter's value as it travels (`simple`/`form` style); objects are not sent.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items.iter().map(text).collect::<Option<Vec<_>>>().map(|v| v.join(",")),
        _ => None,
    }
}

/// `base` once with each value of every enum the operation's parameters and top-level body
/// fields declare: random examples may miss one value, these never do.
pub fn enum_cases(contract: &Contract, op: &Operation, base: &Request) -> Vec<(String, Request)> {
    let mut out = Vec::new();
    for p in op.params.iter().filter(|p| p.location != ParamIn::Cookie) {
        let Some(schema) = p.schema.as_ref().map(|s| inline(contract, &s.schema, "", 0)) else {
            continue;
        };
        for v in schema.get("enum").and_then(Value::as_array).into_iter().flatten() {
            let Some(v) = text(v) else { continue };
            let mut r = base.clone();
            let list = match p.location {
                ParamIn::Path => &mut r.path_params,
                ParamIn::Query => &mut r.query,
                _ => &mut r.headers,
            };
            list.retain(|(k, _)| k != &p.name);
            list.push((p.name.clone(), v.clone()));
            out.push((format!("{} = {v:?}", p.name), r));
        }
    }
    if let (Some((_, schema)), Some(Value::Object(body))) = (body_schema(contract, op), &base.body) {
        for (field, s) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for v in s.get("enum").and_then(Value::as_array).into_iter().flatten() {
                let mut b = body.clone();
                b.insert(field.clone(), v.clone());
                out.push((
                    format!("body {field} = {v}"),
                    Request {
                        body: Some(Value::Object(b)),
                        ..base.clone()
                    },
                ));
            }
        }
    }
    out.retain(|(_, r)| r != base);
    out
}

/// Requests that each break one rule of `valid`, with the rule they break: a required body
/// field left out, a body field of the wrong type, a value outside its enum, a required query
/// parameter left out.
pub fn invalid(contract: &Contract, op: &Operation, valid: &Request) -> Vec<(String, Request)> {
    let mut out = Vec::new();
    if let (Some((_, schema)), Some(Value::Object(body))) = (body_schema(contract, op), &valid.body) {
        let props = schema.get("properties").and_then(Value::as_object);
        for field in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let Some(field) = field.as_str() else { continue };
            let mut b = body.clone();
            if b.remove(field).is_some() {
                out.push((
                    format!("the required body field {field:?} left out"),
                    Request {
                        body: Some(Value::Object(b)),
                        ..valid.clone()
                    },
                ));
            }
        }
        for (field, s) in props.into_iter().flatten() {
            let wrong = match s.get("type").and_then(Value::as_str) {
                Some("string") => Some(json!(12345)),
                Some("integer" | "number") => Some(json!("not a number")),
                Some("boolean") => Some(json!("not a boolean")),
                Some("array") => Some(json!("not an array")),
                Some("object") => Some(json!("not an object")),
                _ => None,
            };
            if let Some(wrong) = wrong {
                let mut b = body.clone();
                b.insert(field.clone(), wrong);
                out.push((
                    format!("the body field {field:?} of the wrong type"),
                    Request {
                        body: Some(Value::Object(b)),
                        ..valid.clone()
                    },
                ));
            }
            if s.get("enum").is_some() && s.get("type").and_then(Value::as_str) == Some("string") {
                let mut b = body.clone();
                b.insert(field.clone(), json!("not-one-of-the-enum"));
                out.push((
                    format!("the body field {field:?} outside its enum"),
                    Request {
                        body: Some(Value::Object(b)),
                        ..valid.clone()
                    },
                ));
            }
        }
    }
    for p in op.params.iter().filter(|p| p.required && p.location == ParamIn::Query) {
        let mut r = valid.clone();
        r.query.retain(|(k, _)| k != &p.name);
        out.push((format!("the required query parameter {:?} left out", p.name), r));
    }
    out
}

/// A chain of requests as one scenario: each answer's fields remembered as the link after it
/// says, the next request made with them, the last one checked against the contract.
pub fn gherkin_chain(
    contract: &str,
    hops: &[(&Operation, &Request, u16)],
    links: &[super::links::Link],
    (op, last): (&Operation, &Request),
    title: &str,
) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let mut out = String::new();
    let mut remembered: Vec<(String, String)> = Vec::new();
    let steps =
        |out: &mut String, op: &Operation, r: &Request, remembered: &[(String, String)], then: &[String]| -> Request {
            let with = |list: &[(String, String)]| -> Vec<(String, String)> {
                list.iter()
                    .map(|(k, v)| {
                        let v = remembered
                            .iter()
                            .find(|(n, _)| n == k)
                            .map_or(v.clone(), |(_, var)| var.clone());
                        (k.clone(), v)
                    })
                    .collect()
            };
            let r = Request {
                path_params: with(&r.path_params),
                query: with(&r.query),
                headers: r.headers.clone(),
                body: r.body.clone(),
            };
            // Without its own Scenario and contract lines.
            for line in gherkin(contract, op, &r, "", then, false, None).lines().skip(2) {
                out.push_str(&line.replacen("    Given ", "    And ", 1));
                out.push('\n');
            }
            r
        };
    out.push_str(&format!(
        "  Scenario: {title}\n    Given the contract {}\n",
        q(contract)
    ));
    for (i, (hop_op, r, status)) in hops.iter().enumerate() {
        let sent = steps(
            &mut out,
            hop_op,
            r,
            &remembered,
            &[format!("the response status is {status}")],
        );
        remembered.clear();
        let Some(link) = links.get(i) else { continue };
        for (name, expr) in &link.parameters {
            let bare = name.rsplit('.').next().unwrap_or(name).to_string();
            let e = expr.as_str().unwrap_or_default();
            // What the previous request sent, as the scenario wrote it (a variable stays one).
            let from_request = e
                .strip_prefix("$request.path.")
                .and_then(|n| sent.path_params.iter().find(|(k, _)| k == n))
                .or_else(|| {
                    e.strip_prefix("$request.query.")
                        .and_then(|n| sent.query.iter().find(|(k, _)| k == n))
                });
            if let Some((_, v)) = from_request {
                remembered.push((bare, v.clone()));
            } else if let Some(ptr) = e.strip_prefix("$response.body#/") {
                let var = if i == 0 {
                    format!("linked_{bare}")
                } else {
                    format!("linked{}_{bare}", i + 1)
                };
                out.push_str(&format!(
                    "    And I remember the response field {} as {}\n",
                    q(&ptr.replace('/', ".")),
                    q(&var)
                ));
                remembered.push((bare, format!("${{{var}}}")));
            }
        }
    }
    steps(
        &mut out,
        op,
        last,
        &remembered,
        &["the response matches the contract".into()],
    );
    out
}

/// `curl` that sends `r` again; the token comes from `$TOKEN`, never from here.
pub fn curl(base: &url::Url, op: &Operation, r: &Request, authenticated: bool) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let url = format!("{}{}", base.as_str().trim_end_matches('/'), r.target(&op.path));
    let mut out = format!("curl -sS -X {} {}", op.method, quote(&url));
    if authenticated {
        out.push_str(" -H \"Authorization: Bearer $TOKEN\"");
    }
    for (k, v) in &r.headers {
        out.push_str(&format!(" -H {}", quote(&format!("{k}: {v}"))));
    }
    if let Some(b) = &r.body {
        out.push_str(" -H 'Content-Type: application/json' --data-raw ");
        out.push_str(&quote(&b.to_string()));
    }
    out
}

/// A scenario to paste into a feature: the same request, then what the contract expects.
/// `breaks`: the body breaks the contract on purpose; `scopes`: the token carries only these.
pub fn gherkin(
    contract: &str,
    op: &Operation,
    r: &Request,
    title: &str,
    then: &[String],
    breaks: bool,
    scopes: Option<&str>,
) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let mut out = format!("  Scenario: {title}\n    Given the contract {}\n", q(contract));
    if let Some(scopes) = scopes {
        out.push_str(&format!("    And I authenticate with the scopes {}\n", q(scopes)));
    }
    for (k, v) in &r.path_params {
        out.push_str(&format!("    And the path parameter {} is {}\n", q(k), q(v)));
    }
    for (k, v) in &r.query {
        out.push_str(&format!("    And the query parameter {} is {}\n", q(k), q(v)));
    }
    for (k, v) in &r.headers {
        out.push_str(&format!("    And the header {} is {}\n", q(k), q(v)));
    }
    match &r.body {
        Some(b) => out.push_str(&format!(
            "    When I call {} with {}:\n      \"\"\"json\n      {}\n      \"\"\"\n",
            q(&op.id),
            if breaks {
                "a body that breaks the contract"
            } else {
                "the body"
            },
            b
        )),
        None => out.push_str(&format!("    When I call {}\n", q(&op.id))),
    }
    for (i, t) in then.iter().enumerate() {
        out.push_str(&format!("    {} {t}\n", if i == 0 { "Then" } else { "And" }));
    }
    out
}
