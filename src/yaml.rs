//! YAML and JSON documents read from user files, with located errors.
//!
//! YAML goes through serde-saphyr (pure Rust, panic-free, bounded against YAML bombs) with
//! strict booleans, so a partner's enum value `"yes"` or `on` stays a string.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diag::Diagnostic;

/// Real partner documents are large (GitHub's REST description is 10 MB of YAML, about a
/// million nodes), so node, event and depth budgets are set to allow what the JSON reader
/// loads; memory is bounded by the file size cap (`files::MAX_BYTES`) instead. The alias and
/// anchor budgets, which are what a YAML bomb abuses, keep serde-saphyr's defaults.
fn options() -> serde_saphyr::Options {
    let mut opts = serde_saphyr::Options::default();
    opts.strict_booleans = true;
    let mut budget = opts.budget.clone().unwrap_or_default();
    budget.max_nodes = 32_000_000;
    budget.max_events = 64_000_000;
    // The default depth (64) stays: real documents nest far less, and deeper ones would
    // overflow the stack of a worker thread before any budget said so.
    opts.budget = Some(budget);
    opts
}

/// Parses YAML text into `T`; the error names the file, line and column.
pub fn from_yaml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(text, options()).map_err(|e| {
        let mut d = Diagnostic::new(file, first_line(&e.to_string()));
        if let Some(loc) = e.location() {
            d = d.at(loc.line() as usize, loc.column() as usize);
        }
        d
    })
}

/// Parses JSON text into `T`; the error names the file, line and column.
pub fn from_json<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_json::from_str::<T>(text).map_err(|e| {
        // serde_json appends " at line L column C" to its message; the span carries it already.
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Diagnostic::new(file, msg).at(e.line(), e.column())
    })
}

/// Parses a document by its extension: `.json` as JSON, anything else as YAML (a superset).
pub fn from_document<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Diagnostic> {
    let is_json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        from_json(file, text)
    } else {
        from_yaml(file, text)
    }
}

/// Reads a file to a string, naming the file when it cannot be read: a regular file only, of
/// bounded size, a leading byte-order mark dropped.
pub fn read(file: &Path) -> Result<String, Diagnostic> {
    crate::files::read_text(file)
}

/// serde-saphyr renders a multi-line snippet; the diagnostic carries the location itself, so the
/// first line is the message.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or(s).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    // "line 3 column 4: msg" repeats what the span says.
    match line.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => rest.to_string(),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::path::PathBuf;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        flag: String,
    }

    #[test]
    fn yaml_error_names_file_line_and_column() {
        let err = from_yaml::<Doc>(&PathBuf::from("c.yaml"), "name: a\nflag: [unclosed\n").unwrap_err();
        assert_eq!(err.file, PathBuf::from("c.yaml"));
        let span = err.span.expect("a location");
        assert!(span.line >= 2, "line {span:?}");
    }

    #[test]
    fn documents_as_large_as_real_specs_load_and_bombs_do_not() {
        // 300,000 nodes and 50 levels deep: more than serde-saphyr's default budgets, less
        // than GitHub's REST description in YAML.
        let mut big = String::from("paths:\n");
        for i in 0..60_000 {
            big.push_str(&format!("  - {{ id: {i}, name: n }}\n"));
        }
        let deep = format!("{}1{}\n", "{a: ".repeat(50), "}".repeat(50));
        big.push_str(&format!("deep: {deep}"));
        let v: serde_json::Value = from_yaml(&PathBuf::from("big.yaml"), &big).expect("loads");
        assert_eq!(v["paths"].as_array().map(Vec::len), Some(60_000));
        // Too deep is an error, not a stack overflow.
        let too_deep = format!("{}1{}\n", "{a: ".repeat(5000), "}".repeat(5000));
        assert!(from_yaml::<serde_json::Value>(&PathBuf::from("deep.yaml"), &too_deep).is_err());
        // A billion laughs still breaches the alias budget.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        assert!(from_yaml::<serde_json::Value>(&PathBuf::from("bomb.yaml"), &bomb).is_err());
    }

    #[test]
    fn strict_booleans_keep_yes_a_string() {
        let doc: Doc = from_yaml(&PathBuf::from("c.yaml"), "name: a\nflag: yes\n").unwrap();
        assert_eq!(doc.flag, "yes");
    }

    #[test]
    fn json_error_has_line_and_column() {
        let err = from_json::<serde_json::Value>(&PathBuf::from("x.json"), "{\n  \"a\": 1,\n}").unwrap_err();
        assert_eq!(err.span.map(|s| s.line), Some(3));
    }
}
