//! YAML and JSON documents read from user files, with located errors.
//!
//! YAML goes through serde-saphyr (pure Rust, panic-free, bounded against YAML bombs) with
//! strict booleans, so a partner's enum value `"yes"` or `on` stays a string.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diag::Diagnostic;

fn options() -> serde_saphyr::Options {
    let mut opts = serde_saphyr::Options::default();
    opts.strict_booleans = true;
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
