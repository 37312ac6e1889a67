//! The one masker every writer and printer goes through: recordings, the terminal, `-v`,
//! JUnit, Cucumber JSON and drift reports.
//!
//! Two sources of truth, because neither alone is enough:
//! - **known values**: every secret the run learns (client secrets and `${env:...}` values used
//!   in `auth:`, tokens contrail obtained, tokens the simulator issued, credentials a recording
//!   redacted) is remembered here, process-wide, and masked *by value* wherever it turns up
//!   later: a partner that echoes a bearer token inside a JSON body cannot leak it.
//! - **shapes** (`shape.rs`): what looks like a secret although nobody told us (keys named
//!   token/secret/password/..., `Bearer`/`Basic` values, JWTs, cloud keys, webhook secrets).
//!
//! The registry is global on purpose: a value learnt anywhere (the client, the mock's proxy,
//! the simulator) must be masked everywhere, and a writer should not have to be handed the
//! right object to be safe. Remembering more than needed only masks more.

pub mod shape;
mod writer;

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use aho_corasick::AhoCorasick;
use serde_json::Value;

pub use shape::{is_secret_key, scan_json};
pub use writer::MaskingWriter;

/// What recordings write in place of a secret (ASCII, so it stays a valid header value; replay
/// treats it as matching any value).
pub const PLACEHOLDER: &str = "<redacted>";
/// What reports and the terminal show in place of a secret.
pub const MASK: &str = "«redacted»";

/// Values shorter than this are not masked by value: they would hide ordinary words and
/// numbers everywhere, and are no secret worth the name. Shapes and key names still apply.
const MIN_LEN: usize = 4;

#[derive(Default)]
struct Known {
    /// Every remembered value, with an O(1) "already known": a simulator issuing a token per request
    /// remembers thousands (a linear scan and a rebuild per token made it quadratic, which
    /// fuzzing showed as a mock slowing from 8,700 to 220 requests per second).
    values: std::collections::HashSet<String>,
    /// Built when text is next masked, not per remembered value; with the number of patterns
    /// it was built from (values may grow while it is in use).
    matcher: Option<(AhoCorasick, usize)>,
    stale: bool,
}

impl Known {
    fn rebuild(&mut self) {
        // Longest first, so a secret that contains another is masked whole.
        let mut patterns: Vec<&String> = self.values.iter().collect();
        patterns.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self.matcher = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .map(|m| (m, patterns.len()));
        self.stale = false;
    }
}

static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(|| RwLock::new(Known::default()));

/// Remembers a secret value (and its percent-encoded form) so that it is masked wherever it
/// appears from now on.
pub fn remember(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_LEN || value == PLACEHOLDER || value == MASK {
        return;
    }
    let mut forms = vec![value.to_string()];
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    if encoded != value {
        forms.push(encoded);
    }
    // JSON escapes change a value with quotes or backslashes as it is written out.
    if let Ok(json) = serde_json::to_string(value) {
        let inner = &json[1..json.len() - 1];
        if inner != value {
            forms.push(inner.to_string());
        }
    }
    let Ok(mut known) = KNOWN.write() else {
        return;
    };
    for f in forms {
        if known.values.insert(f) {
            known.stale = true;
        }
    }
}

/// Remembers the credential of an `Authorization`-style header value (the part after the
/// scheme, and the password inside `Basic`), or a cookie header's values.
pub fn remember_header(name: &str, value: &str) {
    let name = name.to_ascii_lowercase();
    if name == "cookie" || name == "set-cookie" {
        let pairs = if name == "cookie" {
            value.split(';').collect::<Vec<_>>()
        } else {
            value.split(';').take(1).collect()
        };
        // Session ids are long; `theme=dark` is no secret and would mask "dark" everywhere.
        for pair in pairs {
            if let Some((_, v)) = pair.split_once('=')
                && v.trim().len() >= 8
            {
                remember(v);
            }
        }
        return;
    }
    match value.trim().split_once(' ') {
        Some((scheme, cred)) if scheme.eq_ignore_ascii_case("basic") => {
            remember(cred);
            use base64::Engine as _;
            if let Ok(raw) = base64::prelude::BASE64_STANDARD.decode(cred.trim())
                && let Ok(text) = String::from_utf8(raw)
                && let Some((_, password)) = text.split_once(':')
            {
                remember(password);
            }
        }
        Some((_, cred)) => remember(cred),
        None => remember(value),
    }
}

/// Runs `f` with the matcher over every known value (rebuilt first when values were added).
fn with_matcher<R>(f: impl FnOnce(Option<&(AhoCorasick, usize)>) -> R) -> R {
    // The read guard goes at the end of this statement: taking the write lock while holding it
    // would deadlock.
    let stale = KNOWN.read().is_ok_and(|k| k.stale);
    if stale
        && let Ok(mut known) = KNOWN.write()
        && known.stale
    {
        known.rebuild();
    }
    match KNOWN.read() {
        Ok(known) => f(known.matcher.as_ref()),
        Err(_) => f(None),
    }
}

