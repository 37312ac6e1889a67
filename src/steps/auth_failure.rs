//! A 401 or 403 read as what it is. "expected 200, got 403" sends a reader to the partner's
//! docs; `forbidden: missing scope incidents:write` says what to fix. The words come from the
//! answer's `WWW-Authenticate` challenge (RFC 6750: `error`, `error_description`, `scope`)
//! and, where the challenge names no scope, from the scopes the operation declares.

use crate::client::Exchange;

/// The auth-params of a challenge (`Bearer error="insufficient_scope", scope="a b"`), by
/// lower-case name; quoted values unquoted.
fn params(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge.trim_start().split_once(' ').map_or("", |(_, r)| r);
    let mut out = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((start, _)) = chars.peek().copied() {
        // name
        let mut name_end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' {
                break;
            }
            name_end = i + c.len_utf8();
            chars.next();
        }
        let name = rest[start..name_end]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '"') {
            chars.next();
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
            // up to the next comma
            for (_, c) in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
        } else {
            for (_, c) in chars.by_ref() {
                if c == ',' {
                    break;
                }
                value.push(c);
            }
        }
        if !name.is_empty() {
            out.push((name, value.trim().to_string()));
        }
        while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == ',') {
            chars.next();
        }
    }
    out
}

/// `unauthenticated: ...` or `forbidden: ...` for a 401 or 403; None for any other status.
/// `declared` are the scopes the operation's security requirement names.
pub fn explain(e: &Exchange, declared: &[String]) -> Option<String> {
    let status = e.response.status;
    if status != 401 && status != 403 {
        return None;
    }
    let what = e.operation.as_deref().unwrap_or("the call");
    let challenge = e.response.header("www-authenticate");
    let p = challenge.map(params).unwrap_or_default();
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let said = match challenge {
        Some(c) => format!(
            "WWW-Authenticate: {}",
            crate::secrets::mask_text(c, crate::secrets::MASK)
        ),
        None => "no WWW-Authenticate challenge".to_string(),
    };
    if status == 401 {
        let why = get("error_description")
            .or(get("error"))
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Some(format!("unauthenticated{why} ({what} answered 401; {said})"));
    }
    let scopes: Vec<&str> = match get("scope") {
        Some(s) => s.split_whitespace().collect(),
        None => declared.iter().map(String::as_str).collect(),
    };
    let headline = match (get("error"), scopes.as_slice()) {
        (_, []) => "forbidden".to_string(),
        (Some("insufficient_scope") | None, [one]) => format!("forbidden: missing scope {one}"),
        (Some("insufficient_scope") | None, many) => {
            format!("forbidden: missing one of the scopes {}", many.join(", "))
        }
        (Some(other), _) => format!("forbidden: {other}"),
    };
    Some(format!("{headline} ({what} answered 403; {said})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_by_their_params() {
        let p = params(
            r#"Bearer realm="api", error="insufficient_scope", scope="a:write b:read", error_description="needs \"a\"""#,
        );
        assert_eq!(
            p,
            [
                ("realm".to_string(), "api".to_string()),
                ("error".into(), "insufficient_scope".into()),
                ("scope".into(), "a:write b:read".into()),
                ("error_description".into(), "needs \"a\"".into()),
            ]
        );
        assert_eq!(params("Bearer"), []);
        assert_eq!(params("Basic realm=x"), [("realm".to_string(), "x".to_string())]);
    }
}
