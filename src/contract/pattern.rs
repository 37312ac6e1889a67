//! `pattern` is ECMA-262 (JavaScript) in JSON Schema, and real specs are written against
//! JavaScript engines: `\p{XDigit}`-style classes, `\A`/`\Z` anchors, surrogate-pair ranges for
//! "any astral character", Annex B's literal braces (`{1-70}`) and class escapes as range
//! ends (`[\d-z]`). The Rust engines under jsonschema refuse these, and one refused pattern
//! made the whole contract fail to load. Here each pattern is tried as written; when it does
//! not compile it is translated to what it means; when even that fails it is left out, so the
//! rest of the schema is still checked. Either way `lint` warns at the keyword's pointer.

use serde_json::{Map, Value};

/// Whether the validator compiles `pattern` the way it will in a contract.
fn compiles(pattern: &str) -> bool {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&serde_json::json!({ "pattern": pattern }))
        .is_ok()
}

/// POSIX-named classes some engines accept as `\p{Name}`.
const POSIX: &[(&str, &str)] = &[
    ("XDigit", "0-9A-Fa-f"),
    ("Digit", "0-9"),
    ("Alpha", "\\p{Alphabetic}"),
    ("Alnum", "\\p{Alphabetic}0-9"),
    ("Upper", "\\p{Uppercase}"),
    ("Lower", "\\p{Lowercase}"),
    ("Space", "\\s"),
    ("Punct", "\\p{Punctuation}"),
    ("Blank", " \\t"),
    ("Cntrl", "\\x00-\\x1F\\x7F"),
    ("Print", "\\x20-\\x7E"),
    ("Graph", "\\x21-\\x7E"),
];

