//! `${name}` interpolation in step arguments, doc strings and tables.
//!
//! `${name}` is a scenario variable (or a declarative step's parameter), `${name.field}` or
//! `${name/0/id}` a part of a JSON variable, `${env:NAME}` / `${env:NAME:-default}` an
//! environment variable. `$${` writes a literal `${`. An unknown name is an error that lists
//! the names that do exist, never an empty string.

use std::collections::BTreeMap;

use serde_json::Value;

/// Where names are looked up: declarative-step parameters shadow scenario variables.
pub struct Scope<'a> {
    pub params: Option<&'a BTreeMap<String, String>>,
    pub vars: &'a BTreeMap<String, Value>,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Result<String, String> {
        if let Some(rest) = name.strip_prefix("env:") {
            return env(rest);
        }
        if let Some(v) = self.params.and_then(|p| p.get(name)) {
            return Ok(v.clone());
        }
        if let Some(v) = self.vars.get(name) {
            return Ok(render(v));
        }
        // `ticket.id` or `ticket/id`: a part of a JSON variable.
        if let Some(split) = name.find(['.', '/']) {
            let (head, tail) = name.split_at(split);
            if let Some(v) = self.vars.get(head) {
                let pointer = if tail.starts_with('/') {
                    tail.to_string()
                } else {
                    tail.replace('.', "/")
                };
                return v
                    .pointer(&pointer)
                    .map(render)
                    .ok_or_else(|| format!("the variable {head:?} has no field {:?}", &tail[1..]));
            }
        }
        let mut known: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        if let Some(p) = self.params {
            known.extend(p.keys().map(String::as_str));
        }
        Err(if known.is_empty() {
            format!("unknown variable ${{{name}}}: no variable is set in this scenario")
        } else {
            format!("unknown variable ${{{name}}} (known: {})", known.join(", "))
        })
    }
}

/// A string variable renders as itself, anything else as compact JSON.
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn env(spec: &str) -> Result<String, String> {
    let (name, default) = match spec.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (spec, None),
    };
    match (std::env::var(name), default) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(d)) => Ok(d.to_string()),
        (Err(_), None) => Err(format!("the environment variable {name} is not set")),
    }
}

pub fn interpolate(text: &str, scope: &Scope<'_>) -> Result<String, String> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let close = rest[i..].find('}').ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
        let name = rest[i + 2..i + close].trim();
        out.push_str(&scope.lookup(name)?);
        rest = &rest[i + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The environment variable a partner's credential is read from: `PARTNER_WHAT`, upper case,
/// anything else as `_` (`ticketing`, `client_secret` -> `TICKETING_CLIENT_SECRET`).
pub fn env_var_name(partner: &str, what: &str) -> String {
    format!("{partner}_{what}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Interpolates environment references only (contract credentials).
pub fn interpolate_env(text: &str) -> Result<String, String> {
    let vars = BTreeMap::new();
    interpolate(
        text,
        &Scope {
            params: None,
            vars: &vars,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("id".into(), json!("T-1")),
            ("n".into(), json!(3)),
            ("ticket".into(), json!({"id": "T-9", "tags": ["a"]})),
        ])
    }

    #[test]
    fn substitutes_strings_numbers_and_parts() {
        let v = vars();
        let s = Scope { params: None, vars: &v };
        assert_eq!(interpolate("/tickets/${id}", &s).unwrap(), "/tickets/T-1");
        assert_eq!(interpolate(r#"{"n": ${n}}"#, &s).unwrap(), r#"{"n": 3}"#);
        assert_eq!(interpolate("${ticket.id} ${ticket/tags/0}", &s).unwrap(), "T-9 a");
        assert_eq!(interpolate("cost: $${id}", &s).unwrap(), "cost: ${id}");
    }

    #[test]
    fn params_shadow_vars() {
        let v = vars();
        let p = BTreeMap::from([("id".to_string(), "P".to_string())]);
        assert_eq!(
            interpolate(
                "${id}",
                &Scope {
                    params: Some(&p),
                    vars: &v
                }
            )
            .unwrap(),
            "P"
        );
    }

    #[test]
    fn unknown_names_are_errors_listing_known_ones() {
        let v = vars();
        let e = interpolate("${nope}", &Scope { params: None, vars: &v }).unwrap_err();
        assert!(
            e.contains("unknown variable ${nope}") && e.contains("id, n, ticket"),
            "{e}"
        );
        assert!(
            interpolate("${ticket.missing}", &Scope { params: None, vars: &v })
                .unwrap_err()
                .contains("no field")
        );
        assert!(interpolate("${unclosed", &Scope { params: None, vars: &v }).is_err());
    }

    #[test]
    fn env_with_default() {
        assert_eq!(
            interpolate_env("${env:CONTRAIL_SURELY_UNSET_VAR:-fallback}").unwrap(),
            "fallback"
        );
        assert!(
            interpolate_env("${env:CONTRAIL_SURELY_UNSET_VAR}")
                .unwrap_err()
                .contains("not set")
        );
    }
}
