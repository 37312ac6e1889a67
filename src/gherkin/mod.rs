//! Gherkin, read the way the official Cucumber parsers read it: every language, `Rule`,
//! backgrounds, outlines with tagged Examples, doc strings and tables with their escapes, and
//! Markdown with Gherkin (`.feature.md`). Written here from the public grammar and keyword
//! list; proven against the official conformance data (tests/gherkin_conformance.rs).
//!
//! `parse` gives the document (Cucumber's `GherkinDocument` message) or every error in the
//! file with its line and column; `pickles` expands it into the scenarios that run.

pub mod ast;
pub mod dialect;
mod line;
mod matcher;
mod parser;
pub mod pickle;

pub use ast::GherkinDocument;
pub use pickle::Pickle;

/// A syntax error at a line and (except at the end of the file) a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    /// `None` at the end of the file, which has no column.
    pub column: Option<usize>,
    /// One line, for a person.
    pub message: String,
}

impl ParseError {
    pub fn at(line: usize, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column: Some(column),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}:{}): {}", self.line, self.column.unwrap_or(0), self.message)
    }
}

/// How to read a source text.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The language when the file names none (`# language:` changes it).
    pub language: &'a str,
    /// Markdown with Gherkin rather than classic Gherkin.
    pub markdown: bool,
    /// The first id to give (ids stay unique across the documents of one message stream).
    pub first_id: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            language: "en",
            markdown: false,
            first_id: 0,
        }
    }
}

/// A parsed file: the document and its pickles (ids shared, pickles' after the document's).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub document: GherkinDocument,
    pub pickles: Vec<Pickle>,
    /// The next id after the document's and the pickles'.
    pub next_id: usize,
}

/// Parses `source`, known as `uri` in the messages. A UTF-8 byte-order mark is skipped.
pub fn parse(source: &str, uri: &str, options: Options<'_>) -> Result<Parsed, Vec<ParseError>> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let language = dialect::dialect(options.language).ok_or_else(|| {
        vec![ParseError {
            line: 1,
            column: None,
            message: format!("Language not supported: {}", options.language),
        }]
    })?;
    let (document, next_id) = parser::Parser::new(source, language, options.markdown, options.first_id).parse(uri)?;
    let (pickles, next_id) = pickle::compile(&document, next_id);
    Ok(Parsed {
        document,
        pickles,
        next_id,
    })
}

/// Markdown with Gherkin is told apart by its file name, as the official tools do.
pub fn is_markdown(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".feature.md"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Pieces real feature files are made of, and the awkward ones (escapes at the end of a
    /// line, open fences, multi-byte and right-to-left text, tabs, a BOM, CR).
    const PIECES: &[&str] = &[
        "Feature: f",
        "# Feature: m",
        "Rule: r",
        "Background:",
        "Scenario: s",
        "Scenario Outline: <x>",
        "Examples:",
        "## Scenario: md",
        "* Given md",
        "Given a",
        "And b",
        "* c",
        "When d <x>",
        "Then e",
        "| x |",
        "| a \\| b | \\n |",
        "| 1\\",
        "|",
        "  | 𝄞 | é |",
        "\"\"\"",
        "\"\"\"json",
        "```",
        "````",
        "\\\"\\\"\\\"",
        "@t @u",
        "@a b",
        "`@md`",
        "# language: fr",
        "# language: xx-nope",
        "#c",
        "Fonctionnalité: f",
        "Soit x",
        "  ",
        "\t",
        "\u{feff}",
        "שלום",
        "\r",
        "text",
    ];

    fn source() -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(PIECES), 0usize..6), 0..40).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(piece, indent)| format!("{}{piece}", " ".repeat(indent)))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Whatever the lines, the parser answers (a document or errors) without panicking, and
        /// every error is placed within the file (the end of the file at most).
        #[test]
        fn any_lines_parse_or_fail_with_placed_errors(text in source(), markdown in any::<bool>()) {
            let lines = text.split('\n').count();
            match super::parse(&text, "f.feature", super::Options { markdown, ..Default::default() }) {
                Ok(parsed) => {
                    let _ = serde_json::to_string(&parsed.document);
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    prop_assert!(errors.len() <= 11);
                    for e in errors {
                        prop_assert!(e.line >= 1 && e.line <= lines + 1, "{e} in {lines} lines");
                        prop_assert!(!e.message.contains('\n'), "{}", e.message);
                    }
                }
            }
        }
    }
}
