//! A request body as the mock received it: its bytes, and what they are (JSON, a form, text,
//! binary) worked out only when someone asks.
//!
//! The replay path needs no parsed body: the lookup key reads JSON straight from the bytes
//! (`FieldPolicy::write_exact_raw`). A step reading the journal, the simulator or a diff of a
//! request that matched nothing asks for the parsed `Body`, once; it is kept from then on.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;

use super::Body;

/// What a request's `Content-Type` allows its body to be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// No content type, or one that says JSON: a body that parses is JSON.
    pub json: bool,
    /// `application/x-www-form-urlencoded`.
    pub form: bool,
}

impl Declared {
    pub fn of(content_type: Option<&str>) -> Declared {
        let ct = content_type.unwrap_or("");
        let has = |word: &str| {
            ct.as_bytes()
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
        };
        Declared {
            json: ct.is_empty() || has("json"),
            form: has("x-www-form-urlencoded"),
        }
    }
}

#[derive(Debug)]
pub struct ReceivedBody {
    declared: Declared,
    /// Empty for a body made from a parsed one (`From<Body>`).
    raw: Bytes,
    parsed: OnceLock<Body>,
}

impl ReceivedBody {
    /// `raw` copied into a buffer of its own, read when first asked: for a body kept past its
    /// request (`Journal::receive` says why).
    pub fn received(declared: Declared, raw: &[u8]) -> ReceivedBody {
        ReceivedBody::shared(declared, Bytes::copy_from_slice(raw))
    }

    /// `raw` as it is, shared rather than copied: for a body nobody keeps past its request.
    pub fn shared(declared: Declared, raw: Bytes) -> ReceivedBody {
        ReceivedBody {
            declared,
            raw,
            parsed: OnceLock::new(),
        }
    }

    /// The body, read from the bytes on first use.
    pub fn parsed(&self) -> &Body {
        self.parsed.get_or_init(|| Body::read(self.declared, &self.raw))
    }

    /// Whether the body arrived with no bytes: no body (`Body::read` of nothing), known without
    /// reading it, as most requests (a GET) are.
    pub fn arrived_empty(&self) -> bool {
        self.raw.is_empty() && self.parsed.get().is_none()
    }

    /// Whether the body is still unread and may be JSON: the lookup key can then read the
    /// bytes itself rather than build a parsed body nobody else may need.
    pub fn raw_json(&self) -> Option<&[u8]> {
        (self.parsed.get().is_none() && self.declared.json && !self.raw.is_empty()).then_some(&self.raw[..])
    }
}

impl From<Body> for ReceivedBody {
    fn from(body: Body) -> Self {
        ReceivedBody {
            declared: Declared {
                json: true,
                form: false,
            },
            raw: Bytes::new(),
            parsed: OnceLock::from(body),
        }
    }
}

impl Default for ReceivedBody {
    fn default() -> Self {
        Body::None.into()
    }
}

impl From<Body> for std::sync::Arc<ReceivedBody> {
    fn from(body: Body) -> Self {
        std::sync::Arc::new(body.into())
    }
}

/// A request's query as received: its text, and its decoded pairs built on first use. The
/// lookup key reads the text itself (`decoded`), borrowing every name and value that needs no
/// decoding, rather than own a copy of each.
#[derive(Debug, Clone, Default)]
pub struct ReceivedQuery {
    raw: RawQuery,
    pairs: OnceLock<Vec<(String, String)>>,
}

/// Where a query's text is kept.
#[derive(Debug, Clone, Default)]
enum RawQuery {
    /// None (a query made from pairs, `From<Vec<..>>`).
    #[default]
    None,
    Text(String),
    /// In the request's own URI, shared rather than copied (a clone is a count, not a copy).
    Uri(hyper::http::uri::PathAndQuery),
}

impl ReceivedQuery {
    pub fn received(raw: &str) -> ReceivedQuery {
        ReceivedQuery {
            raw: RawQuery::Text(raw.to_string()),
            pairs: OnceLock::new(),
        }
    }

    /// The query of a request's URI, kept in the URI's own buffer. For the request's own time
    /// only: hyper's URI is a slice of the connection's read buffer, which anything kept longer
    /// (the journal) would keep alive.
    pub fn of_uri(uri: &hyper::Uri) -> ReceivedQuery {
        match uri.path_and_query() {
            Some(pq) if pq.query().is_some() => ReceivedQuery {
                raw: RawQuery::Uri(pq.clone()),
                pairs: OnceLock::new(),
            },
            _ => ReceivedQuery::default(),
        }
    }

    /// The request's target, path and query in one text, as it arrived: when this query is
    /// the URI's own (or there is none) and `path` is that URI's path. `None` for a query made
    /// from pairs or text, whose spelling nobody knows. The replay index looks a target up by
    /// these bytes before it builds a head (`Index::lookup`).
    pub fn target<'a>(&'a self, path: &'a str) -> Option<&'a str> {
        match &self.raw {
            RawQuery::Uri(pq) => (pq.path() == path).then(|| pq.as_str()),
            RawQuery::None if self.pairs.get().is_none_or(Vec::is_empty) => Some(path),
            _ => None,
        }
    }

