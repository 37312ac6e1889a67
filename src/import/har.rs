//! HAR 1.2 (what browsers' developer tools and proxies such as mitmproxy save) turned into
//! recordings of one partner: the entries under the partner's base URL, each matched to the
//! contract's operation where one fits, and captured exactly as the recording proxy captures
//! live traffic, so the same policy redacts them (credentials, cookies, the contract's
//! `redact:` fields, every known secret and secret-shaped value). No I/O here.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;

use crate::contract::Contract;
use crate::recording::{Interaction, Meta, Seen};

/// What an import made, and what it left out.
#[derive(Debug, Default)]
pub struct Imported {
    pub interactions: Vec<Interaction>,
    /// Entries under the base URL that no operation of the contract describes (kept).
    pub not_in_contract: Vec<String>,
    /// Entries for other hosts or paths (analytics, fonts, ...), left out.
    pub elsewhere: usize,
    /// Entries that could not be read, with why (left out).
    pub unreadable: Vec<String>,
}

pub struct Options<'a> {
    pub contract: &'a Contract,
    pub partner: &'a str,
    /// Only entries under this URL; their paths are taken relative to its path.
    pub base: &'a url::Url,
    /// The scenario the recordings belong to (None: any scenario may replay them).
    pub scenario: Option<String>,
}

/// The HAR's `log.entries`, or why it is not a HAR.
pub fn entries(har: &Value) -> Result<&Vec<Value>, String> {
    let log = har.get("log").ok_or("not a HAR file: no \"log\"")?;
    let version = log.get("version").and_then(Value::as_str).unwrap_or("1.2");
    if !version.starts_with("1.") {
        return Err(format!("HAR version {version:?}; contrail reads 1.x"));
    }
    log.get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| "not a HAR file: no \"log.entries\"".to_string())
}

pub fn import(har: &Value, o: &Options<'_>) -> Result<Imported, String> {
    let mut out = Imported::default();
    let partner = o
        .contract
        .partner(o.partner)
        .ok_or_else(|| format!("the contract {} has no partner {:?}", o.contract.name, o.partner))?;
    let base_path = o.base.path().trim_end_matches('/').to_string();
    // Repeated identical requests keep their order, as a recording session numbers them.
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (i, e) in entries(har)?.iter().enumerate() {
        let n = i + 1;
        let Some(req) = e.get("request") else {
            out.unreadable.push(format!("entry {n}: no request"));
            continue;
        };
        let Some(url) = req
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
        else {
            out.unreadable.push(format!("entry {n}: no URL that parses"));
            continue;
        };
        let same_origin = url.scheme() == o.base.scheme()
            && url.host_str() == o.base.host_str()
            && url.port_or_known_default() == o.base.port_or_known_default();
        let Some(rest) = url
            .path()
            .strip_prefix(&base_path)
            .filter(|r| same_origin && (r.is_empty() || r.starts_with('/')))
        else {
            out.elsewhere += 1;
            continue;
        };
        let path = if rest.is_empty() {
            "/".to_string()
        } else {
            rest.to_string()
        };
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let request_headers = headers(req);
        let request_body = req
            .pointer("/postData/text")
            .and_then(Value::as_str)
            .map(|t| t.as_bytes().to_vec())
            .unwrap_or_default();
        let Some(res) = e.get("response") else {
            out.unreadable.push(format!("entry {n} ({method} {path}): no response"));
            continue;
        };
        let Some(status) = res
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| *s >= 100)
        else {
            // Browsers write status 0 for a request that never got an answer.
            out.unreadable
                .push(format!("entry {n} ({method} {path}): no answer (status 0)"));
            continue;
        };
        let response_headers = headers(res);
        let text = res.pointer("/content/text").and_then(Value::as_str).unwrap_or_default();
        let response_body = match res.pointer("/content/encoding").and_then(Value::as_str) {
            Some("base64") => match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(b) => b,
                Err(e) => {
                    out.unreadable
                        .push(format!("entry {n} ({method} {path}): its base64 body: {e}"));
                    continue;
                }
            },
            _ => text.as_bytes().to_vec(),
        };
        let operation = partner.operation_for(&method, &path).map(|(op, _)| op.id.clone());
        if operation.is_none() && partner.token_path().as_deref() != Some(path.as_str()) {
            out.not_in_contract.push(format!("{method} {path}"));
        }
        let key = format!(
            "{method} {path}?{:?}\n{}",
            query,
            String::from_utf8_lossy(&request_body)
        );
        let sequence = {
            let c = seen.entry(key).or_insert(0);
            *c += 1;
            *c
        };
        let meta = Meta {
            recorded_at: e
                .get("startedDateTime")
                .and_then(Value::as_str)
                .map(|t| t.replace("+00:00", "Z"))
                .and_then(|t| humantime::parse_rfc3339_weak(&t).ok())
                .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                .unwrap_or_else(|| crate::clock::now_rfc3339(false)),
            target: o.base.to_string(),
            contract: o.contract.name.clone(),
            contract_version: o.contract.version.clone(),
            partner: o.partner.to_string(),
            operation,
            scenario: o.scenario.clone(),
            sequence,
            steps: None,
            took_ms: e
                .get("time")
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite() && *t >= 0.0)
                .map(|t| t.round() as u64),
        };
        let seen = Seen {
            method: &method,
            path: &path,
            query: &query,
            request_headers: &request_headers,
            request_body: &request_body,
            status,
            response_headers: &response_headers,
            response_body: &response_body,
        };
        out.interactions
            .push(Interaction::capture(&o.contract.policy, &seen, meta));
    }
    Ok(out)
}

/// A HAR message's headers; HTTP/2 pseudo-headers (`:authority`) and hop-by-hop ones left out.
fn headers(message: &Value) -> Vec<(String, String)> {
    message
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h.get("name")?.as_str()?.to_string(),
                h.get("value")?.as_str()?.to_string(),
            ))
        })
        .filter(|(k, _)| {
            !k.starts_with(':')
                && ![
                    "host",
                    "content-length",
                    "connection",
                    "transfer-encoding",
                    "keep-alive",
                ]
                .contains(&k.to_ascii_lowercase().as_str())
        })
        .collect()
}
