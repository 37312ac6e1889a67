//! The markers of fuzzy matching and what each accepts.

use regex::Regex;
use serde_json::Value;

use super::describe;
use super::media_type;

/// How many items an array may have: `#[3]`, `#[>=1]`, `#[<=5]`, `#[2..4]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Exactly(usize),
    AtLeast(usize),
    AtMost(usize),
    Between(usize, usize),
}

impl Len {
    pub fn parse(text: &str) -> Result<Len, String> {
        let t = text.trim();
        let n = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{text:?} is not a length"))
        };
        Ok(if let Some(r) = t.strip_prefix(">=") {
            Len::AtLeast(n(r)?)
        } else if let Some(r) = t.strip_prefix("<=") {
            Len::AtMost(n(r)?)
        } else if let Some((a, b)) = t.split_once("..") {
            let (a, b) = (n(a)?, n(b)?);
            if a > b {
                return Err(format!("{text:?}: {a} is more than {b}"));
            }
            Len::Between(a, b)
        } else {
            Len::Exactly(n(t)?)
        })
    }

    pub fn allows(self, len: usize) -> bool {
        match self {
            Len::Exactly(n) => len == n,
            Len::AtLeast(n) => len >= n,
            Len::AtMost(n) => len <= n,
            Len::Between(a, b) => (a..=b).contains(&len),
        }
    }

    pub fn words(self) -> String {
        match self {
            Len::Exactly(n) => format!("{n} item(s)"),
            Len::AtLeast(n) => format!("at least {n} item(s)"),
            Len::AtMost(n) => format!("at most {n} item(s)"),
            Len::Between(a, b) => format!("{a} to {b} items"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Marker {
    /// Anything, even a missing field.
    Ignore,
    /// The field exists (any value, null included).
    Present,
    /// The field does not exist.
    NotPresent,
    Null,
    NotNull,
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array {
        len: Option<Len>,
        each: Option<Box<Marker>>,
    },
    /// `#media TYPE`: a media type equal to TYPE, parameters (`; charset=...`), case and
    /// whitespace aside.
    Media(String),
    Uuid,
    DateTime,
    Date,
    Email,
    Uri,
    Regex(Regex),
    /// `##x`: missing or null, or else `x`.
    Optional(Box<Marker>),
}

impl Marker {
    /// `Ok(None)` for a plain string (not a marker); `\#` escapes a literal leading `#`.
    pub fn parse(s: &str) -> Result<Option<Marker>, String> {
        if !s.starts_with('#') {
            return Ok(None);
        }
        parse_marker(s).map(Some)
    }

    /// `Err(reason)` when `actual` (None: the field is missing) does not satisfy the marker.
    pub fn check(&self, actual: Option<&Value>) -> Result<(), String> {
        let v = match (self, actual) {
            (Marker::Ignore, _) => return Ok(()),
            (Marker::NotPresent, None) => return Ok(()),
            (Marker::NotPresent, Some(v)) => return Err(format!("expected no such field, got {}", describe(v))),
            (Marker::Optional(_), None | Some(Value::Null)) => return Ok(()),
            (Marker::Optional(inner), Some(v)) => return inner.check(Some(v)),
            (m, None) => return Err(format!("missing; expected {}", m.name())),
            (_, Some(v)) => v,
        };
        let ok = match self {
            Marker::Present => true,
            Marker::Null => v.is_null(),
            Marker::NotNull => !v.is_null(),
            Marker::String => v.is_string(),
            Marker::Number => v.is_number(),
            Marker::Integer => {
                v.as_i64().is_some() || v.as_u64().is_some() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Marker::Boolean => v.is_boolean(),
            Marker::Object => v.is_object(),
            Marker::Uuid => v.as_str().is_some_and(is_uuid),
            Marker::DateTime => v.as_str().is_some_and(is_date_time),
            Marker::Date => v.as_str().is_some_and(is_date),
            Marker::Email => v.as_str().is_some_and(|s| {
                s.split_once('@')
                    .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !s.contains(' '))
            }),
            Marker::Uri => v.as_str().is_some_and(|s| url::Url::parse(s).is_ok()),
            Marker::Media(want) => v.as_str().is_some_and(|s| media_type(s) == *want),
            Marker::Regex(re) => match v {
                Value::String(s) => re.is_match(s),
                // A number's JSON text (`#regex [0-9]{4}` on 2026).
                Value::Number(n) => re.is_match(&n.to_string()),
                _ => {
                    return Err(format!(
                        "expected a string matching {}, got {}",
                        re.as_str(),
                        describe(v)
                    ));
                }
            },
            Marker::Array { len, each } => {
                let Some(items) = v.as_array() else {
                    return Err(format!("expected {}, got {}", self.name(), describe(v)));
                };
                if let Some(n) = len
                    && !n.allows(items.len())
                {
                    return Err(format!("expected an array of {}, got {}", n.words(), items.len()));
                }
                if let Some(m) = each {
                    for (i, item) in items.iter().enumerate() {
                        m.check(Some(item)).map_err(|why| format!("item {i}: {why}"))?;
                    }
                }
                true
            }
            Marker::Ignore | Marker::NotPresent | Marker::Optional(_) => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("expected {}, got {}", self.name(), describe(v)))
        }
    }

    /// How the marker reads in a message.
    pub fn name(&self) -> String {
        match self {
            Marker::Ignore => "#ignore".into(),
            Marker::Present => "a value (#present)".into(),
            Marker::NotPresent => "no such field (#notpresent)".into(),
            Marker::Null => "null".into(),
            Marker::NotNull => "a value that is not null".into(),
            Marker::String => "a string".into(),
            Marker::Number => "a number".into(),
            Marker::Integer => "an integer".into(),
            Marker::Boolean => "a boolean".into(),
            Marker::Object => "an object".into(),
            Marker::Array { len: Some(n), .. } => format!("an array of {}", n.words()),
            Marker::Media(t) => format!("the media type {t}"),
            Marker::Array { len: None, .. } => "an array".into(),
            Marker::Uuid => "a UUID".into(),
            Marker::DateTime => "an RFC 3339 date-time".into(),
            Marker::Date => "a date (YYYY-MM-DD)".into(),
            Marker::Email => "an e-mail address".into(),
            Marker::Uri => "an absolute URI".into(),
            Marker::Regex(re) => format!("a string matching /{}/", re.as_str()),
            Marker::Optional(m) => format!("nothing, null or {}", m.name()),
        }
    }
}

pub const MARKERS: &[(&str, &str)] = &[
    ("#ignore", "anything, even a missing field"),
    ("#present", "the field exists, with any value (null too)"),
    ("#notpresent", "the field does not exist"),
    ("#null", "null"),
    ("#notnull", "present and not null"),
    ("#string", "a string"),
    ("#number", "a number"),
    ("#integer", "a whole number"),
    ("#boolean", "true or false"),
    ("#object", "an object"),
    (
        "#[]",
        "an array; #[N] of N items, #[>=N] at least N, #[<=N] at most N, #[N..M] N to M; #[] #string an array whose items are all strings",
    ),
    (
        "[\"#each\", T]",
        "an array whose every item matches the pattern T (an object, a marker...); \"#each >=1\" (or 3, <=5, 2..4) says how many",
    ),
    (
        "#media TYPE",
        "a media type equal to TYPE, parameters such as charset, case and spaces aside",
    ),
    ("#uuid", "a UUID string"),
    ("#date-time", "an RFC 3339 date-time string"),
    ("#date", "a YYYY-MM-DD date string"),
    ("#email", "an e-mail address"),
    ("#uri", "an absolute URI"),
    (
        "#regex RE",
        "a string (or a number's JSON text) that RE matches as a whole",
    ),
    ("\\#text", "the literal string \"#text\" (a leading # escaped)"),
    (
        "##marker",
        "optional: missing or null, or else the marker (e.g. ##string)",
    ),
];

fn parse_marker(s: &str) -> Result<Marker, String> {
    if let Some(rest) = s.strip_prefix("##") {
        return Ok(Marker::Optional(Box::new(parse_marker(&format!("#{rest}"))?)));
    }
    if let Some(re) = s.strip_prefix("#regex ") {
        let re = Regex::new(&format!("^(?:{})$", re.trim()))
            .map_err(|e| format!("marker {s:?}: bad regular expression: {e}"))?;
        return Ok(Marker::Regex(re));
    }
    if let Some(rest) = s.strip_prefix("#[") {
        let (len, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("marker {s:?}: missing ']'"))?;
        let len = if len.trim().is_empty() {
            None
        } else {
            Some(Len::parse(len).map_err(|e| format!("marker {s:?}: {e}"))?)
        };
        let tail = tail.trim();
        let each = if tail.is_empty() {
            None
        } else {
            Some(Box::new(parse_marker(tail)?))
        };
        return Ok(Marker::Array { len, each });
    }
    if let Some(t) = s.strip_prefix("#media ") {
        let t = media_type(t);
        if !t.contains('/') {
            return Err(format!("marker {s:?}: {t:?} is not a media type (type/subtype)"));
        }
        return Ok(Marker::Media(t));
    }
    Ok(match s {
        "#ignore" => Marker::Ignore,
        "#present" => Marker::Present,
        "#notpresent" => Marker::NotPresent,
        "#null" => Marker::Null,
        "#notnull" => Marker::NotNull,
        "#string" => Marker::String,
        "#number" => Marker::Number,
        "#integer" => Marker::Integer,
        "#boolean" => Marker::Boolean,
        "#object" => Marker::Object,
        "#array" => Marker::Array { len: None, each: None },
        "#uuid" => Marker::Uuid,
        "#date-time" => Marker::DateTime,
        "#date" => Marker::Date,
        "#email" => Marker::Email,
        "#uri" => Marker::Uri,
        other => {
            let known: Vec<&str> = MARKERS.iter().map(|(m, _)| *m).collect();
            return Err(format!(
                "unknown marker {other:?} (known: {}; write \\# for a literal '#')",
                known.join(" ")
            ));
        }
    })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn digits(s: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let part = s.get(range)?;
    if part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
#[test]
fn dates_with_non_ascii_text_are_no_dates_and_no_panic() {
    for s in [
        "2026-1é-01",
        "2026é01-01",
        "2026-01-01Té0:00:00Z",
        "ééééééééééééééééééééé",
        "2026-01-01é",
    ] {
        assert!(!is_date(s) && !is_date_time(s), "{s}");
    }
    assert!(is_date("2026-01-31") && is_date_time("2026-01-31T10:00:00Z"));
}

fn is_date(s: &str) -> bool {
    // ASCII first: slicing by byte below must never split a character.
    s.is_ascii()
        && s.len() == 10
        && &s[4..5] == "-"
        && &s[7..8] == "-"
        && matches!(
            (digits(s, 0..4), digits(s, 5..7), digits(s, 8..10)),
            (Some(_), Some(1..=12), Some(1..=31))
        )
}

fn is_date_time(s: &str) -> bool {
    if !s.is_ascii() || s.len() < 20 || !is_date(&s[..10]) || !matches!(&s[10..11], "T" | "t" | " ") {
        return false;
    }
    let t = &s[11..];
    let time_ok = t.len() >= 8
        && &t[2..3] == ":"
        && &t[5..6] == ":"
        && matches!(
            (digits(t, 0..2), digits(t, 3..5), digits(t, 6..8)),
            (Some(0..=23), Some(0..=59), Some(0..=60))
        );
    if !time_ok {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => true,
        off if off.len() == 6 && matches!(&off[..1], "+" | "-") && &off[3..4] == ":" => {
            matches!((digits(off, 1..3), digits(off, 4..6)), (Some(0..=23), Some(0..=59)))
        }
        _ => false,
    }
}
