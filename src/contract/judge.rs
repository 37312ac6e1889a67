//! One answer judged against its operation: is the status declared, the content type, the
//! headers and the body as the contract says. Generated conformance (`conform`) asks this of
//! every answer it gets.

use serde_json::Value;

use super::Contract;
use super::operation::{Operation, ResponseSchema};

/// What is wrong with an answer (empty: nothing).
pub fn response(
    contract: &Contract,
    op: &Operation,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<String>, String> {
    let ct = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut out: Vec<String> = match op.response_for(status) {
        Some((_, declared)) => super::headers::check(&contract.schemas, &declared.headers, headers)?
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
        None => Vec::new(),
    };
    match op.response_schema(status, &ct) {
        ResponseSchema::Schema { declared, schema } => {
            let Ok(actual) = serde_json::from_slice::<Value>(body) else {
                out.push(format!("the {declared} answer's body is not JSON"));
                return Ok(out);
            };
            let (deciding, _format_misses) = contract.schemas.validate_split(schema, &actual)?;
            out.extend(deciding.into_iter().map(|v| v.to_string()));
        }
        ResponseSchema::NoBody { .. } => {}
        ResponseSchema::UndeclaredStatus { declared } => out.push(format!(
            "status {status} is not one the contract declares for {} (declared: {})",
            op.id,
            declared.join(", ")
        )),
        ResponseSchema::UndeclaredType { types, .. } => out.push(format!(
            "content type {:?} is not declared for {status} (declared: {})",
            if ct.is_empty() { "none" } else { &ct },
            types.join(", ")
        )),
    }
    Ok(out)
}
