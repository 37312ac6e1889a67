//! The part of a JSON body the policy compares exactly, as canonical text: what a replay key
//! holds. Fields the policy ignores, treats as volatile or redacts are left out; fields kept
//! under type-only or regex rules are checked afterwards, on the few candidates the key finds.
//! Keys come sorted (a repeated key: its last value, as `serde_json` keeps it), numbers in one
//! spelling and strings in one escaping, so key order, whitespace, `1.50` vs `1.5` and `\u0041`
//! vs `A` never matter.
//!
//! Two roads to one text: from a parsed `Value` (a recorded body), and from the request's own
//! bytes through `matching::tape` (an incoming body, on every request the mock answers, where a
//! `Value` would be built only to be thrown away). Tests hold the two to the same output.

use std::borrow::Cow;

use serde_json::Value;

use super::FieldPolicy;
use crate::matching::tape::{Node, Tape, Text};

impl FieldPolicy {
    /// The exact part of `v` as canonical JSON, appended to `out`.
    pub fn write_exact(&self, op: Option<&str>, v: &Value, out: &mut String) {
        self.write_value(op, v, &mut Vec::new(), out);
    }

    /// `write_exact` into a new string.
    pub fn exact_key(&self, op: Option<&str>, v: &Value) -> String {
        let mut out = String::new();
        self.write_exact(op, v, &mut out);
        out
    }

    /// The exact part of the JSON text `raw` as `write_exact` writes it for the same document
    /// parsed; `false` (and `out` untouched) when the tape reader leaves `raw` to `serde_json`.
    pub fn write_exact_raw(&self, op: Option<&str>, raw: &[u8], out: &mut String) -> bool {
        let Some(tape) = Tape::read(raw) else {
            return false;
        };
        let mut walk = Walk {
            path: Vec::with_capacity(8),
            members: Vec::with_capacity(16),
        };
        self.write_node(op, &tape, 0, &mut walk, out);
        true
    }

    fn write_value<'v>(&self, op: Option<&str>, v: &'v Value, path: &mut Vec<Cow<'v, str>>, out: &mut String) {
        match v {
            Value::Object(m) => {
                // serde_json's map is ordered: keys come sorted and unique.
                out.push('{');
                let mut first = true;
                for (k, c) in m {
                    path.push(Cow::Borrowed(k));
                    if self.body(op, path).is_none() {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        write_json_string(k, out);
                        out.push(':');
                        self.write_value(op, c, path, out);
                    }
                    path.pop();
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, c) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    path.push(index_segment(i));
                    self.write_value(op, c, path, out);
                    path.pop();
                }
                out.push(']');
            }
            Value::Number(n) => out.push_str(&crate::matching::number::canonical_text(n)),
            Value::String(s) => write_json_string(s, out),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Null => out.push_str("null"),
        }
    }

    fn write_node<'t>(&self, op: Option<&str>, tape: &'t Tape<'_>, i: usize, walk: &mut Walk<'t>, out: &mut String) {
        let nodes = tape.nodes();
        match nodes.get(i) {
            Some(Node::Object { end }) => {
                // (key, as written, index of its value), in key order; a repeated key keeps its
                // last value. On the walk's one stack of members: an object's own sit above its
                // parent's.
                let base = walk.members.len();
                let mut j = i + 1;
                while j < *end {
                    let Some(Node::Str(k)) = nodes.get(j) else { break };
                    walk.members.push((k.as_str(), k, j + 1));
                    j = tape.after(j + 1);
                }
                let top = walk.members.len();
                // Stable: equal keys stay in document order, so the last of a run is the last written.
                walk.members[base..].sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                let mut first = true;
                for n in base..top {
                    let (k, written, v) = walk.members[n];
                    if n + 1 < top && walk.members[n + 1].0 == k {
                        continue;
                    }
                    walk.path.push(Cow::Borrowed(k));
                    if self.body(op, &walk.path).is_none() {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        write_text(written, out);
                        out.push(':');
                        self.write_node(op, tape, v, walk, out);
                    }
                    walk.path.pop();
                }
                walk.members.truncate(base);
                out.push('}');
            }
            Some(Node::Array { end }) => {
                out.push('[');
                let (mut j, mut n) = (i + 1, 0);
                while j < *end {
                    if n > 0 {
                        out.push(',');
                    }
                    walk.path.push(index_segment(n));
                    self.write_node(op, tape, j, walk, out);
                    walk.path.pop();
                    j = tape.after(j);
                    n += 1;
                }
                out.push(']');
            }
            Some(Node::Number(text)) => out.push_str(&crate::matching::number::canonical_text_of(text)),
            Some(Node::Str(s)) => write_text(s, out),
            Some(Node::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Some(Node::Null) | None => out.push_str("null"),
        }
    }
}

/// What a walk over a tape keeps between nodes, allocated once per body.
struct Walk<'t> {
    /// The path to the node being written, as the policy reads it.
    path: Vec<Cow<'t, str>>,
    /// The members of the objects being written, innermost last: (key, key as written, index
    /// of its value).
    members: Vec<(&'t str, &'t Text<'t>, usize)>,
}

/// An array index as a path segment, without allocating for the indexes most arrays have.
pub(super) fn index_segment(i: usize) -> Cow<'static, str> {
    const SMALL: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    match SMALL.get(i) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(i.to_string()),
    }
}

/// A string of the tape as `write_json_string` writes it: one without escapes is already
/// written so, once quoted.
fn write_text(text: &Text<'_>, out: &mut String) {
    match text {
        Text::Plain(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Text::Escaped(s) => write_json_string(s, out),
    }
}

/// `s` as a JSON string: quoted, with `"`, `\\` and control characters escaped (and nothing
/// else, so the text is one spelling per string).
pub(super) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if escaped.is_empty() {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escaped);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}