/// Masks every known secret value in `text`.
pub fn mask_known<'a>(text: &'a str, mask: &str) -> Cow<'a, str> {
    with_matcher(|m| match m {
        Some((m, patterns)) if m.is_match(text) => Cow::Owned(m.replace_all(text, &vec![mask; *patterns])),
        _ => Cow::Borrowed(text),
    })
}

/// Masks every known secret value in bytes that are not text (a binary body): a token next to
/// a stray byte is a token all the same, and base64 on disk hides it from nobody.
pub fn mask_known_bytes<'a>(bytes: &'a [u8], mask: &str) -> Cow<'a, [u8]> {
    with_matcher(|m| match m {
        Some((m, patterns)) if m.is_match(bytes) => {
            Cow::Owned(m.replace_all_bytes(bytes, &vec![mask.as_bytes(); *patterns]))
        }
        _ => Cow::Borrowed(bytes),
    })
}

/// Where the first known secret value starts in `bytes`, if one is there: the last check
/// before a file is written.
pub fn find_known(bytes: &[u8]) -> Option<usize> {
    with_matcher(|m| m.and_then(|(m, _)| m.find(bytes)).map(|found| found.start()))
}

/// Masks known values and secret shapes in free text (a log line, a report, a header value).
pub fn mask_text<'a>(text: &'a str, mask: &str) -> Cow<'a, str> {
    match mask_known(text, mask) {
        Cow::Borrowed(t) => shape::mask_shapes(t, mask),
        Cow::Owned(t) => Cow::Owned(shape::mask_shapes(&t, mask).into_owned()),
    }
}

/// Masks known secret values and secret shapes inside every string of a JSON value. Where a
/// field policy applies (recordings), the policy decides by name, and a contract may keep a
/// field the name rule would hide; this is all that is left to do after it.
pub fn mask_strings(v: &mut Value, mask: &str) {
    match v {
        Value::Object(m) => {
            mask_keys(m, mask);
            m.values_mut().for_each(|c| mask_strings(c, mask));
        }
        Value::Array(a) => a.iter_mut().for_each(|c| mask_strings(c, mask)),
        Value::String(s) => {
            if let Cow::Owned(masked) = mask_text(s, mask) {
                *s = masked;
            }
        }
        _ => {}
    }
}

/// Masks secrets in an object's keys: partners key maps by session or token
/// (`{"sessions": {"<token>": ...}}`), and a key is written out as plainly as a value. Two keys
/// that mask alike stay two entries (`<mask>`, `<mask>#2`), so no value is lost.
fn mask_keys(m: &mut serde_json::Map<String, Value>, mask: &str) {
    if !m.keys().any(|k| matches!(mask_text(k, mask), Cow::Owned(_))) {
        return;
    }
    let mut masked = Vec::new();
    for (k, c) in std::mem::take(m) {
        match mask_text(&k, mask) {
            Cow::Borrowed(_) => {
                m.insert(k, c);
            }
            Cow::Owned(key) => masked.push((key, c)),
        }
    }
    // After every key that stays, so that a masked key never takes the name of one.
    for (key, c) in masked {
        let key = unique_key(|k| m.contains_key(k), key);
        m.insert(key, c);
    }
}

/// `key`, or `key#2`, `key#3`, ... whichever `taken` does not hold yet.
fn unique_key(taken: impl Fn(&str) -> bool, key: String) -> String {
    if !taken(&key) {
        return key;
    }
    (2..).map(|n| format!("{key}#{n}")).find(|k| !taken(k)).unwrap_or(key)
}

/// Masks a JSON value in place where no field policy applies (`-v`'s variables): values under
/// secret-named keys at any depth, and known values and secret shapes inside every string.
pub fn scrub_json(v: &mut Value, mask: &str) {
    match v {
        Value::Object(m) => {
            mask_keys(m, mask);
            for (k, c) in m.iter_mut() {
                if is_secret_key(k) && is_secret_value(c) {
                    *c = Value::String(mask.into());
                } else {
                    scrub_json(c, mask);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| scrub_json(c, mask)),
        Value::String(s) => {
            if let Cow::Owned(masked) = mask_text(s, mask) {
                *s = masked;
            }
        }
        _ => {}
    }
}

/// Whether a value under a secret-named key is worth hiding: text and numbers, not null,
/// booleans or placeholders (`"token_required": true` says nothing).
pub fn is_secret_value(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty() && s != PLACEHOLDER && s != MASK,
        Value::Number(_) => true,
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Null | Value::Bool(_) => false,
    }
}

#[cfg(test)]
mod tests;
