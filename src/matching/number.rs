//! Numbers compared by value, exactly: `12345678901234567890123` and `0.1` are compared as
//! the decimals they are written as, never through a float.
//!
//! serde_json keeps each number's text (the `arbitrary_precision` feature), so a partner's
//! 64-bit-overflowing id or a currency amount is not rounded before we look at it. Two texts
//! of the same value (`1`, `1.0`, `10e-1`) are equal, as JSON Schema's `const` treats them.

use serde_json::Number;

/// A decimal as sign, significant digits (no leading or trailing zeros) and a power of ten.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i128,
}

/// `a == b` as numbers. Falls back to comparing the texts when one is not JSON number
/// syntax (it always is for numbers read from JSON; YAML's `.inf` is not).
pub fn same(a: &Number, b: &Number) -> bool {
    let (ta, tb) = (a.to_string(), b.to_string());
    match (decimal(&ta), decimal(&tb)) {
        (Some(x), Some(y)) => x == y,
        _ => ta == tb,
    }
}

/// The canonical spelling as text, without building a Number: a replay key writes one per
/// number of every request body. An integer written plainly is canonical already, which is
/// most numbers a request carries.
pub fn canonical_text(n: &Number) -> std::borrow::Cow<'_, str> {
    let text = n.as_str();
    if plain_integer(text) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(canonical(n).as_str().to_string())
    }
}

/// `canonical_text` of the `Number` serde_json reads from `text`, a number as written in a
/// JSON document (`matching::tape`'s): the same text, without reading the number when it is
/// a plain integer. Otherwise through serde_json's own reading, which respells some numbers
/// (`1E5` is `1e+5` to it): then the two roads cannot part.
pub fn canonical_text_of(text: &str) -> std::borrow::Cow<'_, str> {
    if plain_integer(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    match text.parse::<Number>() {
        Ok(n) => std::borrow::Cow::Owned(canonical_text(&n).into_owned()),
        Err(_) => std::borrow::Cow::Borrowed(text),
    }
}

/// No sign on zero, no leading zero (JSON allows none), digits only: serde_json keeps such
/// an integer's text as written.
fn plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'))
        && !(digits == "0" && text.starts_with('-'))
}

/// One spelling per value (`1.50`, `15e-1` and `1.5` all become `1.5`): what a replay key
/// hashes, so a system that writes a recorded amount another way still finds its answer.
pub fn canonical(n: &Number) -> Number {
    let text = n.to_string();
    let Some(d) = decimal(&text) else { return n.clone() };
    let sign = if d.negative { "-" } else { "" };
    let len = d.digits.len() as i128;
    let plain = if d.digits.is_empty() {
        Some("0".to_string())
    } else if (0..=20).contains(&d.exponent) {
        Some(format!("{sign}{}{}", d.digits, "0".repeat(d.exponent as usize)))
    } else if d.exponent < 0 && -d.exponent < len {
        let (int, frac) = d.digits.split_at((len + d.exponent) as usize);
        Some(format!("{sign}{int}.{frac}"))
    } else if d.exponent < 0 && -d.exponent - len <= 20 {
        Some(format!(
            "{sign}0.{}{}",
            "0".repeat((-d.exponent - len) as usize),
            d.digits
        ))
    } else {
        None
    };
    let text = plain.unwrap_or_else(|| format!("{sign}{}e{}", d.digits, d.exponent));
    text.parse().unwrap_or_else(|_| n.clone())
}

fn decimal(text: &str) -> Option<Decimal> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i128>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{int}{frac}");
    let trimmed_end = all.trim_end_matches('0');
    let trailing = (all.len() - trimmed_end.len()) as i128;
    let digits = trimmed_end.trim_start_matches('0').to_string();
    if digits.is_empty() {
        // Zero, whatever its sign or exponent.
        return Some(Decimal {
            negative: false,
            digits,
            exponent: 0,
        });
    }
    let exponent = exp.checked_sub(frac.len() as i128)?.checked_add(trailing)?;
    Some(Decimal {
        negative,
        digits,
        exponent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        serde_json::from_str(text).expect("a JSON number")
    }

    #[test]
    fn equal_values_in_other_spellings() {
        for (a, b) in [
            ("1", "1.0"),
            ("10e-1", "1"),
            ("0", "-0.0"),
            ("1.50", "1.5"),
            ("1E2", "100"),
        ] {
            assert!(same(&n(a), &n(b)), "{a} == {b}");
        }
    }

    #[test]
    fn no_float_rounding() {
        // Both pairs are one f64 apart from nothing: they round to the same float.
        assert!(!same(&n("12345678901234567890123"), &n("12345678901234567890124")));
        assert!(!same(&n("0.1"), &n("0.10000000000000001")));
        assert!(!same(&n("18446744073709551616"), &n("18446744073709551617")));
        assert!(!same(&n("-1"), &n("1")));
        assert!(same(&n("12345678901234567890123"), &n("12345678901234567890123.000")));
    }

    #[test]
    fn one_canonical_spelling_per_value() {
        for (text, want) in [
            ("1.50", "1.5"),
            ("15e-1", "1.5"),
            ("1E2", "100"),
            ("-0.0", "0"),
            ("0.001", "0.001"),
            ("1e300", "1e+300"),
            ("-12345678901234567890123.0", "-12345678901234567890123"),
        ] {
            assert_eq!(canonical(&n(text)).to_string(), want, "{text}");
            assert!(same(&canonical(&n(text)), &n(text)), "{text} keeps its value");
        }
    }
}
