//! One line of a feature file, and what can be read off a line on its own: its indent, its
//! tags, its table cells. Columns count characters from 1, as the official parsers do.

use super::ParseError;

#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The line without its line ending (a CRLF file's `\r` included).
    pub text: &'a str,
    pub number: usize,
    /// Characters of leading whitespace.
    pub indent: usize,
    /// The text from its first non-blank character.
    pub trimmed: &'a str,
}

impl<'a> Line<'a> {
    pub fn new(raw: &'a str, number: usize) -> Line<'a> {
        let text = raw.trim_end_matches(['\r', '\n']);
        let trimmed = text.trim_start();
        let indent = text[..text.len() - trimmed.len()].chars().count();
        Line {
            text,
            number,
            indent,
            trimmed,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.trimmed.trim_end().is_empty()
    }

    /// The text after the first `chars` characters of the trimmed text, trimmed.
    pub fn rest_trimmed(&self, chars: usize) -> &'a str {
        let start = self
            .trimmed
            .char_indices()
            .nth(chars)
            .map_or(self.trimmed.len(), |(i, _)| i);
        self.trimmed[start..].trim()
    }

    /// The line with at most `indent` characters of its indent removed (a doc string's
    /// content keeps what is indented beyond its fence); a line indented less loses all of it.
    pub fn text_without_indent(&self, indent: usize) -> &'a str {
        if indent > self.indent {
            return self.trimmed;
        }
        let start = self.text.char_indices().nth(indent).map_or(self.text.len(), |(i, _)| i);
        &self.text[start..]
    }

    /// The tags on a tag line, each with its column. Text after ` #` is a comment. A tag
    /// with whitespace in it is an error at the column where that tag starts.
    pub fn tags(&self) -> Result<Vec<(usize, String)>, ParseError> {
        let whole = self.trimmed.trim();
        let uncommented = match whole
            .char_indices()
            .find(|&(i, c)| c.is_whitespace() && whole[i + c.len_utf8()..].starts_with('#'))
        {
            Some((i, _)) => &whole[..i],
            None => whole,
        };
        let mut column = self.indent + 1;
        let mut out = Vec::new();
        for item in uncommented.trim().split('@').skip(1) {
            let tag = format!("@{}", item.trim());
            if tag.chars().any(char::is_whitespace) {
                return Err(ParseError::at(self.number, column, "A tag may not contain whitespace"));
            }
            out.push((column, tag));
            column += item.chars().count() + 1;
        }
        Ok(out)
    }

    /// The cells of a table row with their columns: `\|`, `\\` and `\n` are escapes (any other
    /// backslash stays), padding is trimmed (not newlines an escape made), and text before the
    /// first and after the last `|` is not a cell.
    pub fn cells(&self) -> Vec<(usize, String)> {
        let row = self.trimmed.trim();
        let mut chars = row.chars();
        let mut col = 0usize;
        let mut start_col = 1usize;
        let mut cell = String::new();
        let mut first = true;
        let mut out = Vec::new();
        loop {
            let c = chars.next();
            col += 1;
            match c {
                Some('|') => {
                    if first {
                        first = false;
                    } else {
                        out.push((start_col, std::mem::take(&mut cell)));
                    }
                    cell.clear();
                    start_col = col + 1;
                }
                Some('\\') => {
                    let next = chars.next();
                    col += 1;
                    match next {
                        Some('n') => cell.push('\n'),
                        Some(c @ ('|' | '\\')) => cell.push(c),
                        Some(c) => {
                            cell.push('\\');
                            cell.push(c);
                        }
                        None => cell.push('\\'),
                    }
                }
                Some(c) => cell.push(c),
                None => break,
            }
        }
        out.into_iter()
            .map(|(start, text)| {
                let is_pad = |c: char| c.is_whitespace() && c != '\n';
                let left = text.trim_start_matches(is_pad);
                let pad = text.chars().count() - left.chars().count();
                (start + self.indent + pad, left.trim_end_matches(is_pad).to_string())
            })
            .collect()
    }
}

/// The lines of a source text as the official scanner reads them: split after each `\n`, a
/// final line without one included; an empty text has no lines.
pub fn lines(source: &str) -> Vec<Line<'_>> {
    source
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, raw)| Line::new(raw, i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_unescape_and_trim() {
        let l = Line::new("  | a \\| b | \\n | c\\\\ | \\x |", 1);
        let cells: Vec<String> = l.cells().into_iter().map(|(_, t)| t).collect();
        assert_eq!(cells, ["a | b", "\n", "c\\", "\\x"]);
        assert_eq!(l.cells()[0].0, 5);
    }

    #[test]
    fn tags_with_comments_and_whitespace() {
        let l = Line::new("  @a @b #c @d", 4);
        let tags: Vec<(usize, String)> = l.tags().unwrap();
        assert_eq!(tags, [(3, "@a".to_string()), (6, "@b".to_string())]);
        let e = Line::new("  @a tag", 3).tags().unwrap_err();
        assert_eq!((e.line, e.column), (3, Some(3)));
    }
}
