//! How a failed step reads in the terminal (and in JUnit / Cucumber JSON, which carry the same
//! text): the headline, each finding, a line diff of expected vs actual, then the request that
//! was sent and the response that came back, bodies pretty-printed and cut to a sensible
//! length. Secrets (auth headers, tokens, fields the contract marks) are masked first.

use std::fmt::Write as _;

use serde_json::Value;

use crate::client::Exchange;
use crate::policy::{Action, FieldPolicy};
use crate::steps::StepFailure;

/// Bodies longer than this many lines are cut in reports.
const MAX_BODY_LINES: usize = 40;
const MASK: &str = crate::secrets::MASK;

/// What must never be printed: whatever the contracts' field policies redact (their defaults
/// cover auth headers, cookies, API keys, OAuth tokens and secrets). The policy decides; this
/// only shows the mask.
#[derive(Debug, Clone)]
pub struct Redactor {
    policies: Vec<FieldPolicy>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self {
            policies: vec![FieldPolicy::default()],
        }
    }
}

impl Redactor {
    /// The policies of every contract of the run (each includes the defaults).
    pub fn for_contracts<'a>(contracts: impl Iterator<Item = &'a crate::contract::Contract>) -> Self {
        let mut policies: Vec<FieldPolicy> = contracts.map(|c| c.policy.clone()).collect();
        if policies.is_empty() {
            policies.push(FieldPolicy::default());
        }
        Self { policies }
    }

    fn redacts(&self, decide: impl Fn(&FieldPolicy) -> Option<&Action>) -> bool {
        self.policies.iter().any(|p| matches!(decide(p), Some(Action::Redact)))
    }

    pub fn header(&self, op: Option<&str>, name: &str, value: &str) -> String {
        if !self.redacts(|p| p.header(op, name)) {
            return value.to_string();
        }
        // Keep the scheme ("Bearer") so a reader can tell which kind of credential it was.
        match value.split_once(' ') {
            Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => format!("{scheme} {MASK}"),
            _ => MASK.to_string(),
        }
    }

    pub fn url(&self, op: Option<&str>, url: &str) -> String {
        let Ok(mut u) = url::Url::parse(url) else {
            return url.to_string();
        };
        if u.query().is_none() {
            return url.to_string();
        }
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if self.redacts(|p| p.query(op, &k)) {
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

    fn json(&self, op: Option<&str>, v: &mut Value) {
        crate::policy::mask_json(v, &|path| self.redacts(|p| p.body(op, path)), MASK);
    }

    /// A body for display: pretty JSON (masked) when it is JSON, text otherwise, cut when long.
    pub fn body(&self, op: Option<&str>, bytes: &[u8]) -> String {
        if bytes.is_empty() {
            return "(empty)".into();
        }
        let text = match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                self.json(op, &mut v);
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
            Err(_) => {
                let s = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
                // Form bodies (token requests) carry secrets as key=value pairs.
                if s.contains('=') && !s.contains('\n') && s.split('&').all(|p| p.contains('=')) {
                    let masked: Vec<String> = url::form_urlencoded::parse(s.as_bytes())
                        .map(|(k, v)| {
                            let key = [k.to_string()];
                            if self.redacts(|p| p.body(op, &key)) || self.redacts(|p| p.query(op, &k)) {
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

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

pub fn render_exchange(e: &Exchange, r: &Redactor) -> String {
    let mut out = String::new();
    let op = e.operation.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
    let _ = writeln!(out, "request to {}{op}:", e.partner);
    let op = e.operation.as_deref();
    let _ = writeln!(out, "  {} {}", e.request.method, r.url(op, &e.request.url));
    for (k, v) in &e.request.headers {
        let _ = writeln!(out, "  {k}: {}", r.header(op, k, v));
    }
    if let Some(b) = &e.request.body {
        let _ = writeln!(out, "{}", indent(&r.body(op, b), "  "));
    }
    let _ = writeln!(out, "response ({} ms):", e.elapsed.as_millis());
    let _ = writeln!(out, "  HTTP {}", e.response.status);
    for (k, v) in &e.response.headers {
        let _ = writeln!(out, "  {k}: {}", r.header(op, k, v));
    }
    let _ = write!(out, "{}", indent(&r.body(op, &e.response.body), "  "));
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
        out.push_str(&indent(&crate::matching::line_diff(expected, actual), "  "));
        out.push('\n');
    }
    if let Some(e) = &f.exchange {
        out.push_str(&render_exchange(e, r));
    }
    // The policy masked what it names; known values and shapes go too (a token the partner
    // echoed in an error message, say).
    printable(&crate::secrets::mask_text(out.trim_end(), MASK))
}

/// Failure text goes to a terminal, into JUnit XML (in CDATA) and into JSON: control
/// characters a partner sent (an escape sequence would restyle the terminal; XML forbids most
/// of them) are shown as `\u{1b}`, and `]]>` (which would end the CDATA section early and break
/// the file) as `]]\u{3e}`.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            '>' if out.ends_with("]]") => out.push_str("\\u{3e}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_everywhere() {
        let r = Redactor::default();
        assert_eq!(r.header(None, "Authorization", "Bearer abc.def"), "Bearer «redacted»");
        assert_eq!(r.header(None, "X-Api-Key", "k"), MASK);
        assert!(!r.url(None, "http://h/x?api_key=SECRET&a=1").contains("SECRET"));
        let body = r.body(
            None,
            br#"{"access_token":"SECRET","nested":{"refresh_token":"S2"},"ok":1}"#,
        );
        assert!(
            !body.contains("SECRET") && !body.contains("S2") && body.contains("\"ok\": 1"),
            "{body}"
        );
        assert!(
            !r.body(None, b"grant_type=client_credentials&client_secret=SECRET")
                .contains("SECRET")
        );
    }

    #[test]
    fn the_contracts_own_rules_are_masked_too() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/support-escalation.yaml");
        let c = crate::contract::Contract::load(&path).unwrap();
        let r = Redactor::for_contracts(std::iter::once(&c));
        assert_eq!(r.header(None, "X-Customer-Token", "tok"), MASK);
        let body = r.body(None, br#"{"customer_secret":"S1","nested":{"customer_secret":"S2"}}"#);
        // `/customer_secret` is the contract's; the nested one is masked by its name.
        assert!(!body.contains("S1") && !body.contains("S2"), "{body}");
        // Names that say nothing of a secret are shown.
        assert_eq!(r.header(None, "X-Customer-Ref", "ref"), "ref");
    }

    #[test]
    fn control_characters_and_cdata_ends_are_made_printable() {
        assert_eq!(
            printable("a ]]> b \u{1b}[31m red \u{1} \u{ffff}\nnext\tcol"),
            "a ]]\\u{3e} b \\u{1b}[31m red \\u{1} \\u{ffff}\nnext\tcol"
        );
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = crate::matching::line_diff(
            &serde_json::to_string_pretty(&json!({"a": 1, "b": 2})).unwrap(),
            &serde_json::to_string_pretty(&json!({"a": 1, "b": 3})).unwrap(),
        );
        assert!(d.contains("-   \"b\": 2") && d.contains("+   \"b\": 3"), "{d}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let v: Vec<u32> = (0..200).collect();
        let text = Redactor::default().body(None, serde_json::to_string(&v).unwrap().as_bytes());
        assert!(text.contains("more lines"), "{text}");
    }
}
