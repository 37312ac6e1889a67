//! A strict, borrowing read of a JSON text, for the replay key: the nodes of the document in
//! order, strings borrowed from the text, no tree of owned maps and strings.
//!
//! The mock answers every request by a key holding the body's canonical JSON. Building a
//! `serde_json::Value` for that (a map and a string per key, a number's text copied) was a
//! fifth of the replay path's instructions. This reader is the fast road only: whenever it is
//! not sure, it answers `None` and the caller takes `serde_json`, the road that decides what
//! JSON is. It must therefore never accept a text `serde_json` refuses (a trailing comma, a
//! leading zero, a control character in a string, a lone surrogate, invalid UTF-8, trailing
//! bytes); refusing one `serde_json` accepts only costs speed. The equivalence is tested both
//! ways in `matching::tests` and fuzzed (`fuzz_targets/matching.rs`).

/// Deeper documents are left to `serde_json` (whose own limit is 127 levels).
const MAX_DEPTH: usize = 64;

#[derive(Debug, PartialEq)]
pub enum Node<'a> {
    /// An object; its members follow as key, value, key, value, ... up to `end`, the index of
    /// the first node after the object.
    Object {
        end: usize,
    },
    /// An array; its items follow up to `end`.
    Array {
        end: usize,
    },
    /// A key or a string value.
    Str(Text<'a>),
    /// A number's text as written (valid JSON number syntax).
    Number(&'a str),
    Bool(bool),
    Null,
}

/// A string of the document.
#[derive(Debug, PartialEq)]
pub enum Text<'a> {
    /// One without escapes, as written, quotes included: already the one JSON spelling of its
    /// text (the reader refuses control characters), so a canonical writer copies it whole.
    Quoted(&'a str),
    /// One with escapes, resolved.
    Escaped(String),
}

impl Text<'_> {
    /// The string's characters.
    pub fn as_str(&self) -> &str {
        match self {
            // Quotes are ASCII: the slice starts and ends on characters.
            Text::Quoted(q) => q.get(1..q.len().saturating_sub(1)).unwrap_or_default(),
            Text::Escaped(s) => s,
        }
    }
}

/// A document's nodes in document order.
#[derive(Debug)]
pub struct Tape<'a> {
    nodes: Vec<Node<'a>>,
}

impl<'a> Tape<'a> {
    /// The nodes of `text`, or `None` when `text` is not JSON, or is JSON this reader leaves to
    /// `serde_json` (deeper than 64 levels).
    pub fn read(text: &'a [u8]) -> Option<Tape<'a>> {
        let text = std::str::from_utf8(text).ok()?;
        let mut r = Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            // A guess that fits a typical body without growing: a node per ~8 bytes.
            nodes: Vec::with_capacity(text.len() / 8 + 4),
        };
        r.value(0)?;
        r.space();
        (r.pos == r.bytes.len()).then_some(Tape { nodes: r.nodes })
    }

    pub fn nodes(&self) -> &[Node<'a>] {
        &self.nodes
    }

    /// The index of the first node after the value at `i` (and its children).
    pub fn after(&self, i: usize) -> usize {
        match self.nodes.get(i) {
            Some(Node::Object { end } | Node::Array { end }) => *end,
            _ => i + 1,
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    nodes: Vec<Node<'a>>,
}

impl<'a> Reader<'a> {
    /// JSON's four whitespace bytes, as `serde_json` skips them.
    fn space(&mut self) {
        let (bytes, mut i) = (self.bytes, self.pos);
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(i) {
            i += 1;
        }
        self.pos = i;
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        self.space();
        match self.peek()? {
            b'{' => self.container(depth, b'}'),
            b'[' => self.container(depth, b']'),
            b'"' => {
                let s = self.string()?;
                self.nodes.push(Node::Str(s));
                Some(())
            }
            b't' => self.literal("true", Node::Bool(true)),
            b'f' => self.literal("false", Node::Bool(false)),
            b'n' => self.literal("null", Node::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object (`close` is `}`) or an array (`]`), the opening byte at `pos`.
    fn container(&mut self, depth: usize, close: u8) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let at = self.nodes.len();
        self.nodes.push(Node::Null);
        self.space();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                if close == b'}' {
                    self.space();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key = self.string()?;
                    self.nodes.push(Node::Str(key));
                    self.space();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                }
                self.value(depth + 1)?;
                self.space();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b if b == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let end = self.nodes.len();
        self.nodes[at] = if close == b'}' {
            Node::Object { end }
        } else {
            Node::Array { end }
        };
        Some(())
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Option<()> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return None;
        }
        self.pos += word.len();
        self.nodes.push(node);
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, nothing more: what follows is the
    /// caller's to judge (`01` fails there, on the `1`).
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        self.nodes.push(Node::Number(&self.text[start..self.pos]));
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A string, the opening quote at `pos`. Without escapes it is borrowed; with them,
    /// `serde_json` resolves them (surrogate pairs and all), so escapes mean exactly what they
    /// mean there, lone surrogates refused alike.
    fn string(&mut self) -> Option<Text<'a>> {
        // Where a plain run of a string's bytes stops: its closing quote, a backslash, or a
        // control character (which JSON does not allow unescaped). One load per byte.
        const STOPS: [bool; 256] = {
            let mut t = [false; 256];
            let mut b = 0;
            while b < 0x20 {
                t[b] = true;
                b += 1;
            }
            t[b'"' as usize] = true;
            t[b'\\' as usize] = true;
            t
        };
        // Locals, not fields: the loop then keeps its position in a register.
        let (bytes, open) = (self.bytes, self.pos);
        let mut i = open + 1;
        let mut escaped = false;
        loop {
            while bytes.get(i).is_some_and(|&b| !STOPS[usize::from(b)]) {
                i += 1;
            }
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    // The escaped byte cannot end the string; `serde_json` checks it is a
                    // valid escape below.
                    i += 2;
                }
                _ => return None,
            }
        }
        self.pos = i + 1;
        let quoted = self.text.get(open..self.pos)?;
        if escaped {
            serde_json::from_str::<String>(quoted).ok().map(Text::Escaped)
        } else {
            Some(Text::Quoted(quoted))
        }
    }
}
