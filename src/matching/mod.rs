//! Fuzzy JSON matching: an expected document with markers against an actual one.
//!
//! Expected values are plain JSON; a string that starts with `#` is a marker (`#string`,
//! `#uuid`, `#regex ^T-\d+$`, `#[2] #object`, ...), and `##marker` makes the field optional.
//! Two modes: `Contains` lets objects carry extra keys at any depth, `Equals` does not.
//! Arrays are compared element by element in order in both modes. The result lists every
//! mismatch by JSON pointer, so a failure says exactly which field is wrong and how.

pub mod marker;
pub mod number;
pub mod tape;

use serde_json::Value;

pub use marker::Marker;

/// The media type of a `Content-Type` value as compared everywhere: parameters (`;
/// charset=...`) dropped, spaces trimmed, lower case.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Objects may have keys the expectation does not mention.
    Contains,
    /// Objects must have exactly the expected keys.
    Equals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// JSON pointer of the field in the actual document ("" is the root).
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{p}: {}", self.message)
    }
}

/// Checks that every marker in `expected` is well formed (lint runs this on doc strings).
pub fn check_expected(expected: &Value) -> Result<(), String> {
    if let Some((_, template)) = each(expected)? {
        return check_expected(template);
    }
    match expected {
        Value::String(s) if s.starts_with("\\#") => Ok(()),
        Value::String(s) => Marker::parse(s).map(|_| ()),
        Value::Array(items) => items.iter().try_for_each(check_expected),
        Value::Object(map) => map.values().try_for_each(check_expected),
        _ => Ok(()),
    }
}

/// `["#each", T]` (or `"#each >=1"` and the other lengths): every item of the array matches
/// the pattern T. None for any other expected value.
fn each(expected: &Value) -> Result<Option<(Option<marker::Len>, &Value)>, String> {
    let Value::Array(items) = expected else { return Ok(None) };
    let Some(Value::String(head)) = items.first() else {
        return Ok(None);
    };
    let Some(rest) = head.strip_prefix("#each") else {
        return Ok(None);
    };
    if !rest.is_empty() && !rest.starts_with(' ') {
        return Ok(None);
    }
    let [_, template] = items.as_slice() else {
        return Err(format!(
            "[\"{head}\", ...] takes exactly one pattern after it, got {}",
            items.len() - 1
        ));
    };
    let len = if rest.trim().is_empty() {
        None
    } else {
        Some(marker::Len::parse(rest).map_err(|e| format!("\"{head}\": {e}"))?)
    };
    Ok(Some((len, template)))
}

/// Every way `actual` fails `expected`. An empty list means it matches.
pub fn compare(expected: &Value, actual: &Value, mode: Mode) -> Result<Vec<Mismatch>, String> {
    let mut out = Vec::new();
    walk(expected, Some(actual), "", mode, &mut out)?;
    Ok(out)
}

fn walk(
    expected: &Value,
    actual: Option<&Value>,
    pointer: &str,
    mode: Mode,
    out: &mut Vec<Mismatch>,
) -> Result<(), String> {
    let mut fail = |message: String| {
        out.push(Mismatch {
            pointer: pointer.to_string(),
            message,
        })
    };
    if let Value::String(s) = expected {
        if let Some(literal) = s.strip_prefix('\\').filter(|r| r.starts_with('#')) {
            // `\#tag` is the literal string "#tag".
            match actual {
                Some(Value::String(a)) if a == literal => {}
                Some(a) => fail(format!("expected {literal:?}, got {}", describe(a))),
                None => fail(format!("missing; expected {literal:?}")),
            }
            return Ok(());
        }
        if let Some(marker) = Marker::parse(s)? {
            if let Err(why) = marker.check(actual) {
                fail(why);
            }
            return Ok(());
        }
    }
    let Some(actual) = actual else {
        fail(format!("missing; expected {}", short(expected)));
        return Ok(());
    };
    if let Some((len, template)) = each(expected)? {
        let Value::Array(items) = actual else {
            fail(format!("expected an array, got {}", describe(actual)));
            return Ok(());
        };
        if let Some(n) = len
            && !n.allows(items.len())
        {
            fail(format!("expected an array of {}, got {}", n.words(), items.len()));
        }
        for (i, item) in items.iter().enumerate() {
            walk(template, Some(item), &format!("{pointer}/{i}"), mode, out)?;
        }
        return Ok(());
    }
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            for (key, e) in exp {
                walk(e, act.get(key), &format!("{pointer}/{}", escape(key)), mode, out)?;
            }
            if mode == Mode::Equals {
                for (key, a) in act {
                    if !exp.contains_key(key) {
                        out.push(Mismatch {
                            pointer: format!("{pointer}/{}", escape(key)),
                            message: format!("not expected, but present: {}", short(a)),
                        });
                    }
                }
            }
        }
        (Value::Array(exp), Value::Array(act)) => {
            if exp.len() != act.len() {
                out.push(Mismatch {
                    pointer: pointer.to_string(),
                    message: format!("expected an array of {} item(s), got {}", exp.len(), act.len()),
                });
            }
            for (i, e) in exp.iter().enumerate() {
                if let Some(a) = act.get(i) {
                    walk(e, Some(a), &format!("{pointer}/{i}"), mode, out)?;
                }
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            if !number::same(e, a) {
                fail(format!("expected {e}, got {a}"));
            }
        }
        (e, a) if e == a => {}
        (e, a) => fail(format!("expected {}, got {}", short(e), describe(a))),
    }
    Ok(())
}

