//! Which kind of line a line is, asked by the parser in the order its state wants: Gherkin
//! reads a line by what may come next (a step keyword inside a description is description).
//! The matcher keeps what the parser's position does not: the language in force, whether a
//! doc string is open and with which fence, and (Markdown) whether the feature line was seen.

use super::ParseError;
use super::dialect::{self, Dialect, KeywordType};
use super::line::Line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eof,
    Empty,
    Comment,
    TagLine,
    FeatureLine,
    RuleLine,
    BackgroundLine,
    ScenarioLine,
    ExamplesLine,
    StepLine,
    DocStringSeparator,
    TableRow,
    Language,
    Other,
}

impl Kind {
    /// How a person calls it, for "expected ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Eof => "the end of the file",
            Kind::Empty => "an empty line",
            Kind::Comment => "a comment",
            Kind::TagLine => "tags",
            Kind::FeatureLine => "Feature:",
            Kind::RuleLine => "Rule:",
            Kind::BackgroundLine => "Background:",
            Kind::ScenarioLine => "Scenario:",
            Kind::ExamplesLine => "Examples:",
            Kind::StepLine => "a step",
            Kind::DocStringSeparator => "a doc string fence",
            Kind::TableRow => "a table row",
            Kind::Language => "# language:",
            Kind::Other => "text",
        }
    }
}

/// A line read as one kind, with what that kind carries.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Kind,
    pub line: usize,
    /// 1-based; `None` only for the end of the file.
    pub column: Option<usize>,
    pub text: String,
    pub keyword: Option<String>,
    pub keyword_type: Option<KeywordType>,
    /// Tags or table cells with their columns.
    pub items: Vec<(usize, String)>,
    /// The language in force when the line was read.
    pub language: &'static str,
}

impl Token {
    /// Where the line's content starts (column 1 for the end of the file, which has none).
    pub fn location(&self) -> super::ast::Location {
        super::ast::Location::new(self.line, self.column.unwrap_or(1))
    }
}

pub struct Matcher {
    dialect: &'static Dialect,
    markdown: bool,
    /// The open doc string's fence, if one is open.
    fence: Option<&'static str>,
    /// The open doc string's indent, removed from its content lines.
    fence_indent: usize,
    /// Markdown: the first line that is not a tag line is the feature line.
    feature_seen: bool,
}

/// An error found while reading a line (an unknown language, a tag with a space in it): the
/// parser records it and reads the line as if the match had failed, as the official ones do.
pub type Found<T> = Result<T, ParseError>;

impl Matcher {
    pub fn new(language: &'static Dialect, markdown: bool) -> Matcher {
        Matcher {
            dialect: language,
            markdown,
            fence: None,
            fence_indent: 0,
            feature_seen: false,
        }
    }

    fn token(&self, line: &Line<'_>, kind: Kind, text: &str, indent: usize) -> Token {
        Token {
            kind,
            line: line.number,
            column: Some(indent + 1),
            text: text.trim_end_matches(['\r', '\n']).to_string(),
            keyword: None,
            keyword_type: None,
            items: Vec::new(),
            language: leak_code(self.dialect),
        }
    }

    pub fn eof(&self, number: usize) -> Token {
        Token {
            kind: Kind::Eof,
            line: number,
            column: None,
            text: String::new(),
            keyword: None,
            keyword_type: None,
            items: Vec::new(),
            language: leak_code(self.dialect),
        }
    }

    /// Tries to read `line` (None: the end of the file) as `kind`.
    pub fn try_match(&mut self, kind: Kind, line: Option<&Line<'_>>) -> Found<Option<Token>> {
        let Some(line) = line else {
            return Ok(None);
        };
        if self.markdown {
            return self.markdown_match(kind, line);
        }
        Ok(match kind {
            Kind::Eof => None,
            Kind::Empty => line.is_empty().then(|| self.token(line, Kind::Empty, "", 0)),
            Kind::Comment => line
                .trimmed
                .starts_with('#')
                .then(|| self.token(line, Kind::Comment, line.text, 0)),
            Kind::Language => return self.language(line),
            Kind::TagLine => {
                if !line.trimmed.starts_with('@') {
                    return Ok(None);
                }
                let items = line.tags()?;
                let mut t = self.token(line, Kind::TagLine, "", line.indent);
                t.items = items;
                Some(t)
            }
            Kind::FeatureLine => self.title(line, Kind::FeatureLine, &self.dialect.feature),
            Kind::RuleLine => self.title(line, Kind::RuleLine, &self.dialect.rule),
            Kind::BackgroundLine => self.title(line, Kind::BackgroundLine, &self.dialect.background),
            Kind::ScenarioLine => self.title(line, Kind::ScenarioLine, &self.dialect.scenario),
            Kind::ExamplesLine => self.title(line, Kind::ExamplesLine, &self.dialect.examples),
            Kind::StepLine => self.step(line),
            Kind::DocStringSeparator => self.fence(line, &["\"\"\"", "```"]),
            Kind::TableRow => line.trimmed.starts_with('|').then(|| {
                let mut t = self.token(line, Kind::TableRow, "", line.indent);
                t.items = line.cells();
                t
            }),
            Kind::Other => Some(self.other(line)),
        })
    }

