//! The exact part of a recorded JSON body kept as a tree, so that a request's body can be told
//! the same or not without writing its canonical text.
//!
//! The mock compares while it reads the request's bytes (`exact_stream`). `compare_exact` here
//! compares the request's tape instead: it is the reference that road is held to (by the
//! policy tests and the `matching` fuzz target), short enough to check against the canonical
//! texts by reading.
//!
//! The replay key used to hold every request body's exact part as canonical JSON: sorted
//! members, one spelling per string and number. Writing that text was a third of a POST's
//! path through the mock. Most requests' method, path and query leave one or a few recorded
//! bodies to choose from; comparing the request's tape with those few trees asks the policy
//! only about members the recording lacks, sorts nothing and writes nothing.
//!
//! The comparison answers what comparing the two canonical texts would (tests hold it to that)
//! or says it is unsure: JSON lets a key repeat, the last value counts, and a repeat is only
//! seen by reading on. A member that differs is therefore final only once the rest of its
//! object has shown no repeated key; a repeat of a recorded key makes the answer `Unsure`, and
//! the caller writes the canonical text after all.

use std::borrow::Cow;

use serde_json::Value;

use super::FieldPolicy;
use crate::matching::tape::{Node, Tape};

/// The part of a recorded JSON body the policy compares exactly.
#[derive(Debug)]
pub struct ExactBody(pub(super) Exact);

#[derive(Debug)]
pub(super) enum Exact {
    Object(Members),
    Array(Vec<Exact>),
    /// The number's canonical text (`matching::number::canonical_text`).
    Number(String),
    Str(String),
    /// A string that needs no escape in JSON (`tape::needs_no_escape`): a request's string
    /// written as these characters is read past and judged in one comparison of its bytes.
    Plain(String),
    Bool(bool),
    Null,
}

/// A recorded object's members the policy compares exactly.
#[derive(Debug)]
pub(super) struct Members {
    /// Sorted by key.
    pub(super) list: Vec<(String, Exact)>,
    /// Bit `p` set: member `p`'s key needs no escape in JSON (`tape::needs_no_escape`), so a
    /// request's key written as exactly its characters is that key, told by one comparison of
    /// bytes (`exact_stream`). Members past the 64th have no bit: an object that large is
    /// never compared as a tree (`MAX_MEMBERS`).
    pub(super) plain: u64,
}

impl Members {
    fn new(mut list: Vec<(String, Exact)>) -> Members {
        // Sorted here too, not trusting the map's order: a feature of serde_json
        // (`preserve_order`) turned on anywhere in the build would keep insertion order.
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let plain = list
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, (k, _))| crate::matching::tape::needs_no_escape(k))
            .fold(0u64, |mask, (p, _)| mask | 1 << p);
        Members { list, plain }
    }
}

/// Whether a request body's exact part is the recorded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Different,
    /// A key repeats where it decides the answer: compare canonical texts instead.
    Unsure,
}

/// More members than this in one recorded object: `Unsure` (a bit per member tells repeats).
pub(super) const MAX_MEMBERS: usize = 64;

/// The path to a node as a chain up to the root, built on the stack as the walk descends: the
/// policy is asked only about members the recording lacks, and only then is the path collected.
pub(super) struct Up<'a> {
    pub(super) segment: Cow<'a, str>,
    pub(super) parent: Option<&'a Up<'a>>,
}

impl Up<'_> {
    pub(super) fn segments(&self) -> Vec<&str> {
        let mut out = Vec::with_capacity(8);
        let mut at = Some(self);
        while let Some(link) = at {
            out.push(link.segment.as_ref());
            at = link.parent;
        }
        out.reverse();
        out
    }
}

impl FieldPolicy {
    /// The exact part of a recorded body, as `write_exact` would write it but kept as a tree.
    pub fn exact_body(&self, op: Option<&str>, v: &Value) -> ExactBody {
        ExactBody(self.exact_of(op, v, &mut Vec::new()))
    }

