//! OpenAPI `links`: what a response says the next request may take from it (create, then read
//! or escalate with the id the create returned). conform follows them so that operations
//! needing an existing resource are checked on one, not only on made-up ids. No I/O here.

use serde_json::Value;

use super::request::Request;
use crate::contract::Contract;
use crate::contract::operation::{Operation, ParamIn};

/// One declared link: where it leads and how its parameters are found.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub name: String,
    /// The status whose response declares it ("201").
    pub status: String,
    pub operation: String,
    /// Parameter name (perhaps `path.id`) -> runtime expression or constant.
    pub parameters: Vec<(String, Value)>,
}

/// The links `op`'s responses declare (`$ref`s to components followed).
pub fn of(contract: &Contract, op: &Operation) -> Vec<Link> {
    let Some((file, pointer)) = op.source.split_once('#') else {
        return Vec::new();
    };
    let Ok(url) = url::Url::from_file_path(file) else {
        return Vec::new();
    };
    let doc = url.as_str().to_string();
    let Some(described) = contract.schemas.resolve_ref(&format!("{doc}#{pointer}")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (status, response) in described
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let (_, response) = contract.schemas.resolve_chain(response, &doc);
        for (name, link) in response.get("links").and_then(Value::as_object).into_iter().flatten() {
            let (_, link) = contract.schemas.resolve_chain(link, &doc);
            let Some(target) = link.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            out.push(Link {
                name: name.clone(),
                status: status.clone(),
                operation: target.to_string(),
                parameters: link
                    .get("parameters")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            });
        }
    }
    out
}

/// What the first request and its answer give the link's expressions.
pub struct Context<'a> {
    pub request: &'a Request,
    pub response_body: Option<&'a Value>,
    pub response_headers: &'a [(String, String)],
}

/// A runtime expression's value (`$response.body#/id`, `$request.path.id`, a constant).
pub fn evaluate(expr: &Value, c: &Context<'_>) -> Option<String> {
    let Some(e) = expr.as_str() else {
        return scalar(expr);
    };
    if let Some(ptr) = e.strip_prefix("$response.body#") {
        return c.response_body?.pointer(ptr).and_then(scalar);
    }
    if let Some(name) = e.strip_prefix("$response.header.") {
        return c
            .response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone());
    }
    if let Some(name) = e.strip_prefix("$request.path.") {
        return find(&c.request.path_params, name);
    }
    if let Some(name) = e.strip_prefix("$request.query.") {
        return find(&c.request.query, name);
    }
    if let Some(ptr) = e.strip_prefix("$request.body#") {
        return c.request.body.as_ref()?.pointer(ptr).and_then(scalar);
    }
    if e.starts_with('$') {
        return None;
    }
    Some(e.to_string())
}

fn find(list: &[(String, String)], name: &str) -> Option<String> {
    list.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `next` (a valid request of the target operation) with the link's parameters put in; None
/// when an expression finds nothing.
pub fn apply(link: &Link, target: &Operation, next: &Request, c: &Context<'_>) -> Option<Request> {
    let mut r = next.clone();
    for (name, expr) in &link.parameters {
        let value = evaluate(expr, c)?;
        // `path.id` names the place; a bare name is looked up among the target's parameters.
        let (place, name) = match name.split_once('.') {
            Some((p @ ("path" | "query" | "header"), n)) => (Some(p), n),
            _ => (None, name.as_str()),
        };
        let location = target
            .params
            .iter()
            .find(|p| p.name == name && place.is_none_or(|pl| loc(p.location) == pl))
            .map(|p| p.location)?;
        let list = match location {
            ParamIn::Path => &mut r.path_params,
            ParamIn::Query => &mut r.query,
            ParamIn::Header => &mut r.headers,
            ParamIn::Cookie => return None,
        };
        list.retain(|(k, _)| k != name);
        list.push((name.to_string(), value));
    }
    Some(r)
}

fn loc(p: ParamIn) -> &'static str {
    match p {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
        ParamIn::Cookie => "cookie",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runtime_expressions_read_the_request_and_the_answer() {
        let request = Request {
            path_params: vec![("owner".into(), "octo".into())],
            query: vec![("page".into(), "2".into())],
            headers: Vec::new(),
            body: Some(json!({"title": "t"})),
        };
        let body = json!({"id": "T-7", "n": 3, "nested": {"x": true}});
        let headers = vec![("Location".to_string(), "/tickets/T-7".to_string())];
        let c = Context {
            request: &request,
            response_body: Some(&body),
            response_headers: &headers,
        };
        let e = |s: &str| evaluate(&json!(s), &c);
        assert_eq!(e("$response.body#/id").as_deref(), Some("T-7"));
        assert_eq!(e("$response.body#/n").as_deref(), Some("3"));
        assert_eq!(e("$response.body#/nested/x").as_deref(), Some("true"));
        assert_eq!(e("$response.body#/missing"), None);
        assert_eq!(e("$response.header.location").as_deref(), Some("/tickets/T-7"));
        assert_eq!(e("$request.path.owner").as_deref(), Some("octo"));
        assert_eq!(e("$request.query.page").as_deref(), Some("2"));
        assert_eq!(e("$request.body#/title").as_deref(), Some("t"));
        assert_eq!(
            e("$url"),
            None,
            "an expression contrail does not know is not a constant"
        );
        assert_eq!(e("fixed").as_deref(), Some("fixed"));
        assert_eq!(evaluate(&json!(5), &c).as_deref(), Some("5"));
    }
}