    fn language(&mut self, line: &Line<'_>) -> Found<Option<Token>> {
        let Some(code) = language_header(line.trimmed) else {
            return Ok(None);
        };
        match dialect::dialect(code) {
            Some(d) => {
                self.dialect = d;
                Ok(Some(self.token(line, Kind::Language, code, line.indent)))
            }
            None => Err(ParseError::at(
                line.number,
                line.indent + 1,
                format!("Language not supported: {code}"),
            )),
        }
    }

    fn title(&self, line: &Line<'_>, kind: Kind, keywords: &[String]) -> Option<Token> {
        let keyword = keywords.iter().find(|k| {
            line.trimmed
                .strip_prefix(k.as_str())
                .is_some_and(|rest| rest.starts_with(':'))
        })?;
        let title = line.rest_trimmed(keyword.chars().count() + 1);
        let mut t = self.token(line, kind, title, line.indent);
        t.keyword = Some(keyword.clone());
        Some(t)
    }

    fn step(&self, line: &Line<'_>) -> Option<Token> {
        let (keyword, kinds) = self
            .dialect
            .steps
            .iter()
            .find(|(k, _)| line.trimmed.starts_with(k.as_str()))?;
        let text = line.rest_trimmed(keyword.chars().count());
        let mut t = self.token(line, Kind::StepLine, text, line.indent);
        t.keyword = Some(keyword.clone());
        t.keyword_type = Some(Dialect::step_type(kinds));
        Some(t)
    }

    fn fence(&mut self, line: &Line<'_>, opening: &[&'static str]) -> Option<Token> {
        let (fence, open) = match self.fence {
            Some(f) => (line.trimmed.starts_with(f).then_some(f)?, false),
            None => (*opening.iter().find(|f| line.trimmed.starts_with(**f))?, true),
        };
        let media_type = if open {
            self.fence = Some(fence);
            self.fence_indent = line.indent;
            line.rest_trimmed(fence.chars().count()).to_string()
        } else {
            self.fence = None;
            self.fence_indent = 0;
            String::new()
        };
        let mut t = self.token(line, Kind::DocStringSeparator, &media_type, line.indent);
        t.keyword = Some(fence.to_string());
        Some(t)
    }

    fn other(&self, line: &Line<'_>) -> Token {
        let text = line.text_without_indent(self.fence_indent);
        let text = match self.fence {
            Some("\"\"\"") => text.replace("\\\"\\\"\\\"", "\"\"\""),
            Some("```") => text.replace("\\`\\`\\`", "```"),
            _ => text.to_string(),
        };
        self.token(line, Kind::Other, &text, 0)
    }

    /// Markdown with Gherkin: headings carry the block keywords (`## Scenario: x`), list
    /// items the steps (`* Given x`), indented GFM tables the tables, backquoted tags the tags;
    /// every other line reads as empty. There is no `# language:` line in Markdown.
    fn markdown_match(&mut self, kind: Kind, line: &Line<'_>) -> Found<Option<Token>> {
        Ok(match kind {
            Kind::Eof | Kind::Language => None,
            Kind::FeatureLine => {
                if self.feature_seen {
                    return Ok(None);
                }
                self.feature_seen = true;
                let keywords = self.dialect.feature.clone();
                Some(
                    self.md_title(line, Prefix::Heading, &keywords, true, Kind::FeatureLine)
                        .unwrap_or_else(|| self.token(line, Kind::FeatureLine, line.trimmed, line.indent)),
                )
            }
            Kind::RuleLine => self.md_title(line, Prefix::Heading, &self.dialect.rule.clone(), true, kind),
            Kind::ScenarioLine => self.md_title(line, Prefix::Heading, &self.dialect.scenario.clone(), true, kind),
            Kind::BackgroundLine => self.md_title(line, Prefix::Heading, &self.dialect.background.clone(), true, kind),
            Kind::ExamplesLine => self.md_title(line, Prefix::Heading, &self.dialect.examples.clone(), true, kind),
            Kind::StepLine => {
                let keywords: Vec<String> = self
                    .dialect
                    .steps
                    .iter()
                    .map(|(k, _)| k.clone())
                    .filter(|k| k != "* ")
                    .collect();
                self.md_title(line, Prefix::Bullet, &keywords, false, kind)
            }
            Kind::TableRow => self.md_table_row(line),
            Kind::Comment => (line.trimmed.starts_with('|') && is_gfm_separator(&line.cells()))
                .then(|| self.token(line, Kind::Empty, "", 0)),
            Kind::TagLine => {
                let tags = md_tags(line);
                if tags.is_empty() {
                    None
                } else {
                    let mut t = self.token(line, Kind::TagLine, "", line.indent);
                    t.items = tags;
                    Some(t)
                }
            }
            Kind::DocStringSeparator => self.fence(line, &["\"\"\"", "````", "```"]),
            Kind::Empty => {
                // A line that is nothing else is empty; asking "is it anything else?" reads it
                // as each kind in turn, with the effects that has, as the reference matcher does.
                let mut anything = false;
                for k in [
                    Kind::TagLine,
                    Kind::FeatureLine,
                    Kind::ScenarioLine,
                    Kind::BackgroundLine,
                    Kind::ExamplesLine,
                    Kind::RuleLine,
                    Kind::TableRow,
                    Kind::Comment,
                    Kind::Language,
                    Kind::DocStringSeparator,
                    Kind::StepLine,
                ] {
                    if self.markdown_match(k, line)?.is_some() {
                        anything = true;
                        break;
                    }
                }
                (line.is_empty() || !anything).then(|| self.token(line, Kind::Empty, "", 0))
            }
            Kind::Other => Some(self.other(line)),
        })
    }

    fn md_title(&self, line: &Line<'_>, prefix: Prefix, keywords: &[String], colon: bool, kind: Kind) -> Option<Token> {
        let text = line.trimmed;
        for keyword in keywords {
            // The keyword may stand anywhere after a prefix found anywhere in the line (the
            // reference searches, it does not anchor at the line's start beyond `^`).
            let Some((prefix_len, rest)) = prefix.strip(text) else {
                continue;
            };
            let Some(after) = rest.strip_prefix(keyword.as_str()) else {
                continue;
            };
            let after = if colon {
                match after.strip_prefix(':') {
                    Some(a) => a,
                    None => continue,
                }
            } else {
                after
            };
            let mut t = self.token(line, kind, after.trim(), line.indent + prefix_len);
            t.keyword = Some(keyword.clone());
            t.keyword_type = self
                .dialect
                .steps
                .iter()
                .find(|(k, _)| k == keyword)
                .and_then(|(_, kinds)| kinds.first().copied());
            return Some(t);
        }
        None
    }

    fn md_table_row(&self, line: &Line<'_>) -> Option<Token> {
        // Gherkin tables are indented 2 to 5 spaces, so plain GFM tables stay prose.
        let spaces = line.text.chars().take_while(|c| *c == ' ' || *c == '\t').count();
        let indent_ok = (2..=5).contains(&spaces)
            && line.text.chars().take(spaces).all(char::is_whitespace)
            && line.text.chars().nth(spaces) == Some('|');
        if !indent_ok {
            return None;
        }
        let cells = line.cells();
        if is_gfm_separator(&cells) {
            return None;
        }
        let mut t = self.token(line, Kind::TableRow, "", line.indent);
        t.keyword = Some("|".into());
        t.items = cells;
        Some(t)
    }
}
#[derive(Clone, Copy)]
enum Prefix {
    /// `#` to `######` and a space.
    Heading,
    /// Optional blanks, `*`, `+` or `-`, optional blanks.
    Bullet,
}

