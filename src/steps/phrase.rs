//! Step phrases: English text with named, typed parameters.
//!
//! `I call {operation}` takes a double-quoted string; `{status:int}` an integer; `{method:word}`
//! one word; `{expected:value}` the rest of the line as a JSON value or a marker. Every
//! parameter also accepts a `${variable}` in its place, so declarative steps can pass their own
//! parameters through and lint can check them without running anything.

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Int,
    Word,
    Value,
}

impl ParamKind {
    fn regex(self) -> &'static str {
        match self {
            ParamKind::String => r#""((?:[^"\\]|\\.)*)""#,
            ParamKind::Int => r"(-?\d+|\$\{[^}]+\})",
            ParamKind::Word => r"(\S+)",
            ParamKind::Value => r"(.+)",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Int => "int",
            ParamKind::Word => "word",
            ParamKind::Value => "value",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone)]
pub struct Phrase {
    pub text: String,
    pub params: Vec<ParamSpec>,
    regex: Regex,
}

impl Phrase {
    pub fn parse(text: &str) -> Result<Phrase, String> {
        let mut pattern = String::from("^");
        let mut params = Vec::new();
        let mut rest = text.trim();
        while let Some(open) = rest.find('{') {
            pattern.push_str(&regex::escape(&rest[..open]));
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| format!("unclosed '{{' in the phrase {text:?}"))?;
            let spec = &rest[open + 1..close];
            let (name, kind) = match spec.split_once(':') {
                None => (spec, ParamKind::String),
                Some((n, "string")) => (n, ParamKind::String),
                Some((n, "int")) => (n, ParamKind::Int),
                Some((n, "word")) => (n, ParamKind::Word),
                Some((n, "value")) => (n, ParamKind::Value),
                Some((_, k)) => {
                    return Err(format!(
                        "unknown parameter type {k:?} in {text:?} (use string, int, word or value)"
                    ));
                }
            };
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(format!(
                    "parameter name {name:?} in {text:?} must be letters, digits or _"
                ));
            }
            if params.iter().any(|p: &ParamSpec| p.name == name) {
                return Err(format!("the parameter {name:?} appears twice in {text:?}"));
            }
            pattern.push_str(kind.regex());
            params.push(ParamSpec {
                name: name.to_string(),
                kind,
            });
            rest = &rest[close + 1..];
        }
        pattern.push_str(&regex::escape(rest));
        pattern.push('$');
        if params.iter().rev().skip(1).any(|p| p.kind == ParamKind::Value) {
            return Err(format!(
                "a {{name:value}} parameter takes the rest of the line and must come last in {text:?}"
            ));
        }
        let regex = Regex::new(&pattern).map_err(|e| format!("phrase {text:?}: {e}"))?;
        Ok(Phrase {
            text: text.trim().to_string(),
            params,
            regex,
        })
    }

    /// The raw argument texts if `step` says this phrase (quotes removed, `\"` unescaped).
    pub fn captures(&self, step: &str) -> Option<Vec<String>> {
        let caps = self.regex.captures(step.trim())?;
        Some(
            self.params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let raw = caps.get(i + 1).map(|m| m.as_str()).unwrap_or_default();
                    if p.kind == ParamKind::String {
                        raw.replace("\\\"", "\"")
                    } else {
                        raw.trim().to_string()
                    }
                })
                .collect(),
        )
    }

    /// The phrase with parameters folded to `{}`: what "closest step" suggestions compare.
    pub fn skeleton(&self) -> String {
        let mut out = String::new();
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            out.push_str("{}");
            rest = rest[open..].find('}').map(|c| &rest[open + c + 1..]).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

/// A step's text with its arguments folded to `{}` (quoted strings and numbers).
pub fn skeleton_of_step(step: &str) -> String {
    static QUOTED: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = QUOTED.get_or_init(|| Regex::new(r#""(?:[^"\\]|\\.)*"|\b-?\d+\b"#).expect("static regex"));
    re.replace_all(step.trim(), "{}").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parameters_capture() {
        let p = Phrase::parse("the response field {field} is {expected:value}").unwrap();
        assert_eq!(
            p.captures(r#"the response field "a.b" is {"x": 1}"#).unwrap(),
            vec!["a.b", r#"{"x": 1}"#]
        );
        let p = Phrase::parse("the response status is {status:int}").unwrap();
        assert_eq!(p.captures("the response status is 201").unwrap(), vec!["201"]);
        assert_eq!(p.captures("the response status is ${code}").unwrap(), vec!["${code}"]);
        assert!(p.captures("the response status is two").is_none());
        let p = Phrase::parse("the header {name} is {value}").unwrap();
        assert_eq!(
            p.captures(r#"the header "X" is "say \"hi\"""#).unwrap(),
            vec!["X", "say \"hi\""]
        );
    }

    #[test]
    fn bad_phrases_are_errors() {
        assert!(Phrase::parse("a {x:float}").is_err());
        assert!(Phrase::parse("a {x} {x}").is_err());
        assert!(Phrase::parse("a {x:value} b {y}").is_err());
        assert!(Phrase::parse("a {unclosed").is_err());
    }

    #[test]
    fn skeletons_line_up() {
        let p = Phrase::parse("I call {operation}").unwrap();
        assert_eq!(p.skeleton(), skeleton_of_step(r#"I call "createTicket""#));
    }
}
