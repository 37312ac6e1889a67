//! A strict, borrowing read of a JSON text, for the replay key: the nodes of the document in
//! order, strings borrowed from the text, no tree of owned maps and strings.
//!
//! The replay key holds a body's canonical JSON when the body cannot be compared with a few
//! recorded trees. Building a `serde_json::Value` for that (a map and a string per key, a
//! number's text copied) was a fifth of the replay path's instructions. The `Reader` below is
//! also what `policy::exact_stream` reads with when it compares a body as it goes, so both
//! roads accept exactly the same texts. This reader is the fast road only: whenever it is
//! not sure, it answers `None` and the caller takes `serde_json`, the road that decides what
//! JSON is. It must therefore never accept a text `serde_json` refuses (a trailing comma, a
//! leading zero, a control character in a string, a lone surrogate, invalid UTF-8, trailing
//! bytes); refusing one `serde_json` accepts only costs speed. The equivalence is tested both
//! ways in `policy::tests` (`raw_road`) and fuzzed (`fuzz/harness/values.rs`, target `matching`).

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
    /// One without escapes: its characters as written between the quotes. Quoted again, that
    /// is already the one JSON spelling of the text (the reader refuses control characters),
    /// so a canonical writer copies it whole; and comparing it reads no quotes.
    Plain(&'a str),
    /// One with escapes, resolved.
    Escaped(String),
}

impl Text<'_> {
    /// The string's characters.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Escaped(s) => s,
        }
    }
}

/// Where a plain run of a string's bytes stops: its closing quote, a backslash, or a control
/// character (which JSON does not allow unescaped). One load per byte.
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

/// Whether `text` is written in JSON as its own characters between quotes: no quote,
/// backslash or control character in it.
pub fn needs_no_escape(text: &str) -> bool {
    text.bytes().all(|b| !STOPS[usize::from(b)])
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
        let mut r = Recorder {
            // A guess that fits a typical body without growing: a node per ~8 bytes.
            nodes: Vec::with_capacity(text.len() / 8 + 4),
            read: Reader::new(text)?,
        };
        r.value(0)?;
        r.read.at_end().then_some(Tape { nodes: r.nodes })
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

/// A document read into its tape.
struct Recorder<'a> {
    read: Reader<'a>,
    nodes: Vec<Node<'a>>,
}

impl<'a> Recorder<'a> {
    fn value(&mut self, depth: usize) -> Option<()> {
        let r = &mut self.read;
        r.space();
        let node = match r.peek()? {
            b'{' => return self.container(depth, b'}'),
            b'[' => return self.container(depth, b']'),
            b'"' => Node::Str(r.string()?),
            b't' => r.literal("true").map(|_| Node::Bool(true))?,
            b'f' => r.literal("false").map(|_| Node::Bool(false))?,
            b'n' => r.literal("null").map(|_| Node::Null)?,
            b'-' | b'0'..=b'9' => Node::Number(r.number()?),
            _ => return None,
        };
        self.nodes.push(node);
        Some(())
    }

    /// An object (`close` is `}`) or an array (`]`), the opening byte next.
    fn container(&mut self, depth: usize, close: u8) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let at = self.nodes.len();
        self.nodes.push(Node::Null);
        if !self.read.open(close) {
            loop {
                if close == b'}' {
                    let key = self.read.key()?;
                    self.nodes.push(Node::Str(key));
                }
                self.value(depth + 1)?;
                if self.read.next(close)? {
                    break;
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
}

/// The reading itself, shared by the tape and by a comparison that reads as it goes
/// (`policy::exact_stream`): each method reads one piece of JSON syntax and answers `None`
/// when the text is not JSON there.
pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `text`, if it is UTF-8.
    pub(crate) fn new(text: &'a [u8]) -> Option<Reader<'a>> {
        let text = std::str::from_utf8(text).ok()?;
        Some(Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        })
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.space();
        self.pos == self.bytes.len()
    }

    /// JSON's four whitespace bytes, as `serde_json` skips them.
    pub(crate) fn space(&mut self) {
        let (bytes, mut i) = (self.bytes, self.pos);
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(i) {
            i += 1;
        }
        self.pos = i;
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Past the opening byte of an object or array (next); whether `close` follows at once.
    pub(crate) fn open(&mut self, close: u8) -> bool {
        self.pos += 1;
        self.space();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        empty
    }

    /// An object member's key and its colon.
    pub(crate) fn key(&mut self) -> Option<Text<'a>> {
        self.space();
        if self.peek()? != b'"' {
            return None;
        }
        let key = self.string()?;
        self.space();
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        Some(key)
    }

    /// After a member or item: a comma (`Some(false)`), or `close` (`Some(true)`).
    pub(crate) fn next(&mut self, close: u8) -> Option<bool> {
        self.space();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(false)
            }
            b if b == close => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    pub(crate) fn literal(&mut self, word: &str) -> Option<()> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return None;
        }
        self.pos += word.len();
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, nothing more: what follows is the
    /// caller's to judge (`01` fails there, on the `1`).
    pub(crate) fn number(&mut self) -> Option<&'a str> {
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
        Some(&self.text[start..self.pos])
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// Past the string at `pos` when it is written as exactly the characters of `plain`,
    /// which must need no escape (`needs_no_escape`): then the string is `plain`, as `string`
    /// would read it, and no byte of it is scanned twice. Otherwise nothing moves (the string
    /// may still be `plain`, spelled with escapes: `string` tells).
    pub(crate) fn string_spelled(&mut self, plain: &str) -> bool {
        let start = self.pos + 1;
        let end = start + plain.len();
        // `plain` holds no quote, so the quote after it closes the string, and it holds no
        // backslash, so nothing in it was an escape.
        // The closing quote first: one load tells most other strings apart.
        let spelled = self.bytes.get(end) == Some(&b'"') && self.bytes.get(start..end) == Some(plain.as_bytes());
        if spelled {
            self.pos = end + 1;
        }
        spelled
    }

    /// Past an object member's key and its colon when the key is written as exactly the
    /// characters of `key`, which must need no escape (`needs_no_escape`): then the key is
    /// `key`, as `self.key` would read it. Otherwise nothing moves. Whitespace before the key
    /// must have been read past.
    pub(crate) fn key_spelled(&mut self, key: &str) -> bool {
        let at = self.pos;
        if self.peek() != Some(b'"') || !self.string_spelled(key) {
            return false;
        }
        // The colon as `key` reads it, written out rather than shared: a helper both called
        // cost a POST ~70 instructions more (`bench/replay_profile.sh`).
        self.space();
        if self.peek() == Some(b':') {
            self.pos += 1;
            true
        } else {
            self.pos = at;
            false
        }
    }

    /// A string, the opening quote at `pos`. Without escapes it is borrowed; with them,
    /// `serde_json` resolves them (surrogate pairs and all), so escapes mean exactly what they
    /// mean there, lone surrogates refused alike.
    pub(crate) fn string(&mut self) -> Option<Text<'a>> {
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
        if escaped {
            let quoted = self.text.get(open..self.pos)?;
            serde_json::from_str::<String>(quoted).ok().map(Text::Escaped)
        } else {
            // Quotes are ASCII: the slice starts and ends on characters.
            self.text.get(open + 1..i).map(Text::Plain)
        }
    }
}