    /// The query's text as received (`""` when there is none, or it was made from pairs).
    fn raw(&self) -> &str {
        match &self.raw {
            RawQuery::None => "",
            RawQuery::Text(t) => t,
            RawQuery::Uri(pq) => pq.query().unwrap_or_default(),
        }
    }

    /// The pairs in the order sent, names and values decoded.
    pub fn pairs(&self) -> &[(String, String)] {
        self.pairs.get_or_init(|| {
            url::form_urlencoded::parse(self.raw().as_bytes())
                .into_owned()
                .collect()
        })
    }

    /// The same pairs, borrowed from the text where it needs no decoding.
    pub fn decoded(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        if let Some(pairs) = self.pairs.get() {
            return super::index::borrowed_pairs(pairs);
        }
        // Nothing to decode: split as `form_urlencoded::parse` does (empty pieces skipped, the
        // name up to the first `=`), in one pass over the bytes, without its decoding steps per
        // name and value. A `%` or `+` anywhere: its own parse decodes.
        let raw = self.raw();
        let mut pairs = Vec::new();
        let (mut start, mut equals) = (0, None);
        for (i, b) in raw.bytes().chain([b'&']).enumerate() {
            match b {
                b'&' => {
                    // `&` and `=` are ASCII: the slices below start and end on characters.
                    if i > start {
                        let (name, value) = match equals {
                            Some(e) => (&raw[start..e], &raw[e + 1..i]),
                            None => (&raw[start..i], ""),
                        };
                        pairs.push((Cow::Borrowed(name), Cow::Borrowed(value)));
                    }
                    (start, equals) = (i + 1, None);
                }
                b'=' if equals.is_none() => equals = Some(i),
                b'%' | b'+' => return url::form_urlencoded::parse(raw.as_bytes()).collect(),
                _ => {}
            }
        }
        pairs
    }
}

impl std::ops::Deref for ReceivedQuery {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        self.pairs()
    }
}

impl From<Vec<(String, String)>> for ReceivedQuery {
    fn from(pairs: Vec<(String, String)>) -> Self {
        ReceivedQuery {
            raw: RawQuery::None,
            pairs: OnceLock::from(pairs),
        }
    }
}

impl FromIterator<(String, String)> for ReceivedQuery {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        pairs.into_iter().collect::<Vec<_>>().into()
    }
}

impl serde::Serialize for ReceivedQuery {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.pairs().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The split without decoding reads every query as `form_urlencoded` does.
        #[test]
        fn a_query_reads_as_form_urlencoded_reads_it(raw in "[a-z=&%+0-9A-F.é]{0,24}") {
            let q = ReceivedQuery::received(&raw);
            let want: Vec<(Cow<'_, str>, Cow<'_, str>)> = url::form_urlencoded::parse(raw.as_bytes()).collect();
            prop_assert_eq!(q.decoded(), want.clone());
            let owned: Vec<(String, String)> = want.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            prop_assert_eq!(q.pairs(), owned.as_slice());
            prop_assert_eq!(q.decoded(), super::super::index::borrowed_pairs(&owned));
        }
    }

    #[test]
    fn a_query_kept_in_its_uri_reads_as_its_text_does() {
        for uri in ["/a?x=1&y=%20z+w&x=2", "/a?", "/a", "/a?=&&b", "http://h/p?q=%C3%A9"] {
            let parsed: hyper::Uri = uri.parse().unwrap();
            let shared = ReceivedQuery::of_uri(&parsed);
            let copied = ReceivedQuery::received(parsed.query().unwrap_or_default());
            assert_eq!(shared.decoded(), copied.decoded(), "{uri}");
            assert_eq!(shared.pairs(), copied.pairs(), "{uri}");
        }
        assert_eq!(
            ReceivedQuery::of_uri(&"/a?k=v".parse().unwrap()).decoded(),
            vec![(Cow::Borrowed("k"), Cow::Borrowed("v"))]
        );
    }

    #[test]
    fn a_received_body_is_read_once_and_as_its_content_type_says() {
        let json = ReceivedBody::received(Declared::of(Some("application/json; charset=utf-8")), br#"{"a":1}"#);
        assert_eq!(
            json.raw_json(),
            Some(&br#"{"a":1}"#[..]),
            "unread: the key may read the bytes"
        );
        assert_eq!(json.parsed(), &Body::Json(serde_json::json!({"a": 1})));
        assert_eq!(json.raw_json(), None, "read: the key takes the parsed body");
        let form = ReceivedBody::received(Declared::of(Some("Application/X-WWW-Form-Urlencoded")), b"a=1");
        assert_eq!(form.raw_json(), None);
        assert_eq!(form.parsed(), &Body::Form("a=1".into()));
        let text = ReceivedBody::received(Declared::of(Some("text/plain")), b"{}");
        assert_eq!(
            text.parsed(),
            &Body::Text("{}".into()),
            "not JSON when the sender says it is not"
        );
        let binary = ReceivedBody::received(Declared::of(None), b"\xff\x00");
        assert!(matches!(binary.parsed(), Body::Base64(_)));
    }
}
