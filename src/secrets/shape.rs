//! What a secret looks like when nobody said it was one: key names (at any depth, in query
//! and headers) and value shapes (credentials after an auth scheme, JWTs, the key formats of
//! common clouds and SaaS, webhook signing secrets, PEM private keys).
//!
//! False positives cost little (a value masked in a report, a lint finding that
//! `--allow-secret` accepts); a false negative is a secret in git. So the names are broad and
//! the shapes are the ones with a recognisable prefix or structure, which rarely match prose.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// Last words of a key name that mark it secret (`x-csrf-token`, `clientSecret`, `sig`).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "signature",
    "sig",
    "cookie",
    "authorization",
    "apikey",
    "credential",
    "credentials",
];
/// Last two words that mark a key secret (`api_key`, `X-Api-Key`, `privateKey`).
const SECRET_PAIRS: &[&str] = &["apikey", "privatekey", "secretkey", "accesskey", "sessionid"];

/// The last two words of a name (`clientSecret` -> `client`, `secret`; `X-Hub-Signature-256`
/// -> `hub`, `signature`: trailing numbers only version a name), as byte spans of `name`.
/// Allocation-free: the mock's replay path asks this for every header of every request.
fn last_words(name: &str) -> (Option<&str>, Option<&str>) {
    fn push<'a>(word: &'a str, prev: &mut Option<&'a str>, last: &mut Option<&'a str>) {
        // A word of digits only (a version) is not a word of the name.
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            *prev = *last;
            *last = Some(word);
        }
    }
    let (mut prev, mut last): (Option<&str>, Option<&str>) = (None, None);
    let mut start: Option<usize> = None;
    let mut prev_lower = false;
    for (i, c) in name.char_indices() {
        if !c.is_alphanumeric() {
            if let Some(s) = start.take() {
                push(&name[s..i], &mut prev, &mut last);
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase()
            && prev_lower
            && let Some(s) = start.take()
        {
            push(&name[s..i], &mut prev, &mut last);
        }
        if start.is_none() {
            start = Some(i);
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if let Some(s) = start {
        push(&name[s..], &mut prev, &mut last);
    }
    (prev, last)
}

/// Whether a JSON key, query parameter or header name says its value is a secret.
pub fn is_secret_key(name: &str) -> bool {
    if cannot_be_secret(name) {
        return false;
    }
    // One lower-case word (`id`, `token`): no second word to make a pair with.
    if name.bytes().all(|b| b.is_ascii_lowercase()) {
        return SECRET_WORDS.contains(&name);
    }
    let (prev, last) = last_words(name);
    let Some(last) = last else {
        return false;
    };
    if SECRET_WORDS.iter().any(|w| w.eq_ignore_ascii_case(last)) {
        return true;
    }
    prev.is_some_and(|p| {
        SECRET_PAIRS.iter().any(|pair| {
            pair.len() == p.len() + last.len()
                && pair[..p.len()].eq_ignore_ascii_case(p)
                && pair[p.len()..].eq_ignore_ascii_case(last)
        })
    })
}

/// A cheap and certain "no" for most names, asked first: the replay path asks `is_secret_key`
/// for every header, query parameter and body key of every request, and walking the words of
/// each name was a tenth of the mock's own work. A secret name's last word is a whole secret
/// word or the end of a secret pair, so it ends in the last two letters of one. When the name's
/// last two characters are surely its last word's (ASCII, no digit last, no word boundary
/// between them) and they end no secret word or pair, the name is not secret. Otherwise: no
/// answer (`false`), and the words are walked.
fn cannot_be_secret(name: &str) -> bool {
    // A bit per pair of ASCII letters or digits, lower-cased: one load, not a search. Built at
    // compile time, so that asking costs no check of a lazy initialisation either.
    const fn bit(a: u8, b: u8) -> usize {
        ((a.to_ascii_lowercase() & 0x7f) as usize) << 7 | (b.to_ascii_lowercase() & 0x7f) as usize
    }
    const ENDINGS: [u64; 256] = {
        let mut bits = [0u64; 256];
        let lists = [SECRET_WORDS, SECRET_PAIRS];
        let mut l = 0;
        while l < lists.len() {
            let mut w = 0;
            while w < lists[l].len() {
                if let [.., a, b] = lists[l][w].as_bytes() {
                    let i = bit(*a, *b);
                    bits[i / 64] |= 1 << (i % 64);
                }
                w += 1;
            }
            l += 1;
        }
        bits
    };
    let ends_no_secret = |a: u8, b: u8| ENDINGS[bit(a, b) / 64] & (1 << (bit(a, b) % 64)) == 0;
    // Most names end in two lower-case ASCII letters (`priority`, `page`). Those are their last
    // word's, whatever comes before (no word boundary between two lower-case letters, nothing
    // after them to trim): the ending alone answers, without a look at the rest of the name.
    if let [.., a, b] = name.as_bytes()
        && a.is_ascii_lowercase()
        && b.is_ascii_lowercase()
    {
        return ends_no_secret(*a, *b);
    }
    if !name.is_ascii() {
        return false;
    }
    let [.., a, b] = name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).as_bytes() else {
        return false;
    };
    let one_word =
        a.is_ascii_alphanumeric() && !(b.is_ascii_uppercase() && (a.is_ascii_lowercase() || a.is_ascii_digit()));
    if b.is_ascii_digit() || !one_word {
        return false;
    }
    ends_no_secret(*a, *b)
}

/// `Bearer <credential>` / `Basic <credential>`: the scheme is kept so a reader can tell which
/// kind of credential it was.
static AUTH_SCHEME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{6,})").ok());

/// Secrets with a recognisable structure or prefix.
static SHAPES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        // JSON Web Tokens (header and payload are base64url JSON objects).
        r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        // AWS access key ids.
        r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        // GitHub tokens.
        r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}",
        // Slack tokens.
        r"|\bxox[abposr]-[A-Za-z0-9-]{10,}",
        // Stripe secret and restricted keys; webhook signing secrets (Stripe, Standard Webhooks).
        r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9+/=_-]{16,}",
        // Google API keys.
        r"|\bAIza[0-9A-Za-z_-]{35}",
        // PEM private keys, whole blocks.
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    ))
    .ok()
});

