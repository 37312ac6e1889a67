//! A request body's bytes compared with a recorded body's exact part (`ExactBody`) as they are
//! read: no tape of the document is built first.
//!
//! `compare_exact` on a tape answers the replay key exactly (tests hold it to the canonical
//! texts), but reading the tape first cost a POST more than the comparison itself: a node
//! pushed per value, all of them kept, then walked again. This comparison walks the text once,
//! with the tape's own `Reader`, and answers exactly what `compare_exact` answers on the tape
//! of that text, and `Unsure` where no tape can be read (not JSON, or too deep): the caller
//! then lets the canonical text decide. Tests and the `matching` fuzz target hold it to that.
//! So a text is always read to its end, also past a difference: only the whole text tells
//! whether it is JSON, and only the rest of an object whether a recorded key repeats.

use std::borrow::Cow;

use super::FieldPolicy;
use super::exact_tree::{Exact, ExactBody, MAX_MEMBERS, Members, Up, Verdict, find_member};
use crate::matching::tape::Reader;

/// Deeper than this, `Unsure`: the tape reads no deeper.
const MAX_DEPTH: usize = 64;

impl FieldPolicy {
    /// Whether the JSON `text` has `recorded` as its exact part: what `compare_exact` says of
    /// its tape, without building one.
    pub fn compare_exact_text(&self, op: Option<&str>, text: &[u8], recorded: &ExactBody) -> Verdict {
        let Some(mut read) = Reader::new(text) else {
            return Verdict::Unsure;
        };
        match self.stream_node(op, &mut read, Some(&recorded.0), None, 0) {
            Some(Verdict::Unsure) | None => Verdict::Unsure,
            Some(verdict) if read.at_end() => verdict,
            Some(_) => Verdict::Unsure,
        }
    }

    /// Reads one value and compares it with `want`; with no `want` (a value whose verdict is
    /// already known), reads it only to get past it. `None`: not readable here.
    fn stream_node(
        &self,
        op: Option<&str>,
        read: &mut Reader<'_>,
        want: Option<&Exact>,
        up: Option<&Up<'_>>,
        depth: usize,
    ) -> Option<Verdict> {
        let same = |b: bool| Some(if b { Verdict::Same } else { Verdict::Different });
        read.space();
        match read.peek()? {
            open @ (b'{' | b'[') => {
                let (members, items) = match want {
                    Some(Exact::Object(m)) if open == b'{' => (Some(m), None),
                    Some(Exact::Array(a)) if open == b'[' => (None, Some(a.as_slice())),
                    _ => (None, None),
                };
                let verdict = if open == b'{' {
                    self.stream_object(op, read, members, up, depth)?
                } else {
                    self.stream_array(op, read, items, up, depth)?
                };
                // Read past uncompared where the recording has a value: one of another kind.
                let compared = members.is_some() || items.is_some();
                Some(if want.is_some() && !compared {
                    Verdict::Different
                } else {
                    verdict
                })
            }
            b'"' => {
                if let Some(Exact::Plain(w)) = want
                    && read.string_spelled(w)
                {
                    return same(true);
                }
                let s = read.string()?;
                match want {
                    Some(Exact::Str(w) | Exact::Plain(w)) => same(s.as_str() == w),
                    _ => same(false),
                }
            }
            b'-' | b'0'..=b'9' => {
                let text = read.number()?;
                match want {
                    Some(Exact::Number(c)) => same(crate::matching::number::canonical_text_of(text) == c.as_str()),
                    _ => same(false),
                }
            }
            b't' | b'f' => {
                let b = read.peek() == Some(b't');
                read.literal(if b { "true" } else { "false" })?;
                same(matches!(want, Some(Exact::Bool(w)) if *w == b))
            }
            b'n' => {
                read.literal("null")?;
                same(matches!(want, Some(Exact::Null)))
            }
            _ => None,
        }
    }