impl Prefix {
    /// The prefix's length in characters and the text after it.
    fn strip(self, text: &str) -> Option<(usize, &str)> {
        match self {
            Prefix::Heading => {
                let hashes = text.chars().take_while(|c| *c == '#').count();
                if !(1..=6).contains(&hashes) {
                    return None;
                }
                let rest = &text[hashes..];
                let space = rest.chars().next().filter(|c| c.is_whitespace())?;
                Some((hashes + 1, &rest[space.len_utf8()..]))
            }
            Prefix::Bullet => {
                let lead = text.chars().take_while(|c| c.is_whitespace()).count();
                let after_lead: &str = &text[text.char_indices().nth(lead).map_or(text.len(), |(i, _)| i)..];
                let bullet = after_lead.chars().next().filter(|c| matches!(c, '*' | '+' | '-'))?;
                let rest = &after_lead[bullet.len_utf8()..];
                let gap = rest.chars().take_while(|c| c.is_whitespace()).count();
                let start = rest.char_indices().nth(gap).map_or(rest.len(), |(i, _)| i);
                Some((lead + 1 + gap, &rest[start..]))
            }
        }
    }
}

fn is_gfm_separator(cells: &[(usize, String)]) -> bool {
    cells.iter().any(|(_, t)| {
        let t = t.strip_prefix(':').unwrap_or(t);
        let t = t.strip_suffix(':').unwrap_or(t);
        !t.is_empty() && t.chars().all(|c| c == '-')
    })
}

/// Tags in backquotes: `` `@important` ``.
fn md_tags(line: &Line<'_>) -> Vec<(usize, String)> {
    let text = line.trimmed;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = text[i..].find("`@") {
        let start = i + open;
        let Some(len) = text[start + 1..].find('`') else { break };
        let tag = &text[start + 1..start + 1 + len];
        if tag.len() > 1 {
            out.push((line.indent + text[..start].chars().count() + 2, tag.to_string()));
        }
        i = start + 1 + len + 1;
    }
    out
}

/// `# language: fr` (a comment naming the file's language), giving the code.
fn language_header(trimmed: &str) -> Option<&str> {
    let rest = trimmed.strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("language")?.trim_start();
    let code = rest.strip_prefix(':')?.trim();
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')).then_some(code)
}

fn leak_code(d: &'static Dialect) -> &'static str {
    d.code.as_str()
}