/// The credential spans after `Bearer`/`Basic` in `text`. A match followed by `"` is an
/// auth parameter (`Bearer realm="api"`), not a credential.
fn credentials(text: &str) -> Vec<std::ops::Range<usize>> {
    let Some(re) = AUTH_SCHEME.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(text)
        .filter_map(|c| c.get(3))
        .filter(|m| !text[m.end()..].starts_with('"') && looks_random(m.as_str()))
        .map(|m| m.range())
        .collect()
}

/// Credentials are random-looking; prose after the word "Bearer" is not
/// ("Bearer authentication").
fn looks_random(s: &str) -> bool {
    s.len() >= 20 || (s.len() >= 8 && s.chars().any(|c| c.is_ascii_digit()))
}

/// Masks secret shapes in `text`.
pub fn mask_shapes<'a>(text: &'a str, mask: &str) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    let spans = credentials(&out);
    if !spans.is_empty() {
        let mut s = String::with_capacity(out.len());
        let mut at = 0;
        for r in spans {
            s.push_str(&out[at..r.start]);
            s.push_str(mask);
            at = r.end;
        }
        s.push_str(&out[at..]);
        out = Cow::Owned(s);
    }
    if let Some(re) = SHAPES.as_ref()
        && re.is_match(&out)
    {
        let replaced = re.replace_all(&out, regex::NoExpand(mask)).into_owned();
        out = Cow::Owned(replaced);
    }
    out
}

/// Whether `text` holds a secret shape.
pub fn has_shape(text: &str) -> bool {
    !credentials(text).is_empty() || SHAPES.as_ref().is_some_and(|r| r.is_match(text))
}

/// JSON pointers of everything in `v` that looks like a secret and is not masked already:
/// what `lint` refuses in a committed recording.
pub fn scan_json(v: &Value) -> Vec<String> {
    fn walk(v: &Value, pointer: &mut String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&crate::pointer::escape(k));
                    if is_secret_key(k) && super::is_secret_value(c) && !is_masked(c) {
                        out.push(pointer.clone());
                    } else {
                        walk(c, pointer, out);
                    }
                    pointer.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    walk(c, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::String(s) if has_shape(s) => out.push(pointer.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut String::new(), &mut out);
    out
}

/// A value that is a placeholder already (or a scheme followed by one).
fn is_masked(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            let s = s.trim();
            s == super::PLACEHOLDER
                || s == super::MASK
                || s.split_once(' ')
                    .is_some_and(|(_, rest)| rest == super::PLACEHOLDER || rest == super::MASK)
        }
        Value::Object(m) => m.values().all(is_masked),
        Value::Array(a) => a.iter().all(is_masked),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names built from pieces of secret words, separators, versions and case changes: where
    /// the quick "no" could go wrong.
    fn name() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            prop::sample::select(SECRET_WORDS.iter().chain(SECRET_PAIRS).copied().collect::<Vec<_>>())
                .prop_flat_map(|w| (0..w.len()).prop_map(move |i| w[i..].to_string())),
            prop::sample::select(vec![
                "api", "Key", "Id", "ID", "X", "-", "_", ".", " ", "256", "2", "v2", "é", "Token", "SECRET"
            ])
            .prop_map(str::to_string),
            "[a-zA-Z0-9_-]{1,4}",
        ];
        prop::collection::vec(piece, 1..5).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The quick "no" is never wrong.
        #[test]
        fn the_quick_no_is_never_said_of_a_secret_name(name in name()) {
            let (prev, last) = last_words(&name);
            let secret = last.is_some_and(|last| {
                SECRET_WORDS.iter().any(|w| w.eq_ignore_ascii_case(last))
                    || prev.is_some_and(|p| SECRET_PAIRS.iter().any(|pair| pair.eq_ignore_ascii_case(&format!("{p}{last}"))))
            });
            prop_assert!(!(secret && cannot_be_secret(&name)), "{name} is secret");
            prop_assert_eq!(is_secret_key(&name), secret, "{}", name);
        }
    }

    #[test]
    fn common_names_are_answered_quickly_and_secret_ones_are_not() {
        for name in [
            "priority", "minutes", "text", "name", "status", "owner", "tags", "email",
        ] {
            assert!(cannot_be_secret(name), "{name}");
        }
        for name in [
            "token",
            "x-api-key",
            "clientSecret",
            "sessionId",
            "X-Hub-Signature-256",
            "apiKey",
            "apik-ey",
            "pwd",
        ] {
            assert!(!cannot_be_secret(name) && is_secret_key(name), "{name}");
        }
        assert!(!is_secret_key("authorize") && !is_secret_key("description"));
    }
}