    /// An object, compared member by member as `compare_object` does on a tape: a difference
    /// is final only once the rest of the object has shown no repeat of a recorded key.
    fn stream_object(
        &self,
        op: Option<&str>,
        read: &mut Reader<'_>,
        members: Option<&Members>,
        up: Option<&Up<'_>>,
        depth: usize,
    ) -> Option<Verdict> {
        /// What an object that is not compared is compared with: nothing.
        static NONE: Members = Members {
            list: Vec::new(),
            plain: 0,
        };
        if depth >= MAX_DEPTH {
            return None;
        }
        let compared = members.is_some();
        let members = match members {
            Some(m) if m.list.len() > MAX_MEMBERS => return Some(Verdict::Unsure),
            Some(m) => m,
            // Not compared: read past, keys and all.
            None => &NONE,
        };
        let list = members.list.as_slice();
        let mut seen: u64 = 0;
        let mut verdict = Verdict::Same;
        if !read.open(b'}') {
            loop {
                read.space();
                let written;
                let (key, found) = match spelled_member(read, members) {
                    Some(p) => (list[p].0.as_str(), Some(p)),
                    None => {
                        written = read.key()?;
                        let key = written.as_str();
                        (key, find_member(list, key))
                    }
                };
                let here = Up {
                    segment: Cow::Borrowed(key),
                    parent: up,
                };
                match found {
                    Some(p) => {
                        let bit = 1u64 << p;
                        if seen & bit != 0 {
                            return Some(Verdict::Unsure);
                        }
                        seen |= bit;
                        let want = (verdict == Verdict::Same).then_some(&list[p].1);
                        match self.stream_node(op, read, want, Some(&here), depth + 1)? {
                            Verdict::Same => {}
                            // Past a difference the value was only read past.
                            Verdict::Different if want.is_some() => verdict = Verdict::Different,
                            Verdict::Different => {}
                            Verdict::Unsure => return Some(Verdict::Unsure),
                        }
                    }
                    None => {
                        // A member the recording lacks: the same only if the policy leaves it out.
                        if compared && verdict == Verdict::Same && self.body(op, &here.segments()).is_none() {
                            verdict = Verdict::Different;
                        }
                        if self.stream_node(op, read, None, Some(&here), depth + 1)? == Verdict::Unsure {
                            return Some(Verdict::Unsure);
                        }
                    }
                }
                if read.next(b'}')? {
                    break;
                }
            }
        }
        if verdict == Verdict::Same && seen.count_ones() as usize != list.len() {
            verdict = Verdict::Different;
        }
        Some(verdict)
    }

    /// An array, item by item; the first item that is not the same decides, and the rest is
    /// read past only when that item was different.
    fn stream_array(
        &self,
        op: Option<&str>,
        read: &mut Reader<'_>,
        items: Option<&[Exact]>,
        up: Option<&Up<'_>>,
        depth: usize,
    ) -> Option<Verdict> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let items = items.unwrap_or(&[]);
        let mut verdict = Verdict::Same;
        let mut n = 0;
        if !read.open(b']') {
            loop {
                let here = Up {
                    segment: super::exact::index_segment(n),
                    parent: up,
                };
                let want = if verdict == Verdict::Same { items.get(n) } else { None };
                match self.stream_node(op, read, want, Some(&here), depth + 1)? {
                    Verdict::Same => {}
                    Verdict::Different => verdict = Verdict::Different,
                    Verdict::Unsure => return Some(Verdict::Unsure),
                }
                n += 1;
                if read.next(b']')? {
                    break;
                }
            }
        }
        if verdict == Verdict::Same && n != items.len() {
            verdict = Verdict::Different;
        }
        Some(verdict)
    }
}

/// The recorded member whose key the reader's next key is written as, character for character
/// (a key needing no escape), read past with its colon: one probe per member, most ending on
/// the byte where that member's key would close, instead of reading the key byte by byte and
/// then looking it up. `None` moves nothing: the key is read and looked up as before (one
/// with escapes, or one the recording lacks).
fn spelled_member(read: &mut Reader<'_>, members: &Members) -> Option<usize> {
    let mut plain = members.plain;
    while plain != 0 {
        let p = plain.trailing_zeros() as usize;
        plain &= plain - 1;
        if read.key_spelled(&members.list.get(p)?.0) {
            return Some(p);
        }
    }
    None
}
