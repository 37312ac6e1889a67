//! How a failed step reads in the terminal (and in JUnit / Cucumber JSON, which carry the same
//! text): the headline, each finding, a line diff of expected vs actual, then the request that
//! was sent and the response that came back, bodies pretty-printed and cut to a sensible
//! length. Secrets (auth headers, tokens, fields the contract marks) are masked first.

use std::fmt::Write as _;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::client::Exchange;
use crate::steps::StepFailure;

/// Bodies longer than this many lines are cut in reports.
const MAX_BODY_LINES: usize = 40;
const MASK: &str = "«redacted»";

/// What must never be printed.
#[derive(Debug, Clone)]
pub struct Redactor {
    headers: Vec<String>,
    /// JSON object keys masked wherever they appear.
    body_keys: Vec<String>,
    /// Query parameters masked in URLs.
    query: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self {
            headers: [
                "authorization",
                "proxy-authorization",
                "cookie",
                "set-cookie",
                "x-api-key",
            ]
            .map(String::from)
            .to_vec(),
            body_keys: ["access_token", "refresh_token", "client_secret", "id_token", "password"]
                .map(String::from)
                .to_vec(),
            query: ["access_token", "api_key", "apikey", "client_secret"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl Redactor {
    /// The defaults plus everything the contracts say to redact.
    pub fn for_contracts<'a>(contracts: impl Iterator<Item = &'a crate::contract::Contract>) -> Self {
        let mut r = Self::default();
        for c in contracts {
            for rule in &c.doc.redact {
                if let Some(h) = &rule.header {
                    r.headers.push(h.to_ascii_lowercase());
                }
                if let Some(q) = &rule.query {
                    r.query.push(q.clone());
                }
                if let Some(b) = &rule.body
                    && let Some(last) = b.rsplit('/').next().filter(|s| !s.is_empty())
                {
                    r.body_keys.push(last.to_string());
                }
            }
        }
        r
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if self.headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            // Keep the scheme ("Bearer") so a reader can tell which kind of credential it was.
            match value.split_once(' ') {
                Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => format!("{scheme} {MASK}"),
                _ => MASK.to_string(),
            }
        } else {
            value.to_string()
        }
    }

    pub fn url(&self, url: &str) -> String {
        let Ok(mut u) = url::Url::parse(url) else {
            return url.to_string();
        };
        if u.query().is_none() {
            return url.to_string();
        }
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if self.query.iter().any(|q| q.eq_ignore_ascii_case(&k)) {
                    MASK.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    }

    pub fn json(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if self.body_keys.iter().any(|b| b == k) && !child.is_null() {
                        *child = Value::String(MASK.into());
                    } else {
                        self.json(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            _ => {}
        }
    }

    /// A body for display: pretty JSON (masked) when it is JSON, text otherwise, cut when long.
    pub fn body(&self, bytes: &[u8]) -> String {
        if bytes.is_empty() {
            return "(empty)".into();
        }
        let text = match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                self.json(&mut v);
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
            Err(_) => {
                let s = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
                // Form bodies (token requests) carry secrets as key=value pairs.
                if s.contains('=') && !s.contains('\n') && s.split('&').all(|p| p.contains('=')) {
                    let masked: Vec<String> = url::form_urlencoded::parse(s.as_bytes())
                        .map(|(k, v)| {
                            if self.body_keys.iter().any(|b| b == &k) || self.query.iter().any(|q| q == &k) {
                                format!("{k}={MASK}")
                            } else {
                                format!("{k}={v}")
                            }
                        })
                        .collect();
                    masked.join("&")
                } else if bytes.len() > 4096 {
                    format!("{s}… ({} bytes in all)", bytes.len())
                } else {
                    s
                }
            }
        };
        cut_lines(&text, MAX_BODY_LINES)
    }
}

fn cut_lines(text: &str, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text.to_string();
    }
    let mut out: String = text.lines().take(max).collect::<Vec<_>>().join("\n");
    let _ = write!(out, "\n… ({} more lines)", total - max);
    out
}

/// A unified line diff, `-` expected and `+` actual.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let diff = TextDiff::from_lines(expected, actual);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let _ = write!(out, "{sign} {}", change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
        out.push_str("  …\n");
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

pub fn render_exchange(e: &Exchange, r: &Redactor) -> String {
    let mut out = String::new();
    let op = e.operation.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
    let _ = writeln!(out, "request to {}{op}:", e.partner);
    let _ = writeln!(out, "  {} {}", e.request.method, r.url(&e.request.url));
    for (k, v) in &e.request.headers {
        let _ = writeln!(out, "  {k}: {}", r.header(k, v));
    }
    if let Some(b) = &e.request.body {
        let _ = writeln!(out, "{}", indent(&r.body(b), "  "));
    }
    let _ = writeln!(out, "response ({} ms):", e.elapsed.as_millis());
    let _ = writeln!(out, "  HTTP {}", e.response.status);
    for (k, v) in &e.response.headers {
        let _ = writeln!(out, "  {k}: {}", r.header(k, v));
    }
    let _ = write!(out, "{}", indent(&r.body(&e.response.body), "  "));
    out
}

pub fn render_failure(f: &StepFailure, r: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", f.message);
    for w in &f.within {
        let _ = writeln!(out, "  in: {w}");
    }
    for finding in &f.findings {
        let _ = writeln!(out, "  - {finding}");
    }
    if let Some((expected, actual)) = &f.diff {
        let _ = writeln!(out, "diff (- expected, + actual):");
        out.push_str(&indent(&line_diff(expected, actual), "  "));
        out.push('\n');
    }
    if let Some(e) = &f.exchange {
        out.push_str(&render_exchange(e, r));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_everywhere() {
        let r = Redactor::default();
        assert_eq!(r.header("Authorization", "Bearer abc.def"), "Bearer «redacted»");
        assert_eq!(r.header("X-Api-Key", "k"), MASK);
        assert!(!r.url("http://h/x?api_key=SECRET&a=1").contains("SECRET"));
        let body = r.body(br#"{"access_token":"SECRET","nested":{"refresh_token":"S2"},"ok":1}"#);
        assert!(
            !body.contains("SECRET") && !body.contains("S2") && body.contains("\"ok\": 1"),
            "{body}"
        );
        assert!(
            !r.body(b"grant_type=client_credentials&client_secret=SECRET")
                .contains("SECRET")
        );
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = line_diff(
            &serde_json::to_string_pretty(&json!({"a": 1, "b": 2})).unwrap(),
            &serde_json::to_string_pretty(&json!({"a": 1, "b": 3})).unwrap(),
        );
        assert!(d.contains("-   \"b\": 2") && d.contains("+   \"b\": 3"), "{d}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let v: Vec<u32> = (0..200).collect();
        let text = Redactor::default().body(serde_json::to_string(&v).unwrap().as_bytes());
        assert!(text.contains("more lines"), "{text}");
    }
}