    fn exact_of<'v>(&self, op: Option<&str>, v: &'v Value, path: &mut Vec<Cow<'v, str>>) -> Exact {
        match v {
            Value::Object(m) => {
                let mut members = Vec::with_capacity(m.len());
                for (k, c) in m {
                    path.push(Cow::Borrowed(k));
                    if self.body(op, path).is_none() {
                        members.push((k.clone(), self.exact_of(op, c, path)));
                    }
                    path.pop();
                }
                Exact::Object(Members::new(members))
            }
            Value::Array(a) => Exact::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        path.push(super::exact::index_segment(i));
                        let e = self.exact_of(op, c, path);
                        path.pop();
                        e
                    })
                    .collect(),
            ),
            Value::Number(n) => Exact::Number(crate::matching::number::canonical_text(n).into_owned()),
            Value::String(s) if crate::matching::tape::needs_no_escape(s) => Exact::Plain(s.clone()),
            Value::String(s) => Exact::Str(s.clone()),
            Value::Bool(b) => Exact::Bool(*b),
            Value::Null => Exact::Null,
        }
    }

    /// Whether the document on `tape` has `recorded` as its exact part: what comparing
    /// `write_exact_raw` of its text with `write_exact` of the recorded body would say, unless
    /// `Unsure`.
    pub fn compare_exact(&self, op: Option<&str>, tape: &Tape<'_>, recorded: &ExactBody) -> Verdict {
        self.compare_node(op, tape, 0, &recorded.0, None)
    }

    fn compare_node(&self, op: Option<&str>, tape: &Tape<'_>, i: usize, want: &Exact, up: Option<&Up<'_>>) -> Verdict {
        let nodes = tape.nodes();
        let same = |b: bool| if b { Verdict::Same } else { Verdict::Different };
        match (nodes.get(i), want) {
            (Some(Node::Object { end }), Exact::Object(members)) => {
                self.compare_object(op, tape, i, *end, &members.list, up)
            }
            (Some(Node::Array { end }), Exact::Array(items)) => {
                let (mut j, mut n) = (i + 1, 0);
                while j < *end {
                    let Some(item) = items.get(n) else {
                        return Verdict::Different;
                    };
                    let here = Up {
                        segment: super::exact::index_segment(n),
                        parent: up,
                    };
                    match self.compare_node(op, tape, j, item, Some(&here)) {
                        Verdict::Same => {}
                        other => return other,
                    }
                    j = tape.after(j);
                    n += 1;
                }
                same(n == items.len())
            }
            (Some(Node::Number(text)), Exact::Number(canonical)) => {
                same(crate::matching::number::canonical_text_of(text) == canonical.as_str())
            }
            (Some(Node::Str(s)), Exact::Str(want) | Exact::Plain(want)) => same(s.as_str() == want),
            (Some(Node::Bool(b)), Exact::Bool(want)) => same(b == want),
            (Some(Node::Null), Exact::Null) => Verdict::Same,
            (None, _) => Verdict::Unsure,
            _ => Verdict::Different,
        }
    }

    fn compare_object(
        &self,
        op: Option<&str>,
        tape: &Tape<'_>,
        i: usize,
        end: usize,
        members: &[(String, Exact)],
        up: Option<&Up<'_>>,
    ) -> Verdict {
        if members.len() > MAX_MEMBERS {
            return Verdict::Unsure;
        }
        let nodes = tape.nodes();
        let mut seen: u64 = 0;
        let mut verdict = Verdict::Same;
        let mut j = i + 1;
        while j < end {
            let Some(Node::Str(key)) = nodes.get(j) else {
                return Verdict::Unsure;
            };
            let key = key.as_str();
            let value = j + 1;
            j = tape.after(value);
            match find_member(members, key) {
                Some(p) => {
                    let bit = 1u64 << p;
                    if seen & bit != 0 {
                        return Verdict::Unsure;
                    }
                    seen |= bit;
                    // Once different, the rest of the object is read only for a repeated key.
                    if verdict == Verdict::Same {
                        let here = Up {
                            segment: Cow::Borrowed(key),
                            parent: up,
                        };
                        match self.compare_node(op, tape, value, &members[p].1, Some(&here)) {
                            Verdict::Same => {}
                            Verdict::Different => verdict = Verdict::Different,
                            Verdict::Unsure => return Verdict::Unsure,
                        }
                    }
                }
                // A member the recording lacks: the same only if the policy leaves it out (the
                // recording's own member at this path would have been left out alike).
                None if verdict == Verdict::Same => {
                    let here = Up {
                        segment: Cow::Borrowed(key),
                        parent: up,
                    };
                    if self.body(op, &here.segments()).is_none() {
                        verdict = Verdict::Different;
                    }
                }
                None => {}
            }
        }
        // A bit is set only for a member found: all were found when as many bits are set.
        if verdict == Verdict::Same && seen.count_ones() as usize != members.len() {
            verdict = Verdict::Different;
        }
        verdict
    }
}

/// Where `key` is among `members` (sorted by key). A few members are scanned, lengths first:
/// keys of one object mostly differ in length, and this runs for every member of every body.
pub(super) fn find_member(members: &[(String, Exact)], key: &str) -> Option<usize> {
    if members.len() <= 16 {
        members.iter().position(|(k, _)| k.len() == key.len() && k == key)
    } else {
        members.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()
    }
}