/// `pattern` rewritten to mean in Rust's engines what it means in JavaScript's.
pub fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().take(16).collect();
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            // \p{XDigit} and friends.
            if (n == 'p' || n == 'P')
                && let Some(end) = rest.find('}')
                && rest.starts_with(&format!("\\{n}{{"))
            {
                let name = &rest[3..end];
                if let Some((_, set)) = POSIX.iter().find(|(k, _)| *k == name) {
                    let neg = if n == 'P' { "^" } else { "" };
                    if in_class {
                        out.push_str(set);
                    } else {
                        out.push_str(&format!("[{neg}{set}]"));
                    }
                    i += end + 1;
                    continue;
                }
            }
            // \A and \Z / \z anchors.
            if !in_class && n == 'A' {
                out.push('^');
                i += 2;
                continue;
            }
            if !in_class && (n == 'Z' || n == 'z') {
                out.push('$');
                i += 2;
                continue;
            }
            // A high-surrogate range followed by a low-surrogate one: any astral character.
            if n == 'u' && in_class && rest.len() >= 6 {
                let hex: String = chars[i + 2..(i + 6).min(chars.len())].iter().collect();
                if let Ok(cp) = u32::from_str_radix(&hex, 16)
                    && (0xD800..=0xDFFF).contains(&cp)
                {
                    // Replace the whole class: find its end and emit the astral range once.
                    if let Some(close) = chars[i..].iter().position(|&x| x == ']') {
                        if cp <= 0xDBFF {
                            // Drop "[" already written and write the astral range instead.
                            if out.ends_with('[') {
                                out.pop();
                            }
                            out.push_str("[\\u{10000}-\\u{10FFFF}]");
                        } else if out.ends_with('[') {
                            // The low-surrogate class that follows: already covered.
                            out.pop();
                        }
                        in_class = false;
                        i += close + 1;
                        continue;
                    }
                }
            }
            // A class escape as a range end inside a class (`[\d-z]`): the `-` is literal.
            if in_class
                && matches!(n, 'd' | 'D' | 'w' | 'W' | 's' | 'S')
                && chars.get(i + 2) == Some(&'-')
                && chars.get(i + 3).is_some_and(|&x| x != ']')
            {
                out.push('\\');
                out.push(n);
                out.push_str("\\-");
                i += 3;
                continue;
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        if !in_class && c == '[' {
            in_class = true;
        } else if in_class && c == ']' {
            in_class = false;
        } else if !in_class && c == '{' && !is_quantifier(&chars[i..]) {
            // Annex B: a brace that opens no quantifier is a literal.
            out.push_str("\\{");
            i += 1;
            continue;
        } else if !in_class && c == '}' && !closes_quantifier(&chars[..i]) {
            out.push_str("\\}");
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `{n}`, `{n,}` or `{n,m}` starting here.
fn is_quantifier(s: &[char]) -> bool {
    let Some(end) = s.iter().position(|&c| c == '}') else {
        return false;
    };
    let inner: String = s[1..end].iter().collect();
    let mut parts = inner.splitn(2, ',');
    let a = parts.next().unwrap_or_default();
    let b = parts.next();
    !a.is_empty() && a.bytes().all(|x| x.is_ascii_digit()) && b.is_none_or(|b| b.bytes().all(|x| x.is_ascii_digit()))
}

fn closes_quantifier(before: &[char]) -> bool {
    let Some(open) = before.iter().rposition(|&c| c == '{') else {
        return false;
    };
    is_quantifier(
        &before[open..]
            .iter()
            .copied()
            .chain(std::iter::once('}'))
            .collect::<Vec<_>>(),
    )
}

/// What became of a pattern that did not compile as written.
pub enum Fixed {
    Translated(String),
    Dropped,
}

/// None when `pattern` compiles as written.
pub fn fix(pattern: &str) -> Option<Fixed> {
    if compiles(pattern) {
        return None;
    }
    let t = translate(pattern);
    Some(if t != pattern && compiles(&t) {
        Fixed::Translated(t)
    } else {
        Fixed::Dropped
    })
}

/// Fixes the `pattern` of one schema object (and its `patternProperties` keys) in place;
/// returns a warning per change, each with the JSON pointer of the keyword under `pointer`.
pub fn fix_object(obj: &mut Map<String, Value>, pointer: &str) -> Vec<(String, String)> {
    let mut warnings = Vec::new();
    if let Some(Value::String(p)) = obj.get("pattern")
        && let Some(fixed) = fix(p)
    {
        let original = p.clone();
        let at = format!("{pointer}/pattern");
        match fixed {
            Fixed::Translated(t) => {
                warnings.push((at, format!("the pattern {original:?} is not one Rust's regex engines read; checked as {t:?}, which means the same in JavaScript")));
                obj.insert("pattern".into(), Value::String(t));
            }
            Fixed::Dropped => {
                warnings.push((
                    at,
                    format!(
                        "the pattern {original:?} cannot be compiled: it is not checked (the rest of the schema is)"
                    ),
                ));
                obj.remove("pattern");
            }
        }
    }
    if let Some(Value::Object(props)) = obj.get_mut("patternProperties") {
        let keys: Vec<String> = props.keys().cloned().collect();
        for k in keys {
            let Some(fixed) = fix(&k) else { continue };
            let at = format!("{pointer}/patternProperties/{}", crate::pointer::escape(&k));
            let Some(v) = props.remove(&k) else { continue };
            match fixed {
                Fixed::Translated(t) => {
                    warnings.push((
                        at,
                        format!("the pattern {k:?} is not one Rust's regex engines read; checked as {t:?}"),
                    ));
                    props.insert(t, v);
                }
                Fixed::Dropped => {
                    warnings.push((
                        at,
                        format!("the pattern {k:?} cannot be compiled: the properties it names are not checked"),
                    ));
                }
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_patterns_are_translated_to_what_they_mean() {
        assert_eq!(translate(r"^\p{XDigit}+$"), r"^[0-9A-Fa-f]+$");
        assert_eq!(translate(r"\A[a-z]+\Z"), r"^[a-z]+$");
        assert_eq!(translate(r"^[a-z]{1-70}$"), r"^[a-z]\{1-70\}$");
        assert_eq!(translate(r"^[a-z]{1,70}$"), r"^[a-z]{1,70}$");
        assert_eq!(translate(r"[\d-z]"), r"[\d\-z]");
        assert_eq!(
            translate(r"^[\ud800-\udbff][\udc00-\udfff]$"),
            r"^[\u{10000}-\u{10FFFF}]$"
        );
        for p in [
            r"^\p{XDigit}+$",
            r"\A[a-z]+\Z",
            r"^[a-z]{1-70}$",
            r"[\d-z]",
            r"^[\ud800-\udbff][\udc00-\udfff]$",
        ] {
            assert!(!compiles(p), "{p} compiled as written: the test proves nothing");
            assert!(matches!(fix(p), Some(Fixed::Translated(_))), "{p}");
        }
        assert!(fix(r"^\w+$").is_none());
        assert!(matches!(fix(r"(unclosed"), Some(Fixed::Dropped)));
        let re = regex::Regex::new(&translate(r"^[\ud800-\udbff][\udc00-\udfff]$")).unwrap();
        assert!(re.is_match("😀") && !re.is_match("a"));
    }
}