/// Both sides as a person should see them in a diff: a marker that matched shows the actual
/// value, and in `Contains` mode the actual side keeps only the keys the expectation names.
/// The diff of the two views then shows exactly the mismatches.
pub fn diff_views(expected: &Value, actual: &Value, mode: Mode) -> (Value, Value) {
    if let (Ok(Some((_, template))), Value::Array(items)) = (each(expected), actual) {
        let (e, a): (Vec<Value>, Vec<Value>) = items.iter().map(|i| diff_views(template, i, mode)).unzip();
        return (Value::Array(e), Value::Array(a));
    }
    if let Value::String(s) = expected
        && let Ok(Some(marker)) = Marker::parse(s)
    {
        return if marker.check(Some(actual)).is_ok() {
            (actual.clone(), actual.clone())
        } else {
            (expected.clone(), actual.clone())
        };
    }
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => {
            let mut e_view = serde_json::Map::new();
            let mut a_view = serde_json::Map::new();
            for (k, e) in exp {
                match act.get(k) {
                    Some(a) => {
                        let (ev, av) = diff_views(e, a, mode);
                        e_view.insert(k.clone(), ev);
                        a_view.insert(k.clone(), av);
                    }
                    None => {
                        let optional = matches!(e, Value::String(s) if Marker::parse(s).ok().flatten().is_some_and(|m| m.check(None).is_ok()));
                        if !optional {
                            e_view.insert(k.clone(), e.clone());
                        }
                    }
                }
            }
            if mode == Mode::Equals {
                for (k, a) in act {
                    if !exp.contains_key(k) {
                        a_view.insert(k.clone(), a.clone());
                    }
                }
            }
            (Value::Object(e_view), Value::Object(a_view))
        }
        (Value::Array(exp), Value::Array(act)) => {
            let mut e_view = Vec::new();
            let mut a_view = Vec::new();
            for i in 0..exp.len().max(act.len()) {
                match (exp.get(i), act.get(i)) {
                    (Some(e), Some(a)) => {
                        let (ev, av) = diff_views(e, a, mode);
                        e_view.push(ev);
                        a_view.push(av);
                    }
                    (Some(e), None) => e_view.push(e.clone()),
                    (None, Some(a)) => a_view.push(a.clone()),
                    (None, None) => {}
                }
            }
            (Value::Array(e_view), Value::Array(a_view))
        }
        _ => (expected.clone(), actual.clone()),
    }
}

pub fn escape(key: &str) -> String {
    crate::pointer::escape(key)
}

/// A value as it would read in a message: compact, cut when long.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

/// A value with its JSON type when the type is the likely problem: `"3" (a string)`.
pub fn describe(v: &Value) -> String {
    format!("{} ({})", short(v), type_name(v))
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A unified line diff, `-` expected and `+` actual, three lines of context per change.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, actual);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push(' ');
                out.push_str(change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
        out.push_str("  …\n");
    }
    out
}

#[cfg(test)]
mod tests;
